"""vLLM itself: installed, able to load GLM-5, its own requirements met."""

from __future__ import annotations

import os
import re

from glm5_doctor import knowledge
from glm5_doctor.checks._abi import judge_abi
from glm5_doctor.checks._fixes import reinstall_with_extra, torch_spec
from glm5_doctor.checks._pins import requirement_for, satisfies
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import Fix, check
from glm5_doctor.engine.facts import Facts, parse_version
from glm5_doctor.engine.results import Outcome
from glm5_doctor.probes.distributions import DISTRIBUTIONS, distribution, distribution_copies, install_source
from glm5_doctor.probes.extension_abi import EXTENSION_ABI
from glm5_doctor.probes.interpreter import INTERPRETER
from glm5_doctor.probes.python_stack import PYTHON_STACK
from glm5_doctor.probes.torch_build import TORCH_BUILD
from glm5_doctor.probes.transformers_files import TRANSFORMERS_FILES
from glm5_doctor.probes.vllm_files import VLLM_FILES, VllmFilesFact
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

LISTED = 4


@check(
    "vllm.installed",
    title="vLLM is installed in the target environment",
    category="python-stack",
    facts=(INTERPRETER, DISTRIBUTIONS, VLLM_FILES),
    fix="install-vllm.sh",
)
def vllm_installed(facts: Facts, profile: Profile) -> Outcome:
    """One readable vLLM installation that the target interpreter imports.

    What it checks:
        A ``vllm-*.dist-info`` with a valid version, and the ``vllm/`` package folder that
        ``import vllm`` would load, both in the target environment and belonging together.
        Two copies, or files without metadata, are warnings; metadata without files fails.

    Why it matters:
        Every later verdict (GLM-5 support, pins, DeepGEMM) reads this installation. Mixed
        installs (an old copy earlier on ``sys.path``, a half-finished uninstall) make
        ``vllm serve`` run different code than ``pip list`` shows.

    How to fix:
        Install vLLM 0.16.0 or newer into the environment that will serve:
        ``glm5-doctor fix vllm.installed``.

    Sources:
        - vLLM wheels 0.15.1-0.33.0 (https://pypi.org/project/vllm/#history): METADATA, registry.py, _C*.so
        - https://packaging.python.org/en/latest/specifications/recording-installed-packages/
    """
    copies = distribution_copies(facts, "vllm")
    files: VllmFilesFact = facts[VLLM_FILES]
    package_dir = files["package_dir"]
    python = facts[INTERPRETER]["executable"]
    if not copies:
        if package_dir is None:
            return Outcome.failed(
                f"vLLM is not installed for {python}: install vllm>={knowledge.VLLM_FIRST_GLM5}",
                {"python": python},
            )
        return Outcome.warned(
            f"vLLM is importable from {package_dir} but has no installed metadata (a source tree on "
            "PYTHONPATH?): its version and pins cannot be judged",
            {"package_dir": package_dir},
        )
    dist = copies[0]
    evidence: dict[str, object] = {
        "version": dist["version"],
        "dist_info": dist["dist_info"],
        "package_dir": package_dir,
        "source": install_source(dist),
    }
    if dist["error"]:
        return Outcome.errored(f"cannot read vLLM's metadata: {dist['error']}", evidence)
    version = parse_version(dist["version"])
    if version is None:
        return Outcome.errored(
            f"vLLM's METADATA says version {dist['version']!r}, which is not a PEP 440 version", evidence
        )
    if package_dir is None:
        return Outcome.failed(
            f"vLLM {version} has metadata in {dist['location']} but no vllm/ package folder: "
            "a broken or half-removed install; reinstall it",
            evidence,
        )
    if len(copies) > 1:
        others = ", ".join(f"{c['version']} in {c['location']}" for c in copies[1:])
        evidence["other_copies"] = [c["dist_info"] for c in copies[1:]]
        return Outcome.warned(
            f"vLLM {version} in {dist['location']} is the copy Python uses, but other copies are installed "
            f"({others}): remove the extra ones",
            evidence,
        )
    if os.path.dirname(package_dir) != dist["location"]:
        return Outcome.warned(
            f"vLLM's code is imported from {package_dir} but its metadata ({version}) is in {dist['location']}: "
            "two installs are mixed",
            evidence,
        )
    return Outcome.passed(f"vLLM {version} installed in {dist['location']} ({evidence['source']})", evidence)


