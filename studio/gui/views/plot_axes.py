"""Plot axes that read right: no SI-prefix scale, log ticks at decades, whole steps.

pyqtgraph's AxisItem labels every minor tick of a log axis (labels pile up over two
decades) and rescales values with an SI prefix ("x1e+12") that mislabels a log axis.
`ValueAxis` and `StepAxis` replace those rules; `log_ticks` and `log_labels` are the pure
functions behind them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF
from PyQt6.QtGui import QFontMetricsF

MIN_LABEL_GAP_PX = 22.0  # between tick labels on a vertical axis (a label is ~14 px tall)
MAX_LABELS = 6  # labelled ticks on one vertical axis, at most
MIN_TICK_GAP_PX = 4.0  # between unlabelled minor ticks (denser is a grey smear)
STEP_LABEL_OVERFLOW_PX = 22  # a step label may reach this far past the plot's ends
# A value label may reach this far past the plot's top and bottom: half a label's height,
# so a decade tick right at either end keeps its label.
VALUE_LABEL_OVERFLOW_PX = 9
DECADE_STEPS = (1, 2, 3, 5)  # decades between labels; then 10, 20, 50, 100... as needed

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _decade_steps(span: int) -> Iterator[int]:
    """Decades between labels, 1, 2, 3, 5, 10, 20, 50, 100, ..., up to `span`."""
    yield from DECADE_STEPS
    scale = 10
    while scale <= span:
        yield from (scale, 2 * scale, 5 * scale)
        scale *= 10


def _mantissa_ticks(
    lo: float, hi: float, mantissas: Sequence[float] | None = None, step: float | None = None
) -> np.ndarray:
    """Log10 positions in [lo, hi] of m·10^e, for m in `mantissas` or on a grid of `step`."""
    out: list[np.ndarray] = []
    for e in range(math.floor(lo) - 1, math.ceil(hi) + 1):
        if mantissas is not None:
            m = np.asarray(mantissas, dtype=float)
        else:
            assert step is not None
            # Only the grid points inside [lo, hi]: a tiny span needs a fine step.
            k0 = max(round(1 / step), math.floor(10 ** (lo - e) / step))
            k1 = min(round(10 / step) - 1, math.ceil(10 ** (hi - e) / step))
            if k1 < k0:
                continue
            m = np.arange(k0, k1 + 1) * step
        pos = e + np.log10(m)
        out.append(pos[(pos >= lo - 1e-9) & (pos <= hi + 1e-9)])
    return np.unique(np.concatenate(out)) if out else np.zeros(0)


def _candidates(lo: float, hi: float) -> list[np.ndarray]:
    """Tick sets for a span of about a decade or less, sparse to dense."""
    mantissas = ((1,), (1, 3), (1, 2, 5), (1, 2, 3, 5), (1, 2, 4, 6, 8), range(1, 10))
    sets = [_mantissa_ticks(lo, hi, m) for m in mantissas]
    for step in (f * 10.0**k for k in range(-1, -13, -1) for f in (5, 2, 1)):  # 0.5, 0.2...
        ticks = _mantissa_ticks(lo, hi, step=step)
        sets.append(ticks)
        if ticks.size > 4 * MAX_LABELS:
            break
    return sets


def log_ticks(lo: float, hi: float, size_px: float) -> tuple[list[float], list[float]]:
    """(labelled, unlabelled) tick positions, in log10 units, for a log axis on [lo, hi].

    Spanning two decades or more: only decades are labelled (every k-th one if they would
    crowd), with 2..9 (or 2 and 5) as unlabelled minor ticks when there is room. Inside
    about a decade: the densest of 1; 1, 3; 1, 2, 5; ...; 1..9; then finer mantissa grids,
    whose labels stay `MIN_LABEL_GAP_PX` apart and number at most `MAX_LABELS`.
    """
    lo, hi = min(lo, hi), max(lo, hi)
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi - lo < 1e-12 or size_px <= 0:
        return [], []
    px = size_px / (hi - lo)  # pixels per decade
    max_labels = max(2, min(MAX_LABELS, int(size_px // MIN_LABEL_GAP_PX)))
    first, last = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)  # the decades in range
    if last > first:
        # Every k-th decade, the smallest k whose labels stay apart, but never fewer than
        # two labels: past that, the outermost two decades (a short axis over many decades,
        # or two decades on a very short one, where even they may touch). Counted, never
        # listed: a range of a million decades costs what a range of ten does.
        major = [float(first), float(last)]
        k = last - first
        for step in _decade_steps(last - first):
            i0, i1 = -(-first // step), last // step
            if i1 - i0 + 1 < 2:
                break
            if step * px >= MIN_LABEL_GAP_PX and i1 - i0 + 1 <= max_labels:
                major, k = [float(i * step) for i in range(i0, i1 + 1)], step
                break
        if k > 1:
            # Unlabelled decades, where they stay apart (so there are few of them).
            minor = (
                [float(d) for d in range(first, last + 1) if float(d) not in major]
                if px >= MIN_TICK_GAP_PX
                else []
            )
        else:
            # log10(10/9) ≈ 0.046 decade is the tightest gap between 2..9 ticks.
            mantissas = range(2, 10) if px * 0.046 >= MIN_TICK_GAP_PX else (2, 5)
            minor = _mantissa_ticks(lo, hi, mantissas).tolist() if px >= 4 * MIN_TICK_GAP_PX else []
        return major, minor

    sets = _candidates(lo, hi)

    def fits(ticks: np.ndarray, gap: float, most: int) -> bool:
        return 2 <= ticks.size <= most and bool(np.all(np.diff(ticks) * px >= gap))

    chosen = None
    for i, ticks in enumerate(sets):
        if fits(ticks, MIN_LABEL_GAP_PX, max_labels):
            chosen = i
    if chosen is None:  # nothing fits: the sparsest set with two labels at least
        chosen = next((i for i, t in enumerate(sets) if t.size >= 2), len(sets) - 1)
    major = sets[chosen]
    minor: list[float] = []
    for ticks in sets[chosen + 1 :]:
        if ticks.size > major.size and fits(ticks, MIN_TICK_GAP_PX, 10**6):
            minor = [float(v) for v in ticks if np.min(np.abs(major - v)) > 1e-9]
            break
    return major.tolist(), minor


def _digits(mantissas: np.ndarray) -> int:
    """Significant digits that write every mantissa exactly (to 1e-6) and distinctly."""
    for p in range(1, 10):
        text = [f"{m:.{p}g}" for m in mantissas]
        if len(set(text)) == len(text) and all(
            abs(float(t) - m) <= 1e-6 * abs(m) for t, m in zip(text, mantissas, strict=False)
        ):
            return p
    return 10


def log_labels(exponents: Sequence[float]) -> list[str]:
    """Labels for ticks at log10 positions, written one way for the whole axis.

    Values from 0.001 to 9999 read as plain decimals ("0.01", "20"); an axis with any
    value outside that reads 10ⁿ throughout ("10⁻⁵", "2×10⁻⁵", "10⁰").
    """
    if len(exponents) == 0:
        return []
    exps = np.asarray(exponents, dtype=float)
    if np.all((exps >= -3 - 1e-9) & (exps < 4)):
        values = 10.0**exps
        p = _digits(values)
        # Fixed-point with p significant digits ("%g" would write 10 as "1e+01").
        return [f"{v:.{max(0, p - 1 - math.floor(math.log10(v) + 1e-9))}f}" for v in values]
    e = np.floor(exps + 1e-9)
    mantissas = 10.0 ** (exps - e)
    p = _digits(mantissas)
    out = []
    for m, k in zip(mantissas, e, strict=False):
        power = "10" + str(int(k)).translate(_SUPERSCRIPT)
        text = f"{m:.{p}g}"
        out.append(power if text == "1" else f"{text}×{power}")
    return out


class ValueAxis(pg.AxisItem):
    """Left axis: no SI scale in the label, readable log ticks, width shared with a partner.

    Data on a log axis is already log10 (the view transforms it), so tick values here are
    exponents. The two plots share the step axis; their left axes keep one width, so the
    frame cursor and the steps line up between the plots.
    """

    def __init__(self) -> None:
        super().__init__("left")
        self.enableAutoSIPrefix(False)
        self.group: list[ValueAxis] = [self]
        self._needed = 0

    def tickValues(
        self, minVal: float, maxVal: float, size: float
    ) -> list[tuple[float | None, list[float]]]:
        if not self.logMode:
            return super().tickValues(minVal, maxVal, size)
        major, minor = log_ticks(minVal, maxVal, size)
        # log_ticks keeps a tick within 1e-9 decade past an end (rounding of the range);
        # pyqtgraph drops any tick outside the range, label and all, so such a tick is
        # moved onto the end (its label is the same: log_labels rounds it).
        lo, hi = min(minVal, maxVal), max(minVal, maxVal)
        major = [min(max(v, lo), hi) for v in major]
        minor = [min(max(v, lo), hi) for v in minor]
        # None marks the unlabelled level (tickStrings returns no text for it).
        return [(1.0, major), (None, minor)]

    def tickStrings(self, values: list[float], scale: float, spacing: float | None) -> list[str]:
        if not self.logMode:
            return super().tickStrings(values, scale, spacing)
        return [] if spacing is None else log_labels(values)

    def boundingRect(self) -> QRectF:
        # pyqtgraph draws a label only inside this rect; with the grid on it is the axis
        # plus the view, so a label centred on a tick at the very top or bottom (a decade
        # at the end of the range) was dropped, sometimes leaving one label on the axis.
        m = VALUE_LABEL_OVERFLOW_PX
        return super().boundingRect().adjusted(0, -m, 0, m)

    def _updateMaxTextSize(self, x: int) -> None:
        # Same rule as pyqtgraph (grow at once, shrink by 10 px or more), over the group.
        self._needed = x
        needed = max(axis._needed for axis in self.group)
        if needed > self.textWidth or needed < self.textWidth - 10:
            for axis in self.group:
                axis.textWidth = needed
                axis._updateWidth()


class StepAxis(pg.AxisItem):
    """Bottom axis: whole steps only, the last step labelled, labels allowed past the ends."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self.enableAutoSIPrefix(False)
        # An int lets a label at either end reach that far out of the axis (a bool would
        # hide any label that crosses the axis' own ends, which is why 0 and the last step
        # went missing).
        self.setStyle(hideOverlappingLabels=STEP_LABEL_OVERFLOW_PX)
        self.last_step: int | None = None

    def tickValues(
        self, minVal: float, maxVal: float, size: float
    ) -> list[tuple[float | None, list[float]]]:
        levels = [(s, v) for s, v in super().tickValues(minVal, maxVal, size) if s >= 1]
        if not levels:  # zoomed in past single steps
            levels = [(1.0, [float(i) for i in range(math.ceil(minVal), math.floor(maxVal) + 1)])]
        end = self.last_step
        if end is None or not minVal <= end <= maxVal or size <= 0:
            return levels
        # The last step becomes a labelled tick; any tick whose label would touch its label
        # keeps its tick mark but loses its label (the None level is drawn unlabelled).
        px_per_step = size / max(maxVal - minVal, 1e-9)
        font = self.style["tickFont"] or self.font()
        room = QFontMetricsF(font).horizontalAdvance(f"{end:d}") + 12.0
        out: list[tuple[float | None, list[float]]] = []
        unlabelled: list[float] = []
        for spacing, values in levels:
            keep = []
            for v in values:
                gap = abs(v - end) * px_per_step
                if gap < room:
                    if abs(v - end) > 1e-6:
                        unlabelled.append(v)
                else:
                    keep.append(v)
            out.append((spacing, keep))
        out[0] = (out[0][0], sorted(out[0][1] + [float(end)]))
        return out + [(None, unlabelled)]

    def tickStrings(self, values: list[float], scale: float, spacing: float | None) -> list[str]:
        return [] if spacing is None else [f"{round(v):d}" for v in values]

    def boundingRect(self) -> QRectF:
        # With the grid on, pyqtgraph's rect is the axis plus the view, ignoring the
        # overflow allowance; labels are only drawn inside this rect.
        m = STEP_LABEL_OVERFLOW_PX
        return super().boundingRect().adjusted(-m, 0, m, 0)
