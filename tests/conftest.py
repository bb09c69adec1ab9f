"""Test set-up shared by every test. Qt's is in tests/gui/conftest.py, so the engine,
surface, export and CLI tests import no Qt (docs/architecture.md#tests).

The compiled-formula disk cache (docs/architecture.md#start-up) goes to a folder of this
session's own, inherited by every `studio` subprocess: tests that count compiles start
cold, and a developer's own cache is neither read nor written."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_CACHE = tempfile.mkdtemp(prefix="studio-test-cache-")
os.environ["STUDIO_CACHE_DIR"] = _CACHE


def pytest_unconfigure() -> None:
    shutil.rmtree(_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def qapp_cls():
    """pytest-qt makes the studio's own QApplication (it tells the simulation thread when the
    GUI thread sleeps, studio/gui/gui_priority.py), with the attributes the GL views need
    whichever test asks first (tests/gui/conftest.py is not loaded by a run of tests/cli
    alone); imported only by a test that asks for `qapp`."""
    from studio.gui.app import prepare_environment

    prepare_environment()
    from PyQt6.QtCore import Qt
    from PyQt6.QtWidgets import QApplication

    from studio.gui.gui_priority import StudioApplication

    QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    return StudioApplication
