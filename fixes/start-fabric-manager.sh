#!/usr/bin/env bash
# Summary: start NVIDIA Fabric Manager (and NVLSM on HGX B200) so the NVSwitch fabric finishes
#          training; refuses when the Fabric Manager package does not match the driver version exactly.
# Needs root: yes (systemctl).
# Verifies: gpu.fabric
# Inputs: DRY_RUN=1  print the commands instead of running them.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

driver=$(cat /sys/module/nvidia/version 2>/dev/null || true)
fm=$(nv-fabricmanager --version 2>/dev/null | sed -n 's/.*version is *: *\([0-9.]*\).*/\1/p' | head -n1 || true)
echo "driver: ${driver:-unknown}; fabric manager: ${fm:-not installed}"
if [ -z "$fm" ]; then
  echo "install nvidia-fabricmanager-${driver%%.*} at version ${driver:-<driver version>} first (on B200 also nvlsm)" >&2
  [ "${DRY_RUN:-0}" = "1" ] && exit 0
  exit 1
fi
if [ -n "$driver" ] && [ "$fm" != "$driver" ]; then
  echo "fabric manager $fm does not match driver $driver: install the matching package first" >&2
  [ "${DRY_RUN:-0}" = "1" ] && exit 0
  exit 1
fi
if ls /sys/class/infiniband >/dev/null 2>&1 && ! grep -q '^ib_umad ' /proc/modules 2>/dev/null; then
  echo "NVLink 5 (B200) management runs over InfiniBand: loading ib_umad"
  run modprobe ib_umad
fi
if systemctl is-active --quiet nvidia-fabricmanager 2>/dev/null; then
  echo "nvidia-fabricmanager is already active"
else
  run systemctl enable --now nvidia-fabricmanager
fi
echo "re-check in a minute: glm5-doctor run --select gpu.fabric"
