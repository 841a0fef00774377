"""The machine contract: the report as JSON, following ``report/schema.py``."""

from __future__ import annotations

import json

from glm5_doctor.engine.results import Report


def render_json(report: Report, strict: bool = False) -> str:
    return json.dumps(report.to_dict(strict=strict), indent=2, sort_keys=False, default=str) + "\n"
