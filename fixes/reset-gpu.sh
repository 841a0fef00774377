#!/usr/bin/env bash
# Summary: reset one GPU so pending row remaps apply and volatile ECC counters clear; refuses while any
#          process uses it (listing them). Recurring uncorrected errors or a remap failure mean the GPU
#          needs service: this script cannot fix that.
# Needs root: yes.
# Verifies: gpu.ecc
# Inputs: GPU        the GPU index to reset (required unless DRY_RUN=1; default 0 then).
#         DRY_RUN=1  print the commands instead of running them.
set -euo pipefail

GPU="${GPU:-}"
# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

if [ -z "$GPU" ]; then
  if [ "${DRY_RUN:-0}" = "1" ]; then GPU=0; else echo "set GPU=<index>" >&2; exit 1; fi
fi
busy=$(nvidia-smi -i "$GPU" --query-compute-apps=pid,process_name --format=csv,noheader 2>/dev/null || true)
if [ -n "$busy" ]; then
  echo "GPU $GPU is in use; stop these first:" >&2
  echo "$busy" >&2
  [ "${DRY_RUN:-0}" = "1" ] || exit 1
fi
run nvidia-smi -i "$GPU" -r
