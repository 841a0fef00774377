"""GPUs, driver and interconnect, from NVML (the survey runs in a child process; see probes/nvml.py)."""

from __future__ import annotations

from glm5_doctor import knowledge
from glm5_doctor.checks._gpu import capability, gpus, label, version_tuple
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import check
from glm5_doctor.engine.facts import Facts, parse_version
from glm5_doctor.engine.results import Outcome
from glm5_doctor.probes.distributions import DISTRIBUTIONS, distribution
from glm5_doctor.probes.nvml import NVML, NvmlFact
from glm5_doctor.probes.torch_build import TORCH_BUILD
from glm5_doctor.probes.vllm_files import VLLM_FILES, VllmFilesFact

NVML_STATES = {
    "library_not_found": "libnvidia-ml.so.1 was not found: no NVIDIA driver here (or it is not mounted into the "
    "container: run it with the NVIDIA container runtime / --gpus all)",
    "driver_not_loaded": "the NVIDIA kernel driver is not loaded (modprobe nvidia, or the driver install failed)",
    "driver_library_mismatch": 'the NVIDIA kernel module and user-space library versions differ ("Driver/library '
    'version mismatch"): the driver was upgraded without a reboot',
    "no_permission": "NVML has no permission to talk to the driver (check /dev/nvidia* permissions in the container)",
    "nvml_py_missing": "nvidia-ml-py is missing from the doctor's own environment",
}
P2P_STATUS = {
    1: "chipset not supported",
    2: "GPU not supported",
    3: "IOH topology not supported",
    4: "disabled by registry key",
    5: "not supported",
    6: "unknown",
}


@check(
    "gpu.driver",
    title="The NVIDIA driver answers and is new enough for the GPUs and the CUDA build",
    category="gpu",
    facts=(NVML, VLLM_FILES, TORCH_BUILD),
    fix="upgrade-driver.sh",
    timeout_s=30.0,
)
def gpu_driver(facts: Facts, profile: Profile) -> Outcome:
    """NVML loads, the driver answers, and its version meets every floor that applies here.

    What it checks:
        NVML initialises (each failure class is named: no library, driver not loaded,
        driver/library mismatch after an upgrade, no permission, a hung driver and the call it hung
        in). The driver must be >= 570.133.20 when a Blackwell (10.x) GPU is present (HGX B200),
        >= 580.65.06 when vLLM's kernels or torch are CUDA 13 builds, and its CUDA version must not
        be older than torch's (same major but older minor is a warning).

    Why it matters:
        A CUDA 13 vLLM (0.20+) on an R570 driver fails with "The NVIDIA driver on your system is too
        old (found version 12080)" only when the engine starts, after the weights are read.

    How to fix:
        Install the R580 data-center driver (LTS) and the Fabric Manager of exactly the same version,
        or use a CUDA 12 build (vLLM <= 0.19, the -cu129 images): ``glm5-doctor fix gpu.driver``.

    Sources:
        - https://docs.nvidia.com/datacenter/tesla/drivers/supported-drivers-and-cuda-toolkit-versions.html
        - https://docs.nvidia.com/deploy/cuda-compatibility/minor-version-compatibility.html
        - https://docs.nvidia.com/deploy/nvml-api/group__nvmlInitializationAndCleanup.html (NVML init errors)
        - https://github.com/NVIDIA/open-gpu-kernel-modules/issues/1333 (NVML calls hung in D state)
        - https://github.com/modelscope/FunASR/issues/2973 ("found version 12080" on a CUDA 13 torch)
        - https://github.com/NVIDIA/cloud-native-docs/pull/184 ; https://github.com/pytorch/pytorch/pull/162531
    """
    nvml: NvmlFact = facts[NVML]
    evidence: dict[str, object] = {
        "status": nvml["status"],
        "driver": nvml["driver_version"],
        "driver_cuda": nvml["cuda_driver_version"],
        "probe_ms": nvml["duration_ms"],
    }
    if nvml["status"] == "hung":
        return Outcome.failed(
            f"NVML hung in '{nvml['hung_at']}': {nvml['error']}; the GPU or driver is wedged "
            "(check dmesg for Xid errors; a reset or reboot is needed)",
            evidence,
        )
    if nvml["status"] == "nvml_py_missing":
        return Outcome.errored(NVML_STATES["nvml_py_missing"], evidence)
    if nvml["status"] != "ok":
        return Outcome.failed(NVML_STATES.get(nvml["status"], f"NVML failed: {nvml['error']}"), evidence)
    driver = version_tuple(nvml["driver_version"])
    needs: list[tuple[str, str]] = []
    if any((capability(d) or (0, 0))[0] >= 10 for d in nvml["devices"]):
        needs.append((knowledge.DRIVER_FLOOR_BLACKWELL, "Blackwell GPUs (HGX B200)"))
    cuda13 = _cuda13_builds(facts)
    if cuda13:
        needs.append((knowledge.DRIVER_FLOOR_CUDA13, f"{cuda13} (CUDA 13)"))
    for floor, why in needs:
        floor_tuple = version_tuple(floor)
        if driver is not None and floor_tuple is not None and driver < floor_tuple:
            return Outcome.failed(f"driver {nvml['driver_version']} is older than {floor}, which {why} need", evidence)
    torch_cuda = parse_version(facts[TORCH_BUILD]["cuda"])
    driver_cuda = nvml["cuda_driver_version"]
    if torch_cuda is not None and isinstance(driver_cuda, int):
        major, minor = driver_cuda // 1000, (driver_cuda % 1000) // 10
        evidence["torch_cuda"] = str(torch_cuda)
        if major < torch_cuda.major:
            return Outcome.failed(
                f'the driver supports CUDA {major}.{minor} but torch is a CUDA {torch_cuda} build: "The NVIDIA driver '
                'on your system is too old"',
                evidence,
            )
        if major == torch_cuda.major and minor < torch_cuda.minor:
            return Outcome.warned(
                f"the driver supports CUDA {major}.{minor}, older than torch's CUDA {torch_cuda}: "
                "minor-version compatibility only (some features missing)",
                evidence,
            )
    cuda = f" (CUDA {driver_cuda // 1000}.{(driver_cuda % 1000) // 10})" if isinstance(driver_cuda, int) else ""
    return Outcome.passed(
        f"driver {nvml['driver_version']}{cuda}, {len(nvml['devices'])} GPU(s) answer NVML in {nvml['duration_ms']} ms",
        evidence,
    )


