"""Which checks exist: every module of the built-in checks package, then plugins from one entry-point group.

Built-ins are found by scanning ``glm5_doctor.checks`` (every public module; ``_helpers`` are
skipped), so a check added to any module of the package is registered without a second edit;
:data:`AREA_ORDER` only orders the catalog. Plugins come through the ``glm5_doctor.checks``
entry-point group; both paths go through the same validation (IDs, areas, requirements, the
facts a check declares, the fix script it links).

A plugin's entry-point name is its ID area (flake8's prefix rule): ``acme = "acme_checks"``
may only declare ``acme.*`` checks. A plugin that fails to import or validate becomes a
:class:`LoadError`, shown as an ``error`` result; it never stops the run.
"""

from __future__ import annotations

import os
import pkgutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import import_module
from types import ModuleType

from glm5_doctor.engine import deadlines
from glm5_doctor.engine.check import Check

if sys.version_info >= (3, 12):
    from importlib import metadata
else:  # the stdlib's entry_points() API settled in 3.12; the backport gives 3.10/3.11 the same one
    import importlib_metadata as metadata

ENTRY_POINT_GROUP = "glm5_doctor.checks"
DISABLE_AUTOLOAD_ENV = "GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD"

BUILTIN_PACKAGE = "glm5_doctor.checks"
#: Catalog order of the built-in areas (a module of an area not listed here comes after them).
AREA_ORDER: tuple[str, ...] = (
    "python",
    "vllm",
    "transformers",
    "torch",
    "cuda",
    "deepgemm",
    "flashinfer",
    "gpu",
    "model",
    "serve",
    "host",
)
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
    for module in builtin_modules():
        found = checks_in_module(module)
        areas = {item.area for item in found}
        for area in sorted(areas, key=_area_rank):
            _add(checks, sources, errors, area, "builtin", [c for c in found if c.area == area], builtin=True)
    builtin_areas = {item.area for item in checks}
    checks.sort(key=lambda item: _area_rank(item.area))  # stable: module order within an area
    if autoload_plugins:
        for entry_point in _plugin_entry_points():
            dist = entry_point.dist
            label = f"{dist.name} {dist.version}" if dist is not None else entry_point.value
            loaded, problem = _load_plugin(entry_point)
            if problem is not None:
                errors.append(LoadError(entry_point.name, label, problem))
                continue
            try:
                found = checks_in_module(loaded) if isinstance(loaded, ModuleType) else list(_as_checks(loaded))
            except TypeError as exc:
                errors.append(LoadError(entry_point.name, label, str(exc)))
                continue
            _add(checks, sources, errors, entry_point.name, label, found, builtin=False, reserved=builtin_areas)
    _validate_requirements(checks, errors)
    _validate_declarations(checks, sources, errors)
    return Registry(tuple(checks), sources, tuple(errors))


def _load_plugin(entry_point: metadata.EntryPoint) -> tuple[object, str | None]:
    """Import a plugin under a deadline. Raising, calling ``sys.exit`` or blocking at import is its
    load error, never the run's end: the import runs in a daemon thread that is left behind if it hangs."""
    from glm5_doctor.engine.runner import run_concurrently

    finished = run_concurrently({"plugin": (entry_point.load, deadlines.PLUGIN_IMPORT_S)})["plugin"]
    if finished.timed_out:
        return None, f"its import did not finish within {deadlines.PLUGIN_IMPORT_S:g} s"
    if isinstance(finished.error, SystemExit):
        return None, f"its import called sys.exit({finished.error.code!r})"
    if finished.error is not None:
        return None, f"{type(finished.error).__name__}: {finished.error}"
    return finished.value, None


def builtin_modules() -> list[ModuleType]:
    """Every public module of the built-in checks package, in name order."""
    package = import_module(BUILTIN_PACKAGE)
    names = sorted(info.name for info in pkgutil.iter_modules(package.__path__) if not info.name.startswith("_"))
    return [import_module(f"{BUILTIN_PACKAGE}.{name}") for name in names]


def builtin_areas() -> frozenset[str]:
    return frozenset(item.area for module in builtin_modules() for item in checks_in_module(module))


def _area_rank(area: str) -> tuple[int, str]:
    return (AREA_ORDER.index(area), "") if area in AREA_ORDER else (len(AREA_ORDER), area)


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
    reserved: frozenset[str] | set[str] = frozenset(),
) -> None:
    problems = []
    if not builtin and area in reserved:
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


def _validate_declarations(checks: list[Check], sources: dict[str, str], errors: list[LoadError]) -> None:
    """Facts a check declares must have a probe; a fix must resolve to a script. Bad plugins are dropped."""
    from glm5_doctor.probes import PROBES
    from glm5_doctor.remedies import RemedyError, script_file

    for item in list(checks):
        problems = [f"declares unknown fact {key.name!r}" for key in item.facts if key.name not in PROBES]
        if item.fix is not None:
            try:
                script_file(item.fix)
            except RemedyError as exc:
                problems.append(str(exc))
        if not problems:
            continue
        if sources.get(item.id) == "builtin":
            raise RuntimeError(f"{item.id}: {'; '.join(problems)}")
        errors.append(LoadError(item.area, sources.get(item.id, item.id), f"{item.id}: {'; '.join(problems)}"))
        checks.remove(item)
        sources.pop(item.id, None)
