"""transformers: it must know GLM-5's model type, inside the range vLLM accepts."""

from __future__ import annotations

from glm5_doctor import knowledge
from glm5_doctor.checks._checkpoint import checkpoint_here
from glm5_doctor.checks._fixes import layer_types_floor, transformers_spec
from glm5_doctor.checks._pins import combine, requirement_for, satisfies, simplest_window
from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import Fix, check
from glm5_doctor.engine.facts import Facts, parse_version
from glm5_doctor.engine.results import Outcome
from glm5_doctor.probes.distributions import DISTRIBUTIONS, DistributionFact, distribution, install_source
from glm5_doctor.probes.model_files import MODEL_FILES
from glm5_doctor.probes.transformers_files import TRANSFORMERS_FILES, TransformersFilesFact
from packaging.specifiers import SpecifierSet
from packaging.version import Version

GLM5_FLOOR = SpecifierSet(f">={knowledge.TRANSFORMERS_FIRST_GLM5}")


@check(
    "transformers.glm-moe-dsa",
    title="transformers knows GLM-5's model type (glm_moe_dsa)",
    category="python-stack",
    facts=(DISTRIBUTIONS, TRANSFORMERS_FILES),
    fix=Fix("install-transformers.sh", environment=transformers_spec),
)
def transformers_glm_moe_dsa(facts: Facts, profile: Profile) -> Outcome:
    """transformers ships the ``glm_moe_dsa`` model type that GLM-5's config.json names.

    What it checks:
        The target environment's transformers has ``models/glm_moe_dsa/configuration_glm_moe_dsa.py``
        (first released in 5.2.0). The evidence says whether it is a release or a git install
        (PEP 610 ``direct_url.json``) and which version.

    Why it matters:
        vLLM 0.16-0.28 read GLM-5's config through transformers. Without the model type,
        ``vllm serve`` stops with "ValueError: The checkpoint you are trying to load has model
        type `glm_moe_dsa` but Transformers does not recognize this architecture". Git builds
        from before the release, and every later main commit, behave differently from a release.

    How to fix:
        Install a transformers release that knows GLM-5 inside the installed vLLM's pin
        (``transformers.vllm-pin`` names the window): ``glm5-doctor fix transformers.glm-moe-dsa``.

    Sources:
        - transformers wheels 5.1.0 (absent) and 5.2.0 (present): https://pypi.org/project/transformers/5.2.0/
        - https://github.com/ggml-org/llama.cpp/pull/19460 (the error on 5.1.0)
        - https://github.com/sgl-project/sglang/issues/18980 (a git build: 5.2.0.dev0)
        - https://github.com/huggingface/transformers/pull/43858
        - https://packaging.python.org/en/latest/specifications/direct-url/
    """
    dist = distribution(facts, "transformers")
    files: TransformersFilesFact = facts[TRANSFORMERS_FILES]
    if dist is None:
        if files["package_dir"] is None:
            return Outcome.failed(
                "transformers is not installed: vLLM needs it and GLM-5 needs "
                f"transformers>={knowledge.TRANSFORMERS_FIRST_GLM5}",
                {},
            )
        return Outcome.warned(
            f"transformers is importable from {files['package_dir']} without installed metadata: version unknown",
            {"package_dir": files["package_dir"]},
        )
    version = parse_version(dist["version"])
    evidence: dict[str, object] = {
        "version": dist["version"],
        "source": install_source(dist),
        "from_git": _from_git(dist),
        "config_file": files["glm_moe_dsa_config_file"],
        "dist_info": dist["dist_info"],
    }
    if dist["error"] or version is None:
        return Outcome.errored(
            f"cannot tell transformers' version from {dist['dist_info']}: {dist['error'] or repr(dist['version'])}",
            evidence,
        )
    if files["glm_moe_dsa_config_exists"]:
        if _from_git(dist) or version.is_devrelease:
            return Outcome.warned(
                f"transformers {version} knows glm_moe_dsa but is a development build ({evidence['source']}): "
                "it changes with every main commit and vLLM pins judge .dev versions oddly; install a release",
                evidence,
            )
        return Outcome.passed(f"transformers {version} knows glm_moe_dsa ({evidence['source']})", evidence)
    if files["package_dir"] is None:
        return Outcome.failed(
            f"transformers {version} has metadata in {dist['location']} but no package folder: reinstall it", evidence
        )
    if version >= knowledge.TRANSFORMERS_FIRST_GLM5 and not version.is_devrelease:
        return Outcome.failed(
            f"transformers {version} should ship glm_moe_dsa but {files['glm_moe_dsa_config_file']} is missing: "
            "the install is broken; reinstall it",
            evidence,
        )
    return Outcome.failed(
        f"transformers {version} does not know glm_moe_dsa (first in {knowledge.TRANSFORMERS_FIRST_GLM5}): vLLM would "
        f'stop with "{knowledge.TRANSFORMERS_UNKNOWN_TYPE_ERROR}"',
        evidence,
    )