@check(
    "vllm.glm5-architecture",
    title="vLLM registers GLM-5's architecture (GlmMoeDsaForCausalLM)",
    category="python-stack",
    facts=(DISTRIBUTIONS, VLLM_FILES, TRANSFORMERS_FILES),
    requires=("vllm.installed",),
    fix="install-vllm.sh",
)
def vllm_glm5_architecture(facts: Facts, profile: Profile) -> Outcome:
    """vLLM can load GLM-5: version 0.16.0 or newer and the registry entry is really there.

    What it checks:
        The installed vLLM is 0.16.0 or newer, and its
        ``vllm/model_executor/models/registry.py`` maps ``GlmMoeDsaForCausalLM`` to a module
        that exists: ``deepseek_v2`` (0.16.0-0.28.x) or ``vllm.models.deepseek_v32`` (0.29.0 on).
        The registry file is read, never imported.

    Why it matters:
        vLLM 0.15.x and older stop after loading the config with
        "Model architectures ['GlmMoeDsaForCausalLM'] are not supported for now" or, when a
        transformers that knows ``glm_moe_dsa`` is forced in, fall back to the generic Transformers
        backend ("Using Transformers modeling backend."), whose dense attention cannot serve GLM-5's
        sparse attention. A version number alone can lie (source builds, patched images); the
        registry line cannot.

    How to fix:
        Install vLLM 0.16.0 or newer (the GLM-5 recipe pins a 0.19 release; 0.21+ bundles
        DeepGEMM): ``glm5-doctor fix vllm.glm5-architecture``.

    Sources:
        - vLLM wheels 0.15.1, 0.16.0, 0.29.0, 0.33.0: vllm/model_executor/models/registry.py
        - vllm 0.15.1 wheel: registry.py _try_resolve_transformers, models/transformers/base.py (the fallback)
        - https://github.com/vllm-project/vllm/pull/34124
        - https://github.com/vllm-project/recipes/blob/main/models/zai-org/GLM-5.yaml
    """
    dist = distribution(facts, "vllm")
    files: VllmFilesFact = facts[VLLM_FILES]
    version = parse_version(dist["version"]) if dist else None
    shown = str(version) if version else "(unknown version)"
    evidence: dict[str, object] = {
        "version": str(version) if version else None,
        "registry": files["registry_path"],
        "registered_module": files["glm5_module"],
    }
    state = files["registry_state"]
    if state == "missing":
        return Outcome.failed(
            f"vLLM {shown} has no model registry at {files['registry_path']}: the install is broken; reinstall it",
            evidence,
        )
    if state in ("unreadable", "invalid"):
        return Outcome.errored(
            f"cannot read vLLM's model registry {files['registry_path']}: {files['registry_error']}", evidence
        )
    module = files["glm5_module"]
    if module is None:
        if version is not None and version < knowledge.VLLM_FIRST_GLM5:
            transformers = distribution(facts, "transformers")
            if facts[TRANSFORMERS_FILES]["glm_moe_dsa_config_exists"] and transformers is not None:
                return Outcome.failed(
                    f"vLLM {shown} predates GLM-5 support: with transformers {transformers['version']}, which knows "
                    'glm_moe_dsa, it falls back to its generic Transformers backend ("Using Transformers modeling '
                    "backend.\"): dense attention, which cannot serve GLM-5's sparse attention; install "
                    f"vllm>={knowledge.VLLM_FIRST_GLM5}",
                    evidence,
                )
            return Outcome.failed(
                f'vLLM {shown} predates GLM-5 support: vllm serve would stop with "Model architectures '
                f"['GlmMoeDsaForCausalLM'] are not supported for now\"; install vllm>={knowledge.VLLM_FIRST_GLM5}",
                evidence,
            )
        return Outcome.failed(
            f"vLLM {shown}'s registry.py has no GlmMoeDsaForCausalLM entry although every release since "
            f"{knowledge.VLLM_FIRST_GLM5} has one: the install is modified or broken; reinstall vLLM",
            evidence,
        )
    evidence["module_file"] = files["glm5_module_file"]
    if not files["glm5_module_file_exists"]:
        return Outcome.failed(
            f"vLLM {shown} registers GLM-5 in module {module}, but {files['glm5_module_file']} is missing: "
            "the install is broken; reinstall vLLM",
            evidence,
        )
    if version is not None and version < knowledge.VLLM_FIRST_GLM5:
        return Outcome.warned(
            f"vLLM {shown} registers GlmMoeDsaForCausalLM ({module}) but is a build from before the first "
            f"release with GLM-5 ({knowledge.VLLM_FIRST_GLM5}): prefer a release",
            evidence,
        )
    note = "" if module in knowledge.VLLM_KNOWN_GLM5_MODULES else " (a module form the doctor has not seen before)"
    return Outcome.passed(f"vLLM {shown} registers GlmMoeDsaForCausalLM in {module}{note}", evidence)


