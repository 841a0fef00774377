"""``python -m glm5_doctor`` is the ``glm5-doctor`` command."""

from __future__ import annotations

import sys

from glm5_doctor.cli import main

sys.exit(main())
