#!/usr/bin/env bash
# Summary: install flashinfer-python at the version vLLM pins and bring flashinfer-cubin /
#          flashinfer-jit-cache, where installed, to the same version.
# Needs root: no (writes only into the target environment).
# Verifies: flashinfer.versions
# Inputs: PYTHON              the target interpreter (default: python3 on PATH); never a bare `pip`.
#         FLASHINFER_VERSION  the version vLLM pins (default: read from vLLM's metadata).
#         DRY_RUN=1           print the commands instead of running them.
set -euo pipefail

PYTHON="${PYTHON:-python3}"

# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

if [ -z "${FLASHINFER_VERSION:-}" ]; then
  FLASHINFER_VERSION=$("$PYTHON" - <<'PY' 2>/dev/null || true
from importlib.metadata import requires
for line in requires("vllm") or []:
    if line.replace(" ", "").startswith("flashinfer-python=="):
        print(line.split("==", 1)[1].split(";")[0].strip())
        break
PY
)
fi
if [ -z "$FLASHINFER_VERSION" ]; then
  echo "cannot read vLLM's flashinfer-python pin; set FLASHINFER_VERSION" >&2
  exit 1
fi

packages=("flashinfer-python==$FLASHINFER_VERSION")
for companion in flashinfer-cubin flashinfer-jit-cache; do
  if "$PYTHON" -c "from importlib.metadata import version; version('$companion')" 2>/dev/null; then
    packages+=("$companion==$FLASHINFER_VERSION")
  fi
done
run "$PYTHON" -m pip install "${packages[@]}"
