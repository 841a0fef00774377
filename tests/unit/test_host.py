"""host.*: /dev/shm for NCCL, host memory, the server's port, the open-files limit."""

from __future__ import annotations

from glm5_doctor.checks.host import host_memory, host_open_files, host_port, host_shm
from glm5_doctor.engine.results import Status
from glm5_doctor.probes.host import HOST

from unit.facts import GIB, facts, host_fact, profile

MIB = 1 << 20


def test_large_shm_passes() -> None:
    outcome = host_shm(facts({HOST: host_fact()}), profile())
    assert outcome.status is Status.PASS
    assert outcome.message == "/dev/shm is 64.0 GiB"
    assert outcome.evidence == {"shm_gib": 64.0, "container": None}


def test_dockers_default_shm_fails_at_tp8_with_container_advice() -> None:
    outcome = host_shm(facts({HOST: host_fact(shm_total_bytes=64 * MIB, container="docker")}), profile())
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "/dev/shm is 64 MiB; NCCL across 8 GPUs needs more (run the container with --ipc=host or --shm-size=16g)"
    )


def test_small_shm_outside_a_container_fails_without_container_advice() -> None:
    outcome = host_shm(
        facts({HOST: host_fact(shm_total_bytes=GIB - 1)}), profile(tensor_parallel_size=1, pipeline_parallel_size=2)
    )
    assert outcome.status is Status.FAIL
    assert outcome.message == "/dev/shm is 1024 MiB; NCCL across 2 GPUs needs more"


def test_small_shm_is_enough_for_one_gpu() -> None:
    outcome = host_shm(
        facts({HOST: host_fact(shm_total_bytes=64 * MIB, container="kubernetes")}), profile(tensor_parallel_size=1)
    )
    assert outcome.status is Status.PASS
    assert outcome.message == "/dev/shm is 0.1 GiB (kubernetes)"


def test_one_gib_of_shm_is_enough() -> None:
    assert host_shm(facts({HOST: host_fact(shm_total_bytes=GIB)}), profile()).status is Status.PASS


def test_no_shm_warns() -> None:
    outcome = host_shm(facts({HOST: host_fact(shm_total_bytes=None)}), profile())
    assert outcome.status is Status.WARN
    assert outcome.message == "/dev/shm is not mounted: NCCL needs it for intra-node transfers"
    assert outcome.evidence["shm_gib"] is None


def test_plenty_of_host_memory_passes() -> None:
    outcome = host_memory(facts({HOST: host_fact()}), profile())
    assert outcome.status is Status.PASS
    assert outcome.message == "900 GiB of 1024 GiB host memory available"
    assert outcome.evidence == {"total_gib": 1024.0, "available_gib": 900.0}


def test_nearly_exhausted_host_memory_warns() -> None:
    outcome = host_memory(facts({HOST: host_fact(memory_available_bytes=12 * GIB)}), profile())
    assert outcome.status is Status.WARN
    assert outcome.message == "only 12.0 GiB of 1024 GiB host memory is available"
    assert host_memory(facts({HOST: host_fact(memory_available_bytes=16 * GIB)}), profile()).status is Status.PASS
    just_under = host_memory(facts({HOST: host_fact(memory_available_bytes=16 * GIB - 1)}), profile())
    assert just_under.status is Status.WARN


def test_unreadable_host_memory_is_skipped() -> None:
    for changes in ({"memory_total_bytes": None}, {"memory_available_bytes": None}):
        outcome = host_memory(facts({HOST: host_fact(**changes)}), profile())
        assert outcome.status is Status.SKIP
        assert outcome.message == "host memory could not be read (psutil unavailable)"


def test_a_free_port_passes() -> None:
    outcome = host_port(facts({HOST: host_fact()}), profile())
    assert outcome.status is Status.PASS
    assert outcome.message == "0.0.0.0:8000 is free"


def test_a_taken_port_fails_naming_the_holders() -> None:
    holders = [{"pid": 1234, "name": "python -m vllm.entrypoints.openai.api_server"}, {"pid": None, "name": None}]
    fact = host_fact(port_free=False, port_error="address already in use", port_holders=holders)
    outcome = host_port(facts({HOST: fact}), profile())
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "0.0.0.0:8000: address already in use; held by pid 1234 (python -m vllm.entrypoints.openai.api_server), "
        "pid None (name not visible)"
    )


def test_a_taken_port_without_visible_holders_fails() -> None:
    fact = host_fact(port=80, port_free=False, port_error="permission denied (ports below 1024 need root)")
    outcome = host_port(facts({HOST: fact}), profile())
    assert outcome.status is Status.FAIL
    assert outcome.message == "0.0.0.0:80: permission denied (ports below 1024 need root)"


def test_an_untestable_port_is_an_error() -> None:
    fact = host_fact(bind_host="10.9.9.9", port_free=None, port_error="Cannot assign requested address")
    outcome = host_port(facts({HOST: fact}), profile())
    assert outcome.status is Status.ERROR
    assert outcome.message == "cannot test 10.9.9.9:8000: Cannot assign requested address"


def test_a_high_open_files_limit_passes() -> None:
    outcome = host_open_files(facts({HOST: host_fact()}), profile())
    assert outcome.status is Status.PASS
    assert outcome.message == "open-files limit 1048576 (hard 1048576)"
    exact = host_open_files(facts({HOST: host_fact(nofile_soft=1024, nofile_hard=65535)}), profile())
    assert exact.status is Status.PASS


def test_an_unlimited_hard_limit_passes() -> None:
    outcome = host_open_files(facts({HOST: host_fact(nofile_soft=1024, nofile_hard=-1)}), profile())
    assert outcome.status is Status.PASS
    assert outcome.message == "open-files limit 1024 (hard unlimited)"


def test_a_low_hard_limit_warns() -> None:
    outcome = host_open_files(facts({HOST: host_fact(nofile_soft=1024, nofile_hard=4096)}), profile())
    assert outcome.status is Status.WARN
    assert outcome.message == "hard open-files limit 4096 < 65535: vLLM cannot raise its own"
    zero = host_open_files(facts({HOST: host_fact(nofile_soft=0, nofile_hard=0)}), profile())
    assert zero.status is Status.WARN


def test_an_unreadable_limit_is_skipped() -> None:
    outcome = host_open_files(facts({HOST: host_fact(nofile_hard=None)}), profile())
    assert outcome.status is Status.SKIP
    assert outcome.message == "the open-files limit could not be read"


def test_evidence_keeps_readable_precision() -> None:
    shm = host_shm(facts({HOST: host_fact(shm_total_bytes=64 * MIB)}), profile(tensor_parallel_size=1))
    assert shm.evidence["shm_gib"] == 0.06
    fact = host_fact(memory_total_bytes=int(1024.26 * GIB), memory_available_bytes=int(12.34 * GIB))
    assert host_memory(facts({HOST: fact}), profile()).evidence == {"total_gib": 1024.3, "available_gib": 12.3}
