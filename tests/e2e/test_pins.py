"""Version windows, read from real vLLM pins."""

from __future__ import annotations

import pytest
from glm5_doctor.checks._pins import combine, simplest_window
from packaging.specifiers import SpecifierSet
from packaging.version import Version


@pytest.mark.parametrize(
    ("pin", "floor", "text"),
    [
        ("!=5.0.*,!=5.1.*,!=5.2.*,!=5.3.*,!=5.4.*,!=5.5.0,>=4.56.0", "5.5.1", ">=5.5.1"),  # vLLM 0.19.1
        ("<5.21.0,>=5.16.1", "5.16.1", ">=5.16.1,<5.21.0"),  # vLLM 0.33.0
        (">=5.10.4", "5.10.4", ">=5.10.4"),  # vLLM 0.29.0
        ("<5,>=4.56.0", "5.2.0", ">=5.2.0,<5"),  # vLLM 0.16.0: empty, the caller sees <5 excludes the floor
        ("", "5.2.0", ">=5.2.0"),
        ("!=5.3.0,>=4.0", "5.2.0", ">=5.2.0,!=5.3.0"),
    ],
)
def test_glm5_window_from_real_pins(pin: str, floor: str, text: str) -> None:
    window = combine(SpecifierSet(pin), SpecifierSet(">=5.2.0"))
    found_floor, found_text = simplest_window(window)
    assert found_floor == Version(floor)
    assert found_text == text
    # The readable form admits the same releases as the original intersection.
    for candidate in ("5.2.0", "5.4.9", "5.5.0", "5.5.1", "5.10.4", "5.16.1", "5.20.9", "5.21.0", "6.0.0"):
        assert SpecifierSet(found_text).contains(candidate) == window.contains(candidate), candidate
