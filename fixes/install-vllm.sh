#!/usr/bin/env bash
# Summary: install or upgrade vLLM (>= 0.16.0, the first release that registers GlmMoeDsaForCausalLM)
#          into the Python environment that will run `vllm serve`, letting pip resolve its requirements.
# Needs root: no (writes only into the target environment; use a venv you own).
# Verifies: vllm.installed, vllm.glm5-architecture, vllm.dependencies, vllm.stack-import
# Inputs: PYTHON   the target interpreter (default: python3 on PATH); never a bare `pip`.
#         VLLM_SPEC what to install (default: vllm>=0.16.0). The GLM-5 recipe pins a 0.19 release;
#                   0.21.0+ bundles DeepGEMM for every Python but needs a CUDA 13 (R580) driver.
#         DRY_RUN=1 print the commands instead of running them.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
VLLM_SPEC="${VLLM_SPEC:-vllm>=0.16.0}"

# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

if "$PYTHON" - "$VLLM_SPEC" <<'PY' 2>/dev/null; then
import sys
from importlib.metadata import PackageNotFoundError, version
from packaging.requirements import Requirement
requirement = Requirement(sys.argv[1])
try:
    installed = version(requirement.name)
except PackageNotFoundError:
    sys.exit(1)
sys.exit(0 if requirement.specifier.contains(installed, prereleases=True) else 1)
PY
  echo "already satisfied: $VLLM_SPEC in $PYTHON; checking its requirements only"
  run "$PYTHON" -m pip install "$VLLM_SPEC"
  exit 0
fi

run "$PYTHON" -m pip install --upgrade "$VLLM_SPEC"
