"""Editors for one hyperparameter, built from the engine registry's metadata.

A `HyperEditor` reads a `HyperInfo`-like object (key, label, default, lo, hi, log, kind,
choices, help) and shows the matching control: a spin box for numbers (plus a log-scale slider for
keys the registry marks `log`, such as the learning rate), a combo box for choices. It emits
`valueChanged(key, value)` only for user edits; `set_value` is silent, so the panel can
push the model's values in without echoing them back as new edits. Forms show the registry's
human label ("noise γ"); every control's tooltip leads with the raw key (`noise_gamma`), the
name scene files and the command line use.

The spin boxes take any number a scene file or the command line could hold (the registry's
`lo`..`hi` only spans the slider): whether a value is allowed is the engine's rule, checked
by whoever applies it, and a refusal is shown next to the field (`show_error`) instead of
the spin box clamping or reverting what was typed.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from typing import Any

from PyQt6.QtCore import QSignalBlocker, Qt, pyqtSignal
from PyQt6.QtGui import QValidator
from PyQt6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

INT_LIMIT = 2**31 - 1  # QSpinBox holds a C int
FLOAT_LIMIT = sys.float_info.max  # any finite number, as a scene file or the CLI may hold
# QDoubleSpinBox rounds every value to `decimals` places: this many keeps the smallest
# double (a learning rate of 1e-20 stays 1e-20, not 0). Qt's own ceiling for `decimals`.
SPIN_DECIMALS = 323
SLIDER_STEPS = 1000
ERROR_STYLE = "color: #d62728;"


def round_sig(value: float, digits: int = 3) -> float:
    """`value` to `digits` significant digits: slider and log steps land on readable numbers."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def compact_combo(parent: QWidget) -> QComboBox:
    """A combo box that does not widen its dock to its longest item (the popup still shows it)."""
    combo = QComboBox(parent)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)
    return combo


def hyper_label(info: Any) -> str:
    """What a form calls a hyperparameter: the registry's label ("max delay"), else its key."""
    return str(getattr(info, "label", "") or info.key)


def hyper_tooltip(info: Any) -> str:
    """The key as files and the command line spell it, then what it does: "T0 — T_0: ..."."""
    help_text = str(getattr(info, "help", "") or "")
    return f"{info.key} — {help_text}" if help_text else str(info.key)


def format_number(value: float) -> str:
    """Short text for any magnitude: 0.001, 1e-08, 100, 0.9."""
    return f"{value:.6g}"