@check(
    "transformers.vllm-pin",
    title="transformers fits both vLLM's pin and GLM-5",
    category="python-stack",
    facts=(DISTRIBUTIONS,),
    requires=("vllm.installed",),
    fix=Fix("install-transformers.sh", environment=transformers_spec),
)
def transformers_vllm_pin(facts: Facts, profile: Profile) -> Outcome:
    """The installed transformers inside the window that satisfies vLLM's pin and GLM-5.

    What it checks:
        The installed vLLM's ``Requires-Dist: transformers`` pin, intersected with GLM-5's
        floor (5.2.0), against the installed transformers. vLLM 0.16-0.18 pin ``<5``, which no
        transformers that knows GLM-5 satisfies: the GLM-5 recipe installs a newer one over the
        pin on purpose, so that case is a warning that explains itself, not a failure.

    Why it matters:
        Outside vLLM's pin, vLLM may break in ways it never tested; inside the pin but below
        5.2.0, GLM-5's config does not load. ``pip install vllm==0.19.x`` in an environment that
        already has transformers 4.57 keeps 4.57: "supported" on paper, broken for GLM-5.

    How to fix:
        Install transformers inside the window this check names:
        ``glm5-doctor fix transformers.vllm-pin``.

    Sources:
        - vLLM wheel METADATA 0.16.0-0.33.0 transformers pins
        - https://github.com/zai-org/GLM-5 (README history: transformers >= 5.3.0, then >= 5.4.0)
        - https://github.com/vllm-project/recipes/blob/main/GLM/GLM5.md
    """
    vllm = distribution(facts, "vllm")
    if vllm is None:  # vllm.installed can warn about a vllm folder without metadata
        return Outcome.skipped("vLLM has no installed metadata to read its transformers pin from (see vllm.installed)")
    requirement = requirement_for(vllm, "transformers")
    installed = distribution(facts, "transformers")
    version = parse_version(installed["version"]) if installed else None
    evidence: dict[str, object] = {
        "vllm": vllm["version"],
        "vllm_pin": str(requirement.specifier) if requirement else None,
        "transformers": installed["version"] if installed else None,
    }
    if installed is not None and version is None:
        return Outcome.errored(f"transformers' version {installed['version']!r} is not a PEP 440 version", evidence)
    pin = requirement.specifier if requirement else SpecifierSet()
    window = combine(pin, GLM5_FLOOR)
    floor, window_text = simplest_window(window)
    window_open = floor is not None and satisfies(floor, pin)
    evidence["glm5_window"] = window_text if window_open else None
    pinned = (
        f"vLLM {vllm['version']} pins transformers{pin}"
        if requirement
        else f"vLLM {vllm['version']} does not pin transformers"
    )
    if version is not None and window_open and satisfies(version, window):
        return Outcome.passed(f"transformers {version} is inside the GLM-5 window {window_text} ({pinned})", evidence)
    if not window_open:
        recipe = f"transformers>={knowledge.TRANSFORMERS_RECIPE_FLOOR}"
        if version is not None and version >= knowledge.TRANSFORMERS_FIRST_GLM5:
            return Outcome.warned(
                f"transformers {version} is outside vLLM's pin on purpose: {pinned}, which no transformers "
                f"that knows GLM-5 satisfies; the GLM-5 recipe installs {recipe} over it (pip check will complain)",
                evidence,
            ).without_fix()
        return Outcome.failed(
            f"{pinned} and nothing inside that pin loads GLM-5: install {recipe} over it as the GLM-5 recipe "
            f"does, or use vLLM >= {knowledge.VLLM_FIRST_GLM5_TRANSFORMERS_PIN}",
            evidence,
        )
    have = f"transformers {version}" if version is not None else "transformers is not installed"
    return Outcome.failed(f"{have}; {pinned}; GLM-5 needs transformers{window_text}", evidence)


