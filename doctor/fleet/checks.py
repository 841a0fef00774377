"""The cross-node checks of ``glm5-doctor fleet``: what must be the same, or present, on every node.

Each is a pure function of the facts the nodes sent back (their snapshots); a node whose fact is
missing is named as unknown rather than guessed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from typing import Any

from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.facts import ProbeFailure
from glm5_doctor.engine.results import Outcome
from glm5_doctor.fleet.registry import NodeFacts, fleet_check
from glm5_doctor.knowledge.cuda_devices import visible_devices
from glm5_doctor.probes.distributions import DISTRIBUTIONS, distribution
from glm5_doctor.probes.model_files import MODEL_FILES
from glm5_doctor.probes.network import NETWORK, NetworkFact
from glm5_doctor.probes.nvml import NVML
from glm5_doctor.probes.torch_build import TORCH_BUILD

#: The distributions whose versions must match on every node (what vLLM's workers import).
PACKAGES = ("vllm", "torch", "transformers", "deep-gemm", "flashinfer-python", "nvidia-nccl-cu12", "nvidia-nccl-cu13")
ABSENT = "not installed"
UNKNOWN = "unknown"


def spread(nodes: Sequence[NodeFacts], value_of: Callable[[NodeFacts], str]) -> dict[str, list[str]]:
    """value -> the nodes that have it, in node order."""
    groups: dict[str, list[str]] = {}
    for node in nodes:
        try:
            value = value_of(node)
        except ProbeFailure as exc:
            value = f"{UNKNOWN} ({exc})"
        groups.setdefault(value, []).append(node.name)
    return groups


def describe(groups: dict[str, list[str]]) -> str:
    """``0.11.0 on a, b; 0.10.2 on c``: the exact difference, most common value first."""
    ordered = sorted(groups.items(), key=lambda item: -len(item[1]))
    return "; ".join(f"{value} on {', '.join(names)}" for value, names in ordered)


def _package_version(name: str) -> Callable[[NodeFacts], str]:
    def value_of(node: NodeFacts) -> str:
        found = distribution(node.facts, name)
        return ABSENT if found is None else str(found["version"] or UNKNOWN)

    return value_of


@fleet_check(
    "fleet.package-versions",
    title="vLLM, torch, transformers, DeepGEMM, FlashInfer and NCCL are the same version on every node",
    facts=(DISTRIBUTIONS,),
)
def package_versions(nodes: Sequence[NodeFacts], profile: Profile) -> Outcome:
    """The versions of the Python packages vLLM's workers import, compared between nodes.

    What it checks:
        The installed versions (dist-info) of vllm, torch, transformers, deep-gemm, flashinfer-python and
        nvidia-nccl-cu12/cu13 in the environment each node's Ray workers run in.

    Why it matters:
        vLLM's workers on different nodes exchange tensors and pickled objects; another vLLM, torch or NCCL
        on one node fails at start-up or hangs in the first collective.

    How to fix:
        Install the same versions on every node (one container image, or one lock file).

    Sources:
        https://docs.vllm.ai/en/latest/serving/parallelism_scaling.html
    """
    skew = {}
    for name in PACKAGES:
        groups = spread(nodes, _package_version(name))
        if len(groups) > 1:
            skew[name] = groups
    if skew:
        message = "; ".join(f"{name}: {describe(groups)}" for name, groups in skew.items())
        return Outcome.failed(f"versions differ between nodes: {message}", {"differences": skew})
    versions = {name: next(iter(spread(nodes, _package_version(name)))) for name in PACKAGES}
    shown = ", ".join(f"{name} {version}" for name, version in versions.items() if version != ABSENT)
    return Outcome.passed(f"the same on all {len(nodes)} nodes: {shown or 'none of them installed'}", versions)


def _driver(node: NodeFacts) -> str:
    nvml = node.facts[NVML]
    return str(nvml.get("driver_version")) if nvml.get("status") == "ok" else f"{UNKNOWN} (NVML: {nvml.get('status')})"


def _cuda_driver(node: NodeFacts) -> str:
    nvml = node.facts[NVML]
    value = nvml.get("cuda_driver_version")
    if nvml.get("status") != "ok" or not isinstance(value, int):
        return f"{UNKNOWN} (NVML: {nvml.get('status')})"
    return f"{value // 1000}.{value % 1000 // 10}"


def _torch_cuda(node: NodeFacts) -> str:
    return str(node.facts[TORCH_BUILD].get("cuda") or ABSENT)


@fleet_check(
    "fleet.driver-versions",
    title="The NVIDIA driver, its CUDA version and torch's CUDA build are the same on every node",
    facts=(NVML, TORCH_BUILD),
)
def driver_versions(nodes: Sequence[NodeFacts], profile: Profile) -> Outcome:
    """The driver and CUDA versions, compared between nodes.

    What it checks:
        The driver version and the CUDA version the driver supports (NVML), and the CUDA torch was built for
        (``torch/version.py``), on every node.

    Why it matters:
        NCCL between nodes and the kernels vLLM JIT-compiles (DeepGEMM, FlashInfer) assume one CUDA stack; a
        node with an older driver refuses a newer CUDA build, and mixed drivers are a known source of NCCL hangs.

    How to fix:
        Install the same driver on every node and the same torch build in every node's environment.

    Sources:
        https://docs.nvidia.com/deploy/cuda-compatibility/
    """
    parts = {"driver": _driver, "CUDA (driver)": _cuda_driver, "torch CUDA build": _torch_cuda}
    differences = {label: spread(nodes, value_of) for label, value_of in parts.items()}
    skew = {label: groups for label, groups in differences.items() if len(groups) > 1}
    if skew:
        message = "; ".join(f"{label}: {describe(groups)}" for label, groups in skew.items())
        return Outcome.failed(f"differs between nodes: {message}", {"differences": skew})
    same = {label: next(iter(groups)) for label, groups in differences.items()}
    if any(value.startswith(UNKNOWN) for value in same.values()):
        unknown = ", ".join(f"{label} {value}" for label, value in same.items() if value.startswith(UNKNOWN))
        return Outcome.skipped(f"cannot compare: {unknown} on every node", same)
    shown = ", ".join(f"{label} {value}" for label, value in same.items())
    return Outcome.passed(f"the same on all {len(nodes)} nodes: {shown}", same)


def _checkpoint(node: NodeFacts) -> str:
    """``revision abc123 complete``, or what is wrong with this node's copy."""
    files = node.facts[MODEL_FILES]
    if not files.get("path"):
        return "not found"
    problems = [shard["name"] for shard in files.get("shards") or [] if not _complete(shard)]
    if files.get("index_error"):
        return f"incomplete ({files['index_error']})"
    if problems:
        return f"incomplete ({len(problems)} shards missing or short: {', '.join(problems[:3])})"
    if files.get("incomplete_downloads"):
        return f"incomplete ({len(files['incomplete_downloads'])} downloads unfinished)"
    if files.get("found_as") == "hub cache":
        return f"revision {str(files['path']).rstrip('/').rsplit('/', 1)[-1][:12]}, complete"
    total = files.get("index_total_size")
    return f"local directory, {len(files.get('shards') or [])} shards, {total} bytes, complete"


