#!/usr/bin/env bash
# Summary: create writable cache directories under one base folder and print the variables that
#          point vLLM, Hugging Face, Triton, TorchInductor and FlashInfer at them. The service's
#          environment is not edited.
# Needs root: no (unless CACHE_BASE is under a root-owned path).
# Verifies: cache.writable
# Inputs: CACHE_VARIABLES  the variables to set, space-separated (default: VLLM_CACHE_ROOT HF_HOME
#                          TRITON_CACHE_DIR TORCHINDUCTOR_CACHE_DIR FLASHINFER_WORKSPACE_BASE).
#         CACHE_BASE       where to put the folders (default: /var/tmp/glm5-caches-$(id -u)).
#         DRY_RUN=1        print the commands instead of running them.
set -euo pipefail

CACHE_VARIABLES="${CACHE_VARIABLES:-VLLM_CACHE_ROOT HF_HOME TRITON_CACHE_DIR TORCHINDUCTOR_CACHE_DIR FLASHINFER_WORKSPACE_BASE}"
CACHE_BASE="${CACHE_BASE:-/var/tmp/glm5-caches-$(id -u)}"

# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

exports=()
for variable in $CACHE_VARIABLES; do
  case "$variable" in
    VLLM_CACHE_ROOT) folder="$CACHE_BASE/vllm" ;;
    HF_HOME) folder="$CACHE_BASE/huggingface" ;;
    TRITON_CACHE_DIR) folder="$CACHE_BASE/triton" ;;
    TORCHINDUCTOR_CACHE_DIR) folder="$CACHE_BASE/torchinductor" ;;
    FLASHINFER_WORKSPACE_BASE) folder="$CACHE_BASE/flashinfer" ;;
    FLASHINFER_CUBIN_DIR) folder="$CACHE_BASE/flashinfer-cubins" ;;
    *) echo "unknown cache variable: $variable" >&2; exit 2 ;;
  esac
  if [ -d "$folder" ] && [ -w "$folder" ]; then
    echo "already writable: $folder"
  else
    run mkdir -p "$folder"
  fi
  exports+=("$variable" "$folder")
done
echo "add to the environment that runs vllm serve:"
for ((i = 0; i < ${#exports[@]}; i += 2)); do
  say_export "${exports[i]}" "${exports[i + 1]}"
done
