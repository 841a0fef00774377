"""Keep secrets out of every output: applied to the finished report before any reporter sees it.

Three nets, widest last: values under secret-looking keys, token-shaped strings (Hugging Face
``hf_...``, GitHub and OpenAI-style keys, bearer headers, credentials inside URLs), and the
literal values of every secret-looking environment variable wherever they appear.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

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
    # user:password@ or token@ inside any scheme://
    (re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/\s@:]+(?::[^/\s@]*)?@"), r"\1" + MASK + "@"),
)

#: Shorter values would mask ordinary words; such secrets are still caught by name or shape.
MIN_LITERAL_LENGTH = 6


class Redactor:
    """Masks secrets in strings and nested JSON-able data."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        literals = {
            value for name, value in environ.items() if is_secret_name(name) and len(value) >= MIN_LITERAL_LENGTH
        }
        # Longest first so a secret that contains another is masked whole.
        self._literals = sorted(literals, key=len, reverse=True)

    def text(self, value: str) -> str:
        for literal in self._literals:
            value = value.replace(literal, MASK)
        for pattern, replacement in TOKEN_PATTERNS:
            value = pattern.sub(replacement, value)
        return value

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
            results=tuple(self.result(result) for result in report.results),
        )
