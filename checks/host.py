"""The host: shared memory for NCCL, RAM, the server's port, file limits."""

from __future__ import annotations

from glm5_doctor.checks._fixes import server_port
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import Fix, check
from glm5_doctor.engine.facts import Facts
from glm5_doctor.engine.results import Outcome
from glm5_doctor.probes.host import HOST, HostFact

GIB = 1 << 30
SHM_FLOOR = 1 * GIB
LOW_MEMORY = 16 * GIB
NOFILE_WANTED = 65535


@check(
    "host.shm",
    title="/dev/shm is large enough for NCCL at this TP",
    category="host",
    facts=(HOST,),
    fix="container-shm.sh",
)
def host_shm(facts: Facts, profile: Profile) -> Outcome:
    """``/dev/shm`` of at least 1 GiB when more than one GPU works together.

    What it checks:
        The size of ``/dev/shm`` (``statvfs``) and whether this is a container (``/.dockerenv``,
        Kubernetes, cgroup markers). Under 1 GiB with TP x PP > 1 fails.

    Why it matters:
        Docker's default ``/dev/shm`` is 64 MB: NCCL fails with "Error while creating shared memory
        segment /dev/shm/nccl-..." or tensor-parallel workers hang.

    How to fix:
        ``docker run --ipc=host`` (or ``--shm-size=16g``); on Kubernetes an ``emptyDir`` with
        ``medium: Memory`` at ``/dev/shm``: ``glm5-doctor fix host.shm`` prints both.

    Sources:
        - https://github.com/vllm-project/vllm/pull/1125 ; https://github.com/vllm-project/vllm/issues/1710
    """
    host: HostFact = facts[HOST]
    size = host["shm_total_bytes"]
    evidence = {"shm_gib": round(size / GIB, 2) if size is not None else None, "container": host["container"]}
    if size is None:
        return Outcome.warned("/dev/shm is not mounted: NCCL needs it for intra-node transfers", evidence)
    ranks = profile.tensor_parallel_size * profile.pipeline_parallel_size
    if ranks > 1 and size < SHM_FLOOR:
        advice = " (run the container with --ipc=host or --shm-size=16g)" if host["container"] else ""
        return Outcome.failed(
            f"/dev/shm is {size / (1 << 20):.0f} MiB; NCCL across {ranks} GPUs needs more{advice}", evidence
        )
    return Outcome.passed(
        f"/dev/shm is {size / GIB:.1f} GiB" + (f" ({host['container']})" if host["container"] else ""), evidence
    )


@check(
    "host.memory",
    title="Host memory is not nearly exhausted",
    category="host",
    facts=(HOST,),
)
def host_memory(facts: Facts, profile: Profile) -> Outcome:
    """Available host RAM, a warning under 16 GiB.

    What it checks:
        ``psutil.virtual_memory()``: total and available. Only a nearly exhausted host is flagged; how
        much RAM loading 700 GB of weights really wants is not measured here.

    Why it matters:
        Every vLLM worker holds a CUDA context, pinned buffers and the tokenizer in host memory; the
        OOM killer ends a start-up that runs out.

    How to fix:
        Stop what holds the memory, or serve on a larger host.

    Sources:
        - https://psutil.readthedocs.io/en/latest/#psutil.virtual_memory
        - https://github.com/kvcache-ai/ktransformers/issues/2019 (host RAM with GLM-5.1-FP8 CPU offload)
    """
    host: HostFact = facts[HOST]
    total, available = host["memory_total_bytes"], host["memory_available_bytes"]
    if total is None or available is None:
        return Outcome.skipped("host memory could not be read (psutil unavailable)")
    evidence = {"total_gib": round(total / GIB, 1), "available_gib": round(available / GIB, 1)}
    if available < LOW_MEMORY:
        return Outcome.warned(
            f"only {available / GIB:.1f} GiB of {total / GIB:.0f} GiB host memory is available", evidence
        )
    return Outcome.passed(f"{available / GIB:.0f} GiB of {total / GIB:.0f} GiB host memory available", evidence)


@check(
    "host.port",
    title="The server's port is free on its address",
    category="host",
    facts=(HOST,),
    fix=Fix("free-port.sh", environment=server_port),
)
def host_port(facts: Facts, profile: Profile) -> Outcome:
    """The ``--port`` (8000) can be bound on ``--host`` (all addresses by default), holder named.

    What it checks:
        Binds the address and port for an instant, the way vLLM's server will, and releases it; when
        it is taken, names the listening process where the system lets us see it.

    Why it matters:
        A leftover server on the port makes vLLM fail with "address already in use" after the whole
        model has been loaded.

    How to fix:
        Stop the holder or choose another ``--port``: ``glm5-doctor fix host.port`` shows it.

    Sources:
        - https://docs.vllm.ai/en/latest/cli/serve.html (--host, --port defaults)
    """
    host: HostFact = facts[HOST]
    evidence = {"host": host["bind_host"], "port": host["port"], "holders": host["port_holders"]}
    if host["port_free"] is True:
        return Outcome.passed(f"{host['bind_host']}:{host['port']} is free", evidence)
    if host["port_free"] is False:
        holders = ", ".join(f"pid {h['pid']} ({h['name'] or 'name not visible'})" for h in host["port_holders"])
        return Outcome.failed(
            f"{host['bind_host']}:{host['port']}: {host['port_error']}" + (f"; held by {holders}" if holders else ""),
            evidence,
        )
    return Outcome.errored(f"cannot test {host['bind_host']}:{host['port']}: {host['port_error']}", evidence)


@check(
    "host.open-files",
    title="The open-files limit lets vLLM raise its own to 65535",
    category="host",
    facts=(HOST,),
)
def host_open_files(facts: Facts, profile: Profile) -> Outcome:
    """``RLIMIT_NOFILE`` hard limit >= 65535 (vLLM raises its soft limit to that itself).

    What it checks:
        The hard open-files limit of this process (inherited by the server).

    Why it matters:
        vLLM raises its soft limit to 65535 when the hard limit allows; below that, many shards, ZMQ
        sockets and client connections end in "Too many open files".

    How to fix:
        Raise ``nofile`` (``ulimit -Hn``, ``LimitNOFILE=`` in the systemd unit, ``--ulimit nofile=`` in docker).

    Sources:
        - vLLM ``vllm/utils`` set_ulimit (target 65535); https://docs.docker.com/reference/cli/docker/container/run/
    """
    host: HostFact = facts[HOST]
    soft, hard = host["nofile_soft"], host["nofile_hard"]
    evidence = {"soft": soft, "hard": hard}
    if hard is None:
        return Outcome.skipped("the open-files limit could not be read")
    if 0 <= hard < NOFILE_WANTED:
        return Outcome.warned(f"hard open-files limit {hard} < {NOFILE_WANTED}: vLLM cannot raise its own", evidence)
    return Outcome.passed(f"open-files limit {soft} (hard {'unlimited' if hard < 0 else hard})", evidence)
