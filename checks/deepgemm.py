"""DeepGEMM: GLM-5's sparse-attention indexer calls it on every forward pass."""

from __future__ import annotations

import os
from typing import TypedDict

from glm5_doctor import knowledge
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import check
from glm5_doctor.engine.facts import Facts, parse_version
from glm5_doctor.engine.results import Outcome
from glm5_doctor.knowledge.deepgemm import copy_vllm_uses, imports_cleanly
from glm5_doctor.probes.deep_gemm import DEEP_GEMM, DeepGemmCopyFact, DeepGemmFact
from glm5_doctor.probes.distributions import DISTRIBUTIONS, distribution
from glm5_doctor.probes.interpreter import INTERPRETER
from glm5_doctor.probes.jit_cache import JIT_CACHE
from glm5_doctor.probes.vllm_files import VLLM_FILES, VllmFilesFact

NEVER_PYPI = (
    "build it from source with submodules (never `pip install deep-gemm`: PyPI's 1.0.0 is an early-2025 snapshot)"
)


@check(
    "deepgemm.installed",
    title="A DeepGEMM that vLLM will import, loadable by this Python",
    category="toolchain",
    facts=(DISTRIBUTIONS, DEEP_GEMM, INTERPRETER),
    requires=("vllm.installed",),
    fix="install-deepgemm.sh",
)
def deepgemm_installed(facts: Facts, profile: Profile) -> Outcome:
    """The DeepGEMM copy vLLM will import exists and can load in the target interpreter.

    What it checks:
        vLLM 0.16-0.19 bundle no DeepGEMM: an external ``deep_gemm`` is required. From 0.20.0
        vLLM vendors one under ``vllm/third_party/deep_gemm`` but imports an external copy first.
        The copy in use must have a compiled extension for this interpreter (its ``EXT_SUFFIX``
        or abi3): vLLM 0.20.0 shipped the vendored one for CPython 3.12 only. The PyPI
        ``deep-gemm`` 1.0.0 snapshot and a ``deep_gemm`` folder without ``__init__.py`` are named.

    Why it matters:
        Without it the worker dies at the first forward pass, after the weights are loaded:
        "DeepGEMM backend is not available or outdated. Please install or update the `deep_gemm`
        to a newer version to enable FP8 kernels." (BF16 GLM-5 too: the indexer always calls it.)

    How to fix:
        Build DeepGEMM from source with its CUTLASS submodule at the revision the installed vLLM
        expects, or use vLLM 0.21+ which bundles it for every Python: ``glm5-doctor fix deepgemm.installed``.

    Sources:
        - https://github.com/vllm-project/vllm/issues/29943 ; https://github.com/zai-org/GLM-5/issues/10
        - https://github.com/vllm-project/recipes/pull/559 ; https://github.com/vllm-project/vllm/issues/51758
        - vLLM wheels 0.16.0/0.20.0/0.21.0/0.33.0: vllm/utils/deep_gemm.py, vllm/third_party/deep_gemm file lists
        - https://github.com/vllm-project/vllm/pull/37980 ; https://github.com/vllm-project/vllm/issues/42431
        - https://pypi.org/project/deep-gemm/1.0.0/
    """
    found: DeepGemmFact = facts[DEEP_GEMM]
    choice = _Choice(facts, found)
    evidence = choice.evidence()
    external = found["external"]
    if choice.copy is None:
        if choice.vendors:
            return Outcome.failed(
                f"vLLM {choice.vllm} should bundle DeepGEMM at vllm/third_party/deep_gemm, but it is missing: "
                "reinstall vLLM",
                evidence,
            )
        return Outcome.failed(
            f"vLLM {choice.vllm} bundles no DeepGEMM and none is installed: vllm serve would die at the first "
            f'forward pass with "{knowledge.DEEPGEMM_MISSING_ERROR}"; {NEVER_PYPI}',
            evidence,
        )
    copy = choice.copy
    problem = copy_problem(copy, found["ext_suffix"], facts[INTERPRETER]["version"])
    if problem:
        return Outcome.failed(f"vLLM {choice.vllm} would import {describe(copy)}, but {problem}", evidence)
    note = ""
    if copy["kind"] == "vendored" and external is not None and not imports_cleanly(external):
        note = f"; the external deep_gemm at {external['path']} cannot load here, so vLLM falls back to this one"
    return Outcome.passed(f"vLLM {choice.vllm} will import {describe(copy)}{note}", evidence)


