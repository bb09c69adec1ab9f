"""A seeded GUI monkey: random clicks, combos, spin boxes and sliders at their extremes,
typed formulas, shortcuts, drags on the views and resizes, on the real window.

It fails on any uncaught exception (pytest-qt turns one raised in a slot into a failure),
on anything written to stderr, on an event-loop block over 1 s, and on a window that grows
wider than the screen. A short run is part of the default suite; long runs over several
seeds are marked slow.
"""

from __future__ import annotations

import random
import time

import pytest
from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QColorDialog,
    QComboBox,
    QDialog,
    QFileDialog,
    QLineEdit,
    QMenu,
    QMessageBox,
    QToolButton,
    QWidget,
)

from qt_helpers import drag

FORMULAS = (
    "x^2 + y^2",
    "sin(x)*cos(y) + 0.1*(x^2 + y^2)",
    "log(x) + y^2",
    "exp(1000*x) + y^2",
    "x^",
    "tanh(hypot(log2(2.960155), sigmoid(0))) + x",
    "abs(x) + abs(y)",
    "(1 - x)^2 + 100*(y - x^2)^2",
    "z + x",
    "1/x + y",
    "sqrt(x) - y",
    "",
    "exp(exp(exp(exp(exp(exp(exp(exp(exp(exp(x))))))))))",
)
KEYS = (
    Qt.Key.Key_Space,
    Qt.Key.Key_Left,
    Qt.Key.Key_Right,
    Qt.Key.Key_Home,
    Qt.Key.Key_End,
    Qt.Key.Key_R,
    Qt.Key.Key_1,
    Qt.Key.Key_2,
    Qt.Key.Key_3,
)
BLOCK_LIMIT_S = 1.0


@pytest.fixture
def no_dialogs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every dialog a random click may open answers at once, as a user pressing Escape."""
    cancel = QMessageBox.StandardButton.Cancel
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: ("", "")))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: ("", "")))
    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *a, **k: a[0]))
    for name in ("warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(lambda *a, **k: cancel))
    monkeypatch.setattr(QDialog, "exec", lambda self: 0)
    monkeypatch.setattr(QMenu, "exec", lambda self, *a: None)


def _visible(window: QWidget, kind: type) -> list:
    return [w for w in window.findChildren(kind) if w.isVisible() and w.isEnabled()]


def _act(qtbot, window, rng: random.Random) -> str:
    """One random action; returns what it did (for the failure message)."""
    session = window.session
    roll = rng.random()
    if roll < 0.14:
        buttons = [b for b in _visible(window, QAbstractButton)]
        if buttons:
            button = rng.choice(buttons)
            name = button.text() or button.toolTip() or type(button).__name__
            menu = button.menu() if isinstance(button, QToolButton) else None
            if menu is not None:
                # A click opens the menu in a nested event loop that only a person closes:
                # pick one of its items, as the person would.
                items = [a for a in menu.actions() if a.isEnabled() and not a.isSeparator()]
                if items:
                    item = rng.choice(items)
                    item.trigger()
                    return f"menu {name} -> {item.text()}"
                return f"menu {name} (empty)"
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
            return f"click {name}"
    elif roll < 0.26:
        combos = _visible(window, QComboBox)
        if combos:
            combo = rng.choice(combos)
            if combo.count():
                combo.setCurrentIndex(rng.randrange(combo.count()))
                combo.activated.emit(combo.currentIndex())
                return f"combo {combo.objectName()} -> {combo.currentText()}"
    elif roll < 0.40:
        spins = _visible(window, QAbstractSpinBox)
        if spins:
            spin = rng.choice(spins)
            edit = spin.findChild(QLineEdit)
            text = rng.choice(
                (
                    "0",
                    "-1",
                    "1e-6",
                    "20",
                    "1e6",
                    "-1e6",
                    "99999999",
                    "abc",
                    str(round(rng.uniform(-5, 5), 3)),
                )
            )
            spin.setFocus()
            if edit is not None:
                edit.selectAll()
            qtbot.keyClicks(spin, text)
            qtbot.keyClick(spin, Qt.Key.Key_Return)
            return f"spin {spin.objectName() or type(spin).__name__} <- {text}"
    elif roll < 0.50:
        sliders = _visible(window, QAbstractSlider)
        if sliders:
            slider = rng.choice(sliders)
            value = rng.choice(
                (
                    slider.minimum(),
                    slider.maximum(),
                    rng.randint(slider.minimum(), slider.maximum()),
                )
            )
            slider.setSliderDown(True)
            slider.setValue(value)
            slider.setSliderDown(False)
            return f"slider {type(slider).__name__} -> {value}"
    elif roll < 0.60:
        edit = window.surface_editor.expression_edit
        formula = rng.choice(FORMULAS)
        edit.setFocus()
        edit.selectAll()
        qtbot.keyClicks(edit, formula)
        qtbot.keyClick(edit, Qt.Key.Key_Return)
        return f"formula {formula!r}"
    elif roll < 0.72:
        key = rng.choice(KEYS)
        qtbot.keyClick(window.view3d, key)
        return f"key {key}"
    elif roll < 0.82:
        targets = [window.contour.viewport(), window.view3d, window.loss.loss_plot.viewport()]
        target = rng.choice(targets)
        w, h = max(2, target.width()), max(2, target.height())
        drag(target, (rng.randrange(w), rng.randrange(h)), (rng.randrange(w), rng.randrange(h)))
        return f"drag on {type(target).__name__}"
    elif roll < 0.88:
        size = (rng.randint(700, 1600), rng.randint(500, 1000))
        window.resize(*size)
        return f"resize {size}"
    elif roll < 0.94:
        (session.undo_stack.undo if rng.random() < 0.6 else session.undo_stack.redo)()
        return "undo/redo"
    target = window.contour.viewport()
    pos = QPoint(rng.randrange(max(1, target.width())), rng.randrange(max(1, target.height())))
    qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=pos)
    return "click on map"


def _monkey(qtbot, window, capfd: pytest.CaptureFixture[str], seed: int, actions: int) -> None:
    rng = random.Random(seed)
    screen_width = QApplication.primaryScreen().availableGeometry().width()
    capfd.readouterr()
    done: list[str] = []
    for _ in range(actions):
        start = time.perf_counter()
        done.append(_act(qtbot, window, rng))
        qtbot.wait(rng.choice((1, 5, 30)))
        took = time.perf_counter() - start
        assert took < BLOCK_LIMIT_S, f"event loop blocked {took:.2f} s after {done[-3:]}"
        assert window.width() <= screen_width, f"window {window.width()} px after {done[-3:]}"
    window.session.pause()
    assert window.session.wait_for_simulation()
    qtbot.wait(50)
    err = capfd.readouterr().err
    assert err == "", f"stderr after {len(done)} actions: {err[:2000]}"


def test_monkey_short(qtbot, window, no_dialogs, capfd) -> None:
    _monkey(qtbot, window, capfd, seed=4, actions=300)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_monkey_long(qtbot, window, no_dialogs, capfd, seed: int) -> None:
    _monkey(qtbot, window, capfd, seed=seed, actions=1000)
