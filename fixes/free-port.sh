#!/usr/bin/env bash
# Summary: show which process listens on the server's port; stop it only when KILL_PIDS names it.
# Needs root: to see (or stop) another user's process, yes.
# Verifies: host.port
# Inputs: PORT       the port (default: 8000).
#         KILL_PIDS  space-separated PIDs to stop (SIGTERM) after showing them; empty: show only.
#         DRY_RUN=1  print the commands instead of running them.
set -euo pipefail

PORT="${PORT:-8000}"
# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

if command -v ss >/dev/null 2>&1; then
  run ss -ltnp "sport = :$PORT"
else
  run lsof -nP -iTCP:"$PORT" -sTCP:LISTEN
fi
for pid in ${KILL_PIDS:-}; do
  run kill -TERM "$pid"
done
