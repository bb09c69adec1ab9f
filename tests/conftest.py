"""Test set-up shared by every test. Qt's is in tests/gui/conftest.py, so the engine,
surface, export and CLI tests import no Qt (docs/architecture.md#tests)."""

import pytest


@pytest.fixture(scope="session")
def qapp_cls():
    """pytest-qt makes the studio's own QApplication (it tells the simulation thread when the
    GUI thread sleeps, studio/gui/gui_priority.py); imported only by a test that asks for
    `qapp`."""
    from studio.gui.gui_priority import StudioApplication

    return StudioApplication
