"""deepgemm.*: the copy vLLM imports (external before 0.20, external-then-vendored from 0.20), its kernels,
its CUTLASS headers, shadowing, and the JIT cache directory."""

from __future__ import annotations

from typing import Any

import pytest
from glm5_doctor.checks.deepgemm import (
    deepgemm_cutlass_headers,
    deepgemm_installed,
    deepgemm_jit_cache,
    deepgemm_kernels,
    deepgemm_shadowing,
)
from glm5_doctor.engine.results import Outcome, Status
from glm5_doctor.probes.deep_gemm import DEEP_GEMM, DeepGemmCopyFact
from glm5_doctor.probes.distributions import DISTRIBUTIONS
from glm5_doctor.probes.interpreter import INTERPRETER
from glm5_doctor.probes.jit_cache import JIT_CACHE
from glm5_doctor.probes.vllm_files import VLLM_FILES

from unit.facts import SITE, deep_gemm_copy, deep_gemm_fact, dist, distributions, facts, interpreter, jit_cache, profile
from unit.facts import vllm_files as make_vllm_files

EXTERNAL = f"{SITE}/deep_gemm"
VENDORED = f"{SITE}/vllm/third_party/deep_gemm"
#: an external copy that cannot load here: built for CPython 3.11
BROKEN_EXTERNAL = deep_gemm_copy(
    extensions=["_C.cpython-311-x86_64-linux-gnu.so"], loadable_extension=None, version="2.1.1"
)


def all_facts(
    vllm: str | None,
    external: DeepGemmCopyFact | None = None,
    vendored: DeepGemmCopyFact | None = None,
    **vllm_files: Any,
) -> dict[Any, Any]:
    dists = [dist("vllm", vllm)] if vllm else []
    return {
        DISTRIBUTIONS: distributions(*dists),
        DEEP_GEMM: deep_gemm_fact(external, vendored),
        INTERPRETER: interpreter(),
        VLLM_FILES: make_vllm_files(**vllm_files),
    }


def installed(
    vllm: str | None, external: DeepGemmCopyFact | None = None, vendored: DeepGemmCopyFact | None = None
) -> Outcome:
    return deepgemm_installed(facts(all_facts(vllm, external, vendored)), profile())


# --- deepgemm.installed ----------------------------------------------------------------------------


def test_vllm_019_imports_the_external_copy() -> None:
    outcome = installed("0.19.1", deep_gemm_copy())
    assert outcome.status is Status.PASS
    assert outcome.message == f"vLLM 0.19.1 will import the external DeepGEMM 2.3.0 at {EXTERNAL}"
    assert outcome.evidence["in_use"] == EXTERNAL


def test_vllm_019_ignores_a_vendored_copy() -> None:
    outcome = installed("0.19.1", None, deep_gemm_copy("vendored"))
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("vLLM 0.19.1 bundles no DeepGEMM and none is installed")
    assert "DeepGEMM backend is not available or outdated" in outcome.message


def test_vllm_020_uses_its_vendored_copy() -> None:
    outcome = installed("0.20.0", None, deep_gemm_copy("vendored", version=None))
    assert outcome.status is Status.PASS
    assert outcome.message == f"vLLM 0.20.0 will import the vendored DeepGEMM at {VENDORED}"


def test_an_unknown_vllm_version_is_treated_as_vendoring() -> None:
    outcome = installed(None, None, None)
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith("vLLM None should bundle DeepGEMM at vllm/third_party/deep_gemm")


def test_vllm_020_prefers_a_loadable_external_copy() -> None:
    outcome = installed("0.20.0", deep_gemm_copy(), deep_gemm_copy("vendored"))
    assert outcome.status is Status.PASS
    assert outcome.evidence["in_use"] == EXTERNAL


def test_vllm_020_falls_back_from_a_broken_external_copy_and_says_so() -> None:
    outcome = installed("0.20.0", BROKEN_EXTERNAL, deep_gemm_copy("vendored"))
    assert outcome.status is Status.PASS
    assert outcome.message.endswith(
        f"; the external deep_gemm at {EXTERNAL} cannot load here, so vLLM falls back to this one"
    )