@check(
    "vllm.dependencies",
    title="vLLM's own requirements are installed and satisfied",
    category="python-stack",
    facts=(INTERPRETER, DISTRIBUTIONS),
    requires=("vllm.installed",),
    fix="install-vllm.sh",
)
def vllm_dependencies(facts: Facts, profile: Profile) -> Outcome:
    """Like ``pip check``, limited to vLLM's ``Requires-Dist``.

    What it checks:
        Every requirement in vLLM's METADATA whose environment marker applies to the target
        interpreter is installed at a version inside vLLM's range. transformers is left to
        ``transformers.vllm-pin``, which knows the GLM-5 recipe overrides vLLM's pin on purpose.

    Why it matters:
        A torch, flashinfer or xgrammar outside vLLM's exact pins (often left behind by an
        upgrade in place) breaks at import or at the first kernel, minutes into loading.

    How to fix:
        Reinstall vLLM so pip resolves its requirements again: ``glm5-doctor fix vllm.dependencies``.

    Sources:
        - vLLM wheel METADATA (Requires-Dist), vllm 0.16.0-0.33.0: https://pypi.org/project/vllm/
        - https://packaging.python.org/en/latest/specifications/dependency-specifiers/
    """
    dist = distribution(facts, "vllm")
    if dist is None:  # vllm.installed can warn about a vllm folder without metadata
        return Outcome.skipped("vLLM has no installed metadata to read its requirements from (see vllm.installed)")
    environment = {**facts[INTERPRETER]["marker_environment"], "extra": ""}
    missing: list[str] = []
    wrong: list[str] = []
    unreadable: list[str] = []
    judged = 0
    for line in dist["requires_dist"]:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            unreadable.append(line)
            continue
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        if canonicalize_name(requirement.name) in knowledge.DEPENDENCIES_JUDGED_ELSEWHERE:
            continue
        judged += 1
        installed = distribution(facts, requirement.name)
        if installed is None:
            missing.append(f"{requirement.name}{requirement.specifier}")
            continue
        version = parse_version(installed["version"])
        if version is None or not satisfies(version, requirement.specifier):
            wrong.append(f"{installed['name']} {installed['version']} (needs {requirement.specifier})")
    evidence: dict[str, object] = {
        "vllm": dist["version"],
        "requirements_judged": judged,
        "missing": missing,
        "wrong_version": wrong,
        "unparseable": unreadable,
    }
    if missing or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing: {_first(missing)}")
        if wrong:
            parts.append(f"{len(wrong)} at a version it does not accept: {_first(wrong)}")
        return Outcome.failed(f"vLLM {dist['version']} requirements: " + "; ".join(parts), evidence)
    if unreadable:
        return Outcome.warned(
            f"vLLM {dist['version']}'s METADATA has requirement lines that do not parse: {_first(unreadable)}", evidence
        )
    return Outcome.passed(
        f"all {judged} requirements of vLLM {dist['version']} that apply here are satisfied "
        "(transformers, torch and flashinfer have their own checks)",
        evidence,
    )


def _first(items: list[str]) -> str:
    shown = ", ".join(items[:LISTED])
    return shown + (f", and {len(items) - LISTED} more" if len(items) > LISTED else "")


