#!/usr/bin/env bash
# Summary: uninstall an external deep_gemm so vLLM >= 0.20 uses its own bundled, tested copy
#          (vllm.third_party.deep_gemm). Only for vLLM 0.20+: older vLLM needs the external copy.
# Needs root: no (writes only into the target environment).
# Verifies: deepgemm.shadowing
# Inputs: PYTHON     the target interpreter (default: python3 on PATH); never a bare `pip`.
#         DRY_RUN=1  print the commands instead of running them.
set -euo pipefail

PYTHON="${PYTHON:-python3}"

# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

if ! "$PYTHON" -c 'import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("deep_gemm") else 1)' 2>/dev/null; then
  echo "no external deep_gemm in $PYTHON: nothing to remove"
  [ "${DRY_RUN:-0}" = "1" ] && printf '+ %s\n' "(nothing to run)"
  exit 0
fi
run "$PYTHON" -m pip uninstall -y deep_gemm
