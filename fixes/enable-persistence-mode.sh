#!/usr/bin/env bash
# Summary: turn on GPU persistence mode (prefers the nvidia-persistenced service, else nvidia-smi -pm 1).
# Needs root: yes.
# Verifies: gpu.persistence
# Inputs: DRY_RUN=1  print the commands instead of running them.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

if systemctl list-unit-files nvidia-persistenced.service >/dev/null 2>&1; then
  if systemctl is-active --quiet nvidia-persistenced; then
    echo "nvidia-persistenced is already running"
    [ "${DRY_RUN:-0}" = "1" ] && printf '+ %s\n' "(nothing to run)"
    exit 0
  fi
  run systemctl enable --now nvidia-persistenced
else
  run nvidia-smi -pm 1
fi
