"""Probes: the only code that touches the machine. Each returns plain data under one name."""

from __future__ import annotations

from glm5_doctor.probes.base import Probe, ProbeContext
from glm5_doctor.probes.distributions import probe_distributions
from glm5_doctor.probes.packages import probe_transformers_files, probe_vllm_files


def _interpreter(context: ProbeContext) -> object:
    return context.interpreter()


#: Every probe by the fact name checks ask for in ``@check(facts=...)``.
PROBES: dict[str, Probe] = {
    probe.name: probe
    for probe in (
        Probe("interpreter", _interpreter),
        Probe("distributions", probe_distributions),
        Probe("vllm_files", probe_vllm_files),
        Probe("transformers_files", probe_transformers_files),
    )
}

__all__ = ["PROBES", "Probe", "ProbeContext"]
