"""Known upstream bugs: the installed versions and the deployment matched against the advisory database."""

from __future__ import annotations

from typing import Any

from glm5_doctor.checks._gpu import capability, target_capability
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import check
from glm5_doctor.engine.facts import Facts
from glm5_doctor.engine.results import Outcome
from glm5_doctor.knowledge import advisories as db
from glm5_doctor.knowledge.cuda_devices import visible_devices
from glm5_doctor.probes.advisory_database import ADVISORY_DATABASE
from glm5_doctor.probes.distributions import DISTRIBUTIONS
from glm5_doctor.probes.interpreter import INTERPRETER
from glm5_doctor.probes.nvml import NVML


@check(
    "advisories.known-bugs",
    title="No known upstream bug matches these versions and this deployment",
    category="advisories",
    facts=(ADVISORY_DATABASE, DISTRIBUTIONS, NVML, INTERPRETER),
)
def known_bugs(facts: Facts, profile: Profile) -> Outcome:
    """Every advisory whose affected versions and deployment conditions match, with its fix and workaround.

    What it checks:
        The advisory database (shipped with the doctor, or a newer one given with ``--advisories FILE``)
        against the installed distributions of the target environment (``vllm``, ``flashinfer-python``,
        ``deep-gemm``, ``transformers``, ``torch``, ...), the target Python, the NVIDIA driver and GPUs
        NVML reports, and the deployment: tensor/pipeline parallel size, KV-cache dtype, model family and
        quantization, and, when the ``vllm serve`` command is known (``preflight``), the speculative
        method, tool and reasoning parsers, chat-template content format, load format, KV connector and
        attention backend. Fails when a matching advisory has severity fail, warns when only warn ones
        match; an advisory that needs a value the run does not know is listed as undetermined.

    Why it matters:
        Most of what still breaks a correct GLM-5 environment is a bug in one version of vLLM,
        FlashInfer, DeepGEMM, a connector or a driver that is already reported upstream, and often
        fixed: nonsense from the sparse decode path, MTP drafts never accepted, LMCache against the
        sparse-MLA KV layout, a fused all-reduce crashing at graph capture. Knowing it before the weights
        load saves the launch.

    How to fix:
        Each match names the release that fixes it (when upstream names one) and the workaround from the
        thread. ``glm5-doctor advisories --id GLM5-ADV-NNNN`` shows the whole entry with its sources.

    Sources:
        - every advisory lists its issue and pull-request threads (``glm5-doctor advisories``)
        - https://peps.python.org/pep-0440/#version-specifiers (how versions are matched)
    """
    data = facts[ADVISORY_DATABASE]
    try:
        database = db.parse_database(data, str(data.get("source", db.BUILTIN)))
    except db.AdvisoryError as exc:  # a database is validated when loaded; this guards a replayed fact
        return Outcome.errored(f"the advisory database is not usable: {exc}")
    deployment = deployment_from(facts, profile)
    matches = db.match_all(database, deployment)
    found = [m for m in matches if m.verdict is db.Verdict.MATCH]
    undetermined = [m for m in matches if m.verdict is db.Verdict.UNDETERMINED]
    evidence: dict[str, Any] = {
        "database": database.info(),
        "matches": [_shown(match) for match in found],
        "undetermined": [{"id": m.advisory.id, "needs": list(m.unknown)} for m in undetermined],
        "deployment": _deployment_evidence(deployment),
    }
    if not found:
        more = (
            f"; {len(undetermined)} more would need values this run does not know "
            f"({', '.join(sorted({need for m in undetermined for need in m.unknown}))})"
            if undetermined
            else ""
        )
        return Outcome.passed(
            f"none of the {len(database.advisories)} advisories (database {database.version}) matches{more}", evidence
        )
    lines = [
        f"{len(found)} known upstream bug{'s' if len(found) != 1 else ''} match{'' if len(found) != 1 else 'es'} "
        f"(advisory database {database.version}, {database.date}):"
    ]
    for match in found:
        advisory = match.advisory
        lines.append(
            f"{advisory.id} [{advisory.severity}] {advisory.title}; {advisory.fixed_text()}; "
            f"workaround: {advisory.workaround} ({advisory.sources[0]})"
        )
    message = "\n".join(lines)
    failing = any(match.advisory.severity == "fail" for match in found)
    return (Outcome.failed if failing else Outcome.warned)(message, evidence)


