#!/usr/bin/env bash
# Summary: print the vllm serve command line with the failing check's problem corrected (parsers,
#          content format, KV cache dtype, attention backend flag, tensor-parallel size, max-model-len,
#          MTP), to paste where the server is started (unit file, Dockerfile, manifest). Changes nothing.
# Needs root: no (it only prints).
# Verifies: gpu.vram, model.config, model.mtp-weights, serve.parsers, serve.chat-template-format, serve.kv-cache-dtype, serve.attention-backend, serve.attention-backend-env, serve.tensor-parallel
# Inputs: SUGGESTED_COMMAND  the corrected command (glm5-doctor fix fills it in from the report).
#         DRY_RUN=1          accepted for symmetry; nothing is ever run.
set -euo pipefail

if [ -z "${SUGGESTED_COMMAND:-}" ]; then
  echo "no corrected command to show: run this through 'glm5-doctor fix CHECK' after 'glm5-doctor preflight'" >&2
  echo "(or see 'glm5-doctor explain CHECK' for the flag to change)"
  exit 0
fi
[ "${DRY_RUN:-0}" = "1" ] && echo "(dry run: this script only prints)"
if [ -n "${VLLM_ATTENTION_BACKEND:-}" ]; then
  echo "unset VLLM_ATTENTION_BACKEND   # ignored by current vLLM; the flag below replaces it"
fi
echo "start the server with:"
echo "  $SUGGESTED_COMMAND"
