"""The ``torch_build`` fact: torch's version and CUDA build, read from ``torch/version.py``."""

from __future__ import annotations

import os
import re
from typing import TypedDict

from glm5_doctor.engine.facts import FactKey
from glm5_doctor.probes.context import ProbeContext
from glm5_doctor.probes.interpreter import target_interpreter
from glm5_doctor.probes.package_files import find_package_dir, read_source

TORCH_FIELD = r"^{name}\s*(?::[^=\n]*)?=\s*(?:'([^'\n]*)'|\"([^\"\n]*)\"|None)"


class TorchFact(TypedDict):
    package_dir: str | None
    version_file: str | None
    version: str | None
    cuda: str | None
    hip: str | None
    error: str | None


TORCH_BUILD: FactKey[TorchFact] = FactKey("torch_build", TorchFact)


def probe_torch(context: ProbeContext) -> TorchFact:
    """torch's build facts from ``torch/version.py``, never by importing torch."""
    package_dir = find_package_dir(target_interpreter(context)["sys_path"], "torch")
    fact: TorchFact = {
        "package_dir": package_dir,
        "version_file": None,
        "version": None,
        "cuda": None,
        "hip": None,
        "error": None,
    }
    if package_dir is None:
        return fact
    version_file = os.path.join(package_dir, "version.py")
    fact["version_file"] = version_file
    try:
        text = read_source(version_file)
    except (OSError, UnicodeDecodeError) as exc:
        fact["error"] = f"cannot read {version_file}: {exc}"
        return fact
    fact["version"] = _field(text, "__version__")
    fact["cuda"] = _field(text, "cuda")
    fact["hip"] = _field(text, "hip")
    if fact["version"] is None:
        fact["error"] = f"{version_file} has no __version__ line"
    return fact


def _field(text: str, name: str) -> str | None:
    match = re.search(TORCH_FIELD.format(name=re.escape(name)), text, flags=re.MULTILINE)
    if not match:
        return None
    value = match.group(1) if match.group(1) is not None else match.group(2)
    return value or None
