"""The QApplication outlives its callers (a second one would orphan pyqtgraph's shaders)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import gc
from studio.gui.app import get_app
from PyQt6.QtWidgets import QApplication
get_app()
gc.collect()
assert QApplication.instance() is not None, "the QApplication was deleted"
app = get_app()
assert app.windowIcon().availableSizes(), "no application icon"
print("ok")
"""


def test_get_app_keeps_one_application_with_the_icon() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False, timeout=60
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"
