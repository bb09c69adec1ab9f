"""GUI fixtures: an isolated QSettings store, a small scene file, a ready main window.

Qt's set-up lives here, not in tests/conftest.py, so tests outside tests/gui load no Qt:
the attributes that must precede the QApplication (pytest-qt makes it on first use).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.gui.app import prepare_environment

prepare_environment()  # before Qt and PyOpenGL read the environment at import

from PyQt6.QtCore import QSettings, Qt  # noqa: E402
from PyQt6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from qt_helpers import shown  # noqa: E402

# pyqtgraph caches compiled shaders globally: every GL widget must share one context group.
QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

SCENE = {
    "version": 1,
    "title": "",
    "steps": 120,
    "seed": 0,
    "surface": {
        "preset": "rosenbrock",
        "expression": "",
        "params": {},
        "domain": None,
        "height": "auto",
    },
    "runs": [
        {
            "optimizer": "adam",
            "label": "Adam",
            "color": "#e69f00",
            "hyper": {"lr": 0.05},
            "starts": [[-1.5, 2.0]],
        },
        {
            "optimizer": "momentum",
            "label": "Momentum",
            "color": "#56b4e9",
            "hyper": {"lr": 0.0005},
            "starts": [[1.5, -0.5]],
        },
    ],
}


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Window state, theme and recent files go to a temporary store, never ~/.config."""
    where = str(tmp_path_factory.mktemp("settings"))
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, where)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, where)


@pytest.fixture
def scene_file(tmp_path: Path) -> Path:
    path = tmp_path / "scene.json"
    path.write_text(json.dumps(SCENE), encoding="utf-8")
    return path


@pytest.fixture
def window(qtbot, scene_file: Path, monkeypatch: pytest.MonkeyPatch):
    from studio.gui.main_window import MainWindow

    # Never block on the unsaved-changes prompt: discard.
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Discard)
    )
    w = shown(qtbot, MainWindow(scene_file, restore=False, autoplay=False), (1280, 800))
    assert w.session.wait_for_simulation()
    yield w
    w.session.pause()
    w.session.undo_stack.setClean()


@pytest.fixture
def editor(qtbot, session):
    """A shown Surface panel on the test file's own `session` fixture."""
    from studio.gui.panels.surface_editor import SurfaceEditor

    widget = SurfaceEditor(session)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget
