"""FlashInfer: the attention/sampling kernels vLLM pins exactly, and its companion wheels."""

from __future__ import annotations

from glm5_doctor import knowledge
from glm5_doctor.checks._fixes import flashinfer_version
from glm5_doctor.checks._pins import requirement_for, satisfies
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import Fix, check
from glm5_doctor.engine.facts import Facts, parse_version
from glm5_doctor.engine.results import Outcome
from glm5_doctor.probes.distributions import DISTRIBUTIONS, distribution

COMPANIONS = ("flashinfer-cubin", "flashinfer-jit-cache")


@check(
    "flashinfer.versions",
    title="flashinfer-python matches vLLM's pin and its companion wheels",
    category="toolchain",
    facts=(DISTRIBUTIONS,),
    fix=Fix("install-flashinfer.sh", environment=flashinfer_version),
)
def flashinfer_versions(facts: Facts, profile: Profile) -> Outcome:
    """``flashinfer-python`` at vLLM's ``==`` pin; ``flashinfer-cubin``/``-jit-cache`` at the same version.

    What it checks:
        The installed ``flashinfer-python`` satisfies the installed vLLM's ``Requires-Dist`` pin,
        and ``flashinfer-cubin`` and ``flashinfer-jit-cache``, when present, carry exactly the same
        version (compared as PEP 440 versions, local tags such as ``+cu129`` aside).

    Why it matters:
        A companion wheel left over from an older image stops the engine at start with
        "RuntimeError: flashinfer-cubin version (X) does not match flashinfer version (Y)". On
        B200 vLLM 0.17+ may pick FlashInfer's sparse-MLA backend for GLM-5.

    How to fix:
        Install matching versions (or uninstall the stale companion):
        ``glm5-doctor fix flashinfer.versions``. ``FLASHINFER_DISABLE_VERSION_CHECK=1`` only hides it.

    Sources:
        - vLLM wheel METADATA 0.16.0-0.33.0 (flashinfer-python / flashinfer-cubin pins)
        - https://github.com/vllm-project/vllm/issues/49804 ; https://github.com/flashinfer-ai/flashinfer/issues/4781
    """
    vllm = distribution(facts, "vllm")
    pin = requirement_for(vllm, "flashinfer-python") if vllm else None
    main = distribution(facts, "flashinfer-python")
    companions = {name: distribution(facts, name) for name in COMPANIONS}
    evidence: dict[str, object] = {
        "vllm_pin": str(pin.specifier) if pin else None,
        "flashinfer-python": main["version"] if main else None,
        **{name: dist["version"] if dist else None for name, dist in companions.items()},
    }
    present = [name for name, dist in companions.items() if dist]
    if main is None:
        if pin is not None and vllm is not None:
            return Outcome.failed(f"flashinfer-python is not installed; vLLM {vllm['version']} needs {pin}", evidence)
        if present:
            return Outcome.failed(f"{', '.join(present)} installed without flashinfer-python", evidence)
        return Outcome.skipped("flashinfer is not installed and no installed vLLM requires it", evidence)
    version = parse_version(main["version"])
    if version is None:
        return Outcome.errored(f"flashinfer-python's version {main['version']!r} is not a PEP 440 version", evidence)
    if pin is not None and vllm is not None and not satisfies(version, pin.specifier):
        return Outcome.failed(f"flashinfer-python {version} is not vLLM {vllm['version']}'s pin ({pin})", evidence)
    for name in present:
        companion = parse_version(companions[name]["version"])  # type: ignore[index]
        if companion is None or companion.public != version.public:
            shown = companions[name]["version"]  # type: ignore[index]
            return Outcome.failed(
                f"{name} {shown} does not match flashinfer-python {version}: the engine stops with "
                f'"{knowledge.FLASHINFER_MISMATCH_ERROR.format(name=name, have=shown, want=version)}"',
                evidence,
            )
    extra = f" with {', '.join(present)} at the same version" if present else ""
    pinned = f", as vLLM {vllm['version']} pins" if pin and vllm else ""
    return Outcome.passed(f"flashinfer-python {version}{pinned}{extra}", evidence)