def test_a_vendored_copy_missing_from_vllm_020_fails() -> None:
    outcome = installed("0.20.0", BROKEN_EXTERNAL, None)
    assert outcome.status is Status.FAIL
    assert outcome.message == (
        "vLLM 0.20.0 should bundle DeepGEMM at vllm/third_party/deep_gemm, but it is missing: reinstall vLLM"
    )


def test_the_pypi_snapshot_fails() -> None:
    outcome = installed("0.20.0", deep_gemm_copy(legacy_python_jit=True, version="1.0.0", loadable_extension=None))
    assert outcome.status is Status.FAIL
    assert "but it is the PyPI deep-gemm 1.0.0 snapshot" in outcome.message
    assert "never `pip install deep-gemm`" in outcome.message


def test_a_folder_without_init_fails() -> None:
    outcome = installed("0.19.1", deep_gemm_copy(init_exists=False, loadable_extension=None, extensions=[]))
    assert outcome.status is Status.FAIL
    assert f"but {EXTERNAL}/__init__.py does not exist" in outcome.message


def test_an_external_extension_for_another_python_fails_without_vendored_advice() -> None:
    outcome = installed("0.19.1", BROKEN_EXTERNAL)
    assert outcome.status is Status.FAIL
    assert outcome.message.endswith(
        "but its compiled extension is built for another Python (_C.cpython-311-x86_64-linux-gnu.so); "
        "this is Python 3.12.3 (.cpython-312-x86_64-linux-gnu.so)"
    )


def test_a_vendored_extension_for_another_python_advises_vllm_021() -> None:
    vendored = deep_gemm_copy("vendored", extensions=["_C.cpython-312-x86_64-linux-gnu.so"], loadable_extension=None)
    outcome = installed("0.20.0", None, vendored)
    assert outcome.status is Status.FAIL
    assert outcome.message.endswith("; use that Python, or vLLM 0.21+ which bundles it for 3.10-3.14")


def test_a_copy_without_any_extension_fails() -> None:
    outcome = installed("0.19.1", deep_gemm_copy(extensions=[], loadable_extension=None))
    assert outcome.status is Status.FAIL
    assert outcome.message.endswith(
        "but it has no compiled extension (built with DG_SKIP_CUDA_BUILD, or a source tree)"
    )


# --- deepgemm.kernels ------------------------------------------------------------------------------


def kernels(vllm: str, copy: DeepGemmCopyFact, names: list[str] | None) -> Outcome:
    external, vendored = (copy, None) if copy["kind"] == "external" else (None, copy)
    return deepgemm_kernels(facts(all_facts(vllm, external, vendored, deep_gemm_kernel_names=names)), profile())


def test_kernels_named_by_vllms_glue_are_exported() -> None:
    outcome = kernels("0.19.1", deep_gemm_copy(), ["fp8_mqa_logits", "fp8_paged_mqa_logits"])
    assert outcome.status is Status.PASS
    assert outcome.message == f"the external DeepGEMM 2.3.0 at {EXTERNAL} exports fp8_mqa_logits, fp8_paged_mqa_logits"
    assert outcome.evidence["needed_from"] == "vllm/utils/deep_gemm.py"


def test_an_old_deepgemm_lacks_the_fp8_fp4_kernels() -> None:
    old = deep_gemm_copy(version="2.1.1", kernel_names=["fp8_mqa_logits", "fp8_paged_mqa_logits"])
    outcome = kernels("0.20.0", old, ["fp8_fp4_mqa_logits", "fp8_fp4_paged_mqa_logits"])
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith(
        f"the external DeepGEMM 2.1.1 at {EXTERNAL} lacks fp8_fp4_mqa_logits, fp8_fp4_paged_mqa_logits, "
        "which vLLM 0.20.0 looks up"
    )


@pytest.mark.parametrize(
    ("vllm", "needed"),
    [
        ("0.19.1", ["fp8_mqa_logits", "fp8_paged_mqa_logits"]),
        ("0.20.0", ["fp8_fp4_mqa_logits", "fp8_fp4_paged_mqa_logits"]),
    ],
)
def test_without_vllms_glue_the_version_rule_names_the_kernels(vllm: str, needed: list[str]) -> None:
    outcome = kernels(vllm, deep_gemm_copy(kernel_names=[]), None)
    assert outcome.status is Status.FAIL
    assert outcome.evidence["needed"] == needed
    assert outcome.evidence["needed_from"] == "version rule"


