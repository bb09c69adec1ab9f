"""Where the shipped data files are: a checkout, an installed wheel, or a PyInstaller bundle."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def asset_path(relative: str) -> Path:
    """The path of a file under `assets/` (e.g. `scenes/default.json`, `icon.png`)."""
    return Path(str(resources.files("studio.assets").joinpath(relative)))
