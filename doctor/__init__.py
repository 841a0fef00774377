"""glm5-doctor: will ``vllm serve zai-org/GLM-5-FP8`` work on this machine, and if not, why?

Public API for plugin authors: :func:`check`, :class:`Check`, :class:`Outcome`,
:class:`Status`, :class:`Facts`, :class:`Profile`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import Check, check
from glm5_doctor.engine.facts import Facts
from glm5_doctor.engine.results import Outcome, Status

__all__ = ["Check", "Facts", "Outcome", "Profile", "Status", "__version__", "check"]
