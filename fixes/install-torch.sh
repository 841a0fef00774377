#!/usr/bin/env bash
# Summary: install the torch build vLLM pins, from the PyTorch index of a CUDA build that matches
#          vLLM's CUDA major and the GPU (CUDA 12.8+ for Blackwell; cu130 for vLLM >= 0.20).
# Needs root: no (writes only into the target environment).
# Verifies: vllm.cuda-build, torch.cuda-build, vllm.torch-abi
# Inputs: PYTHON           the target interpreter (default: python3 on PATH); never a bare `pip`.
#         TORCH_SPEC       what to install, e.g. torch==2.10.0 (default: torch, letting pip keep vLLM's pin).
#         TORCH_INDEX_URL  the PyTorch wheel index (default: https://download.pytorch.org/whl/cu129;
#                          use .../whl/cu130 for a CUDA 13 vLLM).
#         DRY_RUN=1        print the commands instead of running them.
set -euo pipefail

PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${TORCH_SPEC:-torch}"
TORCH_INDEX_URL="${TORCH_INDEX_URL:-https://download.pytorch.org/whl/cu129}"

# shellcheck source-path=SCRIPTDIR source=_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

# --force-reinstall only for torch itself: a CPU or wrong-CUDA build has the same version number.
run "$PYTHON" -m pip install --force-reinstall --no-deps --index-url "$TORCH_INDEX_URL" "$TORCH_SPEC"
run "$PYTHON" -m pip install --index-url "$TORCH_INDEX_URL" --extra-index-url https://pypi.org/simple "$TORCH_SPEC"
