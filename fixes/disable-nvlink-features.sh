#!/usr/bin/env bash
# Summary: show the IMEX channel set-up and print the NCCL variables that switch NVLink multicast
#          (NVLS) and multi-node NVLink (MNNVL) off where they cannot work. Nothing is changed
#          unless CREATE_IMEX_CHANNEL=1 (then channel0 is created with mknod, as root).
# Needs root: only with CREATE_IMEX_CHANNEL=1.
# Verifies: gpu.nvlink-multicast, gpu.imex
# Inputs: CREATE_IMEX_CHANNEL=1  create /dev/nvidia-caps-imex-channels/channel0 from /proc/devices.
#         DRY_RUN=1              print the commands instead of running them.
set -euo pipefail

CREATE_IMEX_CHANNEL="${CREATE_IMEX_CHANNEL:-0}"

# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

major="$(awk '$2 == "nvidia-caps-imex-channels" {print $1}' /proc/devices 2>/dev/null || true)"
if [ "$CREATE_IMEX_CHANNEL" = "1" ]; then
  if [ -z "$major" ]; then
    echo "the driver lists no nvidia-caps-imex-channels device in /proc/devices: nothing to create" >&2
    exit 1
  fi
  run mkdir -p /dev/nvidia-caps-imex-channels
  run mknod /dev/nvidia-caps-imex-channels/channel0 c "$major" 0
else
  echo "IMEX channel major number: ${major:-none (not created by this driver)}"
  echo "to create channel0 on the host: CREATE_IMEX_CHANNEL=1 (then pass it into the container)"
fi
echo "or avoid the features (slower collectives) in the environment that runs vllm serve:"
say_export NCCL_NVLS_ENABLE 0
say_export NCCL_MNNVL_ENABLE 0
