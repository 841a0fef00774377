"""fleet.*: the cross-node checks, as pure functions of the nodes' facts."""

from __future__ import annotations

from typing import Any

from glm5_doctor.engine.facts import FactKey
from glm5_doctor.engine.results import Status
from glm5_doctor.fleet.checks import (
    checkpoint,
    driver_versions,
    interface_matches,
    network_interfaces,
    package_versions,
    parallel_layout,
    rdma,
)
from glm5_doctor.fleet.registry import NodeFacts, run_fleet_checks
from glm5_doctor.probes.distributions import DISTRIBUTIONS
from glm5_doctor.probes.model_files import MODEL_FILES
from glm5_doctor.probes.network import NETWORK, NetworkFact
from glm5_doctor.probes.nvml import NVML
from glm5_doctor.probes.torch_build import TORCH_BUILD

from unit.facts import dist, distributions, facts, gpus, model_files, nvml_fact, nvml_failed, profile, torch_build


def network(
    interfaces: dict[str, list[str]] | None = None, infiniband: list[str] | None = None, **environment: str
) -> NetworkFact:
    return {
        "hostname": "node",
        "interfaces": {"lo": ["127.0.0.1"], "eth0": ["10.0.0.1"]} if interfaces is None else interfaces,
        "interfaces_error": None,
        "infiniband": list(infiniband or []),
        "infiniband_error": None,
        "environment": dict(environment),
    }


def node(name: str, **values: Any) -> NodeFacts:
    keys: dict[str, FactKey[Any]] = {
        "dists": DISTRIBUTIONS,
        "nvml": NVML,
        "torch": TORCH_BUILD,
        "model": MODEL_FILES,
        "network": NETWORK,
    }
    defaults = {
        "dists": distributions(dist("vllm", "0.17.0"), dist("torch", "2.9.0")),
        "nvml": nvml_fact(),
        "torch": torch_build(),
        "model": model_files(),
        "network": network(),
    }
    merged = {**defaults, **values}
    return NodeFacts(name, facts({keys[key]: value for key, value in merged.items()}))


def test_the_same_packages_pass() -> None:
    outcome = package_versions([node("a"), node("b")], profile())
    assert outcome.status is Status.PASS
    assert outcome.message == "the same on all 2 nodes: vllm 0.17.0, torch 2.9.0"


def test_a_node_with_another_vllm_fails_naming_it() -> None:
    other = node("c", dists=distributions(dist("vllm", "0.16.0"), dist("torch", "2.9.0")))
    outcome = package_versions([node("a"), node("b"), other], profile())
    assert outcome.status is Status.FAIL
    assert outcome.message == "versions differ between nodes: vllm: 0.17.0 on a, b; 0.16.0 on c"


def test_a_package_missing_on_one_node_is_a_difference() -> None:
    nccl = distributions(dist("vllm", "0.17.0"), dist("torch", "2.9.0"), dist("nvidia-nccl-cu12", "2.27.3"))
    outcome = package_versions([node("a", dists=nccl), node("b")], profile())
    assert outcome.status is Status.FAIL
    assert "nvidia-nccl-cu12: 2.27.3 on a; not installed on b" in outcome.message


def test_the_same_driver_passes() -> None:
    outcome = driver_versions([node("a"), node("b")], profile())
    assert outcome.status is Status.PASS
    assert outcome.message == ("the same on all 2 nodes: driver 580.95.05, CUDA (driver) 13.0, torch CUDA build 12.9")


def test_another_driver_fails_naming_the_node() -> None:
    outcome = driver_versions([node("a"), node("b", nvml=nvml_fact(driver_version="575.57.08"))], profile())
    assert outcome.status is Status.FAIL
    assert outcome.message == "differs between nodes: driver: 580.95.05 on a; 575.57.08 on b"


def test_another_torch_cuda_build_fails() -> None:
    outcome = driver_versions([node("a"), node("b", torch=torch_build(cuda="13.0"))], profile())
    assert outcome.status is Status.FAIL
    assert "torch CUDA build: 12.9 on a; 13.0 on b" in outcome.message


def test_drivers_unknown_everywhere_are_a_skip() -> None:
    gone = nvml_failed("library_not_found")
    outcome = driver_versions([node("a", nvml=gone), node("b", nvml=gone)], profile())
    assert outcome.status is Status.SKIP
    assert outcome.message.startswith("cannot compare: driver unknown (NVML: library_not_found)")


def test_the_same_complete_checkpoint_passes() -> None:
    outcome = checkpoint([node("a"), node("b")], profile())
    assert outcome.status is Status.PASS
    assert outcome.message.startswith("zai-org/GLM-5-FP8: revision ")
    assert outcome.message.endswith(", complete on all 2 nodes")


def test_a_node_without_the_checkpoint_fails() -> None:
    outcome = checkpoint([node("a"), node("b", model=model_files(on_disk=False))], profile())
    assert outcome.status is Status.FAIL
    assert "not found on b" in outcome.message


def test_a_short_shard_on_one_node_fails() -> None:
    files = model_files()
    short = dict(files["shards"][0], size=1)
    broken = dict(files, shards=[short, *files["shards"][1:]])
    outcome = checkpoint([node("a"), node("b", model=broken)], profile())
    assert outcome.status is Status.FAIL
    assert f"incomplete (1 shards missing or short: {short['name']}) on b" in outcome.message