@check(
    "deepgemm.kernels",
    title="DeepGEMM exports the MQA-logits kernels vLLM resolves for GLM-5",
    category="toolchain",
    facts=(DISTRIBUTIONS, DEEP_GEMM, VLLM_FILES),
    requires=("deepgemm.installed",),
    fix="install-deepgemm.sh",
)
def deepgemm_kernels(facts: Facts, profile: Profile) -> Outcome:
    """The indexer kernels are there under the names the installed vLLM looks up.

    What it checks:
        The names vLLM's ``vllm/utils/deep_gemm.py`` resolves with ``getattr(_dg, ...)`` (read
        from the installed file: ``fp8_mqa_logits``/``fp8_paged_mqa_logits`` on 0.16-0.19,
        ``fp8_fp4_mqa_logits``/``fp8_fp4_paged_mqa_logits`` from 0.20) appear in the DeepGEMM
        copy vLLM will import.

    Why it matters:
        vLLM resolves them with ``getattr(..., None)``: an old or mismatched DeepGEMM imports
        fine and then fails at the first forward pass with "DeepGEMM backend is not available or
        outdated". A DeepGEMM v2.1.1 left over from 0.16-era instructions lacks the ``fp8_fp4_``
        names vLLM 0.20+ needs.

    How to fix:
        Install the DeepGEMM revision the installed vLLM expects, or remove the external copy on
        vLLM 0.20+: ``glm5-doctor fix deepgemm.kernels``.

    Sources:
        - vLLM wheels 0.16.0, 0.20.0, 0.33.0: vllm/utils/deep_gemm.py ``_lazy_init``
        - https://github.com/deepseek-ai/DeepGEMM/blob/main/deep_gemm/__init__.py (exported kernels)
        - https://github.com/vllm-project/recipes/pull/559
    """
    found: DeepGemmFact = facts[DEEP_GEMM]
    files: VllmFilesFact = facts[VLLM_FILES]
    choice = _Choice(facts, found)
    copy = choice.copy
    if copy is None:
        return Outcome.skipped("no DeepGEMM copy that vLLM will import (see deepgemm.installed)")
    needed = files["deep_gemm_kernel_names"] or list(
        knowledge.DEEPGEMM_KERNELS_FROM_020 if choice.vendors else knowledge.DEEPGEMM_KERNELS_BEFORE_020
    )
    evidence = {
        **choice.evidence(),
        "needed": needed,
        "exported": copy["kernel_names"],
        "needed_from": "vllm/utils/deep_gemm.py" if files["deep_gemm_kernel_names"] else "version rule",
    }
    missing = [name for name in needed if name not in copy["kernel_names"]]
    if missing:
        return Outcome.failed(
            f"{describe(copy)} lacks {', '.join(missing)}, which vLLM {choice.vllm} looks up for GLM-5's indexer: "
            f'"{knowledge.DEEPGEMM_MISSING_ERROR}"',
            evidence,
        )
    return Outcome.passed(f"{describe(copy)} exports {', '.join(needed)}", evidence)


