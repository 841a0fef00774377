"""The advisory database the run judges with, as a fact (so a snapshot records which one was used).

Loaded by the command line (the shipped one, or ``--advisories FILE`` validated there, exit 2 when bad);
this probe only hands it to the checks as plain data.
"""

from __future__ import annotations

from typing import Any

from glm5_doctor.engine.facts import FactKey
from glm5_doctor.knowledge.advisories import load_builtin
from glm5_doctor.probes.context import ProbeContext

#: ``{"database": {name, version, date}, "advisories": [...], "source": "builtin" | path}``
ADVISORY_DATABASE: FactKey[dict[str, Any]] = FactKey("advisory_database")


def probe_advisory_database(context: ProbeContext) -> dict[str, Any]:
    database = context.advisories or load_builtin()
    return database.to_data()
