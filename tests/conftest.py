"""Fixtures for every test; the helpers themselves live in ``helpers.py``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import TargetEnv, make_env


@pytest.fixture
def target_env(tmp_path: Path) -> TargetEnv:
    return make_env(tmp_path / "venv")


@pytest.fixture
def clean_environ() -> Iterator[dict[str, str]]:
    """The environment doctor subprocesses get: plugins off, no inherited PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NO_COLOR", "FORCE_COLOR")}
    env["GLM5_DOCTOR_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    yield env