def _cuda13_builds(facts: Facts) -> str | None:
    files: VllmFilesFact = facts[VLLM_FILES]
    if any(lib.startswith("libcudart.so.13") for lib in files["c_extension_needed"] or []):
        return "vLLM's kernels"
    torch_cuda = parse_version(facts[TORCH_BUILD]["cuda"])
    if torch_cuda is not None and torch_cuda.major >= 13:
        return f"torch (CUDA {torch_cuda})"
    return None


@check(
    "gpu.count",
    title="Enough GPUs are visible for tensor x pipeline parallelism, all of one model",
    category="gpu",
    facts=(NVML,),
    requires=("gpu.driver",),
    fix="choose-gpus.sh",
)
def gpu_count(facts: Facts, profile: Profile) -> Outcome:
    """CUDA-visible GPUs >= ``--tensor-parallel-size`` x ``--pipeline-parallel-size``, all the same model.

    What it checks:
        Maps ``CUDA_VISIBLE_DEVICES`` (indices or GPU UUIDs; CUDA stops at the first entry it cannot
        resolve) onto the GPUs NVML lists, and requires TP x PP of them, all of the same model.

    Why it matters:
        vLLM refuses a tensor-parallel size larger than the visible GPU count, and a mixed group runs
        at the speed (and memory) of its weakest member. GLM-5-FP8 needs 8 large GPUs; NVFP4 needs 4.

    How to fix:
        Expose more GPUs (``CUDA_VISIBLE_DEVICES``, the container's ``--gpus``), or pick a profile that
        fits what is here (``glm5-doctor fit`` shows what would): ``--tp``/``--pp``.

    Sources:
        - https://docs.vllm.ai/projects/recipes/en/latest/GLM/GLM5.html (FP8 on 8x H200)
        - https://github.com/zai-org/GLM-5/issues/25 (16x H100 for FP8)
        - https://docs.nvidia.com/deploy/nvml-api/group__nvmlDeviceQueries.html (NVML index is not the CUDA index)
        - https://docs.nvidia.com/cuda/cuda-c-programming-guide/index.html#env-vars (CUDA_VISIBLE_DEVICES)
    """
    found = gpus(facts, profile)
    names = sorted({str(d.get("name")) for d in found.group})
    evidence: dict[str, object] = {
        "visible": len(found.visible),
        "needed": found.needed,
        "names": names,
        "CUDA_VISIBLE_DEVICES": found.nvml["cuda_visible_devices"],
        "nvml_count": len(found.nvml["devices"]),
    }
    problem = f"; {found.visibility_problem}" if found.visibility_problem else ""
    if len(found.visible) < found.needed:
        return Outcome.failed(
            f"{len(found.visible)} GPU(s) visible, but TP {profile.tensor_parallel_size} x PP "
            f"{profile.pipeline_parallel_size} needs {found.needed}{problem}",
            evidence,
        )
    if len(names) > 1:
        return Outcome.failed(
            f"the {found.needed} GPUs vLLM would use are of different models: {', '.join(names)}", evidence
        )
    extra = f" ({len(found.visible) - found.needed} more visible)" if len(found.visible) > found.needed else ""
    return Outcome.passed(
        f"{found.needed} x {names[0]} for TP {profile.tensor_parallel_size} x PP "
        f"{profile.pipeline_parallel_size}{extra}{problem}",
        evidence,
    )