def _complete(shard: Any) -> bool:
    expected = shard.get("expected_size")
    return (
        bool(shard.get("exists")) and not shard.get("problem") and (expected is None or shard.get("size") == expected)
    )


@fleet_check(
    "fleet.checkpoint",
    title="The same checkpoint revision is complete on every node",
    facts=(MODEL_FILES,),
)
def checkpoint(nodes: Sequence[NodeFacts], profile: Profile) -> Outcome:
    """The model's files on every node: found, complete, and the same revision.

    What it checks:
        On each node, the checkpoint where vLLM looks (local directory or Hugging Face cache): every shard the
        index names at its full size, no unfinished download, and the snapshot revision of the hub cache.

    Why it matters:
        Every pipeline stage and tensor-parallel rank loads its part of the weights from its own node's disk:
        one node without the files, with a partial download or another revision fails at load, or serves
        mismatched weights.

    How to fix:
        Download the same revision on every node (``huggingface-cli download zai-org/GLM-5-FP8 --revision REV``)
        or put the checkpoint on a shared file system.

    Sources:
        https://huggingface.co/docs/huggingface_hub/guides/manage-cache
    """
    groups = spread(nodes, _checkpoint)
    evidence = {"model": profile.model, "nodes": groups}
    bad = {value: names for value, names in groups.items() if not value.endswith("complete")}
    if bad:
        return Outcome.failed(f"{profile.model}: {describe(groups)}", evidence)
    if len(groups) > 1:
        return Outcome.failed(f"{profile.model}: not the same checkpoint on every node: {describe(groups)}", evidence)
    return Outcome.passed(f"{profile.model}: {next(iter(groups))} on all {len(nodes)} nodes", evidence)


def _gpus(node: NodeFacts) -> int | None:
    nvml = node.facts[NVML]
    if nvml.get("status") != "ok":
        return None
    return len(visible_devices(nvml.get("devices") or [], nvml.get("cuda_visible_devices")).devices)


