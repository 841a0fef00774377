"""Compiled extensions against the installed torch: every c10/at/torch symbol they need must be exported."""

from __future__ import annotations

from glm5_doctor.checks._fixes import torch_spec
from glm5_doctor.checks._pins import requirement_for
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import Fix, check
from glm5_doctor.engine.facts import Facts
from glm5_doctor.engine.results import Outcome
from glm5_doctor.probes.distributions import DISTRIBUTIONS, distribution
from glm5_doctor.probes.extension_abi import EXTENSION_ABI, ExtensionAbiFact


def _judge(
    found: ExtensionAbiFact, owners: tuple[str, ...], what: str, remedy: str, extra: dict[str, str] | None = None
) -> Outcome:
    extensions = [e for e in found["extensions"] if e["owner"] in owners]
    evidence: dict[str, object] = {
        **(extra or {}),
        "torch_lib_dir": found["torch_lib_dir"],
        "torch_libraries": found["torch_libraries"],
        "extensions": {
            e["path"]: f"{e['torch_symbols']} torch symbols, {len(e['missing'])} missing" for e in extensions
        },
    }
    if not found["torch_libraries"]:
        return Outcome.skipped(f"no torch libraries in the target environment to resolve {what} against", evidence)
    if not extensions:
        return Outcome.skipped(f"no compiled {what} extension found", evidence)
    unreadable = [e for e in extensions if e["error"]]
    broken = [e for e in extensions if e["missing"]]
    if broken:
        first = broken[0]
        evidence["missing"] = {e["path"]: e["missing"] for e in broken}
        return Outcome.failed(
            f"{first['path']} needs {first['missing'][0]}, which the installed torch does not export "
            f'({len(first["missing"])} such symbol(s)): import fails with "undefined symbol: {first["missing"][0]}"; '
            f"{remedy}",
            evidence,
        )
    if unreadable:
        first = unreadable[0]
        return Outcome.errored(f"cannot read {first['path']}: {first['error']}", evidence)
    total = sum(e["torch_symbols"] for e in extensions)
    return Outcome.passed(
        f"{len(extensions)} {what} extension(s) resolve all {total} torch symbols against {found['torch_lib_dir']}",
        evidence,
    )


@check(
    "deepgemm.torch-abi",
    title="DeepGEMM's compiled extension links against the installed torch",
    category="toolchain",
    facts=(EXTENSION_ABI,),
    requires=("deepgemm.installed",),
    fix="install-deepgemm.sh",
)
def deepgemm_torch_abi(facts: Facts, profile: Profile) -> Outcome:
    """Every ``c10::``/``at::``/``torch::`` symbol DeepGEMM's extension needs is exported by this torch.

    What it checks:
        The undefined symbols in the dynamic symbol table of each loadable DeepGEMM extension (the
        external ``deep_gemm`` and vLLM's bundled copy) whose names are torch's (mangled ``c10``,
        ``at``, ``torch`` namespaces, ``aoti_torch_`` shims), looked up among the symbols
        ``torch/lib/libc10*.so`` and ``libtorch*.so`` export. Read from the ELF files; nothing is loaded.

    Why it matters:
        DeepGEMM built against one torch and run with another fails at import with "ImportError:
        ... deep_gemm_cpp...so: undefined symbol: _ZN3c106detail14torchCheckFailEPKcS2_jRKNSt7__cxx11..."
        (torch's C++ signatures and ABI change between releases); vLLM then reports DeepGEMM as missing.

    How to fix:
        Rebuild DeepGEMM from source against the installed torch (``glm5-doctor fix deepgemm.torch-abi``),
        or install the torch it was built for.

    Sources:
        - https://github.com/deepseek-ai/DeepGEMM/issues/142 (torchCheckFail undefined after a torch change)
        - https://github.com/deepseek-ai/DeepGEMM/issues/330 (prebuilt wheel fixed by rebuilding against torch)
        - https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.symtab.html (ELF symbol table)
    """
    return _judge(
        facts[EXTENSION_ABI],
        ("deep_gemm", "vllm.third_party.deep_gemm"),
        "DeepGEMM",
        "rebuild DeepGEMM against the installed torch",
    )


@check(
    "vllm.torch-abi",
    title="vLLM's compiled extensions link against the installed torch",
    category="toolchain",
    facts=(EXTENSION_ABI, DISTRIBUTIONS),
    requires=("vllm.installed",),
    fix=Fix("install-torch.sh", environment=torch_spec),
)
def vllm_torch_abi(facts: Facts, profile: Profile) -> Outcome:
    """Every torch symbol vLLM's ``_C``, ``_moe_C`` and other extensions need is exported by this torch.

    What it checks:
        As deepgemm.torch-abi, for every ``vllm/*.so``: their undefined ``c10``/``at``/``torch``
        symbols against the installed torch's libraries.

    Why it matters:
        vLLM's wheels are built against the exact torch they pin; a torch upgraded or downgraded
        beside them fails at import with "undefined symbol: _ZN3c10..." before anything is served.

    How to fix:
        Install the torch vLLM pins: ``glm5-doctor fix vllm.torch-abi``.

    Sources:
        - https://github.com/vllm-project/vllm/issues/611 ; https://github.com/vllm-project/vllm/issues/1344
        - vllm 0.19.1 and torch 2.10.0 wheels: the 158 torch symbols of vllm/*.so all resolve (read with this reader)
    """
    vllm = distribution(facts, "vllm")
    pin = requirement_for(vllm, "torch") if vllm else None
    extra = {"vllm_pin": str(pin.specifier)} if pin is not None and pin.specifier else {}
    return _judge(facts[EXTENSION_ABI], ("vllm",), "vLLM", "install the torch vLLM pins", extra)
