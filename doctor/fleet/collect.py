"""The Ray side of ``glm5-doctor fleet``: one snapshot task per alive node, answers or errors by a deadline.

Each task is pinned to its node (``NodeAffinitySchedulingStrategy(soft=False)``), asks for no CPU and
no GPU (it must fit beside a running vLLM, whose placement group holds them), is never retried, and is
waited for until the node deadline; a node that dies, hangs or cannot run it becomes an answer with an
``error``. Ray is imported here only (``pip install 'glm5-doctor[fleet]'``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from glm5_doctor.engine import deadlines

#: The variable Ray itself reads for the cluster address.
RAY_ADDRESS_ENV = "RAY_ADDRESS"


class FleetUnavailable(Exception):
    """Ray is not installed or no cluster answers at the address: a usage error (exit 2), in one line."""


@dataclass(frozen=True)
class NodeAnswer:
    """One node: who it is, and its snapshot document or why there is none."""

    name: str
    node_id: str
    address: str
    head: bool
    document: Mapping[str, Any] | None
    error: str | None
    duration_ms: int


def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise FleetUnavailable(
            f"Ray is not importable ({exc}): install the fleet extra, pip install 'glm5-doctor[fleet]'"
        ) from None
    return ray


def connect(address: str | None) -> Any:
    """Connect to the running cluster (``--address``, else ``RAY_ADDRESS``, else the local one); never start one."""
    ray = import_ray()
    target = address or os.environ.get(RAY_ADDRESS_ENV) or "auto"
    _reachable(target)
    try:
        ray.init(
            address=target,
            logging_level=logging.ERROR,
            log_to_driver=False,
            configure_logging=True,
            include_dashboard=False,
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise FleetUnavailable(f"no Ray cluster at {target}: {str(exc).splitlines()[0][:300]}") from None
    return ray


def _reachable(target: str) -> None:
    """A ``HOST:PORT`` that does not accept a connection is refused at once: Ray's own wait for an absent GCS
    is a minute or more."""
    host, _, port = target.rpartition(":")
    if "://" in target or not host or not port.isdigit():
        return  # "auto" (the local cluster's file) or a ray:// client address: Ray resolves them
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=deadlines.FLEET_CONNECT_S):
            pass
    except (OSError, ValueError, OverflowError) as exc:
        raise FleetUnavailable(
            f"no Ray cluster at {target}: {getattr(exc, 'strerror', None) or exc} "
            f"(within {deadlines.FLEET_CONNECT_S:g} s)"
        ) from None


def alive_nodes(ray: Any) -> list[dict[str, Any]]:
    return [node for node in ray.nodes() if node.get("Alive")]


def node_names(nodes: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each node's address, with the node manager port where addresses repeat (several nodes on one host)."""
    addresses = [str(node.get("NodeManagerAddress") or node.get("NodeName") or "?") for node in nodes]
    return [
        f"{address}:{node.get('NodeManagerPort')}" if addresses.count(address) > 1 else address
        for address, node in zip(addresses, nodes, strict=False)
    ]


def collect(
    ray: Any, profile: Mapping[str, Any], python: str | None, deep: bool, facts: Sequence[str], deadline_s: float
) -> list[NodeAnswer]:
    """Every alive node's snapshot, in parallel; the nodes that did not answer in ``deadline_s`` are errors."""
    from glm5_doctor.fleet.node import gather
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    nodes = sorted(alive_nodes(ray), key=lambda node: "node:__internal_head__" not in node.get("Resources", {}))
    names = node_names(nodes)
    task = ray.remote(num_cpus=0, num_gpus=0, max_retries=0)(gather)
    started = time.monotonic()
    pending: dict[Any, int] = {}
    for index, node in enumerate(nodes):
        strategy = NodeAffinitySchedulingStrategy(node_id=node["NodeID"], soft=False)
        ref = task.options(scheduling_strategy=strategy, name=f"glm5-doctor-snapshot-{names[index]}").remote(
            dict(profile), python, deep, list(facts)
        )
        pending[ref] = index
    answers: dict[int, NodeAnswer] = {}
    remaining = list(pending)
    while remaining:
        left = deadline_s - (time.monotonic() - started)
        if left <= 0:
            break
        ready, remaining = ray.wait(remaining, num_returns=1, timeout=left)
        for ref in ready:
            index = pending[ref]
            answers[index] = _answer(ray, ref, nodes[index], names[index], started)
    for ref in remaining:
        index = pending[ref]
        with contextlib.suppress(Exception):  # best effort: the node may already be gone
            ray.cancel(ref, force=True)
        answers[index] = _make(
            nodes[index], names[index], None, f"no answer within the node deadline of {deadline_s:g} s", started
        )
    return [answers[index] for index in range(len(nodes))]


def _answer(ray: Any, ref: Any, node: Mapping[str, Any], name: str, started: float) -> NodeAnswer:
    try:
        value = ray.get(ref, timeout=5)
    except Exception as exc:  # noqa: BLE001 - a dead node, a crashed worker, glm5-doctor missing there
        reason = str(exc).strip().splitlines()
        text = next((line for line in reversed(reason) if line.strip()), "") if reason else ""
        return _make(node, name, None, f"{type(exc).__name__}: {text[:300]}", started)
    if not isinstance(value, dict) or not isinstance(value.get("snapshot"), dict):
        return _make(node, name, None, "the node's task returned no snapshot", started)
    return _make(node, name, value["snapshot"], None, started)


def _make(
    node: Mapping[str, Any], name: str, document: Mapping[str, Any] | None, error: str | None, started: float
) -> NodeAnswer:
    return NodeAnswer(
        name=name,
        node_id=str(node.get("NodeID", "")),
        address=str(node.get("NodeManagerAddress", "")),
        head="node:__internal_head__" in node.get("Resources", {}),
        document=document,
        error=error,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