@check(
    "gpu.architecture",
    title="The installed vLLM has sparse-MLA attention kernels for these GPUs",
    category="gpu",
    facts=(NVML, VLLM_FILES, DISTRIBUTIONS),
    requires=("gpu.driver",),
    fix="choose-gpus.sh",
)
def gpu_architecture(facts: Facts, profile: Profile) -> Outcome:
    """Every GPU of the group has a sparse-MLA backend in the installed vLLM; B200 is the validated one.

    What it checks:
        The compute capabilities the installed vLLM's sparse-MLA backends accept, read from their
        source (``supports_compute_capability`` in ``vllm/v1/attention/backends/mla/*sparse*.py``):
        9.x and 10.x in every release (FlashMLA sparse; FlashInfer sparse on 10.x), 12.x (RTX PRO
        6000 Blackwell, DGX Spark) from vLLM 0.24.0. Without vLLM installed: 9.x or 10.x. NVFP4
        checkpoints need Blackwell. Any GPU other than B200 is a warning: it can work (H200 serves
        FP8 in vLLM's recipe) but it is not the validated setup.

    Why it matters:
        On A100, L40S, or 12.x with a vLLM older than 0.24, GLM-5's DeepSeek sparse attention has no
        kernel: "No valid attention backend found for cuda with AttentionSelectorConfig(... use_sparse=True ...)".

    How to fix:
        Serve on H100/H200/B200/B300/GB200 (NVFP4: Blackwell only), or on 12.x with vLLM 0.24.0 or
        newer. No script can change the GPU.

    Sources:
        - vllm 0.16.0 wheel: vllm/v1/attention/backends/mla/flashmla_sparse.py (compute capability 9.x, 10.x)
        - vllm 0.24.0 wheel: vllm/v1/attention/backends/mla/flashinfer_mla_sparse.py (SM120 backend, 12.x)
        - https://github.com/vllm-project/vllm/pull/43477 (sparse MLA for SM120)
        - https://github.com/zai-org/GLM-5/issues/25
        - https://huggingface.co/lukealonso/GLM-5-NVFP4 (NVFP4 requires Blackwell)
        - https://github.com/vllm-project/vllm/issues/54059
    """
    found = gpus(facts, profile)
    if not found.group:
        return Outcome.skipped("no visible GPUs to judge (see gpu.count)")
    evidence: dict[str, object] = {label(d): ".".join(map(str, capability(d) or ())) or None for d in found.group}
    unknown = [label(d) for d in found.group if capability(d) is None]
    if unknown:
        return Outcome.errored(f"NVML gave no compute capability for {', '.join(unknown)}", evidence)
    majors, whose = sparse_mla_majors(facts)
    evidence["sparse_mla_majors"] = sorted(majors)
    unsupported = [d for d in found.group if (capability(d) or (0, 0))[0] not in majors]
    if unsupported:
        first = unsupported[0]
        shown = ".".join(map(str, capability(first) or ()))
        newer = ""
        if (capability(first) or (0, 0))[0] == 12:
            newer = f"; vLLM {knowledge.VLLM_FIRST_SM120_SPARSE_MLA} and later carry a sparse-MLA backend for 12.x"
        return Outcome.failed(
            f"{label(first)} has compute capability {shown} (needs {_majors_text(majors)}{whose}): vLLM stops with "
            f'"{knowledge.SPARSE_MLA_ERROR}"{newer}',
            evidence,
        )
    too_old = [d for d in found.group if (capability(d) or (0, 0))[0] < 10]
    if "nvfp4" in profile.quantization and too_old:
        return Outcome.failed(
            f"{profile.model} is an NVFP4 checkpoint: it needs Blackwell (10.x), not {too_old[0].get('name')}",
            evidence,
        )
    names = sorted({str(d.get("name")) for d in found.group})
    if not all(knowledge.VALIDATED_GPU in name for name in names):
        return Outcome.warned(
            f"{', '.join(names)} can serve GLM-5 (sparse-MLA kernels exist for "
            f"{'.'.join(map(str, capability(found.group[0]) or ()))}), but the validated setup is "
            f"{knowledge.VALIDATED_GPU}",
            evidence,
        )
    return Outcome.passed(
        f"{len(found.group)} x {names[0]}: compute capability "
        f"{'.'.join(map(str, capability(found.group[0]) or ()))}, the validated GPU",
        evidence,
    )


