"""A trajectory turned into arrays the views can slice per frame without allocating.

Built once per `trajectoryChanged`. Positions are made displayable (a diverged ball's
non-finite positions hold its last finite one; everything is clamped to a margin around the
domain, so one runaway ball cannot overflow a painter or the GL depth range). Trail segments
are laid out time-major, `(T, n, 2, dim)`: the trail of every ball of a run over steps
[a, b) is then the contiguous slice `segs[a:b]`, a view handed to `setData` as is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OK, CONVERGED, DIVERGED = 0, 1, 2
DOMAIN_MARGIN = 0.02  # fraction of the span a ball may leave the domain by, on screen


@dataclass(frozen=True)
class RunTracks:
    """The balls of one run: `ball_index` are columns of the trajectory arrays."""

    run: int
    ball_index: np.ndarray      # (n,)
    xy: np.ndarray              # (T+1, n, 2) float64, displayable data coordinates
    segs_xy: np.ndarray         # (T, n, 2, 2) float64, trail segments in data coordinates


def fill_forward(positions: np.ndarray) -> np.ndarray:
    """Replace non-finite positions by the ball's last finite one (or 0 if none yet)."""
    pos = np.array(positions, dtype=float, copy=True)
    ok = np.isfinite(pos).all(-1)                                  # (T+1, N)
    idx = np.where(ok, np.arange(pos.shape[0])[:, None], 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    filled = np.take_along_axis(pos, idx[..., None], axis=0)
    return np.where(np.isfinite(filled), filled, 0.0)


def clamp_to_domain(xy: np.ndarray, domain: tuple[float, float, float, float]) -> np.ndarray:
    xmin, xmax, ymin, ymax = domain
    mx, my = DOMAIN_MARGIN * (xmax - xmin), DOMAIN_MARGIN * (ymax - ymin)
    out = np.empty_like(xy)
    np.clip(xy[..., 0], xmin - mx, xmax + mx, out=out[..., 0])
    np.clip(xy[..., 1], ymin - my, ymax + my, out=out[..., 1])
    return out


def segments(points: np.ndarray) -> np.ndarray:
    """(T+1, n, d) → (T, n, 2, d): segment t joins step t to step t+1."""
    return np.ascontiguousarray(np.stack([points[:-1], points[1:]], axis=2))


def run_tracks(trajectory, domain: tuple[float, float, float, float],
               n_runs: int) -> list[RunTracks]:
    xy = clamp_to_domain(fill_forward(trajectory.positions), domain)
    ball_run = np.asarray(trajectory.ball_run)
    out = []
    for run in range(n_runs):
        idx = np.flatnonzero(ball_run == run)
        if idx.size == 0:
            continue
        pts = np.ascontiguousarray(xy[:, idx])
        out.append(RunTracks(run, idx, pts, segments(pts)))
    return out


def status_at(trajectory, frame: int) -> np.ndarray:
    """Each ball's status as of `frame`: it converges or diverges only at its stop step."""
    status = np.asarray(trajectory.status)
    stopped = np.asarray(trajectory.stop_step) <= frame
    return np.where(stopped, status, OK).astype(np.int8)


def trail_window(frame: int, trail_length: int | None, n_balls: int) -> int:
    """First step of the visible trail. Runs with many balls (a start grid) get short tails:
    thousands of full trails hide the basins the grid is there to show."""
    length = trail_length
    if n_balls > 64:
        length = 30 if length is None else min(length, 30)
    return 0 if length is None else max(0, frame - length)