class NumberSpinBox(QDoubleSpinBox):
    """A double spin box that reads and writes `%g` text (1e-08 and 100 alike).

    QDoubleSpinBox's fixed `decimals` either hides a 1e-8 epsilon or pads 100 with zeros;
    this one keeps many decimals internally and formats like a calculator. With `log=True`
    the arrows and the wheel multiply by 10^0.1 per step instead of adding, which is how
    people explore learning rates.
    """

    def __init__(
        self, lo: float, hi: float, *, log: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._log = log
        self.setDecimals(SPIN_DECIMALS)
        self.setRange(lo, hi)
        self.setKeyboardTracking(False)  # commit on Enter/focus-out, not per keystroke
        self.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.setAccelerated(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def textFromValue(self, value: float) -> str:
        return format_number(value)

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str | None, pos: int) -> tuple[QValidator.State, str, int]:
        text = text or ""
        stripped = text.strip().lower()
        if stripped in ("", "-", "+", ".", "-.", "+.") or stripped.endswith(("e", "e-", "e+")):
            return QValidator.State.Intermediate, text, pos
        try:
            value = float(stripped)
        except ValueError:
            return QValidator.State.Invalid, text, pos
        if not math.isfinite(value):
            return QValidator.State.Invalid, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def stepBy(self, steps: int) -> None:
        value = self.value()
        if self._log and value > 0:
            self.setValue(round_sig(value * 10 ** (0.1 * steps)))
        else:
            super().stepBy(steps)


class IntSpinBox(QSpinBox):
    """A spin box over every C int that can name 0 (`zero_text`, e.g. "all rows").

    QSpinBox's special-value text only names the minimum, which here is far below any
    allowed value: the range is left open so the engine, not the box, refuses a value.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.zero_text = ""
        self.setRange(-INT_LIMIT, INT_LIMIT)
        self.setKeyboardTracking(False)
        self.setAccelerated(True)

    def textFromValue(self, value: int) -> str:
        return self.zero_text if value == 0 and self.zero_text else super().textFromValue(value)

    def valueFromText(self, text: str | None) -> int:
        if self.zero_text and (text or "").strip() == self.zero_text:
            return 0
        return super().valueFromText(text)

    def validate(self, text: str | None, pos: int) -> tuple[QValidator.State, str, int]:
        text = text or ""
        if self.zero_text:
            if text.strip() == self.zero_text:
                return QValidator.State.Acceptable, text, pos
            if self.zero_text.startswith(text.strip()) and text.strip():
                return QValidator.State.Intermediate, text, pos
        return super().validate(text, pos)


class LogSlider(QSlider):
    """A horizontal slider over log10(value) between `lo` and `hi` (both > 0)."""

    logValueChanged = pyqtSignal(float)

    def __init__(self, lo: float, hi: float, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._a, self._b = math.log10(lo), math.log10(hi)
        self.setRange(0, SLIDER_STEPS)
        self.setMinimumWidth(80)
        self.valueChanged.connect(
            lambda pos: self.logValueChanged.emit(round_sig(self.value_at(pos)))
        )

    def value_at(self, pos: int) -> float:
        return 10 ** (self._a + (self._b - self._a) * pos / SLIDER_STEPS)

    def position_of(self, value: float) -> int:
        if value <= 0:
            return 0
        frac = (math.log10(value) - self._a) / (self._b - self._a)
        return max(0, min(SLIDER_STEPS, round(frac * SLIDER_STEPS)))

    def set_log_value(self, value: float) -> None:
        with QSignalBlocker(self):
            self.setValue(self.position_of(value))


def error_label(parent: QWidget) -> QLabel:
    """A red, wrapping, selectable one-line reason, hidden until it has text."""
    label = QLabel(parent)
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


class HyperEditor(QWidget):
    """One hyperparameter's control; `valueChanged(key, value)` on user edits only,
    `committed(key)` when an edit is finished (Enter, focus out, slider released)."""

    valueChanged = pyqtSignal(str, object)
    committed = pyqtSignal(str)

    def __init__(
        self, info: Any, parent: QWidget | None = None, *, titles: Mapping[str, str] | None = None
    ) -> None:
        """`titles`: display text for choices (schedule names → "Step decay")."""
        super().__init__(parent)
        self.key: str = info.key
        self.kind: str = getattr(info, "kind", "float")
        self.default: Any = getattr(info, "default", None)
        self.spin: NumberSpinBox | IntSpinBox | None = None
        self.slider: LogSlider | None = None
        self.combo: QComboBox | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        layout = QHBoxLayout()
        layout.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(layout)
        self.error_label = error_label(self)
        outer.addWidget(self.error_label)
        tip = hyper_tooltip(info)
        self.setToolTip(tip)

        if self.kind == "choice":
            self.combo = compact_combo(self)
            for choice in getattr(info, "choices", ()) or ():
                self.combo.addItem((titles or {}).get(choice, str(choice)), choice)
            self.combo.currentIndexChanged.connect(self._on_combo)
            self.combo.setToolTip(tip)
            layout.addWidget(self.combo)
        elif self.kind == "int":
            spin = IntSpinBox(self)
            spin.valueChanged.connect(lambda v: self.valueChanged.emit(self.key, int(v)))
            spin.editingFinished.connect(lambda: self.committed.emit(self.key))
            spin.setToolTip(tip)
            self.spin = spin
            layout.addWidget(spin)
        else:
            log = bool(getattr(info, "log", False))
            fspin = NumberSpinBox(-FLOAT_LIMIT, FLOAT_LIMIT, log=log, parent=self)
            fspin.valueChanged.connect(self._on_spin)
            fspin.editingFinished.connect(lambda: self.committed.emit(self.key))
            fspin.setToolTip(
                f"{tip}\nType any number; arrows and the wheel step ×10^0.1" if log else tip
            )
            self.spin = fspin
            if log:
                # The slider spans the registry's widget range; a log scale needs a positive
                # lower end, so a zero one becomes eight decades below the top.
                w_hi = float(getattr(info, "hi", 1.0) or 1.0)
                w_lo = float(getattr(info, "lo", 0.0) or 0.0)
                self.slider = LogSlider(w_lo if w_lo > 0 else w_hi * 1e-8, w_hi, self)
                self.slider.logValueChanged.connect(self._on_slider)
                self.slider.sliderReleased.connect(lambda: self.committed.emit(self.key))
                self.slider.setToolTip(
                    f"{tip}\nDrag: log scale from "
                    f"{format_number(self.slider.value_at(0))} to "
                    f"{format_number(w_hi)}"
                )
                layout.addWidget(self.slider, 3)
            layout.addWidget(fspin, 2)
        if self.default is not None:
            self.set_value(self.default)

    # ------------------------------------------------------------------ model → widget

    def show_error(self, text: str) -> None:
        """A reason next to the field ('' hides it): why the last edit was refused."""
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    @property
    def error_text(self) -> str:
        return self.error_label.text() if self.error_label.isVisibleTo(self) else ""

    def set_value(self, value: Any) -> None:
        """Show `value` without emitting `valueChanged`."""
        if self.combo is not None:
            index = self.combo.findData(value)
            if index < 0:
                index = self.combo.findText(str(value))
            if index >= 0 and index != self.combo.currentIndex():
                with QSignalBlocker(self.combo):
                    self.combo.setCurrentIndex(index)
            return
        assert self.spin is not None
        try:
            number = float(value)
        except (TypeError, ValueError):
            return
        # Only touch the box when the value differs: re-setting the same value would
        # reformat the text under a user who is typing into it.
        if self.spin.value() != number:
            self.show_error("")  # the field shows the model's value again, not a refused one
            with QSignalBlocker(self.spin):
                self.spin.setValue(int(number) if isinstance(self.spin, QSpinBox) else number)
        if self.slider is not None:
            self.slider.set_log_value(number)

    def value(self) -> Any:
        if self.combo is not None:
            return self.combo.currentData()
        assert self.spin is not None
        return self.spin.value()

    # ------------------------------------------------------------------ widget → model

    def _on_combo(self, index: int) -> None:
        if self.combo is not None and index >= 0:
            self.valueChanged.emit(self.key, self.combo.itemData(index))

    def _on_spin(self, value: float) -> None:
        if self.slider is not None:
            self.slider.set_log_value(value)
        self.valueChanged.emit(self.key, float(value))

    def _on_slider(self, value: float) -> None:
        assert self.spin is not None
        value = max(self.spin.minimum(), min(self.spin.maximum(), value))
        with QSignalBlocker(self.spin):
            self.spin.setValue(value)
        self.valueChanged.emit(self.key, float(value))
