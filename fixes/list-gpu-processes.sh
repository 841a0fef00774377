#!/usr/bin/env bash
# Summary: list the processes holding GPU memory (PID, name, memory) so they can be stopped; stops
#          nothing unless KILL_PIDS names them explicitly.
# Needs root: no to list; to stop another user's process, yes.
# Verifies: gpu.free-memory
# Inputs: KILL_PIDS  space-separated PIDs to stop (SIGTERM) after listing; empty: list only.
#         DRY_RUN=1  print the commands instead of running them.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

run nvidia-smi --query-compute-apps=gpu_uuid,pid,process_name,used_memory --format=csv
for pid in ${KILL_PIDS:-}; do
  run kill -TERM "$pid"
done
