"""Snapshots: the facts one machine gave, saved as JSON, so they can be judged again elsewhere.

A snapshot holds what the probes gathered (``facts``, and ``errors`` for the probes that failed),
the deployment profile they were gathered for, the tool version and the time. It is plain data
(the :class:`~glm5_doctor.engine.facts.Facts` round trip) and passes the redactor before it is
written, like every output. ``run --from-snapshot`` judges it with today's checks.

Versions: ``snapshot_version`` names the document's layout. A version this tool reads
(:data:`READABLE_VERSIONS`) is read whatever tool wrote it; any other is refused with a message
that says which versions this tool reads. Anything that is not a snapshot is a
:class:`SnapshotError` naming the file and the problem (a usage error, exit 2).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from glm5_doctor.deployment.profile import Profile
from glm5_doctor.deployment.serve_args import ServeArgs
from glm5_doctor.engine.facts import Facts

#: The layout this tool writes.
SNAPSHOT_VERSION = 1
#: The layouts this tool reads.
READABLE_VERSIONS = frozenset({1})
KIND = "glm5-doctor snapshot"
#: A snapshot is a few hundred KiB at most (a P2P matrix of 8 GPUs, a few thousand distributions).
SIZE_LIMIT = 64 * 1024 * 1024


class SnapshotError(Exception):
    """The file is not a snapshot this tool can read; the message says which file and why, in one line."""


@dataclass(frozen=True)
class Snapshot:
    """A saved set of facts and the deployment they were gathered for."""

    tool_version: str
    taken_at: str
    profile: Profile
    target: Mapping[str, Any]
    facts: Facts
    deep: bool = False
    snapshot_version: int = SNAPSHOT_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "snapshot_version": self.snapshot_version,
            "kind": KIND,
            "tool": {"name": "glm5-doctor", "version": self.tool_version},
            "taken_at": self.taken_at,
            "deep": self.deep,
            "profile": self.profile.to_dict(),
            "target": dict(self.target),
            "facts": dict(self.facts.data),
            "errors": dict(self.facts.errors),
        }


def now() -> str:
    """The time a snapshot is taken, in UTC, ISO 8601 to the second."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def read_snapshot(path: str) -> Snapshot:
    """The snapshot in ``path``; :class:`SnapshotError` for anything else."""
    try:
        if os.path.isdir(path):
            raise SnapshotError(f"{path}: is a folder, not a snapshot file")
        with open(path, encoding="utf-8") as stream:
            text = stream.read(SIZE_LIMIT + 1)
    except OSError as exc:
        raise SnapshotError(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SnapshotError(f"{path}: not UTF-8 text, so not a snapshot") from None
    if len(text) > SIZE_LIMIT:
        raise SnapshotError(f"{path}: larger than {SIZE_LIMIT // (1024 * 1024)} MiB, not a snapshot")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SnapshotError(f"{path}: not JSON ({str(exc)[:200]})") from None
    return parse_snapshot(document, path)


def parse_snapshot(document: object, origin: str = "snapshot") -> Snapshot:
    """``document`` (parsed JSON) as a :class:`Snapshot`, checked field by field."""
    if not isinstance(document, dict):
        raise SnapshotError(f"{origin}: not a glm5-doctor snapshot (a JSON {type(document).__name__}, not an object)")
    version = document.get("snapshot_version")
    if document.get("kind") != KIND or version is None:
        raise SnapshotError(f'{origin}: not a glm5-doctor snapshot (no "kind": "{KIND}" and snapshot_version)')
    if not isinstance(version, int) or isinstance(version, bool) or version not in READABLE_VERSIONS:
        readable = ", ".join(str(v) for v in sorted(READABLE_VERSIONS))
        raise SnapshotError(
            f"{origin}: snapshot_version {str(version)[:20]} cannot be read by this glm5-doctor (it reads "
            f"version {readable}); judge it with the glm5-doctor that wrote it, or take the snapshot again"
        )
    tool = _field(document, "tool", dict, origin)
    facts = _field(document, "facts", dict, origin)
    errors = _field(document, "errors", dict, origin)
    if not all(isinstance(value, str) for value in errors.values()):
        raise SnapshotError(f'{origin}: "errors" must map fact names to messages')
    try:
        profile = profile_from_dict(_field(document, "profile", dict, origin))
    except (TypeError, ValueError) as exc:
        raise SnapshotError(f'{origin}: "profile": {exc}') from None
    return Snapshot(
        tool_version=str(tool.get("version", "unknown")),
        taken_at=str(_field(document, "taken_at", str, origin)),
        profile=profile,
        target=_field(document, "target", dict, origin),
        facts=Facts(data=upgraded(facts), errors=errors),
        deep=bool(document.get("deep", False)),
        snapshot_version=version,
    )


def upgraded(facts: dict[str, Any]) -> dict[str, Any]:
    """Facts from an older doctor, with every field it did not gather yet present as ``None`` ("unknown").

    A check reads a field it knows as unknown rather than crashing on a snapshot written before the
    field existed; what it then says is what it says when a probe could not tell.
    """
    from glm5_doctor.probes import PROBES

    result = dict(facts)
    for name, value in facts.items():
        probe = PROBES.get(name)
        if probe is not None and isinstance(value, dict):
            result[name] = {**dict.fromkeys(probe.key.fields()), **value}
    return result


def _field(document: Mapping[str, Any], name: str, kind: type, origin: str) -> Any:
    value = document.get(name)
    if not isinstance(value, kind):
        expected = "an object" if kind is dict else "a string" if kind is str else kind.__name__
        raise SnapshotError(f'{origin}: "{name}" must be {expected}, not {_json_type(value)}')
    return value


def _json_type(value: object) -> str:
    if value is None:
        return "missing or null"
    names: dict[type, str] = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    return names.get(type(value), "a number")


def profile_from_dict(data: Mapping[str, Any]) -> Profile:
    """The :class:`Profile` that ``Profile.to_dict()`` wrote; unknown keys (a newer tool's) are left out."""
    values = _dataclass_values(Profile, data)
    serve = values.get("serve")
    if serve is not None:
        values["serve"] = ServeArgs(**_dataclass_values(ServeArgs, serve))
    profile = Profile(**values)
    if profile.tensor_parallel_size < 1 or profile.pipeline_parallel_size < 1:
        raise ValueError("tensor_parallel_size and pipeline_parallel_size must be at least 1")
    if not 0 < profile.gpu_memory_utilization <= 1:
        raise ValueError("gpu_memory_utilization must be in (0, 1]")
    return profile


def _dataclass_values(cls: type, data: object) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise TypeError(f"{cls.__name__} must be an object")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for item in dataclasses.fields(cls):
        if item.name not in data:
            if item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING:
                raise ValueError(f"{item.name} is missing")
            continue
        values[item.name] = _typed(item.name, hints[item.name], data[item.name])
    return values


def _typed(name: str, annotation: object, value: object) -> Any:
    """``value`` as ``annotation`` holds it (a JSON array becomes a tuple); a mismatch is a ValueError."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [arg for arg in args if arg is not type(None)]
        return _typed(name, options[0], value) if len(options) == 1 else value
    if origin is tuple and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    if origin is dict and isinstance(value, dict):
        return value
    if annotation is Any:
        return value
    if annotation is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return value  # a nested dataclass is rebuilt by the caller
    if (
        isinstance(annotation, type)
        and isinstance(value, annotation)
        and not (annotation is int and isinstance(value, bool))
    ):
        return value
    raise ValueError(f"{name} has the wrong type ({_json_type(value)})")
