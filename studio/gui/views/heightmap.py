"""The sampled surface as the views draw it: a grid, a height transform, and isolines.

One `HeightMap` is built per surface (never per frame). The 3D view and the contour map
both use its transform, so a ball's height and a map's shading agree with the mesh.

- Heights are clipped at a high percentile: one spike (a pole, a steep wall) would
  otherwise flatten every other feature into the floor. +inf (overflow) takes the clip,
  −inf (log 0) the floor.
- Where f is NaN (log or square root of a negative number, or inf − inf after an overflow)
  the surface has no value: `defined` is False there, the views draw a hole (no triangles
  in 3D, no colour on the map, no isolines) and the colour scale and clip come from the
  defined samples only (docs/algorithms.md#undefined-regions).
- `log1p` compresses surfaces whose walls are orders of magnitude above their valleys
  (Rosenbrock): z = log(1 + f − fmin).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

GRID_SIZE = 150
DRAG_GRID_SIZE = 60  # while a parameter is dragged: a sixth of the points, refined after
CLIP_PERCENTILE = 98.0
N_LEVELS = 16


@dataclass(frozen=True)
class HeightMap:
    xs: np.ndarray  # (nx,)
    ys: np.ndarray  # (ny,)
    h: np.ndarray  # (nx, ny) transformed, clipped heights in [0, h_max]
    mode: str  # "linear" or "log1p"
    f_min: float
    f_clip: float
    domain: tuple[float, float, float, float]
    # (nx, ny) False where f is NaN (a hole); None: defined everywhere. `h` there is 0.
    defined: np.ndarray | None = field(default=None)

    @property
    def h_max(self) -> float:
        return float(self.h.max()) if self.h.size else 1.0

    @property
    def mask(self) -> np.ndarray:
        """(nx, ny) bool: True where the surface has a value."""
        if self.defined is None:
            return np.ones(self.h.shape, dtype=bool)
        return self.defined

    @property
    def undefined_fraction(self) -> float:
        """The share of grid samples where f has no value (0.0 when it is defined everywhere)."""
        if self.defined is None or not self.h.size:
            return 0.0
        return float(1.0 - np.count_nonzero(self.defined) / self.defined.size)

    def h_masked(self) -> np.ndarray:
        """`h` with NaN in the holes (what an image draws as transparent)."""
        if self.defined is None:
            return self.h
        return np.where(self.defined, self.h, np.nan)

    def transform(self, f: np.ndarray) -> np.ndarray:
        """Loss values → display heights (same clip and mode as the grid); −inf is the
        floor, +inf and NaN the clip."""
        with np.errstate(invalid="ignore", over="ignore"):
            f = np.asarray(f, dtype=float)
            g = np.where(np.isfinite(f), f, np.where(f == -np.inf, self.f_min, self.f_clip))
            g = np.clip(g, self.f_min, self.f_clip) - self.f_min
            return np.log1p(g) if self.mode == "log1p" else g

    def levels(self, n: int = N_LEVELS) -> np.ndarray:
        """Isoline levels in display-height space, evenly spaced, excluding floor and clip."""
        return np.linspace(0.0, self.h_max, n + 2)[1:-1]


def height_mode(spec_height: str, surface_height: str) -> str:
    mode = surface_height if spec_height == "auto" else spec_height
    return mode if mode in ("linear", "log1p") else "linear"


def build_heightmap(surface, spec_height: str = "auto", n: int = GRID_SIZE) -> HeightMap:
    xs, ys, z = surface.grid(n, n)
    xmin, xmax, ymin, ymax = (float(v) for v in surface.domain)
    xs = np.asarray(xs, dtype=float)
    ys = np.asarray(ys, dtype=float)
    z = np.asarray(z, dtype=float)
    defined = ~np.isnan(z)
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        f_min, f_clip = 0.0, 1.0
    else:
        f_min = float(finite.min())
        f_clip = float(np.percentile(finite, CLIP_PERCENTILE))
        if not f_clip > f_min:
            f_clip = f_min + 1.0  # a flat surface: give it a unit of headroom
    hm = HeightMap(
        xs,
        ys,
        np.zeros_like(z),
        height_mode(spec_height, surface.height),
        f_min,
        f_clip,
        (xmin, xmax, ymin, ymax),
        None if defined.all() else defined,
    )
    h = hm.transform(z)
    if hm.defined is not None:
        h[~defined] = 0.0  # never drawn; kept finite for the mesh's vertex buffer and h_max
    object.__setattr__(hm, "h", h)
    return hm


def isoline_segments(
    xs: np.ndarray,
    ys: np.ndarray,
    h: np.ndarray,
    levels: np.ndarray,
    defined: np.ndarray | None = None,
) -> np.ndarray:
    """Marching squares, vectorised: (M, 2, 2) line segments [[x0, y0], [x1, y1]].

    A cell with two crossings gives one segment; a saddle (four crossings) gives two,
    paired by the sign of the cell's centre. A cell with a corner where `defined` is False
    (a hole) gives none. Every level at once, and the segment ends computed only at the
    cells a level crosses: a drag rebuilds these many times a second.
    """
    levels = np.asarray(levels, dtype=float).ravel()
    if levels.size == 0 or h.shape[0] < 2 or h.shape[1] < 2:
        return np.zeros((0, 2, 2))
    corners = (h[:-1, :-1], h[1:, :-1], h[1:, 1:], h[:-1, 1:])  # a (x_i, y_j), b, c, d
    above = [corner > levels[:, None, None] for corner in corners]  # (L, cx, cy) each
    # The four edges in order: bottom a→b, right b→c, top d→c, left a→d.
    ends = ((0, 1), (1, 2), (3, 2), (0, 3))
    crossing = np.stack([above[p] != above[q] for p, q in ends])  # (4, L, cx, cy)
    if defined is not None and not defined.all():
        crossing &= defined[:-1, :-1] & defined[1:, :-1] & defined[1:, 1:] & defined[:-1, 1:]
    count = crossing.sum(0)
    li, ci, cj = np.nonzero((count == 2) | (count == 4))
    if li.size == 0:
        return np.zeros((0, 2, 2))
    level = levels[li]
    val = [corner[ci, cj] for corner in corners]  # (m,) each
    x0, x1, y0, y1 = xs[ci], xs[ci + 1], ys[cj], ys[cj + 1]
    # A crossing between heights far apart (near the float limits) overflows to inf or 0/0:
    # clipped to the edge's end or ignored, never a warning on stderr.
    with np.errstate(all="ignore"):
        t = [np.clip((level - val[p]) / (val[q] - val[p]), 0.0, 1.0) for p, q in ends]
    px = (x0 + t[0] * (x1 - x0), x1, x0 + t[2] * (x1 - x0), x0)
    py = (y0, y0 + t[1] * (y1 - y0), y1, y0 + t[3] * (y1 - y0))
    pts = np.stack([np.stack([px[k], py[k]], -1) for k in range(4)])  # (4, m, 2)
    mask = crossing[:, li, ci, cj]  # (4, m)
    n = count[li, ci, cj]
    out: list[np.ndarray] = []
    two = n == 2
    if two.any():
        # The indices of the two crossed edges of each such cell, in edge order.
        order = np.argsort(~mask[:, two], axis=0, kind="stable")[:2]  # (2, m)
        sel = pts[:, two]  # (4, m, 2)
        m = np.arange(sel.shape[1])
        out.append(np.stack([sel[order[0], m], sel[order[1], m]], 1))
    four = n == 4
    if four.any():
        sel = pts[:, four]
        a, b, c, d = (v[four] for v in val)
        lev = level[four]
        with np.errstate(all="ignore"):
            like_a = ((a + b + c + d) / 4.0 > lev) == (a > lev)
        # Centre on a's side: a and c connect, so the lines cut off corners b and d
        # (bottom+right, top+left); otherwise they cut off a and c (bottom+left, top+right).
        first = np.where(like_a[:, None], sel[1], sel[3])
        second = np.where(like_a[:, None], sel[3], sel[1])
        out.append(np.stack([sel[0], first], 1))
        out.append(np.stack([sel[2], second], 1))
    return np.concatenate(out)


# ------------------------------------------------------------------ reading aids


def axis_names(surface) -> tuple[str, str]:
    """The names of the surface's two coordinates: a network landscape's plane directions
    ("PC1 81%", "PC2 11%"), w and b (weight and bias) for a data-fit surface, whose loss is of
    a model `x*u + y` (docs/algorithms.md#presets), x and y otherwise."""
    titles = getattr(surface, "axis_titles", None)
    if titles is not None:
        return (str(titles[0]), str(titles[1]))
    return ("w", "b") if getattr(surface, "data", None) is not None else ("x", "y")


def nice_ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    """About `n` round values (1, 2 or 5 × 10^k apart) within [lo, hi]."""
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return np.array([lo]) if np.isfinite(lo) else np.zeros(0)
    raw = (hi - lo) / max(n, 1)
    power = 10.0 ** np.floor(np.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= raw * 0.999)
    first = np.ceil(lo / step - 1e-9) * step
    ticks = np.arange(first, hi + step * 1e-9, step)
    return np.where(np.abs(ticks) < step * 1e-9, 0.0, ticks)


def tick_text(value: float, step: float) -> str:
    """A tick value with as many decimals as the spacing needs."""
    if step <= 0 or not np.isfinite(step):
        return f"{value:g}"
    if abs(value) >= 1e5 or (0 < abs(value) < 1e-3):
        return f"{value:.2g}"
    decimals = max(0, int(-np.floor(np.log10(step) + 1e-9)))
    return f"{value:.{decimals}f}"


def loss_at_height(hm: HeightMap, h: np.ndarray) -> np.ndarray:
    """Display heights → the loss they show (the inverse of `HeightMap.transform`)."""
    h = np.asarray(h, float)
    return hm.f_min + (np.expm1(h) if hm.mode == "log1p" else h)


def loss_ticks(hm: HeightMap, n: int = 5) -> list[tuple[float, str]]:
    """(display height, label) of round loss values over the map's colour range."""
    lo, hi = hm.f_min, float(loss_at_height(hm, np.array(hm.h_max)))
    if hm.mode == "log1p" and hi - lo > 100:
        # Round powers of ten read best on a log-like scale.
        top = int(np.floor(np.log10(max(hi - lo, 1e-300))))
        values = hm.f_min + 10.0 ** np.arange(max(top - n + 1, -2), top + 1)
        step = 0.0
    else:
        values = nice_ticks(lo, hi, n)
        step = float(values[1] - values[0]) if len(values) > 1 else 0.0
    out = []
    for v in values:
        h = float(hm.transform(np.array([v]))[0])
        if 0.0 <= h <= hm.h_max * (1 + 1e-9):
            out.append((h, tick_text(float(v), step) if step else f"{v:.3g}"))
    return out