@check(
    "deepgemm.cutlass-headers",
    title="DeepGEMM's include tree holds CUTLASS and CuTe",
    category="toolchain",
    facts=(DISTRIBUTIONS, DEEP_GEMM),
    requires=("deepgemm.installed",),
    fix="install-deepgemm.sh",
)
def deepgemm_cutlass_headers(facts: Facts, profile: Profile) -> Outcome:
    """The headers DeepGEMM's JIT hands to nvcc are on disk.

    What it checks:
        In the include tree of the copy vLLM will import (``<deep_gemm>/include``, passed to
        nvcc as the only ``-I``): ``cutlass/arch/barrier.h``, ``cute/arch/cluster_sm90.hpp`` and
        the ``deep_gemm/`` kernel headers.

    Why it matters:
        DeepGEMM's setup.py copies CUTLASS and CuTe from its ``third-party/cutlass`` git
        submodule. Cloned without ``--recursive`` (or installed editable, or from a wheel without
        package data) the folders are empty and every JIT compile fails with "fatal error:
        cutlass/arch/barrier.h: No such file or directory", after the weights are loaded.

    How to fix:
        Reinstall DeepGEMM from a recursive clone: ``glm5-doctor fix deepgemm.cutlass-headers``.

    Sources:
        - https://github.com/deepseek-ai/DeepGEMM/blob/main/setup.py (prepare_includes, package_data)
        - vLLM 0.20.0/0.33.0 wheels: vllm/third_party/deep_gemm/include/{cute,cutlass,deep_gemm}
    """
    found: DeepGemmFact = facts[DEEP_GEMM]
    choice = _Choice(facts, found)
    copy = choice.copy
    if copy is None:
        return Outcome.skipped("no DeepGEMM copy that vLLM will import (see deepgemm.installed)")
    evidence = {**choice.evidence(), "include_dir": copy["include_dir"], "missing": copy["missing_headers"]}
    if copy["missing_headers"]:
        return Outcome.failed(
            f"{copy['include_dir']} lacks {', '.join(copy['missing_headers'])}: DeepGEMM was built from a clone "
            'without --recursive (empty CUTLASS submodule), so its JIT compile fails with "fatal error: '
            f'{copy["missing_headers"][0]}: No such file or directory"',
            evidence,
        )
    return Outcome.passed(f"{copy['include_dir']} has CUTLASS, CuTe and DeepGEMM's own headers", evidence)


@check(
    "deepgemm.shadowing",
    title="No external DeepGEMM overrides vLLM's bundled one",
    category="toolchain",
    facts=(DISTRIBUTIONS, DEEP_GEMM),
    requires=("vllm.installed",),
    fix="remove-shadowing-deepgemm.sh",
)
def deepgemm_shadowing(facts: Facts, profile: Profile) -> Outcome:
    """On vLLM 0.20+, an external ``deep_gemm`` wins over the vendored, tested copy.

    What it checks:
        vLLM 0.20.0 and later import an external ``deep_gemm`` before their own
        ``vllm.third_party.deep_gemm``. Any external copy is a warning naming both versions.

    Why it matters:
        A DeepGEMM installed by hand for vLLM 0.16-0.19 stays behind after an upgrade and then
        runs against a vLLM it was never tested with: ``Unknown recipe`` asserts, UE8M0 scale
        asserts, illegal memory access during CUDA-graph capture.

    How to fix:
        Uninstall the external copy unless you pin it on purpose: ``glm5-doctor fix deepgemm.shadowing``.

    Sources:
        - vllm 0.33.0 wheel: vllm/utils/deep_gemm.py ``_import_deep_gemm`` docstring
        - https://github.com/vllm-project/recipes/pull/559 ; https://github.com/vllm-project/vllm/issues/51758
    """
    found: DeepGemmFact = facts[DEEP_GEMM]
    choice = _Choice(facts, found)
    external, vendored = found["external"], found["vendored"]
    evidence = choice.evidence()
    if not choice.vendors:
        return Outcome.skipped(f"vLLM {choice.vllm} bundles no DeepGEMM: the external copy is the only one", evidence)
    if external is None:
        return Outcome.passed(f"no external deep_gemm: vLLM {choice.vllm} uses its bundled copy", evidence)
    theirs = f"vLLM's bundled {vendored['version'] or '(unknown version)'}" if vendored else "vLLM's bundled copy"
    if imports_cleanly(external):
        return Outcome.warned(
            f"{describe(external)} overrides {theirs}: uninstall it unless you pin it on purpose", evidence
        )
    return Outcome.warned(
        f"{describe(external)} cannot load here, so vLLM falls back to {theirs}: remove the broken leftover", evidence
    )


