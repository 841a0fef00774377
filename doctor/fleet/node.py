"""What a node runs for ``glm5-doctor fleet``: a snapshot of its facts, returned as the snapshot document.

Plain data in and out (the profile as ``Profile.to_dict()``, the fact names), so nothing but JSON-able
values crosses Ray; probes are bounded as in every run, and a failure is returned as data.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import Any


def gather(profile: Mapping[str, Any], python: str | None, deep: bool, extra: Sequence[str]) -> dict[str, Any]:
    """This node's snapshot document (redacted here, with this node's secrets) and how long it took."""
    from glm5_doctor.engine.redact import Redactor
    from glm5_doctor.engine.registry import load_registry
    from glm5_doctor.engine.session import Request, take_snapshot
    from glm5_doctor.engine.snapshot import profile_from_dict

    started = time.monotonic()
    request = Request(profile_from_dict(profile), python, deep=deep)
    registry = load_registry(autoload_plugins=False)
    document = take_snapshot(request, registry, Redactor(os.environ), extra=extra)
    return {"snapshot": document, "duration_ms": int((time.monotonic() - started) * 1000), "pid": os.getpid()}
