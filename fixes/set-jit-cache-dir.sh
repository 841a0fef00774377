#!/usr/bin/env bash
# Summary: create a writable directory for DeepGEMM's JIT kernel cache and print the variable that
#          points vLLM at it (DG_JIT_CACHE_DIR). The service's environment is not edited.
# Needs root: no (unless DG_JIT_CACHE_DIR is under a root-owned path).
# Verifies: deepgemm.jit-cache
# Inputs: DG_JIT_CACHE_DIR  where to put the cache (default: /var/tmp/deep_gemm-$(id -un)).
#         DRY_RUN=1         print the commands instead of running them.
set -euo pipefail

DG_JIT_CACHE_DIR="${DG_JIT_CACHE_DIR:-/var/tmp/deep_gemm-$(id -un)}"

# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

if [ -d "$DG_JIT_CACHE_DIR" ] && [ -w "$DG_JIT_CACHE_DIR" ]; then
  echo "already writable: $DG_JIT_CACHE_DIR"
else
  run mkdir -p "$DG_JIT_CACHE_DIR"
fi
echo "add to the environment that runs vllm serve:"
say_export DG_JIT_CACHE_DIR "$DG_JIT_CACHE_DIR"
