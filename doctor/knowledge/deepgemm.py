"""Which DeepGEMM copy vLLM will import: shared by the compile probe and the deepgemm checks.

vLLM 0.16-0.19 import ``deep_gemm`` and nothing else. From 0.20.0 ``vllm/utils/deep_gemm.py``
tries ``import deep_gemm`` first and falls back to ``vllm.third_party.deep_gemm`` only on
ImportError, so an external copy that imports wins over the vendored, tested one,
and one whose compiled extension cannot load for this Python is skipped.
vllm 0.20.0 and 0.33.0 wheels: vllm/utils/deep_gemm.py ``_import_deep_gemm``.
"""

from __future__ import annotations

from glm5_doctor import knowledge
from glm5_doctor.probes.deep_gemm import DeepGemmCopyFact, DeepGemmFact
from packaging.version import Version


def imports_cleanly(copy: DeepGemmCopyFact) -> bool:
    """Would ``import deep_gemm`` succeed as far as files can tell?"""
    if not copy["init_exists"] or copy["legacy_python_jit"]:
        return True  # a namespace folder or the pure-Python snapshot import without an extension
    return copy["loadable_extension"] is not None


def copy_vllm_uses(vllm_version: Version | None, found: DeepGemmFact) -> DeepGemmCopyFact | None:
    external = found["external"]
    vendors = vllm_version is None or vllm_version >= knowledge.VLLM_FIRST_VENDORED_DEEPGEMM
    if not vendors:
        return external
    if external is not None and imports_cleanly(external):
        return external
    return found["vendored"]
