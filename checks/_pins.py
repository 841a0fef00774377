"""Reading version pins: vLLM's ``Requires-Dist`` entries, judged the way ``pip check`` judges them."""

from __future__ import annotations

from glm5_doctor.probes.distributions import DistributionFact
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version


def requirement_for(dist: DistributionFact, name: str) -> Requirement | None:
    """The unconditional ``Requires-Dist`` entry of ``dist`` that names ``name`` (extras ignored)."""
    wanted = canonicalize_name(name)
    for line in dist["requires_dist"]:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) == wanted and not _needs_extra(requirement):
            return requirement
    return None


def _needs_extra(requirement: Requirement) -> bool:
    return requirement.marker is not None and "extra" in str(requirement.marker)


def satisfies(version: Version, specifier: SpecifierSet) -> bool:
    """pip check accepts an installed pre-release when it is inside the range; so do we."""
    return specifier.contains(version, prereleases=True)


def requires_python(dist: DistributionFact) -> SpecifierSet | None:
    """``Requires-Python`` of ``dist``; ``InvalidSpecifier`` propagates to become an error result."""
    text = dist["requires_python"]
    return SpecifierSet(text) if text else None


def combine(*specifiers: SpecifierSet | str) -> SpecifierSet:
    combined = SpecifierSet()
    for specifier in specifiers:
        combined &= SpecifierSet(str(specifier))
    return combined


def simplest_window(specifier: SpecifierSet) -> tuple[Version | None, str]:
    """A readable form of a range: drop lower bounds and exclusions the highest lower bound makes moot.

    Returns the lowest release the range admits (``None`` without a lower bound) and the text:
    ``>=5.2.0`` combined with vLLM 0.19.1's ``!=5.0.*,...,!=5.5.0,>=4.56.0`` reads as ``>=5.5.1``.
    Only wildcard and exact exclusions that sit right at the lower bound are stepped over,
    so the result admits the same X.Y.Z releases.
    """
    lowers = [s for s in specifier if s.operator == ">=" and _is_release(s.version)]
    if not lowers:
        return None, str(specifier)
    floor = max(Version(s.version) for s in lowers)
    excluded = [s for s in specifier if s.operator == "!="]
    moved = True
    while moved:
        moved = False
        for exclusion in excluded:
            if exclusion.version.endswith(".*"):
                prefix = [int(part) for part in exclusion.version[:-2].split(".")]
                if list(floor.release[: len(prefix)]) == prefix:
                    floor = Version(".".join(str(p) for p in [*prefix[:-1], prefix[-1] + 1] + [0] * (3 - len(prefix))))
                    moved = True
            elif _is_release(exclusion.version) and Version(exclusion.version) == floor:
                release = list(floor.release) + [0] * (3 - len(floor.release))
                floor = Version(".".join(str(p) for p in [*release[:-1], release[-1] + 1]))
                moved = True
    kept = [f">={floor}"]
    for item in specifier:
        if item.operator == ">=" and _is_release(item.version):
            continue
        if item.operator == "!=" and not _above(item.version, floor):
            continue
        kept.append(str(item))
    return floor, ",".join(sorted(kept, key=_order))


def _is_release(text: str) -> bool:
    try:
        Version(text)
    except ValueError:
        return False
    return True


def _above(excluded: str, floor: Version) -> bool:
    text = excluded[:-2] if excluded.endswith(".*") else excluded
    try:
        return Version(text) >= Version(".".join(str(p) for p in floor.release[: len(text.split("."))]))
    except ValueError:
        return True


def _order(item: str) -> tuple[int, str]:
    return (0 if item.startswith(">") else 1 if item.startswith("<") else 2, item)


def parse_specifier(text: str) -> SpecifierSet | None:
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None
