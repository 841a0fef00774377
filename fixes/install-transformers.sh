#!/usr/bin/env bash
# Summary: install a transformers release that knows GLM-5 (model type glm_moe_dsa, first in 5.2.0)
#          inside the window that `glm5-doctor run` names for the installed vLLM (check transformers.vllm-pin).
# Needs root: no (writes only into the target environment).
# Verifies: transformers.glm-moe-dsa, transformers.vllm-pin, model.tokenizer, vllm.optional-imports,
#           transformers.checkpoint-config
# Inputs: PYTHON             the target interpreter (default: python3 on PATH); never a bare `pip`.
#         TRANSFORMERS_SPEC  what to install (default: transformers>=5.4.0, the GLM-5 recipe's floor; with
#                            an extra, e.g. transformers[kernels]==5.5.1, pip also brings what it imports).
#                            On vLLM 0.16-0.18 pip will warn that vLLM pins transformers<5: expected.
#         DRY_RUN=1          print the commands instead of running them.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
TRANSFORMERS_SPEC="${TRANSFORMERS_SPEC:-transformers>=5.4.0}"

# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

# --no-deps would leave tokenizers/huggingface-hub behind; a plain install keeps pip resolving them.
run "$PYTHON" -m pip install "$TRANSFORMERS_SPEC"
