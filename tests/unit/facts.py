"""Fact factories for the unit tests: plain dicts shaped like the TypedDicts the probes declare.

Each factory returns a healthy default that a test changes with keyword arguments, so a test
names only what its branch is about. :func:`facts` turns ``{KEY: value}`` into the
:class:`Facts` a check is called with; :func:`profile` is the default deployment with changes.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from glm5_doctor.deployment.profile import DEFAULT_PROFILE, Profile
from glm5_doctor.deployment.serve_args import ServeArgs
from glm5_doctor.engine.facts import FactKey, Facts
from glm5_doctor.probes.compile import CompileFact
from glm5_doctor.probes.deep_gemm import DeepGemmCopyFact, DeepGemmFact
from glm5_doctor.probes.distributions import DistributionFact, DistributionsFact
from glm5_doctor.probes.host import HostFact
from glm5_doctor.probes.interpreter import InterpreterFact
from glm5_doctor.probes.jit_cache import JitCacheFact
from glm5_doctor.probes.model_files import ModelFilesFact, ShardFact
from glm5_doctor.probes.nvcc import NvccFact
from glm5_doctor.probes.nvml import NvmlFact
from glm5_doctor.probes.torch_build import TorchFact
from glm5_doctor.probes.transformers_files import TransformersFilesFact
from glm5_doctor.probes.vllm_files import VllmFilesFact
from packaging.utils import canonicalize_name

GIB = 1 << 30
SITE = "/venv/lib/python3.12/site-packages"
REAL = Path(__file__).parents[1] / "fixtures" / "real"

#: The marker environment of a CPython 3.12 on x86-64 Linux (what describe_interpreter.py reports).
LINUX_312 = {
    "implementation_name": "cpython",
    "implementation_version": "3.12.3",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_release": "6.8.0",
    "platform_system": "Linux",
    "platform_version": "#1 SMP",
    "python_full_version": "3.12.3",
    "platform_python_implementation": "CPython",
    "python_version": "3.12",
    "sys_platform": "linux",
}


def facts(values: dict[FactKey[Any], Any], errors: dict[FactKey[Any], str] | None = None) -> Facts:
    """The facts a check is called with: ``{KEY: value}``, and probe failures by key."""
    return Facts(
        data={key.name: value for key, value in values.items()},
        errors={key.name: why for key, why in (errors or {}).items()},
    )


def profile(**changes: Any) -> Profile:
    """The default deployment (GLM-5-FP8, TP 8, B200, 32k context) with ``changes``."""
    return dataclasses.replace(DEFAULT_PROFILE, **changes)


def serve(**fields: Any) -> ServeArgs:
    """A parsed ``vllm serve`` command line with ``fields`` set (everything else vLLM's default)."""
    return ServeArgs(argv=("vllm", "serve", "zai-org/GLM-5-FP8"), launcher="vllm serve", **fields)


# --- Python environment -----------------------------------------------------------------------------


def dist(
    name: str,
    version: str | None,
    *,
    requires: list[str] | None = None,
    requires_python: str | None = None,
    location: str = SITE,
    direct_url: dict[str, Any] | None = None,
    error: str | None = None,
) -> DistributionFact:
    return {
        "name": name,
        "version": version,
        "dist_info": f"{location}/{name.replace('-', '_')}-{version}.dist-info",
        "location": location,
        "requires_python": requires_python,
        "requires_dist": list(requires or []),
        "direct_url": direct_url,
        "installer": "pip",
        "error": error,
    }


def distributions(*dists: DistributionFact) -> DistributionsFact:
    """Copies in the order given (the first of a name is the one Python imports)."""
    by_name: dict[str, list[DistributionFact]] = {}
    for item in dists:
        by_name.setdefault(canonicalize_name(item["name"]), []).append(item)
    return {"by_name": by_name, "unreadable_paths": {}}


def interpreter(version: str = "3.12.3", **marker: str) -> InterpreterFact:
    return {
        "executable": "/venv/bin/python",
        "version": version,
        "implementation": "cpython",
        "ext_suffix": ".cpython-312-x86_64-linux-gnu.so",
        "sys_path": [SITE],
        "marker_environment": {**LINUX_312, **marker},
        "prefix": "/venv",
    }


def vllm_files(**changes: Any) -> VllmFilesFact:
    """A complete vLLM 0.19-style install: registry entry, model file, a CUDA 12 extension, parsers."""
    package = f"{SITE}/vllm"
    fact: VllmFilesFact = {
        "package_dir": package,
        "registry_path": f"{package}/model_executor/models/registry.py",
        "registry_state": "ok",
        "registry_error": None,
        "glm5_module": "deepseek_v2",
        "glm5_module_file": f"{package}/model_executor/models/deepseek_v2.py",
        "glm5_module_file_exists": True,
        "c_extension": f"{package}/_C.abi3.so",
        "c_extension_needed": ["libcudart.so.12", "libc10.so", "libtorch.so"],
        "c_extension_error": None,
        "deep_gemm_kernel_names": ["fp8_mqa_logits", "fp8_paged_mqa_logits"],
        "tool_parsers": ["glm45", "glm47", "hermes"],
        "reasoning_parsers": ["deepseek_r1", "glm45"],
        "sparse_mla_backends": None,
    }
    fact.update(changes)  # type: ignore[typeddict-item]
    return fact


def real_vllm_files(release: str) -> VllmFilesFact:
    """:func:`vllm_files` with the sparse-MLA backends read from the real vLLM ``release`` wheel's files."""
    from glm5_doctor.probes.sparse_backends import read_sparse_mla_backends

    package = Path(__file__).parents[1] / "fixtures" / "wheels" / f"vllm-{release}" / "vllm"
    return vllm_files(sparse_mla_backends=read_sparse_mla_backends(str(package)))


def torch_build(version: str | None = "2.9.0+cu129", cuda: str | None = "12.9", **changes: Any) -> TorchFact:
    package = f"{SITE}/torch"
    fact: TorchFact = {
        "package_dir": package,
        "version_file": f"{package}/version.py",
        "version": version,
        "cuda": cuda,
        "hip": None,
        "error": None,
    }
    fact.update(changes)  # type: ignore[typeddict-item]
    return fact


def transformers_files(*, config_exists: bool | None = True, **changes: Any) -> TransformersFilesFact:
    fact: TransformersFilesFact = {
        "package_dir": f"{SITE}/transformers",
        "glm_moe_dsa_config_file": f"{SITE}/transformers/models/glm_moe_dsa/configuration_glm_moe_dsa.py",
        "glm_moe_dsa_config_exists": config_exists,
        "auto_mapping_has_glm_moe_dsa": config_exists,
        "allowed_layer_types": None,
    }
    fact.update(changes)  # type: ignore[typeddict-item]
    return fact


# --- CUDA toolchain and DeepGEMM --------------------------------------------------------------------


def nvcc_fact(release: str | None = "12.9", **changes: Any) -> NvccFact:
    """nvcc found through CUDA_HOME=/usr/local/cuda, printing ``release``, cuobjdump beside it."""
    fact: NvccFact = {
        "cuda_home": "/usr/local/cuda",
        "cuda_home_source": "CUDA_HOME",
        "nvcc_override": None,
        "nvcc": "/usr/local/cuda/bin/nvcc",
        "nvcc_exists": True,
        "nvcc_on_path": "/usr/local/cuda/bin/nvcc",
        "cuobjdump": "/usr/local/cuda/bin/cuobjdump",
        "cuobjdump_exists": True,
        "version_output": f"Cuda compilation tools, release {release}" if release else None,
        "release": release,
        "run_error": None,
        "run_failed": False,
    }
    fact.update(changes)  # type: ignore[typeddict-item]
    return fact


def compile_fact(**changes: Any) -> CompileFact:
    """A ``--deep`` compile that ran and produced a cubin."""
    fact: CompileFact = {
        "ran": True,
        "reason": None,
        "nvcc": "/usr/local/cuda/bin/nvcc",
        "arch": "sm_100a",
        "include_dir": f"{SITE}/deep_gemm/include",
        "command": ["/usr/local/cuda/bin/nvcc", "-std=c++20", "-arch=sm_100a", "probe.cu"],
        "returncode": 0,
        "produced_object": True,
        "first_error": None,
        "output": None,
        "duration_ms": 2300,
    }
    fact.update(changes)  # type: ignore[typeddict-item]
    return fact


def deep_gemm_copy(kind: str = "external", **changes: Any) -> DeepGemmCopyFact:
    """A complete DeepGEMM copy with a CPython 3.12 extension and the 0.20+ kernel names."""
    path = f"{SITE}/deep_gemm" if kind == "external" else f"{SITE}/vllm/third_party/deep_gemm"
    fact: DeepGemmCopyFact = {
        "kind": kind,
        "path": path,
        "init_exists": True,
        "version": "2.3.0",
        "extensions": ["_C.cpython-312-x86_64-linux-gnu.so"],
        "loadable_extension": "_C.cpython-312-x86_64-linux-gnu.so",
        "kernel_names": ["fp8_fp4_mqa_logits", "fp8_fp4_paged_mqa_logits", "fp8_mqa_logits", "fp8_paged_mqa_logits"],
        "include_dir": f"{path}/include",
        "missing_headers": [],
        "legacy_python_jit": False,
    }
    fact.update(changes)  # type: ignore[typeddict-item]
    return fact


def deep_gemm_fact(external: DeepGemmCopyFact | None = None, vendored: DeepGemmCopyFact | None = None) -> DeepGemmFact:
    return {"external": external, "vendored": vendored, "ext_suffix": ".cpython-312-x86_64-linux-gnu.so"}


def jit_cache(**changes: Any) -> JitCacheFact:
    fact: JitCacheFact = {
        "path": "/root/.cache/vllm/deep_gemm",
        "source": "vLLM's default",
        "exists": True,
        "nearest_existing": "/root/.cache/vllm/deep_gemm",
        "writable": True,
    }
    fact.update(changes)  # type: ignore[typeddict-item]
    return fact


# --- GPUs -------------------------------------------------------------------------------------------


def device(
    index: int = 0,
    name: str = "NVIDIA B200",
    cc: tuple[int, int] | None = (10, 0),
    *,
    total_gib: float = 178.35,
    free_gib: float | None = None,
    **changes: Any,
) -> dict[str, Any]:
    """One GPU as the NVML child reports it: healthy, idle, fabric trained (state COMPLETED, success)."""
    total = int(total_gib * GIB)
    fact: dict[str, Any] = {
        "index": index,
        "name": name,
        "uuid": f"GPU-{index:08d}-0000-0000-0000-000000000000",
        "pci_bus_id": f"00000000:{index + 10:02X}:00.0",
        "compute_capability": list(cc) if cc else None,
        "memory": {
            "total": total,
            "reserved": 0,
            "free": total if free_gib is None else int(free_gib * GIB),
            "used": 0,
        },
        "persistence_mode": 1,
        "mig_mode": [0, 0],
        "ecc_mode": [1, 1],
        "ecc_volatile_uncorrected": 0,
        "remapped_rows": [0, 0, 0, 0],
        "clocks_event_reasons": 1,  # GPU idle: a normal bit
        "fabric": {"state": 3, "status": 0, "clique_id": 0, "health_mask": 0},
        "processes": [],
        "errors": {},
    }
    fact.update(changes)
    return fact


def gpus(
    count: int, name: str = "NVIDIA B200", cc: tuple[int, int] | None = (10, 0), **changes: Any
) -> list[dict[str, Any]]:
    return [device(index, name, cc, **changes) for index in range(count)]


def p2p_matrix(
    devices: list[dict[str, Any]], read: int | None = 0, nvlink: int | None = 0
) -> dict[str, dict[str, Any]]:
    """Every ordered pair answering ``read`` (0 = OK) and ``nvlink`` (0 = OK)."""
    indices = [d["index"] for d in devices]
    return {f"{a}-{b}": {"read": read, "nvlink": nvlink, "errors": {}} for a in indices for b in indices if a != b}


def nvml_fact(devices: list[dict[str, Any]] | None = None, **changes: Any) -> NvmlFact:
    """NVML answered: driver 580.95.05 (CUDA 13.0), ``devices`` (8 B200s by default), P2P OK everywhere."""
    found = gpus(8) if devices is None else devices
    fact: NvmlFact = {
        "status": "ok",
        "error": None,
        "hung_at": None,
        "driver_version": "580.95.05",
        "cuda_driver_version": 13000,
        "device_count": len(found),
        "devices": found,
        "p2p": p2p_matrix(found),
        "process_names": {},
        "cuda_visible_devices": None,
        "duration_ms": 120,
    }
    fact.update(changes)  # type: ignore[typeddict-item]
    return fact


def nvml_failed(status: str, error: str | None = None, **changes: Any) -> NvmlFact:
    """NVML did not answer: ``status`` as the probe names it, no devices."""
    return nvml_fact([], status=status, error=error, driver_version=None, cuda_driver_version=None, **changes)


def real_nvml(machine: str) -> NvmlFact:
    """The NVML fact of a real machine (``h200-gvisor``, ``h200x2-gvisor``): scripts/capture_facts.py."""
    fact: NvmlFact = json.loads((REAL / machine / "facts-nvml.json").read_text())
    return fact


def real_run(machine: str, report: str) -> dict[str, dict[str, Any]]:
    """The results of the doctor's real run on ``machine``, by check ID."""
    document = json.loads((REAL / machine / report).read_text())
    return {result["id"]: result for result in document["results"]}


# --- model and host ---------------------------------------------------------------------------------

GLM5_CONFIG: dict[str, Any] = {
    "architectures": ["GlmMoeDsaForCausalLM"],
    "model_type": "glm_moe_dsa",
    "num_hidden_layers": 78,
    "num_attention_heads": 64,
    "kv_lora_rank": 512,
    "qk_rope_head_dim": 64,
    "index_head_dim": 128,
    "max_position_embeddings": 202752,
    "num_nextn_predict_layers": 1,
    "quantization_config": {"quant_method": "fp8", "fmt": "e4m3", "weight_block_size": [128, 128]},
}


def shard(number: int, total: int = 3, *, size: int = 5 * 10**9, problem: str | None = None) -> ShardFact:
    return {
        "name": f"model-{number:05d}-of-{total:05d}.safetensors",
        "exists": problem != "missing",
        "size": size,
        "expected_size": size,
        "problem": problem,
    }


def model_files(*, on_disk: bool = True, **changes: Any) -> ModelFilesFact:
    """GLM-5-FP8 in the Hugging Face cache (3 complete shards), or not on disk at all."""
    cache = "/root/.cache/huggingface/hub"
    repo = f"{cache}/models--zai-org--GLM-5-FP8"
    fact: ModelFilesFact = {
        "model": "zai-org/GLM-5-FP8",
        "found_as": "hub cache" if on_disk else None,
        "path": f"{repo}/snapshots/{'a' * 40}" if on_disk else None,
        "searched": [repo],
        "cache_dir": cache,
        "config": dict(GLM5_CONFIG) if on_disk else None,
        "config_error": None,
        "tokenizer_class": "TokenizersBackend" if on_disk else None,
        "hf_quant_config": None,
        "index_error": None,
        "index_total_size": 15 * 10**9 if on_disk else None,
        "weight_map_keys_sample": [],
        "mtp_layer_present": True if on_disk else None,
        "shards": [shard(n) for n in (1, 2, 3)] if on_disk else [],
        "incomplete_downloads": [],
        "disk_free_bytes": 2 * 10**12,
        "disk_path": cache,
    }
    fact.update(changes)  # type: ignore[typeddict-item]
    return fact


def host_fact(**changes: Any) -> HostFact:
    """A healthy host: 64 GiB /dev/shm, 1 TiB RAM, port 8000 free, nofile 1M."""
    fact: HostFact = {
        "shm_total_bytes": 64 * GIB,
        "container": None,
        "memory_total_bytes": 1024 * GIB,
        "memory_available_bytes": 900 * GIB,
        "port": 8000,
        "bind_host": "0.0.0.0",
        "port_free": True,
        "port_error": None,
        "port_holders": [],
        "nofile_soft": 1048576,
        "nofile_hard": 1048576,
        "hf_hub_offline": False,
        "hf_token_set": False,
        "vllm_attention_backend": None,
    }
    fact.update(changes)  # type: ignore[typeddict-item]
    return fact
