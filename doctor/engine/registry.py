"""Which checks exist: the built-in modules, then third-party plugins from one entry-point group.

Built-ins are an explicit tuple (pytest's ``default_plugins``, llm's ``DEFAULT_PLUGINS``) and
are also declared in the ``glm5_doctor.checks`` entry-point group, the group plugins use; both
paths go through the same loader and the same validation. The tuple keeps a source checkout
without installed metadata working; a test keeps it and pyproject's entry points equal.

A plugin's entry-point name is its ID area (flake8's prefix rule): ``acme = "acme_checks"``
may only declare ``acme.*`` checks. A plugin that fails to import or validate becomes a
:class:`LoadError`, shown as an ``error`` result; it never stops the run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import import_module
from types import ModuleType

from glm5_doctor.engine.check import Check

if sys.version_info >= (3, 12):
    from importlib import metadata
else:  # the stdlib's entry_points() API settled in 3.12; the backport gives 3.10/3.11 the same one
    import importlib_metadata as metadata

ENTRY_POINT_GROUP = "glm5_doctor.checks"
DISABLE_AUTOLOAD_ENV = "GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD"

#: Built-in check modules by entry-point name, in catalog order.
BUILTIN_MODULES: tuple[tuple[str, str], ...] = (
    ("python", "glm5_doctor.checks.python"),
    ("vllm", "glm5_doctor.checks.vllm"),
    ("transformers", "glm5_doctor.checks.transformers"),
    ("torch", "glm5_doctor.checks.torch"),
    ("cuda", "glm5_doctor.checks.cuda"),
    ("deepgemm", "glm5_doctor.checks.deepgemm"),
    ("flashinfer", "glm5_doctor.checks.flashinfer"),
    ("gpu", "glm5_doctor.checks.gpu"),
    ("model", "glm5_doctor.checks.model"),
    ("serve", "glm5_doctor.checks.serve"),
    ("host", "glm5_doctor.checks.host"),
)
BUILTIN_AREAS = frozenset(name for name, _ in BUILTIN_MODULES)
OWN_DISTRIBUTION = "glm5-doctor"


@dataclass(frozen=True)
class LoadError:
    """A plugin that could not be loaded, and why."""

    entry_point: str
    distribution: str
    error: str


@dataclass(frozen=True)
class Registry:
    """Every known check in catalog order, where each came from, and the plugins that broke."""

    checks: tuple[Check, ...]
    sources: dict[str, str]
    load_errors: tuple[LoadError, ...] = ()

    def get(self, check_id: str) -> Check | None:
        return next((item for item in self.checks if item.id == check_id), None)

    def select(self, select: Sequence[str] = (), ignore: Sequence[str] = ()) -> list[Check]:
        """Checks matching ``select`` (all when empty) minus ``ignore``, plus what they require.

        A selector is a full ID or an area (``gpu`` matches ``gpu.*``). Unknown selectors
        raise ``ValueError`` so a typo never silently runs nothing.
        """
        for selector in (*select, *ignore):
            if not any(_matches(item.id, selector) for item in self.checks):
                raise ValueError(f"no check matches {selector!r} (see 'glm5-doctor list')")
        chosen = {item.id for item in self.checks if not select or any(_matches(item.id, s) for s in select)}
        chosen -= {item.id for item in self.checks if any(_matches(item.id, s) for s in ignore)}
        ignored = {item.id for item in self.checks if any(_matches(item.id, s) for s in ignore)}
        changed = True
        while changed:  # pull in requirements unless the user ignored them on purpose
            needed = {r for item in self.checks if item.id in chosen for r in item.requires}
            changed = bool((needed - ignored) - chosen)
            chosen |= needed - ignored
        return [item for item in self.checks if item.id in chosen]


def _matches(check_id: str, selector: str) -> bool:
    return check_id == selector or check_id.startswith(selector + ".")


def checks_in_module(module: ModuleType) -> list[Check]:
    """The ``Check`` objects a module defines, in definition order."""
    return [value for value in vars(module).values() if isinstance(value, Check)]


def load_registry(autoload_plugins: bool | None = None) -> Registry:
    """Built-ins, then plugins (unless autoload is off by argument or environment)."""
    if autoload_plugins is None:
        autoload_plugins = os.environ.get(DISABLE_AUTOLOAD_ENV, "") in ("", "0")
    checks: list[Check] = []
    sources: dict[str, str] = {}
    errors: list[LoadError] = []
    for area, module_name in BUILTIN_MODULES:
        _add(checks, sources, errors, area, "builtin", checks_in_module(import_module(module_name)), builtin=True)
    if autoload_plugins:
        for entry_point in _plugin_entry_points():
            dist = entry_point.dist
            label = f"{dist.name} {dist.version}" if dist is not None else entry_point.value
            try:
                loaded = entry_point.load()
                found = checks_in_module(loaded) if isinstance(loaded, ModuleType) else list(_as_checks(loaded))
            except Exception as exc:  # noqa: BLE001 - a broken plugin is reported, never fatal
                errors.append(LoadError(entry_point.name, label, f"{type(exc).__name__}: {exc}"))
                continue
            _add(checks, sources, errors, entry_point.name, label, found, builtin=False)
    _validate_requirements(checks, errors)
    return Registry(tuple(checks), sources, tuple(errors))


def _plugin_entry_points() -> list[metadata.EntryPoint]:
    try:
        found = metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception:  # noqa: BLE001 - unreadable metadata elsewhere must not stop the doctor
        return []
    return [ep for ep in found if ep.dist is None or _canonical(ep.dist.name) != OWN_DISTRIBUTION]


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _as_checks(value: object) -> Iterable[Check]:
    if isinstance(value, Check):
        return [value]
    raise TypeError(f"entry point must name a module or a Check, not {type(value).__name__}")


def _add(
    checks: list[Check],
    sources: dict[str, str],
    errors: list[LoadError],
    area: str,
    source: str,
    found: list[Check],
    builtin: bool,
) -> None:
    problems = []
    if not builtin and area in BUILTIN_AREAS:
        problems.append(f"area {area!r} is reserved for built-in checks")
    known = {item.id for item in checks}
    for item in found:
        if item.area != area:
            problems.append(f"check {item.id!r} is outside its area {area!r}")
        if item.id in known:
            problems.append(f"check {item.id!r} is already defined")
    if problems:
        if builtin:
            raise RuntimeError("; ".join(problems))
        errors.append(LoadError(area, source, "; ".join(problems)))
        return
    checks.extend(found)
    sources.update({item.id: source for item in found})


def _validate_requirements(checks: list[Check], errors: list[LoadError]) -> None:
    known = {item.id for item in checks}
    for item in checks:
        missing = [r for r in item.requires if r not in known]
        if missing:
            errors.append(LoadError(item.area, item.id, f"requires unknown check(s) {', '.join(missing)}"))
