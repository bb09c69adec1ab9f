"""Per-ball curves for the loss plots: decimated to the screen, log-transformed, ranged.

Long runs are decimated to what the screen can show: each bin of steps narrower than a
pixel column is drawn as its minimum and maximum, so the picture is the same as drawing
every step at a fraction of the cost. Pure NumPy (no Qt), so it is tested on its own.
"""

from __future__ import annotations

import numpy as np


def _bin_extremes(values: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin minimum and maximum over the time axis of (T+1, n) `values`, bins of `width`.

    fmin/fmax skip NaN (a bin is NaN only if all of it is) and never warn. Whole bins are
    reduced through a (bins, width, n) reshape, a view when rows are contiguous: about ten
    times faster than `ufunc.reduceat` along axis 0.
    """
    steps, n = values.shape
    whole = steps // width
    blocks = values[: whole * width].reshape(whole, width, n)
    lo, hi = np.fmin.reduce(blocks, axis=1), np.fmax.reduce(blocks, axis=1)
    if whole * width < steps:
        tail = values[whole * width :]
        lo = np.vstack([lo, np.fmin.reduce(tail, axis=0)])
        hi = np.vstack([hi, np.fmax.reduce(tail, axis=0)])
    return lo, hi


def _recut_stop_bins(
    pairs: np.ndarray, values: np.ndarray, stop: np.ndarray, diverged: np.ndarray, width: int
) -> None:
    """Redo, from the steps up to the stop only, the bin that holds each diverged ball's
    stop step (a bin straddling it must not show the meaningless values after it)."""
    balls = np.flatnonzero(diverged & (stop < values.shape[0] - 1))
    if balls.size == 0:
        return
    first = stop[balls] // width * width
    steps = first[:, None] + np.arange(width)[None, :]  # (k, width)
    inside = steps <= stop[balls, None]
    seg = values[np.minimum(steps, values.shape[0] - 1), balls[:, None]]
    seg = np.where(inside, seg, np.nan)
    lo, hi = np.fmin.reduce(seg, axis=1), np.fmax.reduce(seg, axis=1)
    falling = seg[:, 0] >= values[stop[balls], balls]
    b = first // width
    pairs[balls, b, 0] = np.where(falling, hi, lo)
    pairs[balls, b, 1] = np.where(falling, lo, hi)


def decimate(
    values: np.ndarray, stop: np.ndarray, diverged: np.ndarray, width: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(T+1, n) per-ball values → x, y joined ball after ball with a NaN between balls.

    `width` > 2 bins the steps `width` at a time and keeps each bin's minimum and maximum
    (in the order they are reached when the bin runs monotonically), placed at the bin's
    first and last step: with bins no wider than a pixel the line looks exactly like the
    full one. Bins are reduced along the time axis of the caller's array (often a view into
    the trajectory), so nothing of full size is copied or transposed.

    A diverged ball's values after `stop` are cut (NaN); in binned curves its line ends
    within one bin of the stop.
    """
    steps, n = values.shape
    if width <= 2 or steps <= 2:  # a bin of two keeps both points: nothing to gain
        xs = np.arange(steps, dtype=float)
        y = np.empty((n, steps + 1))
        y[:, :steps] = values.T
        if diverged.any():
            y[:, :steps][diverged[:, None] & (xs[None, :] > stop[:, None])] = np.nan
    else:
        starts = np.arange(0, steps, width)
        ends = np.minimum(starts + width - 1, steps - 1)
        lo, hi = _bin_extremes(values, width)
        falling = values[starts] >= values[ends]
        pairs = np.empty((n, len(starts), 2))
        pairs[:, :, 0] = np.where(falling, hi, lo).T
        pairs[:, :, 1] = np.where(falling, lo, hi).T
        if diverged.any():
            pairs[diverged[:, None] & (starts[None, :] > stop[:, None])] = np.nan
            _recut_stop_bins(pairs, values, stop, diverged, width)
        xs = np.column_stack([starts, ends]).astype(float).ravel()
        y = np.empty((n, xs.size + 1))
        y[:, :-1] = pairs.reshape(n, -1)
    y[:, -1] = np.nan
    return np.tile(np.append(xs, np.nan), n), y.ravel()


def has_nonpositive(y: np.ndarray) -> bool:
    """Whether `y` holds a finite value ≤ 0 (which a log axis cannot show)."""
    with np.errstate(invalid="ignore"):
        low = y <= 0
    return bool(np.any(low & np.isfinite(y)))


def to_log10(y: np.ndarray) -> np.ndarray:
    """log10 in place; values ≤ 0 and non-finite values become NaN (gaps in the line)."""
    with np.errstate(invalid="ignore"):
        positive = y > 0
    np.log10(y, out=y, where=positive)
    y[~positive] = np.nan
    y[np.isinf(y)] = np.nan
    return y


def robust_range(ys: list[np.ndarray]) -> tuple[float, float] | None:
    """A y range that one runaway value cannot flatten: up to the 99.5th percentile of the
    points drawn (for binned curves, the bins' extremes)."""
    finite = [y[np.isfinite(y)] for y in ys]
    data = np.concatenate(finite) if finite else np.zeros(0)
    if data.size == 0:
        return None
    lo = float(data.min())
    hi = float(np.percentile(data, 99.5)) if data.size >= 200 else float(data.max())
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    pad = 0.05 * (hi - lo)
    return float(lo - pad), float(hi + pad)