def _from_git(dist: DistributionFact) -> bool:
    direct = dist["direct_url"] or {}
    vcs = direct.get("vcs_info")
    return isinstance(vcs, dict) and vcs.get("vcs") == "git"


@check(
    "transformers.checkpoint-config",
    title="transformers accepts every value the checkpoint's config uses",
    category="python-stack",
    facts=(TRANSFORMERS_FILES, DISTRIBUTIONS, MODEL_FILES),
    fix=Fix("install-transformers.sh", environment=layer_types_floor),
)
def transformers_checkpoint_config(facts: Facts, profile: Profile) -> Outcome:
    """The checkpoint's own config against the installed transformers: a GLM-5.2 config needs a newer one.

    What it checks:
        The ``layer_types`` values the checkpoint's config.json lists (from the file when it is on
        disk, else the known checkpoint's table entry) against the values the installed transformers
        accepts: its own ``ALLOWED_LAYER_TYPES`` in ``configuration_utils.py`` when that can be read,
        else the first release known to accept each value (``deepseek_sparse_attention``: 5.11.0).
        A value neither source knows is said plainly as one the doctor cannot judge.

    Why it matters:
        GLM-5.2's config lists ``deepseek_sparse_attention`` for every layer. transformers 5.9 knows
        ``glm_moe_dsa`` but refuses that value while building the config, so vLLM crash-loops before
        reading a weight: "ValueError: The `layer_types` entries must be in (...) but got [...]".

    How to fix:
        Install a transformers that accepts it (5.11.0 or newer, inside vLLM's pin):
        ``glm5-doctor fix transformers.checkpoint-config``.

    Sources:
        - https://github.com/coreweave/ml-containers/issues/206 (GLM-5.2 NVFP4 config, transformers 5.9 fails)
        - transformers 5.10.4 and 5.11.0 wheels: transformers/configuration_utils.py (ALLOWED_LAYER_TYPES)
        - transformers 5.5.1 wheel: transformers/configuration_utils.py (validate_layer_type raises)
    """
    installed = distribution(facts, "transformers")
    if installed is None:
        return Outcome.skipped("transformers is not installed (see transformers.glm-moe-dsa)").without_fix()
    spec = checkpoint_here(profile, facts[MODEL_FILES])
    if spec is None:
        return Outcome.skipped(
            f"{profile.model} is not on disk and not a checkpoint the doctor knows: its config is judged after download"
        ).without_fix()
    kinds = sorted(set(spec.layer_types))
    evidence: dict[str, object] = {"transformers": installed["version"], "layer_types": kinds, "from": spec.source}
    if not kinds:
        return Outcome.passed(
            f"{profile.model}'s config lists no layer_types: nothing beyond glm_moe_dsa to accept", evidence
        )
    allowed = facts[TRANSFORMERS_FILES]["allowed_layer_types"]
    version = parse_version(installed["version"])
    refused: list[str] = []
    unknown: list[str] = []
    floors: list[str] = []
    for kind in kinds:
        first = knowledge.TRANSFORMERS_FIRST_LAYER_TYPE.get(kind)
        if allowed is not None:
            accepted = kind in allowed
        elif first is not None and version is not None:
            accepted = version >= first
        else:
            unknown.append(kind)
            continue
        if not accepted:
            refused.append(kind)
            if first is not None:
                floors.append(str(first))
    evidence.update(refused=refused, unknown=unknown, needed=max(floors, key=Version) if floors else None)
    if refused:
        needed = f"; transformers {evidence['needed']} or newer accepts it" if floors else ""
        return Outcome.failed(
            f"transformers {installed['version']} does not accept layer_types {', '.join(refused)} that "
            f"{profile.model}'s config uses: building the config fails with "
            f'"{knowledge.TRANSFORMERS_LAYER_TYPE_ERROR}"{needed}',
            evidence,
        )
    if unknown:
        return Outcome.warned(
            f"cannot judge layer_types {', '.join(unknown)}: neither transformers {installed['version']}'s files "
            "nor the doctor's table say whether it accepts them",
            evidence,
        ).without_fix()
    return Outcome.passed(
        f"transformers {installed['version']} accepts the config's layer_types {', '.join(kinds)}", evidence
    )