@check(
    "vllm.cuda-build",
    title="vLLM's compiled kernels and torch use the same CUDA major",
    category="toolchain",
    facts=(VLLM_FILES, TORCH_BUILD),
    requires=("vllm.installed",),
    fix=Fix("install-torch.sh", environment=torch_spec),
)
def vllm_cuda_build(facts: Facts, profile: Profile) -> Outcome:
    """The CUDA runtime vLLM's ``_C`` extension links, read from its ELF ``DT_NEEDED`` entries.

    What it checks:
        Reads the dynamic section of ``vllm/_C_stable_libtorch.abi3.so`` or ``vllm/_C.abi3.so``
        with a small pure-Python ELF reader (the library is never loaded) and finds
        ``libcudart.so.N``: 12 for the PyPI wheels 0.16-0.19, 13 from 0.20. It must match the
        CUDA major of torch. The major is the evidence the driver check uses (CUDA 13 needs R580).

    Why it matters:
        A CUDA 13 vLLM over a CUDA 12 torch (or the reverse, after installing one of them from
        another index) fails at import with missing ``libcudart.so.13`` or undefined symbols; on
        an R570 driver a CUDA 13 build fails with "The NVIDIA driver on your system is too old".

    How to fix:
        Install the torch build that matches vLLM's CUDA major: ``glm5-doctor fix vllm.cuda-build``.

    Sources:
        - vllm 0.19.1 and 0.20.0 wheels: DT_NEEDED of vllm/_C.abi3.so (libcudart.so.12, then .so.13)
        - https://github.com/pytorch/pytorch/pull/162531 (CUDA 13 needs driver >= 580.65.06)
        - https://refspecs.linuxfoundation.org/elf/gabi4+/ch5.dynamic.html (DT_NEEDED)
    """
    files: VllmFilesFact = facts[VLLM_FILES]
    torch = facts[TORCH_BUILD]
    evidence: dict[str, object] = {
        "extension": files["c_extension"],
        "needed": files["c_extension_needed"],
        "torch_cuda": torch["cuda"],
    }
    if files["c_extension"] is None:
        return Outcome.warned(
            f"no compiled vLLM extension ({' or '.join(knowledge.VLLM_C_EXTENSIONS)}) in {files['package_dir']}: "
            "a source tree or an incomplete build; its CUDA build cannot be judged",
            evidence,
        )
    if files["c_extension_error"]:
        return Outcome.errored(f"cannot read {files['c_extension']}: {files['c_extension_error']}", evidence)
    runtime = next((lib for lib in files["c_extension_needed"] or [] if lib.startswith("libcudart.so.")), None)
    major = _major(runtime)
    evidence["cuda_major"] = major
    if major is None:
        return Outcome.passed(f"{os.path.basename(files['c_extension'])} links no CUDA runtime directly", evidence)
    torch_cuda = parse_version(torch["cuda"])
    if torch_cuda is not None and torch_cuda.major != major:
        return Outcome.failed(
            f"vLLM's kernels link {runtime} (CUDA {major}) but torch is a CUDA {torch_cuda} build: install the torch "
            f"build for CUDA {major}",
            evidence,
        )
    return Outcome.passed(
        f"vLLM's kernels link {runtime}: a CUDA {major} build"
        + (f", like torch (CUDA {torch_cuda})" if torch_cuda else ""),
        evidence,
    )


def _major(runtime: str | None) -> int | None:
    if runtime is None:
        return None
    suffix = runtime.rsplit(".so.", 1)[-1].split(".")[0]
    return int(suffix) if suffix.isdigit() else None


@check(
    "vllm.optional-imports",
    title="Packages the stack imports whenever they are installed fit the ranges it declares for them",
    category="python-stack",
    facts=(INTERPRETER, DISTRIBUTIONS),
    requires=("vllm.installed",),
    fix=Fix("install-transformers.sh", environment=reinstall_with_extra),
)
def vllm_optional_imports(facts: Facts, profile: Profile) -> Outcome:
    """What ``pip check`` cannot see: a package declared only under an extra, imported anyway when present.

    What it checks:
        For vLLM, transformers and torch as installed: every distribution each of them imports
        whenever it is installed (transformers imports ``kernels`` if it finds it), when installed,
        must be inside the range that package declares for it under its extra. The declaration is
        read from the installed METADATA; the extra's marker is evaluated for this interpreter.

    Why it matters:
        pip only checks extras that were asked for, so ``pip check`` is clean. Upgrading transformers
        inside vLLM's pin (0.19.1 + ``pip install transformers==5.5.1``) leaves ``kernels`` 0.19.1
        behind, and vLLM's own import then fails with "ValueError: Either a revision or a version must
        be specified." from kernels' ``LayerRepository``, before any model is read.

    How to fix:
        Install the importing package with that extra so pip resolves the pair
        (``pip install 'transformers[kernels]==5.5.1'``), or uninstall the left-behind package.

    Sources:
        - transformers 5.5.1 wheel: METADATA (``kernels<0.13,>=0.12.0; extra == "kernels"``)
        - transformers 5.5.1 wheel: transformers/integrations/hub_kernels.py (imported when available)
        - https://packaging.python.org/en/latest/specifications/dependency-specifiers/#extras
    """
    judged, outside, reinstall = optional_import_conflicts(facts)
    evidence: dict[str, object] = {"judged": judged, "outside": outside, "reinstall": reinstall}
    if outside:
        return Outcome.failed(
            f"{_first(outside)}: importing vLLM will fail (pip check cannot see this: it is declared under an extra)",
            evidence,
        )
    if not judged:
        return Outcome.passed("no package that the stack imports when present is installed", evidence)
    return Outcome.passed(f"inside the declared ranges: {_first(judged)}", evidence)


