"""The ``extension_abi`` fact: do the compiled extensions of DeepGEMM and vLLM link against this torch?

An extension built against another torch imports with "undefined symbol: _ZN3c106detail14torchCheckFail..."
(C++ names change with torch's signatures and its C++ ABI). Read from the ELF files, nothing loaded:
the undefined ``c10``/``at``/``torch`` symbols of each extension (``.dynsym``) against what the
``libc10*``/``libtorch*`` libraries in ``torch/lib`` export.
"""

from __future__ import annotations

import os
from typing import TypedDict

from glm5_doctor.engine.facts import FactKey
from glm5_doctor.probes.context import ProbeContext
from glm5_doctor.probes.deep_gemm import DeepGemmFact, probe_deep_gemm
from glm5_doctor.probes.elf import ElfError, defined_symbols, undefined_symbols
from glm5_doctor.probes.interpreter import target_interpreter
from glm5_doctor.probes.package_files import find_package_dir
from glm5_doctor.probes.vllm_files import VllmFilesFact, probe_vllm_files

#: Mangled prefixes of torch's namespaces (c10::, at::, torch::, const members) and its stable C shim.
TORCH_SYMBOL_PREFIXES = (b"_ZN3c10", b"_ZNK3c10", b"_ZN2at", b"_ZNK2at", b"_ZN5torch", b"_ZNK5torch", b"aoti_torch_")
TORCH_LIBRARY_PREFIXES = ("libc10", "libtorch")
MISSING_SHOWN = 20


class ExtensionFact(TypedDict):
    #: "deep_gemm" (the external copy), "vllm.third_party.deep_gemm" or "vllm"
    owner: str
    path: str
    torch_symbols: int
    missing: list[str]
    error: str | None


class ExtensionAbiFact(TypedDict):
    torch_lib_dir: str | None
    torch_libraries: list[str]
    extensions: list[ExtensionFact]
    errors: list[str]


EXTENSION_ABI: FactKey[ExtensionAbiFact] = FactKey("extension_abi")


def probe_extension_abi(context: ProbeContext) -> ExtensionAbiFact:
    sys_path = target_interpreter(context)["sys_path"]
    torch = find_package_dir(sys_path, "torch")
    lib_dir = os.path.join(torch, "lib") if torch else None
    libraries = []
    if lib_dir and os.path.isdir(lib_dir):
        libraries = sorted(
            os.path.join(lib_dir, name)
            for name in os.listdir(lib_dir)
            if name.startswith(TORCH_LIBRARY_PREFIXES) and ".so" in name
        )
    fact: ExtensionAbiFact = {
        "torch_lib_dir": lib_dir,
        "torch_libraries": [os.path.basename(path) for path in libraries],
        "extensions": [],
        "errors": [],
    }
    extensions = _extensions(context)
    if not libraries or not extensions:
        return fact
    needs: dict[str, list[str]] = {}
    for owner, path in extensions:
        try:
            needs[path] = undefined_symbols(path, TORCH_SYMBOL_PREFIXES)
            fact["extensions"].append(
                {"owner": owner, "path": path, "torch_symbols": len(needs[path]), "missing": [], "error": None}
            )
        except (OSError, ElfError) as exc:
            fact["extensions"].append(
                {"owner": owner, "path": path, "torch_symbols": 0, "missing": [], "error": str(exc)[:300]}
            )
    wanted = set().union(*needs.values()) if needs else set()
    exported = _exported(libraries, wanted, fact["errors"])
    for extension in fact["extensions"]:
        missing = sorted(set(needs.get(extension["path"], [])) - exported)
        extension["missing"] = missing[:MISSING_SHOWN]
    return fact


def _exported(libraries: list[str], wanted: set[str], errors: list[str]) -> set[str]:
    exported: set[str] = set()
    for tails in (False, True):  # whole names first; a linker's shared tails only for what is left
        left = wanted - exported
        if not left:
            break
        for library in libraries:
            try:
                exported |= defined_symbols(library, left, tails=tails)
            except (OSError, ElfError) as exc:
                if not tails:
                    errors.append(f"{library}: {str(exc)[:200]}")
    return exported


def _extensions(context: ProbeContext) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    deep_gemm: DeepGemmFact = context.shared("deep_gemm", probe_deep_gemm)
    for copy, owner in ((deep_gemm["external"], "deep_gemm"), (deep_gemm["vendored"], "vllm.third_party.deep_gemm")):
        if copy is None or not copy["loadable_extension"]:
            continue
        name = copy["loadable_extension"]
        for folder in (copy["path"], os.path.dirname(copy["path"])):  # DeepGEMM 2.1 puts it beside the package
            if os.path.isfile(os.path.join(folder, name)):
                found.append((owner, os.path.join(folder, name)))
                break
    vllm: VllmFilesFact = context.shared("vllm_files", probe_vllm_files)
    if vllm["package_dir"]:
        try:
            names = sorted(os.listdir(vllm["package_dir"]))
        except OSError:
            names = []
        found += [("vllm", os.path.join(vllm["package_dir"], n)) for n in names if n.endswith(".so")]
    return found
