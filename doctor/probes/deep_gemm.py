"""DeepGEMM copies the target environment holds: an external ``deep_gemm`` and vLLM's vendored one.

For each copy: can the target interpreter load it (a compiled extension for its ABI), which
MQA-logits kernels it exports, and does its include tree hold the CUTLASS/CuTe headers the
JIT hands to nvcc. Which copy vLLM uses is a judgment (it depends on vLLM's version) and is
left to the checks; this module only reads files.
"""

from __future__ import annotations

import os
import re
from typing import TypedDict

from glm5_doctor import knowledge
from glm5_doctor.engine.facts import FactKey
from glm5_doctor.probes.context import ProbeContext
from glm5_doctor.probes.interpreter import target_interpreter
from glm5_doctor.probes.package_files import read_source
from glm5_doctor.probes.vllm_files import VllmFilesFact, probe_vllm_files

KERNEL_NAME = re.compile(r"\b(fp8(?:_fp4)?_(?:paged_)?mqa_logits)\b")
VERSION_LINE = re.compile(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
EXTENSION_PREFIXES = ("_C", "deep_gemm_cpp")


class DeepGemmCopyFact(TypedDict):
    kind: str  # "external" or "vendored"
    path: str
    init_exists: bool
    version: str | None
    extensions: list[str]
    loadable_extension: str | None
    kernel_names: list[str]
    include_dir: str
    missing_headers: list[str]
    #: deep_gemm/jit/compiler.py: the pure-Python JIT of the early-2025 snapshot (PyPI deep-gemm 1.0.0)
    legacy_python_jit: bool


class DeepGemmFact(TypedDict):
    external: DeepGemmCopyFact | None
    vendored: DeepGemmCopyFact | None
    ext_suffix: str | None


DEEP_GEMM: FactKey[DeepGemmFact] = FactKey("deep_gemm", DeepGemmFact)


def probe_deep_gemm(context: ProbeContext) -> DeepGemmFact:
    interpreter = target_interpreter(context)
    ext_suffix = interpreter["ext_suffix"]
    external = None
    folder = _import_folder(interpreter["sys_path"], "deep_gemm")
    if folder is not None:
        external = describe_copy("external", folder, ext_suffix)
    vendored = None
    vllm: VllmFilesFact = context.shared("vllm_files", probe_vllm_files)
    if vllm["package_dir"]:
        candidate = os.path.join(vllm["package_dir"], "third_party", "deep_gemm")
        if os.path.isdir(candidate):
            vendored = describe_copy("vendored", candidate, ext_suffix)
    return {"external": external, "vendored": vendored, "ext_suffix": ext_suffix}


def _import_folder(sys_path: list[str], name: str) -> str | None:
    """Where ``import name`` lands: the first regular package, else the first namespace folder."""
    namespace = None
    for entry in sys_path:
        candidate = os.path.join(entry, name)
        if os.path.isfile(os.path.join(candidate, "__init__.py")):
            return candidate
        if namespace is None and os.path.isdir(candidate):
            namespace = candidate
    return namespace


def describe_copy(kind: str, path: str, ext_suffix: str | None) -> DeepGemmCopyFact:
    init = os.path.join(path, "__init__.py")
    sources = ""
    for name in ("__init__.py", "_C.py"):
        try:
            sources += read_source(os.path.join(path, name)) + "\n"
        except (OSError, UnicodeDecodeError):
            continue
    extensions = _extensions(path)
    if kind == "external":  # DeepGEMM 2.1.x installs its extension beside the package
        extensions += _extensions(os.path.dirname(path), only_prefix="deep_gemm_cpp")
    loadable = next((name for name in extensions if _loadable(name, ext_suffix)), None)
    include_dir = os.path.join(path, "include")
    missing = [
        header
        for header in knowledge.DEEPGEMM_SENTINEL_HEADERS
        if not os.path.isfile(os.path.join(include_dir, header))
    ]
    if not os.path.isdir(os.path.join(include_dir, knowledge.DEEPGEMM_OWN_INCLUDE)):
        missing.append(knowledge.DEEPGEMM_OWN_INCLUDE + "/")
    version = VERSION_LINE.search(sources)
    return {
        "kind": kind,
        "path": path,
        "init_exists": os.path.isfile(init),
        "version": version.group(1) if version else None,
        "extensions": extensions,
        "loadable_extension": loadable,
        "kernel_names": sorted(set(KERNEL_NAME.findall(sources))),
        "include_dir": include_dir,
        "missing_headers": missing,
        "legacy_python_jit": os.path.isfile(os.path.join(path, "jit", "compiler.py")),
    }


def _extensions(folder: str, only_prefix: str | None = None) -> list[str]:
    prefixes = (only_prefix,) if only_prefix else EXTENSION_PREFIXES
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    return [name for name in names if name.endswith(".so") and name.startswith(prefixes)]


def _loadable(name: str, ext_suffix: str | None) -> bool:
    """Would this interpreter load the file as an extension module? (its ABI tag, abi3, or untagged)"""
    if name.endswith(".abi3.so"):
        return True
    if ext_suffix and name.endswith(ext_suffix):
        return True
    stem = name[: -len(".so")]
    return "." not in stem