def optional_import_conflicts(facts: Facts) -> tuple[list[str], list[str], str | None]:
    """(judged, outside their declared range, the reinstall that resolves the first) for vllm.optional-imports."""
    environment = facts[INTERPRETER]["marker_environment"]
    outside: list[str] = []
    judged: list[str] = []
    reinstall: str | None = None
    for declarer, imported in knowledge.IMPORTED_WHEN_INSTALLED.items():
        dist = distribution(facts, declarer)
        if dist is None:
            continue
        for line in dist["requires_dist"]:
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                continue
            name = canonicalize_name(requirement.name)
            installed = distribution(facts, name)
            if name not in imported or installed is None or not _applies(requirement, environment):
                continue
            seen = f"{installed['name']} {installed['version']} for {declarer} {dist['version']}"
            if seen not in judged:  # one package can be named under several extras
                judged.append(seen)
            version = parse_version(installed["version"])
            if version is None or not satisfies(version, requirement.specifier):
                conflict = (
                    f"{installed['name']} {installed['version']} is installed, and {declarer} {dist['version']} "
                    f"imports it whenever it is, but accepts only {requirement.specifier}"
                )
                if conflict not in outside:
                    outside.append(conflict)
                extra = _extras(requirement)[0] or name
                reinstall = reinstall or f"{declarer}[{extra}]=={dist['version']}"
    return judged, outside, reinstall


def _extras(requirement: Requirement) -> list[str]:
    return re.findall(r'extra\s*==\s*["\']([^"\']+)["\']', str(requirement.marker or "")) or [""]


def _applies(requirement: Requirement, environment: dict[str, str]) -> bool:
    """True when the requirement's marker holds for this interpreter under some extra it names."""
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**environment, "extra": extra}) for extra in _extras(requirement))


@check(
    "vllm.torch-abi",
    title="vLLM's compiled extensions link against the installed torch",
    category="toolchain",
    facts=(EXTENSION_ABI, DISTRIBUTIONS),
    requires=("vllm.installed",),
    fix=Fix("install-torch.sh", environment=torch_spec),
)
def vllm_torch_abi(facts: Facts, profile: Profile) -> Outcome:
    """Every torch symbol vLLM's ``_C``, ``_moe_C`` and other extensions need is exported by this torch.

    What it checks:
        As deepgemm.torch-abi, for every ``vllm/*.so``: their undefined ``c10``/``at``/``torch``
        symbols against the installed torch's libraries.

    Why it matters:
        vLLM's wheels are built against the exact torch they pin; a torch upgraded or downgraded
        beside them fails at import with "undefined symbol: _ZN3c10..." before anything is served.

    How to fix:
        Install the torch vLLM pins: ``glm5-doctor fix vllm.torch-abi``.

    Sources:
        - https://github.com/vllm-project/vllm/issues/611 ; https://github.com/vllm-project/vllm/issues/1344
        - vllm 0.19.1 and torch 2.10.0 wheels: the 158 torch symbols of vllm/*.so all resolve (read with this reader)
    """
    vllm = distribution(facts, "vllm")
    pin = requirement_for(vllm, "torch") if vllm else None
    extra = {"vllm_pin": str(pin.specifier)} if pin is not None and pin.specifier else {}
    return judge_abi(facts[EXTENSION_ABI], ("vllm",), "vLLM", "install the torch vLLM pins", extra)


#: Words in an exception that mean the platform (no GPU, no CUDA driver here), not the model, stopped vLLM.
PLATFORM_WORDS = re.compile(r"CUDA|cuda|NVML|libcuda|device type|[Pp]latform|GPU|driver")


