"""Generated, not mirrored: the README's check catalog and built-in areas come from the registry."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
from glm5_doctor.engine.registry import load_registry

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "generate_docs.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


generate_docs = load_script()


def test_generated_files_are_up_to_date() -> None:
    stale = generate_docs.stale_files()
    assert not stale, f"{', '.join(stale)} out of date with the code: run python scripts/generate_docs.py"


def test_catalog_block_lists_every_area_and_check_with_its_fix() -> None:
    registry = load_registry(autoload_plugins=False)
    block = generate_docs.render_catalog(registry)
    areas = list(dict.fromkeys(item.area for item in registry.checks))
    assert f"in {len(areas)} areas" in block
    assert all(f"`{area}` (" in block for area in areas)
    rows = [line for line in block.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [item.id for item in registry.checks], "catalog order"
    for row, item in zip(rows, registry.checks, strict=True):
        assert row.endswith(f"| `{item.fix_script}` |" if item.fix_script else "| - |"), row


@pytest.fixture
def copy_root(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    return tmp_path


def test_check_mode_names_the_stale_file_and_rewriting_fixes_it(
    copy_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = copy_root / "README.md"
    readme.write_text(readme.read_text().replace("| `gpu.mig` |", "| `gpu.mig-typo` |"))
    assert generate_docs.main(["--check"], root=copy_root) == 1
    message = capsys.readouterr().err
    assert message.count("\n") == 1 and "README.md" in message and "python scripts/generate_docs.py" in message
    assert generate_docs.main([], root=copy_root) == 0
    assert "| `gpu.mig` |" in readme.read_text() and "gpu.mig-typo" not in readme.read_text()
    assert generate_docs.main(["--check"], root=copy_root) == 0


def test_text_outside_the_markers_is_left_alone(copy_root: Path) -> None:
    readme = copy_root / "README.md"
    readme.write_text(readme.read_text() + "\nHand-written tail.\n")
    assert generate_docs.main([], root=copy_root) == 0
    assert readme.read_text().endswith("\nHand-written tail.\n")


def test_missing_markers_are_a_usage_error(copy_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = copy_root / "README.md"
    readme.write_text(readme.read_text().replace("<!-- END GENERATED: check catalog -->", ""))
    assert generate_docs.main(["--check"], root=copy_root) == 2
    assert "END GENERATED: check catalog" in capsys.readouterr().err