@fleet_check(
    "fleet.parallel-layout",
    title="GPUs per node fit tensor parallelism, nodes fit pipeline parallelism",
    facts=(NVML,),
)
def parallel_layout(nodes: Sequence[NodeFacts], profile: Profile) -> Outcome:
    """TP x PP against the GPUs the nodes have.

    What it checks:
        The GPUs CUDA sees on each node (NVML, ``CUDA_VISIBLE_DEVICES``) against ``--tensor-parallel-size`` and
        ``--pipeline-parallel-size``: enough GPUs in all, tensor parallelism within one node, the same count on
        every node.

    Why it matters:
        vLLM's multi-node recipe is TP = GPUs per node and PP = number of nodes; TP across nodes sends every
        layer's all-reduce over the network, and too few GPUs leaves Ray waiting for a placement group forever.

    How to fix:
        Set ``--tensor-parallel-size`` to the GPUs per node and ``--pipeline-parallel-size`` to the nodes.

    Sources:
        https://docs.vllm.ai/en/latest/serving/parallelism_scaling.html
    """
    tp, pp = profile.tensor_parallel_size, profile.pipeline_parallel_size
    counts = {node.name: _gpus(node) for node in nodes}
    unknown = [name for name, count in counts.items() if count is None]
    evidence = {"tensor_parallel_size": tp, "pipeline_parallel_size": pp, "gpus": counts}
    if unknown:
        return Outcome.errored(f"cannot count the GPUs on {', '.join(unknown)} (NVML did not answer)", evidence)
    known = {name: count for name, count in counts.items() if count is not None}
    total, world = sum(known.values()), tp * pp
    layout = ", ".join(f"{name}: {count}" for name, count in known.items())
    if total < world:
        return Outcome.failed(f"TP {tp} x PP {pp} needs {world} GPUs; the {len(nodes)} nodes have {total} ({layout})")
    if len(set(known.values())) > 1:
        return Outcome.warned(f"the nodes have different GPU counts ({layout}): Ray places workers unevenly", evidence)
    per_node = min(known.values())
    if tp > per_node:
        return Outcome.warned(
            f"TP {tp} spans nodes of {per_node} GPUs: every all-reduce crosses the network; "
            f"use TP {per_node} x PP {world // per_node}",
            evidence,
        )
    if pp > len(nodes):
        return Outcome.passed(f"TP {tp} x PP {pp} fits: pipeline stages share nodes ({layout})", evidence)
    return Outcome.passed(f"TP {tp} x PP {pp} = {world} GPUs; {len(nodes)} nodes x {per_node} GPUs", evidence)


def interface_matches(spec: str, names: Sequence[str]) -> tuple[bool, str]:
    """Whether NCCL's ``NCCL_SOCKET_IFNAME`` grammar selects any of ``names``: a comma list of prefixes,
    ``=`` for exact names, ``^`` to exclude (then any other interface matches)."""
    text = spec.strip()
    exclude = text.startswith("^")
    text = text.lstrip("^")
    exact = text.startswith("=")
    wanted = [item.strip() for item in text.lstrip("=").split(",") if item.strip()]

    def hit(name: str) -> bool:
        return any(name == item if exact else name.startswith(item) for item in wanted)

    chosen = (
        [name for name in names if (not hit(name)) != (not exclude) and name != "lo"]
        if exclude
        else [name for name in names if hit(name)]
    )
    return bool(chosen), ", ".join(chosen)


def _node_network_problems(network: NetworkFact) -> list[str]:
    names = sorted(network.get("interfaces") or {})
    environment = network.get("environment") or {}
    problems = []
    for variable in ("NCCL_SOCKET_IFNAME", "GLOO_SOCKET_IFNAME"):
        spec = environment.get(variable)
        if spec and not interface_matches(spec, names)[0]:
            problems.append(f"{variable}={spec} matches no interface (it has {', '.join(names) or 'none'})")
    host_ip = environment.get("VLLM_HOST_IP")
    if host_ip:
        addresses = {address for values in (network.get("interfaces") or {}).values() for address in values}
        try:
            ipaddress.ip_address(host_ip)
        except ValueError:
            problems.append(f"VLLM_HOST_IP={host_ip} is not an IP address")
        else:
            if host_ip not in addresses:
                problems.append(f"VLLM_HOST_IP={host_ip} is not an address of this node")
    return problems


