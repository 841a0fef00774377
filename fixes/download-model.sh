#!/usr/bin/env bash
# Summary: download (or resume) the model into the Hugging Face cache vLLM reads, before vllm serve
#          starts, with the Hugging Face CLI from the target environment. Needs network access to the Hub.
# Needs root: no (writes into HF_HOME / the download directory).
# Verifies: model.files
# Inputs: MODEL         the repository (default: zai-org/GLM-5-FP8).
#         PYTHON        the target interpreter whose huggingface_hub is used (default: python3).
#         DOWNLOAD_DIR  the cache directory vllm serve --download-dir points at (default: the HF cache).
#         DRY_RUN=1     print the commands instead of running them.
set -euo pipefail

MODEL="${MODEL:-zai-org/GLM-5-FP8}"
PYTHON="${PYTHON:-python3}"

# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

args=(download "$MODEL")
if [ -n "${DOWNLOAD_DIR:-}" ]; then
  args+=(--cache-dir "$DOWNLOAD_DIR")
fi
if [ "${HF_HUB_OFFLINE:-0}" = "1" ]; then
  echo "HF_HUB_OFFLINE=1 is set: unset it for the download" >&2
  [ "${DRY_RUN:-0}" = "1" ] || exit 1
fi
# The hf CLI resumes partial downloads and skips files already in the cache: running it twice is safe.
run "$PYTHON" -m huggingface_hub.cli.hf "${args[@]}"
