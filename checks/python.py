"""The target Python interpreter."""

from __future__ import annotations

from glm5_doctor import knowledge
from glm5_doctor.checks._pins import requires_python
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import check
from glm5_doctor.engine.facts import Facts
from glm5_doctor.engine.results import Outcome
from glm5_doctor.probes.distributions import DISTRIBUTIONS, distribution
from glm5_doctor.probes.interpreter import INTERPRETER
from packaging.specifiers import InvalidSpecifier
from packaging.version import Version


@check(
    "python.version",
    title="The target Python is one vLLM supports",
    category="python-stack",
    facts=(INTERPRETER, DISTRIBUTIONS),
    fix="create-python-venv.sh",
)
def python_version(facts: Facts, profile: Profile) -> Outcome:
    """Python version of the environment vLLM runs in.

    What it checks:
        The version of the target interpreter (``--python``, or the one running the doctor)
        against the ``Requires-Python`` of the installed vLLM, or against 3.10-3.13 (what
        every vLLM from 0.16 to 0.19 accepts) when no vLLM is installed yet.

    Why it matters:
        pip refuses vLLM on an unsupported Python, or quietly picks an old release without
        GLM-5 support. vLLM 0.32 and later need 3.11+; 3.14 is accepted only from 0.20. vLLM
        0.20.0's bundled DeepGEMM runs on CPython 3.12 only, which is why 3.12 is the choice
        every release accepts.

    How to fix:
        Create a fresh environment on Python 3.12 and install vLLM into it:
        ``glm5-doctor fix python.version``.

    Sources:
        - vLLM wheel METADATA 0.16.0-0.33.0 (Requires-Python)
        - vllm 0.20.0 wheel: vllm/third_party/deep_gemm/_C.cpython-312-x86_64-linux-gnu.so (3.12 only)
        - https://pypi.org/project/vllm/
    """
    interpreter = facts[INTERPRETER]
    version = Version(interpreter["version"])
    evidence: dict[str, object] = {"python": interpreter["executable"], "version": str(version)}
    vllm = distribution(facts, "vllm")
    try:
        spec = requires_python(vllm) if vllm else None
    except InvalidSpecifier:
        assert vllm is not None
        return Outcome.errored(
            f"vLLM {vllm['version']}'s Requires-Python {vllm['requires_python']!r} is not a valid specifier",
            {**evidence, "metadata": vllm["dist_info"]},
        )
    if spec is not None and vllm is not None:
        whose = f"vLLM {vllm['version']}'s Requires-Python"
    else:
        spec, whose = knowledge.FALLBACK_REQUIRES_PYTHON, "the range vLLM 0.16-0.19 support (no vLLM installed)"
    evidence["requires_python"] = str(spec)
    if spec.contains(version, prereleases=True):
        return Outcome.passed(f"Python {version} is inside {whose} ({spec})", evidence)
    return Outcome.failed(
        f"Python {version} is outside {whose} ({spec}): use Python {knowledge.RECOMMENDED_PYTHON}",
        evidence,
    )
