#!/usr/bin/env bash
# Summary: prepare a persistent DeepGEMM JIT cache and print the variables for a first start that
#          outlasts a cold warm-up: the engine-ready timeout raised, the cache kept for later starts.
#          The service's environment is not edited.
# Needs root: no (unless JIT_CACHE is under a root-owned path).
# Verifies: deepgemm.warmup
# Inputs: JIT_CACHE         DeepGEMM's cache folder to keep (default: /var/tmp/deep_gemm-$(id -u)).
#         TIMEOUT_VARIABLE  the installed vLLM's timeout variable (default: VLLM_ENGINE_READY_TIMEOUT_S).
#         TIMEOUT_S         seconds to allow the first start (default: 3600).
#         DRY_RUN=1         print the commands instead of running them.
set -euo pipefail

JIT_CACHE="${JIT_CACHE:-/var/tmp/deep_gemm-$(id -u)}"
TIMEOUT_VARIABLE="${TIMEOUT_VARIABLE:-VLLM_ENGINE_READY_TIMEOUT_S}"
TIMEOUT_S="${TIMEOUT_S:-3600}"

# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

if [ -d "$JIT_CACHE" ] && [ -w "$JIT_CACHE" ]; then
  echo "already writable: $JIT_CACHE"
else
  run mkdir -p "$JIT_CACHE"
fi
echo "add to the environment that runs vllm serve (keep $JIT_CACHE on a persistent volume):"
say_export DG_JIT_CACHE_DIR "$JIT_CACHE"
say_export "$TIMEOUT_VARIABLE" "$TIMEOUT_S"
echo "after the first start has compiled the kernels, later starts are warm and the default timeout suffices."