def test_another_revision_fails() -> None:
    files = model_files()
    other = dict(files, path=str(files["path"]).rsplit("/", 1)[0] + "/" + "b" * 40)
    outcome = checkpoint([node("a"), node("b", model=other)], profile())
    assert outcome.status is Status.FAIL
    assert "not the same checkpoint on every node" in outcome.message
    assert "revision bbbbbbbbbbbb, complete on b" in outcome.message


def test_tp8_pp2_on_two_nodes_of_eight_passes() -> None:
    outcome = parallel_layout([node("a"), node("b")], profile(tensor_parallel_size=8, pipeline_parallel_size=2))
    assert outcome.status is Status.PASS
    assert outcome.message == "TP 8 x PP 2 = 16 GPUs; 2 nodes x 8 GPUs"


def test_too_few_gpus_fail() -> None:
    outcome = parallel_layout([node("a"), node("b")], profile(tensor_parallel_size=8, pipeline_parallel_size=4))
    assert outcome.status is Status.FAIL
    assert outcome.message == "TP 8 x PP 4 needs 32 GPUs; the 2 nodes have 16 (a: 8, b: 8)"


def test_uneven_nodes_warn() -> None:
    outcome = parallel_layout([node("a"), node("b", nvml=nvml_fact(gpus(4)))], profile(tensor_parallel_size=4))
    assert outcome.status is Status.WARN
    assert outcome.message.startswith("the nodes have different GPU counts (a: 8, b: 4)")


def test_tp_across_nodes_warns() -> None:
    outcome = parallel_layout([node("a"), node("b")], profile(tensor_parallel_size=16, pipeline_parallel_size=1))
    assert outcome.status is Status.WARN
    assert outcome.message.endswith("use TP 8 x PP 2")


def test_pipeline_stages_sharing_nodes_pass() -> None:
    outcome = parallel_layout([node("a")], profile(tensor_parallel_size=4, pipeline_parallel_size=2))
    assert outcome.status is Status.PASS
    assert outcome.message.startswith("TP 4 x PP 2 fits: pipeline stages share nodes")


def test_gpus_uncountable_are_an_error() -> None:
    outcome = parallel_layout([node("a"), node("b", nvml=nvml_failed("hung"))], profile())
    assert outcome.status is Status.ERROR
    assert outcome.message == "cannot count the GPUs on b (NVML did not answer)"


def test_nccl_interface_grammar() -> None:
    names = ["lo", "eth0", "ib0"]
    assert interface_matches("eth", names) == (True, "eth0")
    assert interface_matches("=eth", names) == (False, "")
    assert interface_matches("^eth", names) == (True, "ib0")
    assert interface_matches("ib1,bond", names) == (False, "")


def test_interfaces_present_pass() -> None:
    ok = network(NCCL_SOCKET_IFNAME="eth", VLLM_HOST_IP="10.0.0.1")
    outcome = network_interfaces([node("a", network=ok), node("b")], profile())
    assert outcome.status is Status.PASS


def test_a_missing_interface_and_address_fail_naming_the_node() -> None:
    bad = network(NCCL_SOCKET_IFNAME="ib9", GLOO_SOCKET_IFNAME="eth0", VLLM_HOST_IP="10.9.9.9")
    outcome = network_interfaces([node("a"), node("b", network=bad)], profile())
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "b: NCCL_SOCKET_IFNAME=ib9 matches no interface (it has eth0, lo), "
        "VLLM_HOST_IP=10.9.9.9 is not an address of this node"
    )


def test_the_same_host_ip_on_two_nodes_fails() -> None:
    same = network(VLLM_HOST_IP="10.0.0.1")
    outcome = network_interfaces([node("a", network=same), node("b", network=same)], profile())
    assert outcome.status is Status.FAIL
    assert "a: VLLM_HOST_IP=10.0.0.1 is also set on another node" in outcome.message


def test_rdma_is_skipped_when_the_deployment_fits_one_node() -> None:
    outcome = rdma([node("a"), node("b")], profile(tensor_parallel_size=8, pipeline_parallel_size=1))
    assert outcome.status is Status.SKIP


def test_rdma_on_every_node_passes() -> None:
    ib = network(infiniband=["mlx5_0"])
    outcome = rdma([node("a", network=ib), node("b", network=ib)], profile(pipeline_parallel_size=2))
    assert outcome.status is Status.PASS


def test_rdma_on_one_node_only_fails() -> None:
    outcome = rdma([node("a", network=network(infiniband=["mlx5_0"])), node("b")], profile(pipeline_parallel_size=2))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("RDMA devices on a but none on b")


def test_no_rdma_anywhere_warns() -> None:
    outcome = rdma([node("a"), node("b")], profile(pipeline_parallel_size=2))
    assert outcome.status is Status.WARN


def test_an_ib_hca_a_node_lacks_fails() -> None:
    wrong = network(infiniband=["mlx5_0"], NCCL_IB_HCA="=mlx5_4")
    outcome = rdma(
        [node("a", network=network(infiniband=["mlx5_0"])), node("b", network=wrong)], profile(pipeline_parallel_size=2)
    )
    assert outcome.status is Status.FAIL
    assert outcome.message == "b: NCCL_IB_HCA==mlx5_4 matches none of mlx5_0"


def test_a_missing_fact_is_an_error_row_not_a_crash() -> None:
    results = {result.id: result for result in run_fleet_checks([node("a"), NodeFacts("b", facts({}))], profile())}
    assert results["fleet.parallel-layout"].status is Status.ERROR
    assert "probe 'nvml' was not run" in results["fleet.parallel-layout"].outcome.message
