"""One grammar for every deployment value, whether it comes from a flag or a ``vllm serve`` command.

``run``, ``fit``, ``fix`` and ``preflight`` all read ``--max-model-len``, ``--tensor-parallel-size``
and friends through these functions, so ``32k`` means the same everywhere: what vLLM's own
argument parser makes of it. vLLM reads ``1k`` as 1,000 and ``1K`` as 1,024, ``25.6k`` as 25,600,
and ``-1``/``auto`` as "fit to memory" (vllm 0.16.0 wheel: vllm/engine/arg_utils.py,
human_readable_int and human_readable_int_or_auto).
"""

from __future__ import annotations

import re

HUMAN_INT = re.compile(r"(\d+(?:\.\d+)?)([kKmMgGtT])")
DECIMAL = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
BINARY = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
#: ``--max-model-len -1``/``auto``: vLLM fits the context to the KV cache it finds.
AUTO = -1
#: Far beyond any checkpoint's positions or any GPU count: a larger number is a typo, said as one.
LARGEST_ACCEPTED = 10**9
DIGIT_LIMIT = 32


class DeploymentValueError(ValueError):
    """A deployment value that vLLM would refuse too; the message says why in one line."""


def human_readable_int(text: str, allow_auto: bool = False) -> int:
    """vLLM's reading of ``1k`` (1,000), ``1K`` (1,024), ``25.6k`` (25,600), and ``-1``/``auto``."""
    value = text.strip()
    if allow_auto and (value == "-1" or value.lower() == "auto"):
        return AUTO
    if len(value) > DIGIT_LIMIT:
        raise DeploymentValueError(f"not a sensible integer: {value[:DIGIT_LIMIT]}... ({len(value)} characters)")
    match = HUMAN_INT.fullmatch(value)
    if match:
        number, suffix = match.groups()
        if suffix in DECIMAL:
            return int(float(number) * DECIMAL[suffix])
        if "." in number:
            raise DeploymentValueError(f"decimals are not allowed with binary suffixes like {suffix}: {text!r}")
        return int(number) * BINARY[suffix]
    try:
        return int(value)
    except ValueError:
        raise DeploymentValueError(f"not an integer: {text!r}") from None


def max_model_len(text: str) -> int:
    """``--max-model-len``: a positive token count, or :data:`AUTO` for ``-1``/``auto``."""
    value = human_readable_int(text, allow_auto=True)
    if value != AUTO and not 1 <= value <= LARGEST_ACCEPTED:
        raise DeploymentValueError(f"--max-model-len must be a positive number of tokens, -1 or auto, not {text!r}")
    return value


def positive_int(text: str, option: str) -> int:
    """A count such as ``--tensor-parallel-size`` or ``--port``: a plain whole number from 1."""
    value = text.strip()
    if len(value) > DIGIT_LIMIT:
        raise DeploymentValueError(f"{option}: not a sensible integer ({len(value)} characters)")
    try:
        number = int(value)
    except ValueError:
        raise DeploymentValueError(f"{option}: not an integer: {text!r}") from None
    if not 1 <= number <= LARGEST_ACCEPTED:
        raise DeploymentValueError(f"{option} must be at least 1, not {number}")
    return number


def port(text: str, option: str = "--port") -> int:
    number = positive_int(text, option)
    if number > 65535:
        raise DeploymentValueError(f"{option} must be a TCP port (1-65535), not {number}")
    return number


def utilization(text: str, option: str = "--gpu-memory-utilization") -> float:
    """``--gpu-memory-utilization``: a fraction in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise DeploymentValueError(f"{option}: not a number: {text!r}") from None
    if not 0 < value <= 1:
        raise DeploymentValueError(f"{option} must be in (0, 1], not {text}")
    return value
