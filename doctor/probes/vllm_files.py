"""The ``vllm_files`` fact: files inside the installed vLLM that decide whether GLM-5 can load.

Does ``model_executor/models/registry.py`` register ``GlmMoeDsaForCausalLM``, and does the module
it points to exist? Which CUDA runtime does its compiled extension link, which DeepGEMM kernels
does its glue resolve, which parsers does it register? Read without importing vLLM.
"""

from __future__ import annotations

import ast
import os
from typing import TypedDict

from glm5_doctor import knowledge
from glm5_doctor.engine.facts import FactKey
from glm5_doctor.probes.context import ProbeContext
from glm5_doctor.probes.elf import ElfError, needed_libraries
from glm5_doctor.probes.interpreter import target_interpreter
from glm5_doctor.probes.package_files import find_package_dir, read_source
from glm5_doctor.probes.sparse_backends import SparseBackendFact, read_sparse_mla_backends


class VllmFilesFact(TypedDict):
    package_dir: str | None
    registry_path: str | None
    #: "ok", "missing", "unreadable" (I/O error, not UTF-8) or "invalid" (not Python)
    registry_state: str | None
    registry_error: str | None
    glm5_module: str | None
    glm5_module_file: str | None
    glm5_module_file_exists: bool | None
    #: vLLM's compiled extension and the libraries it links (libcudart.so.N tells the CUDA major)
    c_extension: str | None
    c_extension_needed: list[str] | None
    c_extension_error: str | None
    #: MQA-logits names vllm/utils/deep_gemm.py resolves from DeepGEMM (None: file unreadable)
    deep_gemm_kernel_names: list[str] | None
    #: the --tool-call-parser / --reasoning-parser names this vLLM registers (None: unreadable)
    tool_parsers: list[str] | None
    reasoning_parsers: list[str] | None
    #: its sparse-MLA attention backends and the GPUs / KV dtypes each accepts (None: no such folder)
    sparse_mla_backends: list[SparseBackendFact] | None


VLLM_FILES: FactKey[VllmFilesFact] = FactKey("vllm_files", VllmFilesFact)


def probe_vllm_files(context: ProbeContext) -> VllmFilesFact:
    fact: VllmFilesFact = {
        "package_dir": find_package_dir(target_interpreter(context)["sys_path"], "vllm"),
        "registry_path": None,
        "registry_state": None,
        "registry_error": None,
        "glm5_module": None,
        "glm5_module_file": None,
        "glm5_module_file_exists": None,
        "c_extension": None,
        "c_extension_needed": None,
        "c_extension_error": None,
        "deep_gemm_kernel_names": None,
        "tool_parsers": None,
        "reasoning_parsers": None,
        "sparse_mla_backends": None,
    }
    if fact["package_dir"] is None:
        return fact
    _read_extension(fact, fact["package_dir"])
    fact["sparse_mla_backends"] = read_sparse_mla_backends(fact["package_dir"])
    _read_deep_gemm_glue(fact, fact["package_dir"])
    fact["tool_parsers"] = _registry_keys(os.path.join(fact["package_dir"], "tool_parsers", "__init__.py"))
    fact["reasoning_parsers"] = _registry_keys(os.path.join(fact["package_dir"], "reasoning", "__init__.py"))
    registry = os.path.join(fact["package_dir"], "model_executor", "models", "registry.py")
    fact["registry_path"] = registry
    try:
        text = read_source(registry)
    except FileNotFoundError as exc:
        fact["registry_state"], fact["registry_error"] = "missing", exc.strerror or str(exc)
        return fact
    except OSError as exc:
        fact["registry_state"], fact["registry_error"] = "unreadable", exc.strerror or str(exc)
        return fact
    except UnicodeDecodeError as exc:
        fact["registry_state"], fact["registry_error"] = "unreadable", f"not UTF-8 text (byte {exc.start})"
        return fact
    fact["registry_state"] = "ok"
    match = knowledge.VLLM_REGISTRY_GLM5_LINE.search(text)
    if match is None:
        # No entry is only trustworthy if the file is real Python; a garbled file proves nothing.
        try:
            ast.parse(text, filename=registry)
        except SyntaxError as exc:
            fact["registry_state"] = "invalid"
            fact["registry_error"] = f"not valid Python (line {exc.lineno}: {exc.msg})"
        except (RecursionError, MemoryError, ValueError) as exc:  # nested past the parser, or NUL bytes
            fact["registry_state"] = "invalid"
            fact["registry_error"] = f"not valid Python ({type(exc).__name__}: {str(exc)[:200]})"
        return fact
    module = match.group(1)
    fact["glm5_module"] = module
    site_root = os.path.dirname(fact["package_dir"])
    dotted = module if "." in module else f"vllm.model_executor.models.{module}"
    base = os.path.join(site_root, *dotted.split("."))
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(candidate):
            fact["glm5_module_file"], fact["glm5_module_file_exists"] = candidate, True
            break
    else:
        fact["glm5_module_file"], fact["glm5_module_file_exists"] = base + ".py", False
    return fact


def _read_extension(fact: VllmFilesFact, package_dir: str) -> None:
    for name in knowledge.VLLM_C_EXTENSIONS:
        candidate = os.path.join(package_dir, name)
        if os.path.isfile(candidate):
            fact["c_extension"] = candidate
            try:
                fact["c_extension_needed"] = needed_libraries(candidate)
            except (OSError, ElfError) as exc:
                fact["c_extension_error"] = str(exc)[:300]
            return


def _read_deep_gemm_glue(fact: VllmFilesFact, package_dir: str) -> None:
    try:
        glue = read_source(os.path.join(package_dir, "utils", "deep_gemm.py"))
    except (OSError, UnicodeDecodeError):
        return
    fact["deep_gemm_kernel_names"] = sorted(set(knowledge.VLLM_DEEP_GEMM_LOOKUP.findall(glue)))


def _registry_keys(path: str) -> list[str] | None:
    """Names of a vLLM lazy registry: lines like ``"glm47": (`` in tool_parsers/reasoning __init__.py."""
    try:
        text = read_source(path)
    except (OSError, UnicodeDecodeError):
        return None
    return sorted(set(knowledge.VLLM_REGISTRY_KEY.findall(text)))
