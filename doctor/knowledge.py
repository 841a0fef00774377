"""What is known about GLM-5 on vLLM, each fact with where it comes from.

Checks take their thresholds from here, never from literals of their own, so a fact that
turns out wrong is fixed in one place. Sources are in ``../shared/reference/glm5-failure-modes.md``
(read from the published wheels) unless a line says otherwise.
"""

from __future__ import annotations

import re

from packaging.specifiers import SpecifierSet
from packaging.version import Version

#: The architecture name in GLM-5's config.json (all GLM-5, 5.1, 5.2 checkpoints).
GLM5_ARCHITECTURE = "GlmMoeDsaForCausalLM"
GLM5_MODEL_TYPE = "glm_moe_dsa"

#: First vLLM release whose registry has GLM-5 (0.15.1 has no entry). [wheel] vllm 0.15.1 vs 0.16.0
VLLM_FIRST_GLM5 = Version("0.16.0")

#: The registry line, in both known forms: module ``deepseek_v2`` for 0.16.0-0.28.0, the
#: package ``vllm.models.deepseek_v32`` from 0.29.0 (still in 0.33.0). A relative module name is
#: under ``vllm.model_executor.models``. [wheel] vllm 0.16.0 ... 0.33.0 registry.py
VLLM_REGISTRY_GLM5_LINE = re.compile(r'"GlmMoeDsaForCausalLM"\s*:\s*\(\s*"([\w.]+)"\s*,\s*"GlmMoeDsaForCausalLM"\s*\)')
VLLM_KNOWN_GLM5_MODULES = ("deepseek_v2", "vllm.models.deepseek_v32")

#: What ``vllm serve`` prints on a vLLM without the entry. [wheel] 0.16.0 registry.py
VLLM_UNSUPPORTED_ARCH_ERROR = (
    "Model architectures ['GlmMoeDsaForCausalLM'] are not supported for now. Supported architectures: ..."
)

#: First transformers release with model type ``glm_moe_dsa`` (huggingface/transformers#43858).
#: [wheel] transformers 5.1.0 lacks it, 5.2.0 has ``transformers/models/glm_moe_dsa/``.
TRANSFORMERS_FIRST_GLM5 = Version("5.2.0")
TRANSFORMERS_GLM5_CONFIG_FILE = "transformers/models/glm_moe_dsa/configuration_glm_moe_dsa.py"
TRANSFORMERS_AUTO_CONFIG_FILE = "transformers/models/auto/configuration_auto.py"
TRANSFORMERS_AUTO_MAPPING_LINE = '("glm_moe_dsa", "GlmMoeDsaConfig")'

#: The floor the GLM-5 recipe asks for on top of vLLM 0.16-0.18 (vllm-project/recipes GLM5.md).
TRANSFORMERS_RECIPE_FLOOR = Version("5.4.0")

#: First vLLM release checked whose transformers pin admits a transformers that knows GLM-5
#: (``!=5.0.*,...,!=5.5.0,>=4.56.0``, i.e. >=5.5.1). [wheel] vllm 0.19.1 METADATA
VLLM_FIRST_GLM5_TRANSFORMERS_PIN = Version("0.19.1")

#: What transformers < 5.2.0 raises on GLM-5's config. [wheel] configuration_auto.py 4.57.6/5.1.0
TRANSFORMERS_UNKNOWN_TYPE_ERROR = (
    "ValueError: The checkpoint you are trying to load has model type `glm_moe_dsa` "
    "but Transformers does not recognize this architecture."
)

#: Pythons vLLM supports when no vLLM is installed to ask: every release 0.16-0.19 says
#: ``>=3.10,<3.14``; 3.12 is the only one every release 0.16-0.33 accepts. [wheel] METADATA
FALLBACK_REQUIRES_PYTHON = SpecifierSet(">=3.10,<3.14")
RECOMMENDED_PYTHON = "3.12"

#: vLLM's own Requires-Dist names judged by dedicated checks rather than ``vllm.dependencies``.
DEPENDENCIES_JUDGED_ELSEWHERE = frozenset({"transformers"})