def sparse_mla_majors(facts: Facts) -> tuple[set[int], str]:
    """Compute-capability majors with a sparse-MLA backend: as the installed vLLM's files state them,
    else the table (every release 0.16-0.23 covers 9.x and 10.x)."""
    files = facts.get(VLLM_FILES)
    backends = files["sparse_mla_backends"] if files is not None else None
    stated = [backend for backend in backends or [] if backend["majors"] is not None]
    if not stated:
        return set(knowledge.SPARSE_MLA_MAJORS), ""
    dist = distribution(facts, "vllm")
    names = ", ".join(sorted({backend["name"] for backend in stated}))
    version = f" {dist['version']}" if dist else ""
    return {major for backend in stated for major in backend["majors"] or []}, f" in vLLM{version}: {names}"


def _majors_text(majors: set[int]) -> str:
    shown = [f"{major}.x" for major in sorted(majors)]
    return " or ".join(shown) if len(shown) < 3 else ", ".join(shown[:-1]) + " or " + shown[-1]


@check(
    "gpu.fabric",
    title="NVSwitch fabric registration finished (Fabric Manager, NVLSM on B200)",
    category="gpu",
    facts=(NVML,),
    requires=("gpu.driver",),
    fix="start-fabric-manager.sh",
)
def gpu_fabric(facts: Facts, profile: Profile) -> Outcome:
    """Every GPU's NVLink fabric state is COMPLETED with status success, on NVSwitch systems.

    What it checks:
        ``nvmlDeviceGetGpuFabricInfoV`` per GPU (called with its struct, the way it must be).
        NOT_SUPPORTED on every GPU means no NVSwitch fabric (PCIe, NVLink bridges, a VM): skipped.
        NOT_STARTED or IN_PROGRESS fails, naming Fabric Manager (and NVLSM with the ``ib_umad``
        module on HGX B200); COMPLETED with a failure status fails too.

    Why it matters:
        Until the fabric is trained, ``nvidia-smi`` looks healthy but CUDA initialisation fails with
        "Error 802: system not yet initialized" the moment vLLM starts its workers.

    How to fix:
        Start ``nvidia-fabricmanager`` at exactly the driver's version (on B200 also NVLSM and the IB
        kernel modules): ``glm5-doctor fix gpu.fabric``.

    Sources:
        - https://docs.nvidia.com/deploy/nvml-api/structnvmlGpuFabricInfo__v3__t.html (fabric state and status)
        - https://docs.nvidia.com/datacenter/tesla/pdf/fabric-manager-user-guide.pdf (NVLSM on HGX B200)
        - https://github.com/aws-samples/aws-deep-learning-ami-ubuntu-dcv-desktop/issues/33 (error 802)
        - https://github.com/NVIDIA/gpu-operator/issues/2781 ; https://github.com/siderolabs/extensions/pull/717
    """
    found = gpus(facts, profile)
    group = found.group or found.visible
    states = {label(d): (d.get("fabric") or {}).get("state") for d in group}
    evidence: dict[str, object] = {
        k: knowledge.FABRIC_STATES.get(v, v) if v is not None else None for k, v in states.items()
    }
    if not group:
        return Outcome.skipped("no visible GPUs to judge (see gpu.count)", evidence)
    if all(d.get("fabric") is None for d in group):
        error = next(iter(group[0].get("errors", {}).values()), "no answer")
        return Outcome.skipped(f"the driver does not report fabric state ({error})", evidence)
    if all((d.get("fabric") or {}).get("state") == 0 for d in group):
        return Outcome.skipped(
            "no NVSwitch fabric here (state NOT_SUPPORTED on every GPU): PCIe/NVLink-bridge "
            "system or a VM, nothing for Fabric Manager to do",
            evidence,
        )
    waiting = [label(d) for d in group if (d.get("fabric") or {}).get("state") in (1, 2)]
    if waiting:
        blackwell = any((capability(d) or (0, 0))[0] >= 10 for d in group)
        extra = " and NVLSM (with the ib_umad/mlx5_ib modules loaded)" if blackwell else ""
        return Outcome.failed(
            f"fabric not ready on {len(waiting)} GPU(s) ({', '.join(waiting[:3])}{'...' if len(waiting) > 3 else ''}): "
            f"start nvidia-fabricmanager{extra} at the driver's version; until then CUDA fails with "
            f'"{knowledge.FABRIC_NOT_READY_ERROR}"',
            evidence,
        )
    failed = [
        label(d)
        for d in group
        if (d.get("fabric") or {}).get("state") == 3 and (d.get("fabric") or {}).get("status") not in (0, None)
    ]
    if failed:
        return Outcome.failed(
            f"fabric registration failed on {', '.join(failed)} (state COMPLETED, error status): "
            "see the Fabric Manager log",
            evidence,
        )
    return Outcome.passed(f"fabric COMPLETED on all {len(group)} GPUs", evidence)


