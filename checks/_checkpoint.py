"""The checkpoint being served, as the checks see it: its own files when they are on disk, else the table."""

from __future__ import annotations

from glm5_doctor.deployment.profile import Profile
from glm5_doctor.knowledge.checkpoints import ModelSpec, from_files, model_spec
from glm5_doctor.probes.model_files import ModelFilesFact


def checkpoint_here(profile: Profile, files: ModelFilesFact) -> ModelSpec | None:
    """From the checkpoint's config.json and index when they were read, else the known checkpoint, else None."""
    known = model_spec(profile.model)
    config = files["config"]
    if isinstance(config, dict):
        return from_files(profile.model, config, files["index_total_size"], files["hf_quant_config"], known)
    return known
