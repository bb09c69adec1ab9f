"""Landscape planes: the 2-D slice of parameter space that the network lab draws its loss on.

A plane is an origin θ₀ (the runs' shared initial weights) and two directions d₁, d₂ (D,);
the point with plane coordinates (α, β) is θ₀ + α d₁ + β d₂. Every run is projected on the
same plane, so all optimizers race in one picture.

- `pca_plane`: the directions are the top two principal directions of every run's path
  together (Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets", §7). The rows
  θ_t − θ₀ of all runs and steps are stacked into a matrix A (rows × D); its top two right
  singular vectors are the top eigenvectors of AᵀA (D × D), or Aᵀu/σ from the eigenvectors u
  of AAᵀ when there are fewer rows than parameters. The rows are not centred: the plane
  passes through θ₀, so what it should capture is the displacement from θ₀, and the
  explained ratio of direction i, σᵢ² / Σσ², is the share of Σ‖θ_t − θ₀‖² it holds. The
  directions are orthonormal, and each is signed so that the paths' mean coordinate on it
  is positive.
- `random_plane`: two Gaussian directions, filter-normalised (Li et al. 2018, §4): for every
  layer and every output unit j, the direction's incoming weights W[:, j] are scaled to the
  norm of the reference model's W[:, j] (the origin unless given). Bias entries are zero, as
  in the paper's published code (its `ignore='biasbn'` choice): a bias has no filter to
  borrow a scale from, and this keeps the picture about the weights.

Coordinates of a parameter vector are its least-squares position on the plane, which for the
orthonormal PCA directions is (θ − θ₀)·dᵢ. `loss_grid` evaluates the full-batch training loss
on a grid of the plane, vectorised with the grid points as the runs of one forward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from studio.errors import StudioError
from studio.network.model import NetworkSpec, layer_slices

PLANES = ("pca", "random")
BLOCK_BYTES = 16 * 2**20  # the most one temporary block of weights (θ − θ₀, θ₀ + x d₁ ...) takes
GRID_CHUNK = 512  # grid points per forward pass, at most: 512 × D is 4.9 MB at D = 1185


class PlaneError(StudioError):
    """A plane that cannot be made (e.g. runs that never leave their initial weights)."""


class LossFunction(Protocol):
    """What `loss_grid` needs: the full-batch training loss (N,) of N parameter vectors."""

    def loss(self, params: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True, eq=False)
class Plane:
    """A plane through `origin` (D,) spanned by `directions` (2, D).

    `kind` is "pca" or "random"; `explained` is, for a PCA plane, the share of the paths'
    squared displacement from the origin along each direction (in [0, 1]), else None.
    """

    origin: np.ndarray
    directions: np.ndarray
    kind: str
    explained: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        d = self.directions
        gram = d @ d.T
        # Least-squares coordinates: c = (D Dᵀ)⁻¹ D (θ − θ₀); for orthonormal D that is D(θ − θ₀).
        object.__setattr__(self, "_solve", np.linalg.inv(gram))

    def project(self, params: np.ndarray) -> np.ndarray:
        """Plane coordinates (..., 2) of parameter vectors (..., D), a block of rows at a
        time (a trajectory's weights can be hundreds of MB: θ − θ₀ is never made whole)."""
        params = np.asarray(params, dtype=float)
        d = params.shape[-1]
        flat = params.reshape(-1, d)
        solve: np.ndarray = self._solve  # type: ignore[attr-defined]
        out = np.empty((len(flat), 2))
        for r in row_blocks(len(flat), d):
            out[r] = ((flat[r] - self.origin) @ self.directions.T) @ solve.T
        return out.reshape(params.shape[:-1] + (2,))

    def point(self, coords: np.ndarray) -> np.ndarray:
        """Parameter vectors (..., D) at plane coordinates (..., 2)."""
        return self.origin + np.asarray(coords, dtype=float) @ self.directions

    def axis_labels(self) -> tuple[str, str]:
        """Labels for the two axes, e.g. ("PC1 71%", "PC2 12%") or ("random 1", "random 2")."""
        if self.explained is None:
            return ("random 1", "random 2")
        e1, e2 = self.explained
        return (f"PC1 {100 * e1:.0f}%", f"PC2 {100 * e2:.0f}%")


def _top_eigen(sym: np.ndarray, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """The k largest eigenvalues (descending) and eigenvectors (n, k) of a symmetric PSD matrix.

    Subspace iteration with a block of 8 and Rayleigh-Ritz: only two eigenpairs are needed,
    and the spectrum of a training path falls fast, so this takes a few products with the
    matrix where a full `eigh` of a 1,185 × 1,185 matrix takes hundreds of milliseconds. It
    stops when each wanted pair's residual ‖Sv − λv‖ is below 1e-10 λ₁, and falls back to
    `eigh` if that has not happened after 300 iterations.
    """
    n = len(sym)
    block = min(n, 8)
    if n <= 64:
        vals, vecs = np.linalg.eigh(sym)
        return vals[::-1][:k], vecs[:, ::-1][:, :k]
    rng = np.random.default_rng(0)
    q = np.linalg.qr(sym @ rng.standard_normal((n, block)))[0]
    for _ in range(300):
        sq = sym @ q
        vals, u = np.linalg.eigh(q.T @ sq)
        vals, u = vals[::-1], u[:, ::-1]
        vecs, svecs = q @ u, sq @ u
        scale = max(vals[0], np.finfo(float).tiny)
        resid = np.linalg.norm(svecs[:, :k] - vecs[:, :k] * vals[:k], axis=0)
        if np.all(resid <= 1e-10 * scale):
            return vals[:k], vecs[:, :k]
        q = np.linalg.qr(svecs)[0]
    vals, vecs = np.linalg.eigh(sym)
    return vals[::-1][:k], vecs[:, ::-1][:, :k]


def row_blocks(n_rows: int, width: int) -> list[slice]:
    """Slices of `n_rows` rows of `width` floats each, `BLOCK_BYTES` or less at a time."""
    size = max(1, BLOCK_BYTES // (8 * max(1, width)))
    return [slice(i, min(i + size, n_rows)) for i in range(0, n_rows, size)]


def finite_rows(flat: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The entries of `index` whose row of `flat` (rows, D) is all finite, checked a block
    at a time."""
    keep = np.empty(len(index), dtype=bool)
    for r in row_blocks(len(index), flat.shape[1]):
        keep[r] = np.isfinite(flat[index[r]]).all(axis=1)
    return index[keep]


def pca_plane(
    paths: np.ndarray, origin: np.ndarray | None = None, rows: np.ndarray | None = None
) -> Plane:
    """The plane of the top two principal directions of all runs' paths around `origin`.

    `paths` is (steps + 1, runs, D) as a trajectory stores it, or any (rows, D) stack of
    parameter vectors; `rows` picks rows of that stack (all by default); `origin` defaults
    to the first row (the shared initial weights). The displacements θ − θ₀ are never made
    whole: the Gram matrix is summed over blocks of `BLOCK_BYTES`, so a path of hundreds of
    MB costs a few tens more, not a copy of itself.
    """
    paths = np.asarray(paths, dtype=float)
    flat = paths.reshape(-1, paths.shape[-1])  # a view of a trajectory's contiguous array
    index = np.arange(len(flat)) if rows is None else np.asarray(rows, dtype=np.intp)
    origin = flat[0].copy() if origin is None else np.asarray(origin, dtype=float)
    m, d = len(index), flat.shape[1]
    colsum = np.zeros(d)  # Σ over rows of θ − θ₀: the sign of each direction
    # Non-finite weights (a run that diverged) make inf and NaN here: the trace catches them.
    with np.errstate(invalid="ignore", over="ignore"):
        if m < d:
            # Fewer rows than weights: AAᵀ (m × m) over blocks of columns, then d = Aᵀu/σ.
            width = max(1, BLOCK_BYTES // (8 * max(1, m)))
            cols = [slice(c, min(c + width, d)) for c in range(0, d, width)]
            gram = np.zeros((m, m))
            for c in cols:
                a = flat[index, c] - origin[c]
                gram += a @ a.T
                colsum[c] = a.sum(axis=0)
        else:
            # Fewer weights than rows: AᵀA (d × d) over blocks of rows.
            gram = np.zeros((d, d))
            for r in row_blocks(m, d):
                a = flat[index[r]] - origin
                gram += a.T @ a
                colsum += a.sum(axis=0)
    total = float(np.trace(gram))
    if not np.isfinite(total):
        raise PlaneError(
            "the paths hold non-finite parameters (a run diverged): no principal plane through them"
        )
    if total == 0.0:
        raise PlaneError(
            "no run moves from its initial weights: there is no principal plane through their paths"
        )
    vals, vecs = _top_eigen(gram)
    vals = np.maximum(vals, 0.0)
    if m < d:
        dirs = np.zeros((2, d))
        for c in cols:
            dirs[:, c] = vecs.T @ (flat[index, c] - origin[c])
        norms = np.linalg.norm(dirs, axis=1)
        dirs = dirs / np.where(norms > 0, norms, 1.0)[:, None]
    else:
        dirs = np.ascontiguousarray(vecs.T)
    if vals[1] <= 1e-14 * vals[0]:
        # The paths lie on a line: any unit vector orthogonal to d₁ completes the plane.
        e = np.zeros(d)
        e[int(np.argmin(np.abs(dirs[0])))] = 1.0
        e -= (e @ dirs[0]) * dirs[0]
        dirs[1] = e / np.linalg.norm(e)
        vals[1] = 0.0
    dirs = dirs * np.where(dirs @ colsum < 0, -1.0, 1.0)[:, None]
    explained = (float(vals[0] / total), float(vals[1] / total))
    return Plane(origin, np.ascontiguousarray(dirs), "pca", explained)


def filter_normalise(direction: np.ndarray, reference: np.ndarray, spec: NetworkSpec) -> np.ndarray:
    """`direction` (D,) with each unit's incoming weights scaled to the reference's norm for
    that unit (Li et al. 2018) and its biases set to zero."""
    out = np.zeros_like(direction, dtype=float)
    for s in layer_slices(spec):
        w = direction[s.w_start : s.b_start].reshape(s.fan_in, s.fan_out)
        ref = reference[s.w_start : s.b_start].reshape(s.fan_in, s.fan_out)
        norms = np.linalg.norm(w, axis=0)
        scale = np.linalg.norm(ref, axis=0) / np.where(norms > 0, norms, 1.0)
        out[s.w_start : s.b_start] = (w * scale).ravel()
    return out


def random_plane(
    spec: NetworkSpec, origin: np.ndarray, seed: int = 0, reference: np.ndarray | None = None
) -> Plane:
    """Two filter-normalised Gaussian directions through `origin`, drawn from `seed`."""
    origin = np.asarray(origin, dtype=float)
    ref = origin if reference is None else np.asarray(reference, dtype=float)
    rng = np.random.default_rng(seed)
    dirs = np.stack(
        [filter_normalise(rng.standard_normal(spec.n_params), ref, spec) for _ in range(2)]
    )
    if np.linalg.matrix_rank(dirs) < 2:
        raise PlaneError(
            "the reference weights are all zero: filter-normalised directions would be zero"
        )
    return Plane(origin, dirs, "random", None)


def grid_axes(
    coords: np.ndarray, size: int = 41, margin: float = 0.25
) -> tuple[np.ndarray, np.ndarray]:
    """Grid lines (size,) on each axis that cover plane coordinates (..., 2) and the origin,
    widened by `margin` of the span on every side."""
    c = np.asarray(coords, dtype=float).reshape(-1, 2)
    c = np.vstack([c[np.all(np.isfinite(c), axis=1)], np.zeros((1, 2))])
    lo, hi = c.min(axis=0), c.max(axis=0)
    span = np.maximum(hi - lo, 1e-3 * max(float(np.abs(c).max()), 1.0))
    lo, hi = lo - margin * span, hi + margin * span
    return np.linspace(lo[0], hi[0], size), np.linspace(lo[1], hi[1], size)


def loss_grid(
    objective: LossFunction,
    plane: Plane,
    xs: np.ndarray,
    ys: np.ndarray,
    chunk: int = GRID_CHUNK,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Full-batch training losses (len(xs), len(ys)) at θ₀ + x d₁ + y d₂, indexed [i, j] for
    (xs[i], ys[j]) (`np.meshgrid(..., indexing="ij")`, what a surface plot takes).

    The grid points are the runs of one vectorised forward pass, `chunk` at a time, fewer
    if their weights would pass `BLOCK_BYTES` (a wide network's 512 points are 200 MB);
    `progress(done, total)` is called after each chunk (it may raise to cancel).
    """
    gx, gy = np.meshgrid(np.asarray(xs, float), np.asarray(ys, float), indexing="ij")
    coords = np.column_stack([gx.ravel(), gy.ravel()])
    out = np.empty(len(coords))
    chunk = max(1, min(int(chunk), BLOCK_BYTES // (8 * plane.origin.size)))
    for start in range(0, len(coords), chunk):
        stop = min(start + chunk, len(coords))
        out[start:stop] = objective.loss(plane.point(coords[start:stop]))
        if progress is not None:
            progress(stop, len(coords))
    return out.reshape(gx.shape)
