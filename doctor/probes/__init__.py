"""Probes: the only code that touches the machine. Each module gathers one fact and declares its key.

The probe of a fact lives in the module named after it (``probes/nvml.py`` gathers ``NVML``), so a
check's ``facts=(NVML, ...)`` leads to its probe in one hop.
"""

from __future__ import annotations

from glm5_doctor.engine import deadlines
from glm5_doctor.probes.advisory_database import ADVISORY_DATABASE, probe_advisory_database
from glm5_doctor.probes.caches import CACHES, probe_caches
from glm5_doctor.probes.compile import COMPILE, probe_compile
from glm5_doctor.probes.context import Probe, ProbeContext
from glm5_doctor.probes.deep_gemm import DEEP_GEMM, probe_deep_gemm
from glm5_doctor.probes.deepgemm_warmup import DEEPGEMM_WARMUP, probe_deepgemm_warmup
from glm5_doctor.probes.distributions import DISTRIBUTIONS, probe_distributions
from glm5_doctor.probes.extension_abi import EXTENSION_ABI, probe_extension_abi
from glm5_doctor.probes.host import HOST, probe_host
from glm5_doctor.probes.interpreter import INTERPRETER, describe_target
from glm5_doctor.probes.jit_cache import JIT_CACHE, probe_jit_cache
from glm5_doctor.probes.model_files import MODEL_FILES, probe_model_files
from glm5_doctor.probes.network import NETWORK, probe_network
from glm5_doctor.probes.nvcc import NVCC, probe_nvcc
from glm5_doctor.probes.nvlink_devices import NVLINK_DEVICES, probe_nvlink_devices
from glm5_doctor.probes.nvml import NVML, probe_nvml
from glm5_doctor.probes.python_stack import PYTHON_STACK, probe_python_stack
from glm5_doctor.probes.torch_build import TORCH_BUILD, probe_torch
from glm5_doctor.probes.transformers_files import TRANSFORMERS_FILES, probe_transformers_files
from glm5_doctor.probes.triton_ptxas import TRITON_PTXAS, probe_triton_ptxas
from glm5_doctor.probes.vllm_files import VLLM_FILES, probe_vllm_files

#: Every probe by the name of the fact it gathers.
PROBES: dict[str, Probe] = {
    probe.name: probe
    for probe in (
        Probe(INTERPRETER, describe_target),
        Probe(DISTRIBUTIONS, probe_distributions),
        Probe(VLLM_FILES, probe_vllm_files),
        Probe(TRANSFORMERS_FILES, probe_transformers_files),
        Probe(TORCH_BUILD, probe_torch),
        Probe(NVCC, probe_nvcc),
        Probe(DEEP_GEMM, probe_deep_gemm),
        Probe(JIT_CACHE, probe_jit_cache),
        Probe(CACHES, probe_caches),
        Probe(DEEPGEMM_WARMUP, probe_deepgemm_warmup),
        Probe(EXTENSION_ABI, probe_extension_abi),
        Probe(TRITON_PTXAS, probe_triton_ptxas),
        Probe(NVLINK_DEVICES, probe_nvlink_devices),
        Probe(MODEL_FILES, probe_model_files, timeout_s=deadlines.MODEL_FILES_S),
        Probe(HOST, probe_host),
        Probe(NETWORK, probe_network),
        Probe(ADVISORY_DATABASE, probe_advisory_database),
        # The children have their own deadlines (which a variable may raise); these only guard
        # against the unforeseen, a little later than the child's, so the child's answer wins.
        Probe(NVML, probe_nvml, timeout_s=lambda context: deadlines.nvml_s(context.environ) + 2 * deadlines.REAP_S + 5),
        Probe(COMPILE, probe_compile, timeout_s=lambda context: deadlines.compile_s(context.environ) + 10),
        Probe(PYTHON_STACK, probe_python_stack, timeout_s=lambda context: deadlines.stack_s(context.environ) + 10),
    )
}

__all__ = ["PROBES", "Probe", "ProbeContext"]
