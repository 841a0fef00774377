"""Known upstream bugs (advisories): the database shipped with the doctor, and matching it. Pure code.

The database is ``advisories.json`` next to this module, one entry per upstream bug, each written from
its issue/PR thread (its format: ``advisories.schema.json`` and the README's "Advisories" section).
:func:`parse_database` validates a database by the same rules as that schema, without jsonschema (a
test dependency only), so a newer file given with ``--advisories FILE`` is refused with one line
naming the entry and the field.

Matching is three-valued. An advisory *matches* when every ``affected`` entry holds for the installed
versions and every condition holds for the deployment; it is *undetermined* when nothing contradicts
it but a value it needs is unknown (no serve command gave the tool parser; NVML gave no driver);
otherwise it does not match. Specifiers are PEP 440 specifier sets with pre-releases allowed, so
nightlies (``0.22.1rc1.dev69+g...``) are compared like any version; a local label (``+cu130``) is
ignored, as PEP 440 says.
"""

from __future__ import annotations

import enum
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

DATA_FILE = "advisories.json"
SCHEMA_FILE = "advisories.schema.json"
BUILTIN = "builtin"
#: A database file larger than this is refused (the shipped one is ~30 KB).
MAX_FILE_BYTES = 8 << 20

SEVERITIES = ("fail", "warn")
ID_PATTERN = re.compile(r"^GLM5-ADV-[0-9]{4}$")
VERSION_PATTERN = re.compile(r"^[0-9]+(\.[0-9]+)*$")
DATE_PATTERN = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
DISTRIBUTION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: Pseudo-distributions: the target interpreter's version and the NVIDIA driver's (from NVML).
PYTHON = "python"
DRIVER = "driver"

#: Conditions that are a list of accepted values (matched case-insensitively).
LIST_CONDITIONS = (
    "compute_capability",
    "gpu_family",
    "kv_cache_dtype",
    "speculative_method",
    "tool_call_parser",
    "reasoning_parser",
    "chat_template_content_format",
    "load_format",
    "kv_connector",
    "attention_backend",
    "model_family",
    "quantization",
)
#: Conditions that are a PEP 440 specifier on an integer (``>=2``, ``==8``).
NUMBER_CONDITIONS = ("tensor_parallel_size", "pipeline_parallel_size")
CONDITIONS = LIST_CONDITIONS + NUMBER_CONDITIONS
GPU_FAMILIES = {
    "ampere": ("8.0", "8.6", "8.7"),
    "ada": ("8.9",),
    "hopper": ("9.0",),
    "blackwell": ("10.0", "10.3"),
    "blackwell-rtx": ("12.0", "12.1"),
}
FIELDS = ("id", "title", "severity", "affected", "conditions", "fixed_in", "workaround", "sources", "notes")


class AdvisoryError(Exception):
    """A database that cannot be used; the message names the file, the entry and the field, in one line."""


@dataclass(frozen=True)
class Affected:
    """One distribution the bug needs: installed at a version in ``specifier`` (or, ``installed=False``, absent)."""

    distribution: str
    specifier: str = ""
    installed: bool = True

    @property
    def name(self) -> str:
        return canonicalize_name(self.distribution)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"distribution": self.distribution, "specifier": self.specifier}
        if not self.installed:
            data["installed"] = False
        return data


@dataclass(frozen=True)
class Advisory:
    id: str
    title: str
    severity: str
    affected: tuple[Affected, ...]
    conditions: Mapping[str, Any]
    fixed_in: Mapping[str, str] | None
    workaround: str
    sources: tuple[str, ...]
    notes: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "affected": [item.to_dict() for item in self.affected],
            "conditions": dict(self.conditions),
            "fixed_in": dict(self.fixed_in) if self.fixed_in is not None else None,
            "workaround": self.workaround,
            "sources": list(self.sources),
            "notes": self.notes,
        }

    def fixed_text(self) -> str:
        if not self.fixed_in:
            return "no fixed release named upstream"
        return "fixed in " + ", ".join(f"{name} {version}" for name, version in self.fixed_in.items())


