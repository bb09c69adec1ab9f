"""Shared test set-up: Qt attributes that must precede the QApplication (docs/architecture.md#tests)."""

from __future__ import annotations

from studio.gui.app import prepare_environment

prepare_environment()

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication

# pyqtgraph caches compiled shaders globally: every GL widget must share one context group.
QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