@check(
    "gpu.p2p",
    title="Peer-to-peer access works between every pair of GPUs in the group",
    category="gpu",
    facts=(NVML,),
    requires=("gpu.driver",),
    fix="choose-gpus.sh",
)
def gpu_p2p(facts: Facts, profile: Profile) -> Outcome:
    """``nvmlDeviceGetP2PStatus`` (read) OK for every ordered pair of the tensor-parallel group.

    What it checks:
        P2P read status between every pair of GPUs vLLM will use (passing the capability index as the
        integer 0: nvidia-ml-py's ``NVML_P2P_CAPS_INDEX_READ`` constant is the tuple ``(0,)`` and
        breaks the call), and reports how many pairs also have NVLink P2P.

    Why it matters:
        Without P2P, NCCL falls back to copies through host memory (slow all-reduce on every layer) or
        hangs on PCIe hosts with IOMMU translation on.

    How to fix:
        A broken pair names the GPUs: check the NVLink/NVSwitch state (gpu.fabric), the BIOS/IOMMU
        setting (``iommu=pt``), and that the GPUs sit on the same board.

    Sources:
        - https://docs.nvidia.com/deploy/nvml-api/group__nvmlDeviceQueries.html (nvmlDeviceGetP2PStatus)
        - nvidia-ml-py 13.615.71 wheel: pynvml.py (NVML_P2P_CAPS_INDEX_READ is the tuple (0,))
        - https://huggingface.co/lukealonso/GLM-5-NVFP4 (iommu=pt for P2P on PCIe hosts)
    """
    found = gpus(facts, profile)
    if len(found.group) < 2:
        return Outcome.skipped(f"{len(found.group)} GPU in the group: no pairs to check")
    indices = [d.get("index") for d in found.group]
    pairs = found.nvml["p2p"]
    broken, unknown, nvlink = [], [], 0
    for first in indices:
        for second in indices:
            if first == second:
                continue
            answer = pairs.get(f"{first}-{second}") or {}
            if answer.get("read") is None:
                unknown.append(f"{first}-{second}")
            elif answer["read"] != 0:
                broken.append(f"GPU {first}->GPU {second}: {P2P_STATUS.get(answer['read'], answer['read'])}")
            if answer.get("nvlink") == 0:
                nvlink += 1
    total = len(indices) * (len(indices) - 1)
    evidence: dict[str, object] = {"pairs": total, "broken": broken, "unanswered": unknown, "nvlink_pairs": nvlink}
    if broken:
        return Outcome.failed(
            f"P2P is not available for {len(broken)} of {total} pairs: {'; '.join(broken[:3])}", evidence
        )
    if unknown:
        return Outcome.errored(
            f"NVML did not answer P2P for {len(unknown)} pair(s): {', '.join(unknown[:4])}", evidence
        )
    return Outcome.passed(f"P2P read works for all {total} pairs ({nvlink} over NVLink)", evidence)
