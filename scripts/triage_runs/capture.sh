#!/usr/bin/env bash
# Reproduce the real runs under tests/fixtures/triage/real/ that were made on a machine without GPUs.
#
#   scripts/triage_runs/capture.sh VENV OUTDIR
#
# VENV: a virtual environment with `pip install vllm==0.19.1` (PyPI, with its dependencies).
# OUTDIR: where the raw outputs go (*.out); the fixtures are these outputs with a "# real run:" header
# and the venv/work paths shortened. Not run by the tests: it downloads the vLLM 0.20.0 wheel's parts,
# flashinfer-python 0.6.5 and the CUDA 13 runtime wheels, and needs gcc, nvcc and unshare.
#
# vLLM loads its CUDA platform only where NVML answers and libcuda.so.1 loads: the fake NVML of the
# tests (tests/fake_nvml) plays 8 x B200 and fake_libcuda.c answers "no device" to everything, which is
# enough for vLLM's argument checks, socket setup and config validation, all of which run before any
# GPU work.
set -euo pipefail
venv=$(cd "$1" && pwd)
out=$(mkdir -p "$2" && cd "$2" && pwd)
repo=$(cd "$(dirname "$0")/../.." && pwd)
python="$venv/bin/python"
cd "$out"

"$python" - "$repo" <<'PY'
import sys
from pathlib import Path
sys.path[:0] = [sys.argv[1] + "/tests", sys.argv[1]]
import helpers
work = Path.cwd()
helpers.build_fake_nvml(work / "nvml")
for name in ("b200x8", "h200x8", "a100x8"):
    scenario = helpers.scenario_lines(name)
    (work / f"{name}.txt").write_text("".join(f"{k}={v}\n" for k, v in scenario.items() if not k.startswith("_")))
helpers.write_glm5_model(work / "GLM-5-FP8", shards=1, shard_bytes=1 << 20)
PY
mkdir -p cuda
gcc -shared -fPIC -o cuda/libcuda.so.1 "$repo/scripts/triage_runs/fake_libcuda.c"
fakes="$out/nvml:$out/cuda"
export FAKE_NVML_SCENARIO="$out/b200x8.txt"

serve() { LD_LIBRARY_PATH="$fakes" timeout 180 "$venv/bin/vllm" serve "$out/GLM-5-FP8" --tensor-parallel-size 8 "$@"; }
serve --tool-call-parser glm99 --enable-auto-tool-choice >parser.out 2>&1 || true
serve --reasoning-parser glm99 >reasoning.out 2>&1 || true
# --nnodes 8 skips the GPU count (torch sees none here) that would stop the start before the backend name
serve --attention-backend FLASHMLA_SPARSE_V2 --nnodes 8 >attnbackend.out 2>&1 || true
"$python" -c "import socket, time; s = socket.socket(); s.bind(('0.0.0.0', 8000)); s.listen(); time.sleep(200)" &
holder=$!
sleep 1
serve >port.out 2>&1 || true
kill "$holder"

LD_LIBRARY_PATH="$fakes" "$python" -c "
from vllm.utils.deep_gemm import fp8_mqa_logits
fp8_mqa_logits(None, (None, None), None, None, None, clean_logits=False)" >dg-missing.out 2>&1 || true

# vLLM's own attention selector for GLM-5's attention; flashinfer is hidden because FlashInfer's backend
# modules allocate on the GPU at import (they report ImportError instead)
mkdir -p nofi/flashinfer
echo 'raise ImportError("flashinfer hidden for this run")' >nofi/flashinfer/__init__.py
cat >attn.py <<'PY'
import sys
import torch
from vllm.config import VllmConfig, set_current_vllm_config
from vllm.v1.attention.selector import get_attn_backend
with set_current_vllm_config(VllmConfig()):
    print(get_attn_backend(576, torch.bfloat16, sys.argv[1], use_mla=True, use_sparse=True, num_heads=8))
