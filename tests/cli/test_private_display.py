"""A private Xvfb outlives the block that started it once Qt has connected to it: stopping
the server under Qt made Xlib print "The X11 connection broke" and exit 1 (after
`studio bench`'s tables; in a notebook, at the second `studio.render`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

SCRIPT = """
import studio
race = studio.make_scene(
    studio.make_surface("0.1*x^2 + 2*y^2", domain=(-7, 7, -7, 7)),
    studio.run("adam", lr=0.4),
    start=(-6, -3),
    steps=20,
)
studio.render(race, "first.png", view="3d", size=(160, 90))
studio.render(race, "second.png", view="3d", size=(160, 90))
print("both rendered")
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("Xvfb") is None,
    reason="needs Xvfb (Linux)",
)
def test_two_renders_in_one_process_without_a_display(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "both rendered"
    assert "X11" not in proc.stderr and "XIO" not in proc.stderr
    assert (tmp_path / "first.png").exists() and (tmp_path / "second.png").exists()
