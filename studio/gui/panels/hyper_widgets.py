"""Editors for one hyperparameter, built from the engine registry's metadata.

A `HyperEditor` reads a `HyperInfo`-like object (key, default, lo, hi, log, kind, choices,
help) and shows the matching control: a spin box for numbers (plus a log-scale slider for
keys the registry marks `log`, such as the learning rate), a combo box for choices. It emits
`valueChanged(key, value)` only for user edits; `set_value` is silent, so the panel can
push the model's values in without echoing them back as new edits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from PyQt6.QtCore import QSignalBlocker, Qt, pyqtSignal
from PyQt6.QtGui import QValidator
from PyQt6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QWidget,
)

INT_LIMIT = 2**31 - 1  # QSpinBox holds a C int
FLOAT_LIMIT = 1e9  # a "sane" bound for keys the registry leaves open-ended
SLIDER_STEPS = 1000


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

    def __init__(self, lo: float, hi: float, *, log: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._log = log
        self.setDecimals(18)
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


class LogSlider(QSlider):
    """A horizontal slider over log10(value) between `lo` and `hi` (both > 0)."""

    logValueChanged = pyqtSignal(float)

    def __init__(self, lo: float, hi: float, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._a, self._b = math.log10(lo), math.log10(hi)
        self.setRange(0, SLIDER_STEPS)
        self.setMinimumWidth(80)
        self.valueChanged.connect(
            lambda pos: self.logValueChanged.emit(round_sig(self.value_at(pos))))

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


def _bounds(info: Any, integer: bool) -> tuple[float, float]:
    """The spin box range: the validator's closed hard limits, else the registry's widget range.

    An open limit (lr > 0, beta1 < 1) cannot be typed exactly, so that side uses the widget
    range (`lo`/`hi`), which the registry keeps inside the open limit.
    """
    limit = INT_LIMIT if integer else FLOAT_LIMIT
    lo, hi = getattr(info, "lo", None), getattr(info, "hi", None)
    minimum, maximum = getattr(info, "minimum", None), getattr(info, "maximum", None)
    if minimum is not None and not getattr(info, "min_open", False):
        lo = minimum
    if maximum is not None and not getattr(info, "max_open", False):
        hi = maximum
    lo = -limit if lo is None or not math.isfinite(lo) else max(-limit, lo)
    hi = limit if hi is None or not math.isfinite(hi) else min(limit, hi)
    return lo, hi


class HyperEditor(QWidget):
    """One hyperparameter's control; `valueChanged(key, value)` on user edits only."""

    valueChanged = pyqtSignal(str, object)

    def __init__(self, info: Any, parent: QWidget | None = None, *,
                 titles: Mapping[str, str] | None = None) -> None:
        """`titles`: display text for choices (schedule names → "Step decay")."""
        super().__init__(parent)
        self.key: str = info.key
        self.kind: str = getattr(info, "kind", "float")
        self.default: Any = getattr(info, "default", None)
        self.spin: QDoubleSpinBox | QSpinBox | None = None
        self.slider: LogSlider | None = None
        self.combo: QComboBox | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        help_text = getattr(info, "help", "") or ""
        if help_text:
            self.setToolTip(help_text)

        if self.kind == "choice":
            self.combo = compact_combo(self)
            for choice in getattr(info, "choices", ()) or ():
                self.combo.addItem((titles or {}).get(choice, str(choice)), choice)
            self.combo.currentIndexChanged.connect(self._on_combo)
            layout.addWidget(self.combo)
        elif self.kind == "int":
            lo, hi = _bounds(info, integer=True)
            spin = QSpinBox(self)
            spin.setRange(math.ceil(lo), math.floor(hi))
            spin.setKeyboardTracking(False)
            spin.setAccelerated(True)
            spin.valueChanged.connect(lambda v: self.valueChanged.emit(self.key, int(v)))
            self.spin = spin
            layout.addWidget(spin)
        else:
            lo, hi = _bounds(info, integer=False)
            log = bool(getattr(info, "log", False))
            fspin = NumberSpinBox(lo, hi, log=log, parent=self)
            fspin.valueChanged.connect(self._on_spin)
            self.spin = fspin
            if log:
                # The slider spans the registry's widget range; a log scale needs a positive
                # lower end, so a zero one becomes eight decades below the top.
                w_lo = float(getattr(info, "lo", lo) or 0.0)
                w_hi = float(getattr(info, "hi", hi) or hi)
                self.slider = LogSlider(w_lo if w_lo > 0 else w_hi * 1e-8, w_hi, self)
                self.slider.logValueChanged.connect(self._on_slider)
                layout.addWidget(self.slider, 3)
            layout.addWidget(fspin, 2)
        if self.default is not None:
            self.set_value(self.default)

    # ------------------------------------------------------------------ model → widget

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
        # A valid value from a scene file may lie outside the widget's sane range: widen
        # the range rather than show a clamped number that is not the model's.
        if number < self.spin.minimum():
            self.spin.setMinimum(int(number) if isinstance(self.spin, QSpinBox) else number)
        if number > self.spin.maximum():
            self.spin.setMaximum(int(number) if isinstance(self.spin, QSpinBox) else number)
        # Only touch the box when the value differs: re-setting the same value would
        # reformat the text under a user who is typing into it.
        if self.spin.value() != number:
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
