"""DeepGEMM's compiled extension against the installed torch: every c10/at/torch symbol it needs must be exported."""

from __future__ import annotations

from glm5_doctor.checks._abi import judge_abi
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import check
from glm5_doctor.engine.facts import Facts
from glm5_doctor.engine.results import Outcome
from glm5_doctor.probes.extension_abi import EXTENSION_ABI


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
    return judge_abi(
        facts[EXTENSION_ABI],
        ("deep_gemm", "vllm.third_party.deep_gemm"),
        "DeepGEMM",
        "rebuild DeepGEMM against the installed torch",
    )
