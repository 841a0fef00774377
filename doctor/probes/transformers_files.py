"""The ``transformers_files`` fact: does the installed transformers ship the ``glm_moe_dsa`` model type?

Read from its files (the model folder and the auto-config mapping line), never by importing it.
"""

from __future__ import annotations

import ast
import os
from typing import TypedDict

from glm5_doctor import knowledge
from glm5_doctor.engine.facts import FactKey
from glm5_doctor.probes.context import ProbeContext
from glm5_doctor.probes.interpreter import target_interpreter
from glm5_doctor.probes.package_files import find_package_dir, read_source


class TransformersFilesFact(TypedDict):
    package_dir: str | None
    glm_moe_dsa_config_file: str | None
    glm_moe_dsa_config_exists: bool | None
    auto_mapping_has_glm_moe_dsa: bool | None
    #: the layer_types values configs may use (configuration_utils.ALLOWED_LAYER_TYPES); None: not read
    allowed_layer_types: list[str] | None


def allowed_layer_types(path: str) -> list[str] | None:
    """``ALLOWED_LAYER_TYPES``: the ``layer_types`` values this transformers accepts in any config.

    A module-level tuple of strings in ``configuration_utils.py`` (transformers 5.5.1 and 5.11.0 wheels;
    5.11.0 adds ``deepseek_sparse_attention``). None when the file or the tuple is not there in that form.
    """
    try:
        tree = ast.parse(read_source(path), filename=path)
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(target, ast.Name) and target.id == "ALLOWED_LAYER_TYPES" for target in targets):
            value = node.value if isinstance(node, ast.Assign) else None
            if isinstance(value, (ast.Tuple, ast.List)):
                kinds = [item.value for item in value.elts if isinstance(item, ast.Constant)]
                if len(kinds) == len(value.elts) and all(isinstance(kind, str) for kind in kinds):
                    return [str(kind) for kind in kinds]
    return None


TRANSFORMERS_FILES: FactKey[TransformersFilesFact] = FactKey("transformers_files", TransformersFilesFact)


def probe_transformers_files(context: ProbeContext) -> TransformersFilesFact:
    package_dir = find_package_dir(target_interpreter(context)["sys_path"], "transformers")
    fact: TransformersFilesFact = {
        "package_dir": package_dir,
        "glm_moe_dsa_config_file": None,
        "glm_moe_dsa_config_exists": None,
        "auto_mapping_has_glm_moe_dsa": None,
        "allowed_layer_types": None,
    }
    if package_dir is None:
        return fact
    site_root = os.path.dirname(package_dir)
    config_file = os.path.join(site_root, knowledge.TRANSFORMERS_GLM5_CONFIG_FILE)
    fact["glm_moe_dsa_config_file"] = config_file
    fact["glm_moe_dsa_config_exists"] = os.path.isfile(config_file)
    fact["allowed_layer_types"] = allowed_layer_types(os.path.join(package_dir, "configuration_utils.py"))
    try:
        auto = read_source(os.path.join(site_root, knowledge.TRANSFORMERS_AUTO_CONFIG_FILE))
        fact["auto_mapping_has_glm_moe_dsa"] = knowledge.TRANSFORMERS_AUTO_MAPPING_LINE in auto
    except (OSError, UnicodeDecodeError):
        fact["auto_mapping_has_glm_moe_dsa"] = None
    return fact
