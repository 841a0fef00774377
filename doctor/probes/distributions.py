"""Installed distributions of the target interpreter, read from ``*.dist-info`` folders.

Mirrors what ``importlib.metadata`` would find in the target's ``sys.path``, but reads the
files itself so every oddity becomes data instead of an exception: unreadable folders,
METADATA without a Version, two copies of one package, non-UTF-8 bytes. Only the METADATA
headers are read (the long description after the first blank line is skipped).
"""

from __future__ import annotations

import json
import os
from typing import Any, TypedDict

from glm5_doctor.engine.facts import FactKey, Facts
from glm5_doctor.probes.context import ProbeContext
from glm5_doctor.probes.interpreter import target_interpreter
from packaging.utils import canonicalize_name

METADATA_HEADER_LIMIT = 1 << 20
DIRECT_URL_LIMIT = 1 << 16


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


DISTRIBUTIONS: FactKey[DistributionsFact] = FactKey("distributions", DistributionsFact)


def distribution_copies(facts: Facts, name: str) -> list[DistributionFact]:
    """Every installed copy of ``name`` the target sees, the one Python imports first."""
    return list(facts[DISTRIBUTIONS]["by_name"].get(canonicalize_name(name), []))


def distribution(facts: Facts, name: str) -> DistributionFact | None:
    """The copy of ``name`` that ``import`` and ``importlib.metadata`` find first, or None."""
    copies = distribution_copies(facts, name)
    return copies[0] if copies else None


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


def probe_distributions(context: ProbeContext) -> DistributionsFact:
    by_name: dict[str, list[DistributionFact]] = {}
    unreadable: dict[str, str] = {}
    for location in target_interpreter(context)["sys_path"]:
        try:
            entries = sorted(os.listdir(location))
        except FileNotFoundError:
            continue
        except NotADirectoryError:
            continue  # zip files on sys.path hold no dist-info we could read cheaply
        except OSError as exc:
            unreadable[location] = exc.strerror or str(exc)
            continue
        for entry in entries:
            if entry.endswith(".dist-info") or entry.endswith(".egg-info"):
                dist = read_distribution(os.path.join(location, entry), location)
                by_name.setdefault(canonicalize_name(dist["name"]), []).append(dist)
    return {"by_name": by_name, "unreadable_paths": unreadable}


def read_distribution(path: str, location: str) -> DistributionFact:
    """Read one ``.dist-info``/``.egg-info``; problems go into the ``error`` field."""
    folder_name, folder_version = _name_version_from_folder(os.path.basename(path))
    dist: DistributionFact = {
        "name": folder_name,
        "version": folder_version,
        "dist_info": path,
        "location": location,
        "requires_python": None,
        "requires_dist": [],
        "direct_url": None,
        "installer": None,
        "error": None,
    }
    metadata_file = os.path.join(path, "METADATA" if path.endswith(".dist-info") else "PKG-INFO")
    if path.endswith(".egg-info") and os.path.isfile(path):
        metadata_file = path  # an egg-info may be a single file
    try:
        headers = read_headers(metadata_file)
    except OSError as exc:
        dist["error"] = f"cannot read {metadata_file}: {exc.strerror or exc}"
        return dist
    names = headers.get("name", [])
    versions = headers.get("version", [])
    if names:
        dist["name"] = names[0]
    if versions:
        dist["version"] = versions[0]
    else:
        dist["error"] = f"{metadata_file} has no Version header"
    dist["requires_python"] = next(iter(headers.get("requires-python", [])), None)
    dist["requires_dist"] = headers.get("requires-dist", [])
    if os.path.isdir(path):
        # A broken direct_url.json only loses the "where from" evidence; it is not an error.
        dist["direct_url"] = _read_direct_url(os.path.join(path, "direct_url.json"))
        dist["installer"] = _read_small_text(os.path.join(path, "INSTALLER"))
    return dist


def read_headers(path: str) -> dict[str, list[str]]:
    """RFC 822 headers of a METADATA file, lower-cased names, continuation lines joined."""
    if not os.path.isfile(path):
        # Refuse FIFOs and devices: reading one could block the probe forever.
        raise FileNotFoundError(2, "no such file" if not os.path.exists(path) else "not a regular file")
    with open(path, "rb") as handle:
        raw = handle.read(METADATA_HEADER_LIMIT)
    text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n")
    head = text.split("\n\n", 1)[0]
    headers: dict[str, list[str]] = {}
    last: str | None = None
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and last is not None:
            headers[last][-1] += " " + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            last = key.strip().lower()
            headers.setdefault(last, []).append(value.strip())
    return headers


def _name_version_from_folder(folder: str) -> tuple[str, str | None]:
    stem = folder.rsplit(".", 1)[0]
    name, sep, version = stem.partition("-")
    # egg-info folder names may carry a "-py3.11" suffix after the version.
    version = version.split("-py")[0] if sep else ""
    return name, (version or None)


def _read_direct_url(path: str) -> dict[str, Any] | None:
    if not os.path.isfile(path):
        return None
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read(DIRECT_URL_LIMIT).decode("utf-8", errors="replace"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _read_small_text(path: str) -> str | None:
    try:
        if not os.path.isfile(path):
            return None
        with open(path, "rb") as handle:
            return handle.read(256).decode("utf-8", errors="replace").strip() or None
    except OSError:
        return None
