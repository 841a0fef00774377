#!/usr/bin/env bash
# Summary: print how to install the NVIDIA R580 data-center driver (>= 580.65.06; needed by CUDA 13
#          builds of vLLM/torch, and >= 570.133.20 for HGX B200) with the matching Fabric Manager.
#          A driver upgrade needs root, a maintenance window and a reboot: this script never does it.
# Needs root: the printed commands do; the script itself does not.
# Verifies: gpu.driver
# Inputs: DRIVER_BRANCH  the branch to install (default: 580).
#         DRY_RUN=1      accepted for symmetry; nothing is ever run.
set -euo pipefail

DRIVER_BRANCH="${DRIVER_BRANCH:-580}"
if [ "${DRY_RUN:-0}" = "1" ]; then
  echo "(dry run: this script only prints instructions)"
fi

current=$(cat /sys/module/nvidia/version 2>/dev/null || echo "not loaded")
echo "loaded NVIDIA kernel module: $current"
echo "install the R${DRIVER_BRANCH} data-center driver and the Fabric Manager of exactly the same version:"
if [ -r /etc/os-release ]; then
  # shellcheck disable=SC1091
  . /etc/os-release
  case "${ID:-}" in
    ubuntu|debian)
      echo "  sudo apt-get install -y nvidia-driver-${DRIVER_BRANCH}-server-open nvidia-fabricmanager-${DRIVER_BRANCH}"
      ;;
    rhel|rocky|almalinux|centos|fedora)
      echo "  sudo dnf module install -y nvidia-driver:${DRIVER_BRANCH}-open && sudo dnf install -y nvidia-fabricmanager"
      ;;
    *)
      echo "  see https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/ for ${PRETTY_NAME:-this system}"
      ;;
  esac
fi
echo "  then reboot (a loaded old module gives 'Driver/library version mismatch' until then)"
echo "or stay on your driver and use a CUDA 12 build: vllm<=0.19.1, or the vllm/vllm-openai -cu129 images"
