"""Facts: the plain, JSON-able data that probes gather and checks judge.

Each probe contributes one top-level key (``interpreter``, ``distributions``, ``vllm``, ...).
The shapes are ``TypedDict`` so mypy can follow them while they stay plain dicts that a
snapshot can save and another machine can judge. Checks read facts through :class:`Facts`,
which also answers the questions several checks ask (which copy of a distribution does the
target interpreter see first?).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict, cast

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version


class InterpreterFact(TypedDict):
    executable: str
    version: str
    implementation: str
    ext_suffix: str | None
    sys_path: list[str]
    marker_environment: dict[str, str]
    prefix: str


class DistributionFact(TypedDict):
    name: str
    version: str | None
    dist_info: str
    location: str
    requires_python: str | None
    requires_dist: list[str]
    direct_url: dict[str, Any] | None
    installer: str | None
    error: str | None


class DistributionsFact(TypedDict):
    #: canonical name -> every copy found, in the target interpreter's sys.path order
    by_name: dict[str, list[DistributionFact]]
    unreadable_paths: dict[str, str]


class ProbeFailure(Exception):
    """A fact a check needs could not be gathered; the runner turns this into an ``error`` result."""


@dataclass(frozen=True)
class Facts:
    """Read-only view over the gathered facts, keyed by probe name."""

    data: Mapping[str, Any] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)

    def get(self, probe: str) -> Any:
        """The fact a probe gathered; raises :class:`ProbeFailure` if that probe failed."""
        if probe in self.errors:
            raise ProbeFailure(f"probe '{probe}' failed: {self.errors[probe]}")
        if probe not in self.data:
            raise ProbeFailure(f"probe '{probe}' was not run")
        return self.data[probe]

    @property
    def interpreter(self) -> InterpreterFact:
        return cast(InterpreterFact, self.get("interpreter"))

    def distributions(self, name: str) -> list[DistributionFact]:
        """Every installed copy of ``name`` the target sees, the one Python imports first."""
        found = cast(DistributionsFact, self.get("distributions"))
        return list(found["by_name"].get(canonicalize_name(name), []))

    def distribution(self, name: str) -> DistributionFact | None:
        copies = self.distributions(name)
        return copies[0] if copies else None

    def installed_versions(self) -> dict[str, str | None]:
        """Canonical name -> version of the copy Python sees first."""
        found = cast(DistributionsFact, self.get("distributions"))
        return {name: copies[0]["version"] for name, copies in found["by_name"].items() if copies}


def parse_version(text: str | None) -> Version | None:
    """A PEP 440 version, or ``None`` for a missing or malformed one."""
    if text is None:
        return None
    try:
        return Version(text)
    except InvalidVersion:
        return None


def install_source(dist: DistributionFact) -> str:
    """Where a distribution came from, from its PEP 610 ``direct_url.json``: a person reads this."""
    direct = dist.get("direct_url")
    if not direct:
        return "index"
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict):
        commit = str(vcs.get("commit_id") or "")[:12]
        return f"{vcs.get('vcs', 'vcs')} {direct.get('url', '')} @ {commit}".strip()
    dir_info = direct.get("dir_info")
    if isinstance(dir_info, dict):
        kind = "editable" if dir_info.get("editable") else "local directory"
        return f"{kind} {direct.get('url', '')}".strip()
    return f"file {direct.get('url', '')}".strip()