PY
for run in h200x8:fp8_e4m3 a100x8:auto; do
    FAKE_NVML_SCENARIO="$out/${run%%:*}.txt" LD_LIBRARY_PATH="$fakes" PYTHONPATH="$out/nofi" \
        "$python" attn.py "${run##*:}" >"attn2-${run%%:*}.out" 2>&1 || true
done
# the whole matrix behind tests/fixtures/real/vllm-0.19.1-attention-selector.json
for gpu in h200x8 a100x8; do
    for dtype in auto bfloat16 fp8 fp8_ds_mla fp8_e4m3 fp8_e5m2 float16; do
        FAKE_NVML_SCENARIO="$out/$gpu.txt" LD_LIBRARY_PATH="$fakes" PYTHONPATH="$out/nofi" \
            "$python" attn.py "$dtype" >"selector-$gpu-$dtype.out" 2>&1 || true
    done
done

"$venv/bin/pip" install -q --no-deps --target fi-overlay flashinfer-python==0.6.5
PYTHONPATH="$out/fi-overlay" "$python" -c "import flashinfer" >fi.out 2>&1 || true

cat >tri.py <<'PY'
import sys
import triton
import triton.language as tl
from triton.backends.compiler import GPUTarget
@triton.jit
def add(x, y, n, BLOCK: tl.constexpr):
    i = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(x + i, tl.load(x + i, mask=i < n) + tl.load(y + i, mask=i < n), mask=i < n)
src = triton.compiler.ASTSource(fn=add, signature={"x": "*fp32", "y": "*fp32", "n": "i32"}, constexprs={"BLOCK": 128})
triton.compile(src, target=GPUTarget("cuda", int(sys.argv[1]), 32))
PY
"$python" tri.py 110 >tri110.out 2>&1 || true

env -u LD_LIBRARY_PATH "$python" -c "import torch; print(torch.__version__); torch.zeros(1, device='cuda')" >nodriver.out 2>&1 || true

# vLLM 0.20.0's own binaries (built for torch 2.11) under this venv's torch 2.10
"$python" - "$repo" <<'PY'
import io, json, sys, urllib.request, zipfile
from pathlib import Path
sys.path.insert(0, sys.argv[1] + "/scripts")
from fetch_wheel_files import ACCEPT, SIMPLE, HttpRangeFile
request = urllib.request.Request(SIMPLE.format(name="vllm"), headers={"Accept": ACCEPT})
files = json.load(urllib.request.urlopen(request, timeout=60))["files"]
url = next(f["url"] for f in files if f["filename"].startswith("vllm-0.20.0-") and "x86_64" in f["filename"])
wheel = zipfile.ZipFile(io.BufferedReader(HttpRangeFile(url), buffer_size=1 << 20))
for info in wheel.infolist():
    if info.filename == "vllm/_C.abi3.so" or info.filename.startswith("vllm/third_party/deep_gemm/"):
        target = Path("w020") / info.filename
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(wheel.read(info))
PY
"$venv/bin/pip" install -q --no-deps --target cu13 "nvidia-cuda-runtime==13.0.*" "nvidia-cuda-nvrtc==13.0.*"
cu13="$fakes:$out/cu13/nvidia/cu13/lib"
LD_LIBRARY_PATH="$cu13" "$python" -c "import torch; torch.ops.load_library('w020/vllm/_C.abi3.so')" >undef-vllm.out 2>&1 || true
(cd w020/vllm/third_party && LD_LIBRARY_PATH="$cu13" unshare -m --propagation private sh -c \
    "mount -t tmpfs tmpfs /usr/local && env -u CUDA_HOME -u CUDA_PATH '$python' -c 'import deep_gemm'") \
    >dg-nocuda.out 2>&1 || true

mkdir -p dg-nocutlass
cp -r w020/vllm/third_party/deep_gemm/include/deep_gemm dg-nocutlass/
printf '#include <deep_gemm/impls/sm100_fp8_mqa_logits.cuh>\n' >kernel.cu
nvcc -std=c++20 --gpu-architecture=sm_100f -I dg-nocutlass -O3 -c kernel.cu -o kernel.cubin >nocutlass.out 2>&1 || true

ls -1 "$out"/*.out
