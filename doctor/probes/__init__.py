"""Probes: the only code that touches the machine. Each returns plain data under one name."""

from __future__ import annotations

from glm5_doctor.probes.compile import COMPILE_TIMEOUT_S, probe_compile
from glm5_doctor.probes.context import Probe, ProbeContext, describe_target
from glm5_doctor.probes.deep_gemm import probe_deep_gemm
from glm5_doctor.probes.distributions import probe_distributions
from glm5_doctor.probes.host import probe_host
from glm5_doctor.probes.jit_cache import probe_jit_cache
from glm5_doctor.probes.model_files import probe_model_files
from glm5_doctor.probes.nvml import NVML_TIMEOUT_S, probe_nvml
from glm5_doctor.probes.packages import probe_transformers_files, probe_vllm_files
from glm5_doctor.probes.toolchain import probe_nvcc, probe_torch

#: Every probe by the fact name checks ask for in ``@check(facts=...)``.
PROBES: dict[str, Probe] = {
    probe.name: probe
    for probe in (
        Probe("interpreter", describe_target),
        Probe("distributions", probe_distributions),
        Probe("vllm_files", probe_vllm_files),
        Probe("transformers_files", probe_transformers_files),
        Probe("torch", probe_torch),
        Probe("nvcc", probe_nvcc),
        Probe("deep_gemm", probe_deep_gemm),
        Probe("jit_cache", probe_jit_cache),
        Probe("model_files", probe_model_files, timeout_s=30.0),
        Probe("host", probe_host),
        # The child process has its own deadline; this one only guards against the unforeseen.
        Probe("nvml", probe_nvml, timeout_s=NVML_TIMEOUT_S * 4),
        Probe("compile", probe_compile, timeout_s=COMPILE_TIMEOUT_S + 10),
    )
}

__all__ = ["PROBES", "Probe", "ProbeContext"]
