"""Read a vLLM server log as a stream and find the first fatal cause. Pure: lines in, a verdict out.

A line is *cleaned* first: ANSI colour codes go, then worker prefixes (``(VllmWorker rank=3 pid=12)``,
``(EngineCore_DP0 pid=9)``, ``(RayWorkerWrapper pid=5, ip=10.0.0.2)``), then vLLM's own header
(``ERROR 03-02 19:49:00 [core.py:867]``). The first line that matches a signature is the cause: later
re-raises (``Worker failed with error ...``, ``Engine core initialization failed``) repeat it and are
ignored. What the matcher keeps is bounded whatever the log's size: the last ``CONTEXT`` lines, the
last error block (``BLOCK`` lines), and the deployment facts vLLM prints at start (version banner,
``non-default args``). Each line costs one combined keyword search, so time is linear in the log.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from glm5_doctor.knowledge.signatures import SIGNATURES, Signature

#: Characters of one line that are looked at (a longer line is cut; the reader also caps what it reads).
MAX_LINE = 4096
#: Lines of context kept before the fatal line (its traceback) and shown as evidence.
CONTEXT = 12
#: Lines of the last error block kept for an unknown failure.
BLOCK = 40
#: Lines one exception message may run over: vLLM's "No valid attention backend" names every backend's
#: reasons, and people paste it wrapped over 30-odd lines (https://github.com/zai-org/GLM-5/issues/13).
MESSAGE_LINES = 48

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
#: ``(VllmWorker rank=3 pid=12)``, ``(EngineCore_DP0 pid=9)``, ``(APIServer pid=1)``, ``(Worker_TP1 pid=4)``,
#: ``(RayWorkerWrapper pid=5, ip=10.0.0.2)``, ``(pid=77)``
WORKER_PREFIX = re.compile(r"^\s*\((?:[A-Za-z_][\w.]*(?: [\w.]+=[^\s,)]+)?,? ?)?(?:pid|rank)=[^)]*\)\s?")
VLLM_HEADER = re.compile(
    r"^(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?\s+(?:\[[^\]]*\]\s?)?"
)
TIMESTAMP = re.compile(r"^\[\d{4}-\d\d-\d\d[T ][^\]]*\]\s*")
KEYWORDS = re.compile("|".join(sorted({re.escape(k) for s in SIGNATURES for k in s.keywords}, key=len, reverse=True)))
#: lines that say something failed, for the unknown-failure path
FAILURE = re.compile(
    r"Traceback \(most recent call last\)|^[\w.]*(?:Error|Exception|Interrupt)\b[^\s]*:?|EngineCore failed to start"
    r"|Engine core initialization failed|WorkerProc failed to start|CUDA error|NCCL error|\bfatal\b|Segmentation fault"
)
EXCEPTION_LINE = re.compile(r"^(?:[\w.]+\.)?\w*(?:Error|Exception)\b.*")
#: what starts a new record rather than continuing an exception's message
NEW_RECORD = re.compile(
    r"^(?:Traceback \(most recent call last\)|\s*File \"|During handling of the above|The above exception)"
)
VERSION_BANNER = re.compile(r"vLLM API server version (\S+)|Initializing a V1 LLM engine \(v([^)\s]+)\)")
NON_DEFAULT = re.compile(r"non-default args: (\{.*\})\s*$")
ENGINE_CONFIG = re.compile(r"with config: (.*)$")
CONFIG_ITEM = re.compile(r"\b(model|tensor_parallel_size|pipeline_parallel_size|max_seq_len|kv_cache_dtype)=([^,\s]+)")


def clean(raw: str) -> tuple[str, str | None]:
    """The message of one log line, and vLLM's level for it (``ERROR``...) when it has a header."""
    line = ANSI.sub("", raw[:MAX_LINE]).rstrip("\r\n")
    while True:
        stripped = WORKER_PREFIX.sub("", line, count=1)
        stripped = TIMESTAMP.sub("", stripped, count=1)
        if stripped == line:
            break
        line = stripped
    header = VLLM_HEADER.match(line)
    if header:
        return line[header.end() :], header.group("level")
    return line, None


@dataclass(frozen=True)
class Match:
    signature: Signature
    line_number: int
    line: str
    #: the cleaned lines before the fatal one (its traceback frames), oldest first
    context: tuple[str, ...]


@dataclass
class Deployment:
    """What vLLM printed about the deployment: its version and its non-default arguments."""

    vllm_version: str | None = None
    args: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"vllm_version": self.vllm_version, "args": dict(self.args)}


@dataclass
class Verdict:
    lines: int = 0
    match: Match | None = None
    #: a failure was seen (a traceback, an ERROR line, an exception) even if no signature named it
    failure_seen: bool = False
    #: the last error block, cleaned (bounded)
    last_block: tuple[str, ...] = ()
    #: the last exception line (``RuntimeError: ...``) seen
    last_exception: str | None = None
    deployment: Deployment = field(default_factory=Deployment)
    #: the log ended in the middle of a line (a truncated file)
    truncated: bool = False


@dataclass
class _Message:
    """An exception line no signature named on its own, and the lines that continue its message."""

    line_number: int
    lines: list[str]
    before: tuple[str, ...]


