"""`studio render`'s start-up path (docs/architecture.md#start-up): a preset renders without
sympy, and a 3D render loads neither the other views nor matplotlib. What it costs is
measured by `studio bench --only export`, never asserted here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _imported(stderr: str) -> set[str]:
    """The modules `python -X importtime` reported."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_a_preset_renders_without_sympy_or_other_views(tmp_path: Path) -> None:
    out = tmp_path / "s.png"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "studio", "render"]
        + ["--surface", "rosenbrock", "--optimizer", "adam", "--steps", "20", "-q", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=os.environ.copy(),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    modules = _imported(done.stderr)
    assert "studio.gui.views.view3d" in modules  # the measurement saw the render
    for absent in (
        "sympy",
        "mpmath",
        "matplotlib",
        "studio.surface.parser",
        "studio.gui.views.loss_plot",
        "studio.gui.views.contour",
        "studio.gui.main_window",
    ):
        assert absent not in modules, absent