@fleet_check(
    "fleet.network-interfaces",
    title="NCCL_SOCKET_IFNAME, GLOO_SOCKET_IFNAME and VLLM_HOST_IP name what each node has",
    facts=(NETWORK,),
)
def network_interfaces(nodes: Sequence[NodeFacts], profile: Profile) -> Outcome:
    """The interfaces and address the variables name, on each node.

    What it checks:
        On every node, that ``NCCL_SOCKET_IFNAME`` and ``GLOO_SOCKET_IFNAME`` (NCCL's grammar: prefixes,
        ``=exact``, ``^exclude``) select an interface that node has, that ``VLLM_HOST_IP`` is one of its own
        addresses, and that no two nodes claim the same ``VLLM_HOST_IP``.

    Why it matters:
        A variable copied from the head to every node names an interface or address the others lack: NCCL
        fails with "no socket interface found", Gloo cannot bind, or every worker advertises the head's address.

    How to fix:
        Set the variables per node (in the environment ``ray start`` runs in), to that node's interface and IP.

    Sources:
        https://docs.nvidia.com/deeplearning/nccl/user-guide/docs/env.html#nccl-socket-ifname
        https://docs.vllm.ai/en/latest/serving/parallelism_scaling.html
    """
    problems: dict[str, list[str]] = {}
    claimed: dict[str, list[str]] = {}
    for node in nodes:
        try:
            network = node.facts[NETWORK]
        except ProbeFailure as exc:
            problems[node.name] = [f"unknown ({exc})"]
            continue
        found = _node_network_problems(network)
        if found:
            problems[node.name] = found
        host_ip = (network.get("environment") or {}).get("VLLM_HOST_IP")
        if host_ip:
            claimed.setdefault(host_ip, []).append(node.name)
    for address, names in claimed.items():
        if len(names) > 1:
            for name in names:
                problems.setdefault(name, []).append(f"VLLM_HOST_IP={address} is also set on another node")
    if problems:
        message = "; ".join(f"{name}: {', '.join(found)}" for name, found in problems.items())
        return Outcome.failed(message, {"problems": problems})
    return Outcome.passed(f"what the variables name exists on all {len(nodes)} nodes")


@fleet_check(
    "fleet.rdma",
    title="InfiniBand/RDMA devices are on every node when NCCL goes between nodes",
    facts=(NETWORK, NVML),
)
def rdma(nodes: Sequence[NodeFacts], profile: Profile) -> Outcome:
    """RDMA devices where NCCL will use them between nodes.

    What it checks:
        When the deployment spans nodes (TP x PP more than the GPUs of one node), the InfiniBand/RDMA devices
        under ``/sys/class/infiniband`` on every node, and that ``NCCL_IB_HCA`` names devices each node has.

    Why it matters:
        NCCL uses InfiniBand/RoCE between nodes when it finds it; a node without it makes the job fall back to
        TCP sockets or fail to connect, and a tensor- or pipeline-parallel step over TCP is many times slower.

    How to fix:
        Load the RDMA drivers (and, in containers, pass the devices: ``--device=/dev/infiniband``) on every
        node; set ``NCCL_IB_HCA`` per node, or ``NCCL_IB_DISABLE=1`` on all of them to use sockets knowingly.

    Sources:
        https://docs.nvidia.com/deeplearning/nccl/user-guide/docs/env.html#nccl-ib-hca
        https://docs.vllm.ai/en/latest/serving/parallelism_scaling.html
    """
    counts = [count for count in (_safe_gpus(node) for node in nodes) if count]
    world = profile.tensor_parallel_size * profile.pipeline_parallel_size
    if len(nodes) < 2 or (counts and world <= min(counts)):
        return Outcome.skipped(f"TP x PP = {world} fits on one node: NCCL does not go between nodes")
    devices: dict[str, list[str]] = {}
    problems: dict[str, str] = {}
    for node in nodes:
        network = node.facts[NETWORK]
        devices[node.name] = list(network.get("infiniband") or [])
        environment = network.get("environment") or {}
        if environment.get("NCCL_IB_DISABLE") == "1":
            continue
        hca = environment.get("NCCL_IB_HCA")
        if hca and devices[node.name] and not interface_matches(hca, devices[node.name])[0]:
            problems[node.name] = f"NCCL_IB_HCA={hca} matches none of {', '.join(devices[node.name])}"
    evidence = {"infiniband": devices}
    if problems:
        return Outcome.failed("; ".join(f"{name}: {text}" for name, text in problems.items()), evidence)
    with_rdma = [name for name, found in devices.items() if found]
    without = [name for name, found in devices.items() if not found]
    if with_rdma and without:
        return Outcome.failed(
            f"RDMA devices on {', '.join(with_rdma)} but none on {', '.join(without)}: NCCL cannot use "
            "InfiniBand between all nodes",
            evidence,
        )
    if without:
        return Outcome.warned("no node has InfiniBand/RDMA devices: NCCL goes between nodes over TCP sockets", evidence)
    return Outcome.passed(f"RDMA devices on all {len(nodes)} nodes", evidence)


def _safe_gpus(node: NodeFacts) -> int | None:
    try:
        return _gpus(node)
    except ProbeFailure:
        return None