class Matcher:
    """Feed lines with :meth:`feed`; the first signature match is returned once, as it happens.

    A line is matched on its own first. An exception line that names nothing on its own may be the head
    of a message that goes on over the next lines (a pydantic ``ValidationError``, an
    ``AttentionSelectorConfig(`` wrapped by the terminal or the person who pasted it): its following
    lines are joined to it until a new record starts, and the whole message is matched then.
    """

    def __init__(self) -> None:
        self.verdict = Verdict()
        self._context: deque[str] = deque(maxlen=CONTEXT)
        self._block: deque[str] = deque(maxlen=BLOCK)
        self._in_block = False
        self._message: _Message | None = None

    def feed(self, raw: str) -> Match | None:
        verdict = self.verdict
        verdict.lines += 1
        if not raw.endswith("\n"):
            verdict.truncated = True
        line, level = clean(raw)
        self._deployment(line)
        failing = level in ("ERROR", "CRITICAL") or FAILURE.search(line) is not None
        if failing:
            verdict.failure_seen = True
            if not self._in_block:
                self._block.clear()
                self._in_block = True
            if EXCEPTION_LINE.match(line):
                verdict.last_exception = line[:500]
        elif self._in_block and level in ("INFO", "DEBUG", "WARNING"):
            self._in_block = False
            verdict.last_block = tuple(self._block)
        before = tuple(self._block)[-CONTEXT:] if self._in_block else tuple(self._context)[-3:]
        if self._in_block:
            self._block.append(line[:500])
        self._context.append(line[:500])
        found = None
        if self._message is not None:
            if self._continues(self._message, line, level):
                self._message.lines.append(line[:500])
                return None
            found = self._close_message()
        # vLLM says at INFO what it survived ("Port 8000 is already in use, trying port 8001"): a cause is
        # never an INFO or DEBUG record
        if found is None and verdict.match is None and level not in ("DEBUG", "INFO"):
            found = self._match(line, verdict.lines, before)
            if found is None and EXCEPTION_LINE.match(line):
                self._message = _Message(verdict.lines, [line[:MAX_LINE]], before)
        return found

    def finish(self) -> Verdict:
        """The verdict once the log has ended (a message still open is matched now)."""
        if self._message is not None:
            self._close_message()
        if self._in_block:
            self.verdict.last_block = tuple(self._block)
        return self.verdict

    def _match(self, message: str, line_number: int, before: tuple[str, ...]) -> Match | None:
        if not KEYWORDS.search(message):
            return None
        signature = next((s for s in SIGNATURES if s.holds(message, before)), None)
        if signature is None:
            return None
        found = Match(signature, line_number, message[:1000], before)
        self.verdict.match = found
        self.verdict.failure_seen = True
        return found

    @staticmethod
    def _continues(message: _Message, line: str, level: str | None) -> bool:
        return (
            len(message.lines) < MESSAGE_LINES
            and bool(line.strip())
            and level not in ("DEBUG", "INFO", "WARNING")
            and not NEW_RECORD.match(line)
            and not EXCEPTION_LINE.match(line)
        )

    def _close_message(self) -> Match | None:
        message, self._message = self._message, None
        if message is None or len(message.lines) == 1:
            return None
        # a message vLLM wrote over lines reads with a space at each break; one a terminal wrapped at 80
        # columns ("(13.33/15.47 GiB" / ") on startup") reads with none
        spaced = " ".join(part.strip() for part in message.lines)
        found = self._match(spaced, message.line_number, message.before)
        if found is None:
            found = self._match("".join(message.lines), message.line_number, message.before)
        return found

    def _deployment(self, line: str) -> None:
        if "vLLM" in line or "LLM engine" in line:
            banner = VERSION_BANNER.search(line)
            if banner:
                self.verdict.deployment.vllm_version = banner.group(1) or banner.group(2)
        if "non-default args" in line:
            found = NON_DEFAULT.search(line)
            if found:
                try:
                    value = ast.literal_eval(found.group(1))
                except (ValueError, SyntaxError, MemoryError, RecursionError):
                    value = None
                if isinstance(value, dict):
                    self.verdict.deployment.args.update({str(k): v for k, v in value.items()})
        elif "with config: " in line and not self.verdict.deployment.args:
            config = ENGINE_CONFIG.search(line)
            if config:
                for name, value in CONFIG_ITEM.findall(config.group(1)):
                    key = "max_model_len" if name == "max_seq_len" else name
                    self.verdict.deployment.args.setdefault(key, value.strip("'\""))


def serve_argv(deployment: Deployment) -> list[str]:
    """The ``vllm serve`` command the log's non-default arguments describe (for the profile builder)."""
    args = dict(deployment.args)
    argv = ["vllm", "serve"]
    model = args.pop("model", None) or args.pop("model_tag", None)
    if model:
        argv.append(str(model))
    for key, value in args.items():
        if value is None or value is False:
            continue
        option = "--" + key.replace("_", "-")
        if value is True:
            argv.append(option)
        elif isinstance(value, dict):
            import json

            argv += [option, json.dumps(value)]
        elif isinstance(value, (list, tuple)):
            argv += [option, *(str(item) for item in value)]
        else:
            argv += [option, str(value)]
    return argv
