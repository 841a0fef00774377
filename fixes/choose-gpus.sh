#!/usr/bin/env bash
# Summary: show the GPUs this node has (and CUDA_VISIBLE_DEVICES), and how many GPUs of which kind the
#          deployment needs, with the memory plan for the alternatives (glm5-doctor fit). Changes nothing:
#          GPUs cannot be added by a script.
# Needs root: no (it only prints).
# Verifies: gpu.count, gpu.architecture, gpu.p2p, gpu.throttle
# Inputs: DRY_RUN=1  accepted for symmetry; nothing is ever run.
set -euo pipefail

[ "${DRY_RUN:-0}" = "1" ] && echo "(dry run: this script only prints)"
echo "CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-<unset: all GPUs>}"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=index,name,memory.total,compute_cap,clocks_event_reasons.active --format=csv || true
  nvidia-smi topo -m || true
else
  echo "nvidia-smi is not installed here"
fi
cat <<'TEXT'
GLM-5 needs compute capability 9.x or 10.x (H100/H200/B200/B300/GB200), one model per group:
  glm5-doctor fit --gpu B200 --gpus 8      FP8 at TP 8 (the validated setup)
  glm5-doctor fit --gpu H200 --gpus 8      FP8 at TP 8
  glm5-doctor fit --gpu H100 --gpus 16 --tp 8 --pp 2
  glm5-doctor fit --profile glm5-nvfp4-b200-tp4 --gpu B200 --gpus 4
TEXT