@check(
    "vllm.stack-import",
    title="The target's own vLLM imports and builds the checkpoint's config (--deep)",
    category="python-stack",
    facts=(PYTHON_STACK, VLLM_FILES, TRANSFORMERS_FILES, INTERPRETER, DISTRIBUTIONS),
    fix=Fix("install-vllm.sh"),
)
def vllm_stack_import(facts: Facts, profile: Profile) -> Outcome:
    """The prediction checked against what really happens: the target's Python runs vLLM's own code.

    What it checks:
        With ``--deep``, in a child process of the target interpreter (its own process group, a
        deadline of 180 s, ``GLM5_DOCTOR_STACK_TIMEOUT_S``): ``import vllm``; vLLM's model registry
        resolves ``GlmMoeDsaForCausalLM``; the target's transformers builds the checkpoint's config
        (``AutoConfig``); vLLM builds its model config (``EngineArgs(load_format="dummy")
        .create_model_config()``, no weights, no GPU). The real exception text is the evidence.
        When the fast checks (registry line, model type, optional imports) told another story, this
        fails with both. An error that only means "no GPU platform here" is a warning.

    Why it matters:
        The fast checks read files; some failures only show when the code runs: a package left
        behind that a library imports when present, a config value the installed transformers
        refuses, an older vLLM falling back to its generic Transformers backend (dense attention,
        which cannot serve GLM-5's sparse attention) instead of refusing the architecture.

    How to fix:
        Act on the exception shown; ``glm5-doctor fix`` of the fast check it points at, or reinstall
        vLLM so pip resolves the stack again.

    Sources:
        - vllm 0.19.1 wheel: vllm/engine/arg_utils.py (EngineArgs.create_model_config)
        - vllm 0.19.1 wheel: vllm/model_executor/models/registry.py (ModelRegistry)
        - vllm 0.15.1 wheel: vllm/model_executor/models/registry.py (_try_resolve_transformers)
        - vllm 0.15.1 wheel: vllm/model_executor/models/transformers/base.py ("Using Transformers modeling backend.")
        - https://github.com/huggingface/transformers/issues/46291 (kernels left behind: LayerRepository ValueError)
    """
    stack = facts[PYTHON_STACK]
    if not stack["ran"]:
        return Outcome.skipped(f"not run: {stack['why_not']}").without_fix()
    stages = stack["stages"]
    evidence: dict[str, object] = {
        "checkpoint": stack["checkpoint"],
        "stages": [{"stage": s["stage"], "ok": s["ok"], "seconds": s["seconds"], "error": s["error"]} for s in stages],
    }
    predicted = _fast_story(facts)
    evidence["fast_checks"] = predicted
    failed = next((s for s in stages if not s["ok"]), None)
    if failed is None:
        resolved = next((s["value"] for s in stages if s["stage"] == "vllm_model_config"), None)
        resolved_name = str(resolved.get("resolved")) if isinstance(resolved, dict) else ""
        if resolved_name.startswith("Transformers"):
            return Outcome.failed(
                f"vLLM resolved the checkpoint to its generic Transformers backend ({resolved_name}): dense "
                "attention, which cannot serve GLM-5's sparse attention; install vllm>=0.16.0",
                evidence,
            )
        if stack["timed_out"] or not stack["finished"]:
            last = stages[-1]["stage"] if stages else "starting Python"
            return Outcome.errored(f"the target's Python did not finish ({last}) within its deadline", evidence)
        timing = ", ".join(f"{s['stage']} {s['seconds']} s" for s in stages)
        if predicted:
            return Outcome.failed(
                f"the fast checks predicted a failure ({'; '.join(predicted)}), but the target's vLLM imported and "
                f"built the configs ({timing}): the prediction is wrong here, please report it",
                evidence,
            )
        return Outcome.passed(
            f"vLLM imported, resolved the architecture and built its model config: {timing}", evidence
        )
    where = f"{failed['stage']}: {failed['error']}"
    if failed["stage"] == "vllm_model_config" and PLATFORM_WORDS.search(failed["error"] or ""):
        return Outcome.warned(f"vLLM needs a GPU platform for its model config here ({where}); earlier steps passed")
    if predicted:
        return Outcome.failed(f"confirmed by the target's own Python: {where} (as {'; '.join(predicted)})", evidence)
    return Outcome.failed(f"the fast checks found nothing, but the target's own Python failed in {where}", evidence)


def _fast_story(facts: Facts) -> list[str]:
    """What the file-reading checks predict for the stages the deep probe runs, one line each."""
    story = []
    files = facts[VLLM_FILES]
    if not (files["glm5_module"] and files["glm5_module_file_exists"]):
        story.append("vllm.glm5-architecture: no usable GlmMoeDsaForCausalLM in vLLM's registry")
    transformers = facts[TRANSFORMERS_FILES]
    if not (transformers["glm_moe_dsa_config_exists"] or transformers["auto_mapping_has_glm_moe_dsa"]):
        story.append("transformers.glm-moe-dsa: transformers does not know glm_moe_dsa")
    _, outside, _ = optional_import_conflicts(facts)
    story.extend(f"vllm.optional-imports: {line}" for line in outside[:1])
    return story
