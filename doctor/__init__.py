"""glm5-doctor: will ``vllm serve zai-org/GLM-5-FP8`` work on this machine, and if not, why?

Public API for plugin authors: :func:`check`, :class:`Check`, :class:`Fix`, :class:`Outcome`,
:class:`Status`, :class:`Facts`, :class:`FactKey`, :class:`Profile`; the fact keys are exported by
the probe modules that gather them (``glm5_doctor.probes.host.HOST``, ...).
"""

from __future__ import annotations

__version__ = "0.1.0"

from glm5_doctor.deployment.profile import Profile
from glm5_doctor.engine.check import Check, Fix, check
from glm5_doctor.engine.facts import FactKey, Facts
from glm5_doctor.engine.results import Outcome, Status

__all__ = ["Check", "FactKey", "Facts", "Fix", "Outcome", "Profile", "Status", "__version__", "check"]
