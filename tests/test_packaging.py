"""Every package under studio/ and every folder of assets/ is listed in pyproject.toml, so
`pip install .` ships it, and installing prints no packaging warning."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def listed_packages() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(config["tool"]["setuptools"]["packages"])


def test_every_package_is_listed_in_pyproject() -> None:
    found = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "studio").rglob("__init__.py")
    }
    assert found - listed_packages() == set(), "add these to [tool.setuptools] packages"


def test_assets_and_their_data_folders_are_packages_of_studio() -> None:
    folders = {
        "studio." + ".".join(("assets", *d.relative_to(ROOT / "assets").parts))
        for d in [ROOT / "assets", *(ROOT / "assets").rglob("*")]
        if d.is_dir() and d.name != "__pycache__"
    }
    assert folders - listed_packages() == set(), "add these to [tool.setuptools] packages"


@pytest.mark.slow
def test_building_the_wheel_prints_no_packaging_warning(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    log = out.stdout + out.stderr
    assert "absent from the `packages` configuration" not in log
    assert "_Warning" not in log and "SetuptoolsDeprecationWarning" not in log