# --- deepgemm.cutlass-headers ----------------------------------------------------------------------


def test_headers_present_pass() -> None:
    outcome = deepgemm_cutlass_headers(facts(all_facts("0.19.1", deep_gemm_copy())), profile())
    assert outcome.status is Status.PASS
    assert outcome.message == f"{EXTERNAL}/include has CUTLASS, CuTe and DeepGEMM's own headers"


def test_missing_headers_fail_with_the_compilers_error() -> None:
    copy = deep_gemm_copy(missing_headers=["cutlass/arch/barrier.h", "cute/arch/cluster_sm90.hpp"])
    outcome = deepgemm_cutlass_headers(facts(all_facts("0.19.1", copy)), profile())
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith(f"{EXTERNAL}/include lacks cutlass/arch/barrier.h, cute/arch/cluster_sm90.hpp")
    assert outcome.message.endswith('"fatal error: cutlass/arch/barrier.h: No such file or directory"')


# --- deepgemm.shadowing ----------------------------------------------------------------------------


def shadowing(vllm: str, external: DeepGemmCopyFact | None, vendored: DeepGemmCopyFact | None) -> Outcome:
    return deepgemm_shadowing(facts(all_facts(vllm, external, vendored)), profile())


def test_shadowing_before_020_is_skipped() -> None:
    outcome = shadowing("0.19.1", deep_gemm_copy(), None)
    assert outcome.status is Status.SKIP
    assert outcome.message == "vLLM 0.19.1 bundles no DeepGEMM: the external copy is the only one"


def test_no_external_copy_passes() -> None:
    outcome = shadowing("0.20.0", None, deep_gemm_copy("vendored"))
    assert outcome.status is Status.PASS
    assert outcome.message == "no external deep_gemm: vLLM 0.20.0 uses its bundled copy"


@pytest.mark.parametrize(
    ("vendored", "theirs"),
    [
        (deep_gemm_copy("vendored"), "vLLM's bundled 2.3.0"),
        (deep_gemm_copy("vendored", version=None), "vLLM's bundled (unknown version)"),
        (None, "vLLM's bundled copy"),
    ],
)
def test_a_loadable_external_copy_overrides_the_bundled_one(vendored: DeepGemmCopyFact | None, theirs: str) -> None:
    outcome = shadowing("0.20.0", deep_gemm_copy(version="2.1.1"), vendored)
    assert outcome.status is Status.WARN
    assert outcome.message == (
        f"the external DeepGEMM 2.1.1 at {EXTERNAL} overrides {theirs}: uninstall it unless you pin it on purpose"
    )


def test_a_broken_external_copy_is_a_leftover() -> None:
    outcome = shadowing("0.20.0", BROKEN_EXTERNAL, deep_gemm_copy("vendored"))
    assert outcome.status is Status.WARN
    assert outcome.message.endswith(
        "cannot load here, so vLLM falls back to vLLM's bundled 2.3.0: remove the broken leftover"
    )


# --- deepgemm.jit-cache ----------------------------------------------------------------------------


def test_an_existing_writable_cache_passes() -> None:
    outcome = deepgemm_jit_cache(facts({JIT_CACHE: jit_cache()}), profile())
    assert outcome.status is Status.PASS
    assert outcome.message == "/root/.cache/vllm/deep_gemm (from vLLM's default) is writable (exists)"


def test_a_cache_to_be_created_under_a_writable_parent_passes() -> None:
    fact = jit_cache(path="/data/dg", source="DG_JIT_CACHE_DIR", exists=False, nearest_existing="/data")
    outcome = deepgemm_jit_cache(facts({JIT_CACHE: fact}), profile())
    assert outcome.status is Status.PASS
    assert outcome.message == "/data/dg (from DG_JIT_CACHE_DIR) is writable (will be created under /data)"


def test_a_read_only_cache_fails() -> None:
    fact = jit_cache(exists=False, nearest_existing="/root", writable=False)
    outcome = deepgemm_jit_cache(facts({JIT_CACHE: fact}), profile())
    assert outcome.status is Status.FAIL
    assert outcome.message.startswith(
        "DeepGEMM would write kernels to /root/.cache/vllm/deep_gemm (from vLLM's default)"
    )
    assert "but /root is not writable" in outcome.message
