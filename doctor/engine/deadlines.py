"""Every deadline the doctor keeps, in one place, with the variables that change them.

The doctor runs before every serve and as a container entrypoint: nothing it waits for may take
longer than these. A variable that is not a positive number is ignored (the default holds).
"""

from __future__ import annotations

from collections.abc import Mapping

#: The NVML survey in its child process (a driver without persistence mode can be slow to start).
NVML_ENV = "GLM5_DOCTOR_NVML_TIMEOUT_S"
NVML_S = 15.0
#: Describing a ``--python`` interpreter (it starts and prints its sys.path).
INTERPRETER_S = 10.0
#: ``nvcc --version``.
NVCC_VERSION_S = 5.0
#: ``ptxas --version`` of each assembler Triton bundles (or TRITON_PTXAS_PATH names).
PTXAS_VERSION_S = 5.0
#: ``--deep``: compiling the CUTLASS/CuTe test kernel.
COMPILE_ENV = "GLM5_DOCTOR_COMPILE_TIMEOUT_S"
COMPILE_S = 180.0
#: ``--deep``: the target's Python importing vLLM and building the checkpoint's configs (vLLM alone
#: takes seconds to import; the model config imports the model's classes).
STACK_ENV = "GLM5_DOCTOR_STACK_TIMEOUT_S"
STACK_S = 180.0
#: A fix script's ``DRY_RUN=1`` preview in ``glm5-doctor fix`` (show mode runs nothing else).
PREVIEW_S = 15.0
#: Importing one third-party plugin.
PLUGIN_IMPORT_S = 5.0
#: A probe that has no deadline of its own, and one check's judgment.
PROBE_S = 10.0
CHECK_S = 5.0
#: Reading the model's files (headers of every shard, on network file systems too).
MODEL_FILES_S = 30.0
#: ``glm5-doctor fleet``: one node's whole snapshot (its probes keep their own deadlines inside it).
FLEET_NODE_ENV = "GLM5_DOCTOR_FLEET_NODE_TIMEOUT_S"
FLEET_NODE_S = 120.0
#: ``glm5-doctor fleet --address HOST:PORT``: the cluster's GCS port accepting a connection.
FLEET_CONNECT_S = 5.0
#: After a deadline, how long a killed child may take to go.
REAP_S = 2.0


def from_environment(environ: Mapping[str, str], name: str, default: float) -> float:
    """The deadline ``name`` sets in ``environ``, or ``default`` when it is unset or not a positive number."""
    text = environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        return default
    return value if 0 < value < 86400 else default


def nvml_s(environ: Mapping[str, str]) -> float:
    return from_environment(environ, NVML_ENV, NVML_S)


def compile_s(environ: Mapping[str, str]) -> float:
    return from_environment(environ, COMPILE_ENV, COMPILE_S)


def stack_s(environ: Mapping[str, str]) -> float:
    return from_environment(environ, STACK_ENV, STACK_S)


def fleet_node_s(environ: Mapping[str, str]) -> float:
    return from_environment(environ, FLEET_NODE_ENV, FLEET_NODE_S)
