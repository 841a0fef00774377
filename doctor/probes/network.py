"""The ``network`` fact: this machine's interfaces, RDMA devices and the variables NCCL and vLLM read.

Gathered for ``glm5-doctor fleet`` (the cross-node checks compare it between nodes): interface names
and addresses from ``psutil.net_if_addrs()``, InfiniBand/RDMA devices from ``/sys/class/infiniband``,
and the values of ``NCCL_SOCKET_IFNAME``, ``GLOO_SOCKET_IFNAME``, ``VLLM_HOST_IP`` and the NCCL
transport variables in the environment vLLM's workers inherit.
"""

from __future__ import annotations

import contextlib
import os
import socket
from typing import TypedDict

from glm5_doctor.engine.facts import FactKey
from glm5_doctor.probes.context import ProbeContext

INFINIBAND_DIR = "/sys/class/infiniband"
#: The variables the cross-node checks read, as vLLM's workers would see them.
VARIABLES = (
    "NCCL_SOCKET_IFNAME",
    "GLOO_SOCKET_IFNAME",
    "VLLM_HOST_IP",
    "NCCL_IB_DISABLE",
    "NCCL_IB_HCA",
    "NCCL_NET",
)
#: No machine has more; a longer list is cut (and says so).
INTERFACE_LIMIT = 512


class NetworkFact(TypedDict):
    hostname: str | None
    #: interface name -> its IPv4 and IPv6 addresses
    interfaces: dict[str, list[str]]
    interfaces_error: str | None
    #: RDMA device names (mlx5_0, ...) under /sys/class/infiniband
    infiniband: list[str]
    infiniband_error: str | None
    #: the variables of VARIABLES that are set
    environment: dict[str, str]


NETWORK: FactKey[NetworkFact] = FactKey("network", NetworkFact)


def probe_network(context: ProbeContext) -> NetworkFact:
    fact: NetworkFact = {
        "hostname": None,
        "interfaces": {},
        "interfaces_error": None,
        "infiniband": [],
        "infiniband_error": None,
        "environment": {name: context.environ[name] for name in VARIABLES if context.environ.get(name)},
    }
    with contextlib.suppress(OSError):
        fact["hostname"] = socket.gethostname()
    try:
        import psutil

        for name, addresses in list(psutil.net_if_addrs().items())[:INTERFACE_LIMIT]:
            fact["interfaces"][name] = [
                str(address.address).split("%")[0]
                for address in addresses
                if address.family in (socket.AF_INET, socket.AF_INET6)
            ]
    except (ImportError, OSError, RuntimeError) as exc:
        fact["interfaces_error"] = f"psutil.net_if_addrs(): {exc}"
    try:
        fact["infiniband"] = sorted(os.listdir(INFINIBAND_DIR))[:INTERFACE_LIMIT]
    except FileNotFoundError:
        pass  # no RDMA driver loaded: no devices
    except OSError as exc:
        fact["infiniband_error"] = f"{INFINIBAND_DIR}: {exc.strerror or exc}"
    return fact
