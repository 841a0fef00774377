"""Keep secrets and terminal control codes out of every output.

Three nets, widest last: values under secret-looking keys, token-shaped strings (Hugging Face
``hf_...``, GitHub and OpenAI-style keys, bearer headers, credentials inside URLs), and the
literal values of every secret the doctor was handed (secret-looking environment variables, the
values of secret options and URL credentials on its own command line) wherever they appear,
derived paths included. Control characters from outside strings (METADATA, GPU names, plugins,
variables) are escaped so they cannot retitle or clear a terminal.

Every pattern is bounded and never backtracks into a run it has read (a lookahead captures the
run, a backreference consumes it: an atomic group that Python 3.10 can express), so redaction is
linear in its input with a small constant: a megabyte of the worst text takes a fraction of a second.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, Protocol, TextIO

from glm5_doctor.engine.results import Report, Result

MASK = "***"

#: A name is secret when one of its parts (split at _ - . and spaces) ends in one of these or is one of
#: the exact words: HF_TOKEN, MY_API_KEY, accessToken, AWS_SECRET_ACCESS_KEY; not kv_tokens or max_keys.
SECRET_SUFFIXES = ("TOKEN", "KEY", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "CREDENTIALS", "COOKIE", "PASSPHRASE")
SECRET_WORDS = frozenset({"AUTH", "AUTHORIZATION", "SESSION", "PRIVATE", "PAT"})
NAME_PARTS = re.compile(r"[_\-.\s]+")


def is_secret_name(name: str) -> bool:
    for part in NAME_PARTS.split(name.upper()):
        if part in SECRET_WORDS or (part and part.endswith(SECRET_SUFFIXES)):
            return True
    return False


TOKEN_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bhf_[A-Za-z0-9]{8,}"), "hf_" + MASK),
    (re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{16,}"), MASK),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{16,}"), MASK),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), MASK),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), MASK),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), MASK),
    (re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + MASK),
    # user:password@ or token@ inside any scheme:// (a password may hold a raw "/")
    (
        re.compile(
            r"([A-Za-z][A-Za-z0-9+.-]{0,31}://)"
            r"(?=(?P<user>[^/\s@:]{1,512}))(?P=user)(?::(?=(?P<password>[^\s@]{0,512}))(?P=password))?@"
        ),
        r"\1" + MASK + "@",
    ),
)
#: C0 and C1 control characters but newline and tab, DEL, and the bidirectional overrides that can
#: make a terminal show text other than what it holds.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: ``scheme://user:password@``: the password (or a lone token) is a secret wherever it shows up again.
URL_CREDENTIALS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,31}://(?=([^/\s@:]{1,512}))\1(?::(?=([^\s@]{1,512}))\2)?@")


def escape_controls(text: str) -> str:
    r"""``\x1b]0;title\x07`` shown as those characters, not obeyed by the terminal."""
    return CONTROL.sub(
        lambda match: f"\\x{ord(match.group()):02x}" if ord(match.group()) < 256 else f"\\u{ord(match.group()):04x}",
        text,
    )


def secrets_in_arguments(argv: list[str]) -> list[str]:
    """Secrets on a command line: values of secret-named options and credentials inside URLs."""
    found: list[str] = []
    for index, token in enumerate(argv):
        name, has_inline, inline = token.partition("=")
        if token.startswith("--") and is_secret_name(name.lstrip("-")):
            value = inline if has_inline else (argv[index + 1] if index + 1 < len(argv) else "")
            found.append(value)
        for match in URL_CREDENTIALS.finditer(token):
            found.extend(part for part in match.groups() if part)
    return found


#: Shorter values would mask ordinary words; such secrets are still caught by name or shape.
MIN_LITERAL_LENGTH = 6


class Redactor:
    """Masks secrets in strings and nested JSON-able data."""

    def __init__(self, environ: Mapping[str, str], secrets: Iterable[str] = ()) -> None:
        handed = [value for name, value in environ.items() if is_secret_name(name)]
        for value in environ.values():
            handed.extend(part for match in URL_CREDENTIALS.finditer(value) for part in match.groups() if part)
        literals = {value for value in (*handed, *secrets) if len(value) >= MIN_LITERAL_LENGTH}
        # Longest first so a secret that contains another is masked whole.
        self._literals = sorted(literals, key=len, reverse=True)

    def text(self, value: str) -> str:
        """``value`` without secrets and with control characters escaped: safe for any output."""
        for literal in self._literals:
            value = value.replace(literal, MASK)
        for pattern, replacement in TOKEN_PATTERNS:
            value = pattern.sub(replacement, value)
        return escape_controls(value)

    def data(self, value: Any, key: str | None = None) -> Any:
        # Only strings are masked by name: kv_bytes_per_token = 100152 is a number, never a credential.
        if key is not None and is_secret_name(key) and isinstance(value, str) and value != "":
            return MASK
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.data(v, str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.data(item) for item in value]
        return value

    def result(self, result: Result) -> Result:
        outcome = replace(
            result.outcome,
            message=self.text(result.outcome.message),
            evidence=self.data(dict(result.outcome.evidence)),
            details=self.text(result.outcome.details) if result.outcome.details else None,
        )
        return replace(result, title=self.text(result.title), outcome=outcome)

    def report(self, report: Report) -> Report:
        return replace(
            report,
            profile=self.data(dict(report.profile)),
            target=self.data(dict(report.target)),
            advisories=self.data(dict(report.advisories)) if report.advisories is not None else None,
            results=tuple(self.result(result) for result in report.results),
        )


class Writer(Protocol):
    """Where text goes: a stream, or a :class:`RedactedOutput` in front of one."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


class RedactedOutput:
    """A text stream whose every line passes the redactor before it reaches ``stream`` (fix previews,
    a fix script's own output): secrets and control characters never reach the terminal."""

    def __init__(self, stream: TextIO, redactor: Redactor) -> None:
        self._stream = stream
        self._redactor = redactor
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._stream.write(self._redactor.text(line) + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(self._redactor.text(self._pending))
            self._pending = ""
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()
