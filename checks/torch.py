"""torch: a CUDA build new enough for the target GPU, at the version vLLM pins."""

from __future__ import annotations

from glm5_doctor import knowledge
from glm5_doctor.checks._fixes import torch_spec
from glm5_doctor.checks._gpu import target_capability
from glm5_doctor.checks._pins import requirement_for, satisfies
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import Fix, check
from glm5_doctor.engine.facts import Facts, parse_version
from glm5_doctor.engine.results import Outcome
from glm5_doctor.probes.distributions import DISTRIBUTIONS, distribution
from glm5_doctor.probes.nvml import NVML
from glm5_doctor.probes.torch_build import TORCH_BUILD, TorchFact


@check(
    "torch.cuda-build",
    title="torch is a CUDA build for the target GPU, at vLLM's pin",
    category="toolchain",
    facts=(TORCH_BUILD, DISTRIBUTIONS, NVML),
    fix=Fix("install-torch.sh", environment=torch_spec),
)
def torch_cuda_build(facts: Facts, profile: Profile) -> Outcome:
    """torch's CUDA version from ``torch/version.py`` (never imported) against the GPU and vLLM's pin.

    What it checks:
        torch is installed, is a CUDA build (not CPU-only, not ROCm), is built for CUDA 12.8 or
        newer when the target GPU is Blackwell (compute capability 10.x), and its version
        satisfies the installed vLLM's ``torch==`` pin.

    Why it matters:
        A cu126 (or older) torch has no sm_100 kernels: on B200 the first CUDA call fails with
        "no kernel image is available for execution on the device". A torch other than the one
        vLLM pins fails to load vLLM's compiled ops (undefined symbols) at import.

    How to fix:
        Install the torch vLLM pins, from the PyTorch index of a CUDA 12.8+ build (cu128, cu129,
        cu130): ``glm5-doctor fix torch.cuda-build``.

    Sources:
        - https://github.com/pytorch/pytorch/pull/182849 (CUDA arch lists per torch build)
        - vLLM wheels 0.16.0-0.33.0: METADATA (``torch==`` pins)
        - https://github.com/Comfy-Org/ComfyUI/pull/16438
    """
    torch: TorchFact = facts[TORCH_BUILD]
    dist = distribution(facts, "torch")
    vllm = distribution(facts, "vllm")
    pin = requirement_for(vllm, "torch") if vllm else None
    evidence: dict[str, object] = {
        "version": torch["version"] or (dist["version"] if dist else None),
        "cuda": torch["cuda"],
        "hip": torch["hip"],
        "version_file": torch["version_file"],
        "vllm_pin": str(pin.specifier) if pin else None,
    }
    if torch["package_dir"] is None:
        wanted = f": vLLM {vllm['version']} pins torch{pin.specifier}" if vllm and pin else ""
        return Outcome.failed(f"torch is not installed{wanted}", evidence)
    if torch["error"]:
        return Outcome.errored(torch["error"], evidence)
    if torch["hip"]:
        return Outcome.failed(
            f"torch {torch['version']} is a ROCm build (HIP {torch['hip']}): GLM-5 on vLLM needs CUDA", evidence
        )
    cuda = parse_version(torch["cuda"])
    if cuda is None:
        return Outcome.failed(f"torch {torch['version']} is a CPU-only build: vLLM needs a CUDA build", evidence)
    capability, gpu_name = target_capability(facts, profile)
    if capability and capability[0] >= 10 and cuda < knowledge.TORCH_CUDA_FLOOR_BLACKWELL:
        return Outcome.failed(
            f"torch {torch['version']} is built for CUDA {cuda}, "
            f"which has no sm_{capability[0]}{capability[1]} kernels "
            f'for {gpu_name}: "no kernel image is available for execution on the device"; '
            f"install a CUDA {knowledge.TORCH_CUDA_FLOOR_BLACKWELL}+ build",
            evidence,
        )
    version = parse_version(torch["version"])
    if pin is not None and vllm is not None and version is not None and not satisfies(version, pin.specifier):
        return Outcome.failed(
            f"torch {version} is not what vLLM {vllm['version']} pins (torch{pin.specifier}): its compiled ops "
            "will not load",
            evidence,
        )
    return Outcome.passed(
        f"torch {torch['version']}, a CUDA {cuda} build"
        + (f", as vLLM {vllm['version']} pins" if vllm and pin else ""),
        evidence,
    )
