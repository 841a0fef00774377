#!/usr/bin/env bash
# Summary: point Triton at a ptxas new enough for the GPU (a CUDA toolkit's), after checking its
#          release, and print the variable to set. The service's environment is not edited.
# Needs root: no.
# Verifies: triton.ptxas
# Inputs: PTXAS           the ptxas to use (default: $CUDA_HOME/bin/ptxas, else /usr/local/cuda/bin/ptxas).
#         PTXAS_VARIABLE  TRITON_PTXAS_PATH, or TRITON_PTXAS_BLACKWELL_PATH on Triton 3.6+ for
#                         compute capability 10.0 and above (default: TRITON_PTXAS_PATH).
#         DRY_RUN=1       print the commands instead of running them.
set -euo pipefail

PTXAS="${PTXAS:-${CUDA_HOME:-/usr/local/cuda}/bin/ptxas}"
PTXAS_VARIABLE="${PTXAS_VARIABLE:-TRITON_PTXAS_PATH}"

# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

if [ ! -x "$PTXAS" ]; then
  echo "no executable ptxas at $PTXAS: install a CUDA toolkit new enough for the GPU (12.9+ for B300)" >&2
  echo "or name one with PTXAS=/path/to/ptxas" >&2
  exit 1
fi
run "$PTXAS" --version
echo "add to the environment that runs vllm serve:"
say_export "$PTXAS_VARIABLE" "$PTXAS"
