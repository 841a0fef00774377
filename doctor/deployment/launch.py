"""``glm5-doctor preflight -- vllm serve ...``: the deployment read from the real launch command.

The profile comes from the command line vLLM will get (defaults as vLLM's: utilization 0.9,
KV cache ``auto``, port 8000, and, without ``--max-model-len``, the model's own
``max_position_embeddings``). The Python environment judged is the one the command will run in:
the interpreter named in the ``vllm`` script's shebang, or the ``python`` of ``python -m``.
On success the doctor replaces itself with the command (``os.execvp``): same PID, same
environment, signals go straight to vLLM.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import replace

from glm5_doctor.deployment.profile import DEFAULT_PROFILE, Profile
from glm5_doctor.deployment.serve_args import ServeArgs, ServeArgsError
from glm5_doctor.knowledge.checkpoints import model_spec

SHEBANG_LIMIT = 512
DEFAULT_MAX_POSITION = 202752


def profile_from_serve(serve: ServeArgs) -> Profile:
    if not serve.model:
        raise ServeArgsError("the command names no model (vLLM would serve its default test model, not GLM-5)")
    spec = model_spec(serve.model)
    longest = spec.max_position_embeddings if spec else DEFAULT_MAX_POSITION
    auto = serve.max_model_len == -1
    return replace(
        DEFAULT_PROFILE,
        name="preflight",
        model=serve.model,
        tensor_parallel_size=serve.tensor_parallel_size,
        pipeline_parallel_size=serve.pipeline_parallel_size,
        max_model_len=longest if serve.max_model_len is None or auto else serve.max_model_len,
        max_model_len_auto=auto,
        gpu_memory_utilization=serve.gpu_memory_utilization,
        kv_cache_dtype=serve.kv_cache_dtype,
        port=serve.port,
        serve=serve,
    )


def target_python(argv: list[str]) -> str | None:
    """The interpreter the command will run vLLM in, or None when it cannot be told."""
    program = argv[0]
    resolved = program if os.sep in program else shutil.which(program)
    if resolved is None:
        return None
    if os.path.basename(program).startswith("python"):
        return os.path.abspath(resolved)
    try:
        with open(resolved, "rb") as handle:
            first = handle.read(SHEBANG_LIMIT).split(b"\n", 1)[0].decode("utf-8", errors="replace")
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    parts = first[2:].strip().split()
    if not parts:
        return None
    if os.path.basename(parts[0]) == "env" and len(parts) > 1:
        found = shutil.which(parts[1])
        return found if found and os.path.basename(parts[1]).startswith("python") else None
    return parts[0] if os.path.basename(parts[0]).startswith("python") else None


def launch(argv: list[str]) -> None:
    """Become the server. Only returns by raising OSError (command not found, not executable)."""
    os.execvp(argv[0], argv)
