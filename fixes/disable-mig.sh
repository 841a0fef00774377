#!/usr/bin/env bash
# Summary: disable MIG on the given GPUs (default: all); takes effect after a GPU reset, which needs
#          every process on those GPUs stopped. Asks nothing and stops nothing itself.
# Needs root: yes.
# Verifies: gpu.mig
# Inputs: GPUS       comma-separated GPU indices (default: all).
#         DRY_RUN=1  print the commands instead of running them.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

target=()
if [ -n "${GPUS:-}" ]; then
  target=(-i "$GPUS")
fi
run nvidia-smi "${target[@]}" -mig 0
echo "then reset the GPUs (no process may use them): nvidia-smi ${target[*]} -r"