@dataclass(frozen=True)
class Database:
    name: str
    version: str
    date: str
    advisories: tuple[Advisory, ...]
    #: ``builtin`` or the file it was read from
    source: str = BUILTIN

    def info(self) -> dict[str, Any]:
        """What a report states about the database it was judged with."""
        return {
            "name": self.name,
            "version": self.version,
            "date": self.date,
            "source": self.source,
            "count": len(self.advisories),
        }

    def to_data(self) -> dict[str, Any]:
        """The database as its file holds it (plus its source): plain JSON data, a fact."""
        return {
            "database": {"name": self.name, "version": self.version, "date": self.date},
            "advisories": [advisory.to_dict() for advisory in self.advisories],
            "source": self.source,
        }

    def get(self, advisory_id: str) -> Advisory | None:
        return next((item for item in self.advisories if item.id == advisory_id.upper()), None)


# --- loading -------------------------------------------------------------------------------------


def load_builtin() -> Database:
    """The database shipped inside the package."""
    text = resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
    return parse_database(json.loads(text), BUILTIN)


def load_file(path: str) -> Database:
    """A database from ``path`` (an offline update); every problem is an :class:`AdvisoryError`."""
    shown = path
    try:
        if not os.path.isfile(path):
            raise AdvisoryError(f"{shown}: {'no such file' if not os.path.exists(path) else 'not a regular file'}")
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise AdvisoryError(f"{shown}: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise AdvisoryError(f"{shown}: larger than {MAX_FILE_BYTES >> 20} MiB, not an advisory database")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise AdvisoryError(f"{shown}: not valid JSON ({str(exc).splitlines()[0][:200]})") from None
    try:
        return parse_database(data, path)
    except AdvisoryError as exc:
        raise AdvisoryError(f"{shown}: {exc}") from None


def parse_database(data: Any, source: str = BUILTIN) -> Database:
    """Validate ``data`` by the rules of ``advisories.schema.json`` and build the :class:`Database`."""
    _expect(isinstance(data, dict), "", "must be a JSON object with 'database' and 'advisories'")
    _no_extra(data, {"$schema", "database", "advisories", "source"}, "")
    header = data.get("database")
    _expect(isinstance(header, dict), "database", "must be an object with name, version and date")
    _no_extra(header, {"name", "version", "date"}, "database")
    name = _text(header, "name", "database")
    version = _text(header, "version", "database")
    _expect(bool(VERSION_PATTERN.match(version)), "database.version", f"{version!r} is not of the form 2026.12.1")
    date = _text(header, "date", "database")
    _expect(bool(DATE_PATTERN.match(date)), "database.date", f"{date!r} is not a YYYY-MM-DD date")
    entries = data.get("advisories")
    _expect(isinstance(entries, list) and bool(entries), "advisories", "must be a non-empty list")
    advisories = tuple(_advisory(entry, f"advisories[{index}]") for index, entry in enumerate(entries))
    seen: set[str] = set()
    for index, advisory in enumerate(advisories):
        _expect(advisory.id not in seen, f"advisories[{index}].id", f"{advisory.id} appears twice")
        seen.add(advisory.id)
    return Database(name, version, date, advisories, source)


def _advisory(entry: Any, where: str) -> Advisory:
    _expect(isinstance(entry, dict), where, "must be an object")
    _no_extra(entry, set(FIELDS), where)
    for key in FIELDS:
        _expect(key in entry, where, f"lacks {key!r}")
    advisory_id = _text(entry, "id", where)
    _expect(bool(ID_PATTERN.match(advisory_id)), f"{where}.id", f"{advisory_id!r} is not of the form GLM5-ADV-0001")
    where = f"{where} ({advisory_id})"
    severity = _text(entry, "severity", where)
    _expect(severity in SEVERITIES, f"{where}.severity", f"{severity!r} is not one of {', '.join(SEVERITIES)}")
    affected = entry["affected"]
    _expect(isinstance(affected, list), f"{where}.affected", "must be a list")
    sources = entry["sources"]
    _expect(isinstance(sources, list) and bool(sources), f"{where}.sources", "must be a non-empty list of URLs")
    for index, url in enumerate(sources):
        https = isinstance(url, str) and url.startswith("https://")
        _expect(https, f"{where}.sources[{index}]", "must be an https URL")
    return Advisory(
        id=advisory_id,
        title=_text(entry, "title", where),
        severity=severity,
        affected=tuple(_affected(item, f"{where}.affected[{index}]") for index, item in enumerate(affected)),
        conditions=_conditions(entry["conditions"], f"{where}.conditions"),
        fixed_in=_fixed_in(entry["fixed_in"], f"{where}.fixed_in"),
        workaround=_text(entry, "workaround", where),
        sources=tuple(sources),
        notes=_text(entry, "notes", where),
    )


def _affected(item: Any, where: str) -> Affected:
    _expect(isinstance(item, dict), where, "must be an object with distribution and specifier")
    _no_extra(item, {"distribution", "specifier", "installed"}, where)
    name = item.get("distribution")
    _expect(isinstance(name, str) and bool(DISTRIBUTION_PATTERN.match(name)), f"{where}.distribution", "not a name")
    specifier = item.get("specifier")
    _expect(isinstance(specifier, str), f"{where}.specifier", "must be a string (empty: any version)")
    _specifier(specifier, f"{where}.specifier")
    installed = item.get("installed", True)
    _expect(isinstance(installed, bool), f"{where}.installed", "must be true or false")
    _expect(installed or not specifier, f"{where}.specifier", "must be empty when installed is false")
    _expect(
        installed or canonicalize_name(name) not in (PYTHON, DRIVER), f"{where}.installed", f"{name} is always there"
    )
    return Affected(name, specifier, installed)


def _conditions(value: Any, where: str) -> dict[str, Any]:
    _expect(isinstance(value, dict), where, "must be an object (empty: any deployment)")
    _no_extra(value, set(CONDITIONS), where)
    for key, accepted in value.items():
        if key in NUMBER_CONDITIONS:
            _expect(isinstance(accepted, str) and bool(accepted), f"{where}.{key}", "must be a specifier such as '>=2'")
            _specifier(accepted, f"{where}.{key}")
            continue
        ok = isinstance(accepted, list) and bool(accepted) and all(isinstance(v, str) and v for v in accepted)
        _expect(ok, f"{where}.{key}", "must be a non-empty list of strings")
        _expect(len(set(accepted)) == len(accepted), f"{where}.{key}", "lists a value twice")
        if key == "gpu_family":
            unknown = sorted(set(accepted) - set(GPU_FAMILIES))
            _expect(not unknown, f"{where}.{key}", f"unknown families {unknown} (known: {', '.join(GPU_FAMILIES)})")
    return dict(value)


def _fixed_in(value: Any, where: str) -> dict[str, str] | None:
    if value is None:
        return None
    ok = isinstance(value, dict) and bool(value) and all(isinstance(v, str) and v for v in value.values())
    _expect(ok, where, "must be null or an object of distribution -> version")
    for name, version in value.items():
        try:
            Version(version)
        except InvalidVersion:
            raise AdvisoryError(f"{where}.{name}: {version!r} is not a PEP 440 version") from None
    return dict(value)


def _specifier(text: str, where: str) -> SpecifierSet:
    try:
        return SpecifierSet(text, prereleases=True)
    except InvalidSpecifier:
        raise AdvisoryError(f"{where}: {text!r} is not a PEP 440 specifier set") from None


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    _expect(isinstance(value, str) and bool(value.strip()), f"{where}.{key}" if where else key, "must be a text")
    return str(value)


def _no_extra(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(data) - allowed)
    _expect(not extra, where or "top level", f"unknown fields {extra}")


def _expect(condition: bool, where: str, problem: str) -> None:
    if not condition:
        raise AdvisoryError(f"{where}: {problem}" if where else problem)


# --- the deployment an advisory is judged against ------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    """What the doctor knows about one deployment; ``None`` is "not known" (never "absent").

    ``versions`` holds every installed distribution by canonical name (absent: not installed), plus
    ``python`` and ``driver`` when known.
    """

    versions: Mapping[str, str]
    compute_capabilities: tuple[str, ...] | None = None
    tensor_parallel_size: int | None = None
    pipeline_parallel_size: int | None = None
    kv_cache_dtype: str | None = None
    speculative_method: str | None = None
    tool_call_parser: str | None = None
    reasoning_parser: str | None = None
    chat_template_content_format: str | None = None
    load_format: str | None = None
    kv_connector: str | None = None
    attention_backend: str | None = None
    model_family: str | None = None
    quantization: str | None = None
    #: pseudo-distributions whose version is unknown (NVML gave no driver)
    unknown_versions: frozenset[str] = field(default_factory=frozenset)

    def values(self, condition: str) -> tuple[str, ...] | None:
        """The deployment's value(s) for ``condition``, or None when unknown."""
        if condition == "compute_capability":
            return self.compute_capabilities
        if condition == "gpu_family":
            if self.compute_capabilities is None:
                return None
            return tuple(family for family, caps in GPU_FAMILIES.items() if set(caps) & set(self.compute_capabilities))
        value = getattr(self, condition)
        return None if value is None else (str(value),)


class Verdict(str, enum.Enum):
    MATCH = "match"
    UNDETERMINED = "undetermined"
    NO_MATCH = "no-match"


@dataclass(frozen=True)
class Match:
    advisory: Advisory
    verdict: Verdict
    #: why it matched: distribution -> installed version, condition -> deployment value
    evidence: Mapping[str, Any]
    #: what it still needs to know (undetermined)
    unknown: tuple[str, ...] = ()


def evaluate(advisory: Advisory, deployment: Deployment) -> Match:
    """Judge one advisory against one deployment."""
    evidence: dict[str, Any] = {}
    unknown: list[str] = []
    for item in advisory.affected:
        state = _affected_state(item, deployment)
        if state is None:
            unknown.append(item.name)
            continue
        if state is False:
            return Match(advisory, Verdict.NO_MATCH, {})
        evidence[item.name] = deployment.versions.get(item.name, "not installed")
    for condition, accepted in advisory.conditions.items():
        values = deployment.values(condition)
        if values is None:
            unknown.append(condition)
            continue
        if not _condition_holds(condition, accepted, values):
            return Match(advisory, Verdict.NO_MATCH, {})
        evidence[condition] = values[0] if len(values) == 1 else list(values)
    if unknown:
        return Match(advisory, Verdict.UNDETERMINED, evidence, tuple(unknown))
    return Match(advisory, Verdict.MATCH, evidence)


def match_all(database: Database, deployment: Deployment) -> list[Match]:
    """Every advisory that matches or might match, in database order."""
    judged = (evaluate(advisory, deployment) for advisory in database.advisories)
    return [match for match in judged if match.verdict is not Verdict.NO_MATCH]


def version_in(version: str, specifier: str) -> bool | None:
    """``version`` satisfies ``specifier`` (pre-releases allowed); None when it is not a PEP 440 version."""
    try:
        parsed = Version(version)
    except InvalidVersion:
        return None
    return SpecifierSet(specifier, prereleases=True).contains(parsed) if specifier else True


def _affected_state(item: Affected, deployment: Deployment) -> bool | None:
    if item.name in deployment.unknown_versions:
        return None
    version = deployment.versions.get(item.name)
    if not item.installed:
        return version is None
    if version is None:
        return False
    return version_in(version, item.specifier)


def _condition_holds(condition: str, accepted: Any, values: Sequence[str]) -> bool:
    if condition in NUMBER_CONDITIONS:
        return any(version_in(value, str(accepted)) for value in values)
    wanted = {str(item).lower() for item in accepted}
    return any(value.lower() in wanted for value in values)


# --- reading deployment values from names ----------------------------------------------------------

_FAMILY = re.compile(r"GLM-?5(?:\.(\d+))?(-Flash)?", re.IGNORECASE)
_QUANTIZATION_IN_NAME = (("nvfp4", "nvfp4"), ("mxfp4", "mxfp4"), ("fp8", "fp8"), ("awq", "awq"), ("bf16", "bf16"))
#: ``--quantization`` values -> the checkpoint quantization they load.
QUANTIZATION_FLAGS = {"modelopt_fp4": "nvfp4", "fp8": "fp8", "modelopt": "fp8", "mxfp4": "mxfp4", "awq": "awq"}


def model_family(model: str | None) -> str | None:
    """``GLM-5``, ``GLM-5.1``, ``GLM-5.3-Flash`` ... from a model id or path; None when the name does not say."""
    found = _FAMILY.search(model or "")
    if found is None:
        return None
    minor, flash = found.groups()
    return "GLM-5" + (f".{minor}" if minor else "") + ("-Flash" if flash else "")


def quantization_from_name(model: str | None) -> str | None:
    lowered = (model or "").lower()
    return next((kind for token, kind in _QUANTIZATION_IN_NAME if token in lowered), None)


def capability_text(capabilities: Iterable[tuple[int, int]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f"{major}.{minor}" for major, minor in capabilities))