def deployment_from(facts: Facts, profile: Profile) -> db.Deployment:
    """The values the advisories' conditions are judged against, from the facts and the profile."""
    versions: dict[str, str] = {}
    for name, copies in facts[DISTRIBUTIONS]["by_name"].items():
        if copies and copies[0].get("version"):
            versions[name] = str(copies[0]["version"])
    unknown: set[str] = set()
    interpreter = facts.get(INTERPRETER)
    if isinstance(interpreter, dict) and interpreter.get("version"):
        versions[db.PYTHON] = str(interpreter["version"])
    else:
        unknown.add(db.PYTHON)
    nvml = facts.get(NVML)
    if isinstance(nvml, dict) and nvml.get("status") == "ok" and nvml.get("driver_version"):
        versions[db.DRIVER] = str(nvml["driver_version"])
    else:
        unknown.add(db.DRIVER)
    serve = profile.serve
    speculative = (serve.speculative_config or {}) if serve else None
    quantization = profile.quantization if profile.quantization != "unknown" else None
    if quantization is None and serve is not None and serve.quantization:
        quantization = db.QUANTIZATION_FLAGS.get(serve.quantization.lower(), serve.quantization.lower())
    return db.Deployment(
        versions=versions,
        compute_capabilities=_capabilities(facts, profile),
        tensor_parallel_size=profile.tensor_parallel_size,
        pipeline_parallel_size=profile.pipeline_parallel_size,
        kv_cache_dtype=profile.kv_cache_dtype,
        speculative_method=None if speculative is None else str(speculative.get("method") or "none"),
        tool_call_parser=None if serve is None else serve.tool_call_parser or "none",
        reasoning_parser=None if serve is None else serve.reasoning_parser or "none",
        chat_template_content_format=None if serve is None else serve.chat_template_content_format or "auto",
        load_format=None if serve is None else serve.load_format or "auto",
        kv_connector=None if serve is None else serve.kv_connector or "none",
        attention_backend=None if serve is None else serve.attention_backend or "auto",
        model_family=db.model_family(profile.model),
        quantization=quantization or db.quantization_from_name(profile.model),
        unknown_versions=frozenset(unknown),
    )


def _capabilities(facts: Facts, profile: Profile) -> tuple[str, ...] | None:
    """Every compute capability in the deployment: the visible GPUs NVML reports, else the planned GPU."""
    nvml = facts.get(NVML)
    if profile.detect_gpu and isinstance(nvml, dict) and nvml.get("status") == "ok":
        visible = visible_devices(nvml.get("devices") or [], nvml.get("cuda_visible_devices")).devices
        found = [cap for cap in (capability(device) for device in visible) if cap]
        if found:
            return db.capability_text(found)
    if profile.detect_gpu:
        return None  # no GPU answered: the planned default GPU is not this machine's
    planned, _ = target_capability(facts, profile)
    return db.capability_text([planned]) if planned else None


def _shown(match: db.Match) -> dict[str, Any]:
    advisory = match.advisory
    return {
        "id": advisory.id,
        "title": advisory.title,
        "severity": advisory.severity,
        "fixed_in": dict(advisory.fixed_in) if advisory.fixed_in else None,
        "workaround": advisory.workaround,
        "sources": list(advisory.sources),
        "matched_on": dict(match.evidence),
    }


def _deployment_evidence(deployment: db.Deployment) -> dict[str, Any]:
    return {
        condition: (list(values) if values is not None else None)
        for condition in db.CONDITIONS
        for values in [deployment.values(condition)]
    }