@check(
    "deepgemm.jit-cache",
    title="DeepGEMM's JIT cache directory is writable",
    category="toolchain",
    facts=(JIT_CACHE,),
    fix="set-jit-cache-dir.sh",
)
def deepgemm_jit_cache(facts: Facts, profile: Profile) -> Outcome:
    """Where compiled kernels go: ``DG_JIT_CACHE_DIR``, else vLLM's ``$VLLM_CACHE_ROOT/deep_gemm``.

    What it checks:
        The directory DeepGEMM will write compiled kernels to (``DG_JIT_CACHE_DIR``; vLLM sets it
        to ``$VLLM_CACHE_ROOT/deep_gemm``, default ``~/.cache/vllm/deep_gemm``) exists and is
        writable, or its nearest existing parent is. Judged for the user running the doctor;
        nothing is created.

    Why it matters:
        Read-only home directories (Kubernetes, hardened images) break the JIT at the first
        forward pass even when everything else is right.

    How to fix:
        Point ``DG_JIT_CACHE_DIR`` (or ``VLLM_CACHE_ROOT``) at a writable volume:
        ``glm5-doctor fix deepgemm.jit-cache``.

    Sources:
        - vllm 0.16.0 wheel: vllm/utils/deep_gemm.py and vllm/envs.py (DG_JIT_CACHE_DIR default)
        - https://github.com/deepseek-ai/DeepGEMM (README: DG_JIT_CACHE_DIR)
    """
    cache = facts[JIT_CACHE]
    evidence = dict(cache)
    if cache["writable"]:
        where = "exists" if cache["exists"] else f"will be created under {cache['nearest_existing']}"
        return Outcome.passed(f"{cache['path']} (from {cache['source']}) is writable ({where})", evidence)
    return Outcome.failed(
        f"DeepGEMM would write kernels to {cache['path']} (from {cache['source']}), but {cache['nearest_existing']} "
        "is not writable: set DG_JIT_CACHE_DIR to a writable directory",
        evidence,
    )


class _Choice:
    """The vLLM version and the DeepGEMM copy it will import, with the evidence every check shows."""

    def __init__(self, facts: Facts, found: DeepGemmFact) -> None:
        vllm = distribution(facts, "vllm")
        self.vllm = vllm["version"] if vllm else None
        version = parse_version(self.vllm)
        self.vendors = version is None or version >= knowledge.VLLM_FIRST_VENDORED_DEEPGEMM
        self.copy: DeepGemmCopyFact | None = copy_vllm_uses(version, found)
        self.found = found

    def evidence(self) -> dict[str, object]:
        return {
            "vllm": self.vllm,
            "in_use": self.copy["path"] if self.copy else None,
            "external": _brief(self.found["external"]),
            "vendored": _brief(self.found["vendored"]),
            "ext_suffix": self.found["ext_suffix"],
        }


class _Brief(TypedDict):
    path: str
    version: str | None
    extensions: list[str]


def _brief(copy: DeepGemmCopyFact | None) -> _Brief | None:
    if copy is None:
        return None
    return {"path": copy["path"], "version": copy["version"], "extensions": copy["extensions"]}


def describe(copy: DeepGemmCopyFact) -> str:
    version = f" {copy['version']}" if copy["version"] else ""
    return f"the {copy['kind']} DeepGEMM{version} at {copy['path']}"


def copy_problem(copy: DeepGemmCopyFact, ext_suffix: str | None, python: str) -> str | None:
    """Why this copy cannot serve GLM-5, or None."""
    if copy["legacy_python_jit"]:
        return "it is the PyPI deep-gemm 1.0.0 snapshot (early 2025: Python JIT, no MQA-logits kernels); " + NEVER_PYPI
    if not copy["init_exists"]:
        return (
            f"{os.path.join(copy['path'], '__init__.py')} does not exist: Python imports the folder as an empty "
            "namespace package (a source tree or a half-removed install)"
        )
    if copy["loadable_extension"] is None:
        if copy["extensions"]:
            advice = (
                "; use that Python, or vLLM 0.21+ which bundles it for 3.10-3.14" if copy["kind"] == "vendored" else ""
            )
            return (
                f"its compiled extension is built for another Python ({', '.join(copy['extensions'])}); this is "
                f"Python {python} ({ext_suffix}){advice}"
            )
        return "it has no compiled extension (built with DG_SKIP_CUDA_BUILD, or a source tree)"
    return None
