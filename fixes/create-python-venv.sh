#!/usr/bin/env bash
# Summary: create a fresh virtual environment on a Python every vLLM release with GLM-5 accepts
#          (3.12), to install vLLM into. The existing environment is left untouched.
# Needs root: no.
# Verifies: python.version (run `glm5-doctor run --python "$VENV_DIR/bin/python"` afterwards)
# Inputs: PYTHON_FOR_VENV  the interpreter to build the venv from (default: python3.12 on PATH).
#         VENV_DIR         where to create it (default: ./glm5-venv); an existing one is kept.
#         DRY_RUN=1        print the commands instead of running them.
set -euo pipefail

PYTHON_FOR_VENV="${PYTHON_FOR_VENV:-python3.12}"
VENV_DIR="${VENV_DIR:-./glm5-venv}"

# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

if [ -x "$VENV_DIR/bin/python" ]; then
  echo "already there: $VENV_DIR ($("$VENV_DIR/bin/python" --version 2>&1))"
  exit 0
fi
if ! command -v "$PYTHON_FOR_VENV" >/dev/null 2>&1; then
  echo "$PYTHON_FOR_VENV is not on PATH: install Python 3.12 (e.g. 'uv python install 3.12' or your distribution's python3.12-venv)" >&2
  exit 1
fi
run "$PYTHON_FOR_VENV" -m venv "$VENV_DIR"
echo "created $VENV_DIR; next: PYTHON=$VENV_DIR/bin/python glm5-doctor fix vllm.installed"
