"""A trajectory made displayable, cheaply: built once per `trajectoryChanged`, sliced per frame.

Most balls never leave the domain: for them the trajectory's own arrays are the display
(positions, and `loss` for the 3D heights), so nothing is copied or re-evaluated. One min and
one max over time find the few balls that do leave it (a diverged ball flies off to 1e6 ×
the domain, or turns non-finite); only their columns get display positions of their own:

- A ball outside the domain is pinned where its path left the domain (the crossing of the
  step that took it out with the domain's edge; its last position inside when that step
  was not finite), or clamped to the domain if it never was inside. Views draw the pinned
  ball and its status marker whole (the map's visible edge is a thin margin beyond the
  domain, so the map keeps them a few pixels further in).
- A trail segment is drawn only while both of its ends really lie within the domain grown
  by `TRAIL_MARGIN`: a diverged ball's trail stops at the edge instead of drawing a line to
  a corner. Segments are removed, never drawn with NaN vertices.

Trails are laid out time-major, `(T, n, 2, dim)`: the trail of every ball of a run over
steps [a, b) is the contiguous block between offsets a and b (see `compact_segments`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

OK, CONVERGED, DIVERGED, STOPPED = 0, 1, 2, 3  # studio.engine's status codes
TRAIL_MARGIN = 0.01  # fraction of the span a trail may leave the domain by before it is cut
SHORT_TRAIL_BALLS = 64  # runs with more balls (a start grid) get short trails: trail_window
SHORT_TRAIL_STEPS = 30


def within(
    xy: np.ndarray, domain: tuple[float, float, float, float], margin: float = 0.0
) -> np.ndarray:
    """Finite and inside the domain grown by `margin` × its span on each side: (…, 2) → (…,)."""
    xmin, xmax, ymin, ymax = domain
    mx, my = margin * (xmax - xmin), margin * (ymax - ymin)
    x, y = xy[..., 0], xy[..., 1]
    with np.errstate(invalid="ignore"):
        return (x >= xmin - mx) & (x <= xmax + mx) & (y >= ymin - my) & (y <= ymax + my)


def clamp_to_domain(xy: np.ndarray, domain: tuple[float, float, float, float]) -> np.ndarray:
    xmin, xmax, ymin, ymax = domain
    out = np.empty_like(xy)
    np.clip(xy[..., 0], xmin, xmax, out=out[..., 0])
    np.clip(xy[..., 1], ymin, ymax, out=out[..., 1])
    return out


def exit_points(
    a: np.ndarray, b: np.ndarray, domain: tuple[float, float, float, float]
) -> np.ndarray:
    """Where the segments a → b (a inside the domain, b finite) cross its edge: (…, 2)."""
    xmin, xmax, ymin, ymax = domain
    d = b - a
    s = np.ones(a.shape[:-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        for axis, lo, hi in ((0, xmin, xmax), (1, ymin, ymax)):
            ai, di, bi = a[..., axis], d[..., axis], b[..., axis]
            s = np.where(bi > hi, np.minimum(s, (hi - ai) / di), s)
            s = np.where(bi < lo, np.minimum(s, (lo - ai) / di), s)
    s = np.clip(np.nan_to_num(s, nan=0.0), 0.0, 1.0)
    return clamp_to_domain(a + s[..., None] * d, domain)


@dataclass(frozen=True)
class RunTrack:
    """The balls of one run: columns `cols` (a slice when contiguous) of the arrays."""

    run: int
    cols: slice | np.ndarray
    n: int
    fix_local: np.ndarray  # (j,) columns of this run (0..n-1) that leave the domain somewhere
    fix_index: np.ndarray  # (j,) the same balls as indices into `Tracks.fix`

    @property
    def ball_index(self) -> np.ndarray:
        if isinstance(self.cols, slice):
            return np.arange(self.cols.start, self.cols.stop)
        return self.cols


class Tracks:
    """Displayable positions (and, given f, losses) of a trajectory, per frame and per run.

    Building it costs one min and one max over the positions, plus, for the k balls that
    leave the domain, a few passes over their k columns; the pinned positions themselves
    are looked up per frame or per trail window (a diverged ball stays out for thousands of
    steps, all pinned at the same point).
    """

    def __init__(
        self,
        trajectory,
        domain: tuple[float, float, float, float],
        n_runs: int,
        value: Callable[[np.ndarray], np.ndarray] | None = None,
        recorded_loss: bool = True,
    ) -> None:
        """`value`: f at (M, 2) points; needed for the `loss=True` views (3D heights).
        `recorded_loss=False`: the trajectory was simulated on another surface (the new one
        is still simulating), so f is evaluated at every displayed point instead."""
        pos = np.asarray(trajectory.positions)
        self.positions = pos  # (T+1, N, 2), not copied
        self.loss = np.asarray(trajectory.loss)  # (T+1, N), not copied
        self.domain = tuple(float(v) for v in domain)
        self._value = value
        self._recorded = recorded_loss
        self.frames = pos.shape[0]
        n = pos.shape[1]
        if self.frames and n:
            with np.errstate(invalid="ignore"):
                lo, hi = pos.min(axis=0), pos.max(axis=0)  # NaN propagates: not ok
            ok = within(lo, self.domain) & within(hi, self.domain)
        else:
            ok = np.ones(n, bool)
        self.fix = np.flatnonzero(~ok)  # (k,) ball columns
        k = self.fix.size
        self._inside = np.ones((self.frames, k), bool)
        self._last_in = np.zeros((self.frames, k), np.int32)
        self._exit_xy = np.empty((self.frames, k, 2))  # written only where a ball leaves
        self._exit_f = np.empty((self.frames, k))
        if k:
            raw = pos[:, self.fix]  # (T+1, k, 2)
            inside = self._inside = within(raw, self.domain)
            last_in = np.where(inside, np.arange(self.frames, dtype=np.int32)[:, None], -1)
            np.maximum.accumulate(last_in, axis=0, out=last_in)
            self._last_in = last_in
            # Each time a ball leaves (inside at t, out at t + 1) it is pinned where the
            # step crossed the edge, or held at its last position if the step blew up.
            t_in, j = np.nonzero(inside[:-1] & ~inside[1:])
            a, b = raw[t_in, j], raw[t_in + 1, j]
            finite = np.isfinite(b).all(-1)
            exits = a.copy()
            exits[finite] = exit_points(a[finite], b[finite], self.domain)
            self._exit_xy[t_in, j] = exits
            if value is not None and recorded_loss and len(exits):
                with np.errstate(all="ignore"):
                    self._exit_f[t_in, j] = np.asarray(value(exits), float)

        ball_run = np.asarray(trajectory.ball_run)
        fix_run = ball_run[self.fix]
        self.runs: list[RunTrack] = []
        for run in range(n_runs):
            idx = np.flatnonzero(ball_run == run)
            if idx.size == 0:
                continue
            contiguous = int(idx[-1]) - int(idx[0]) + 1 == idx.size
            cols = slice(int(idx[0]), int(idx[-1]) + 1) if contiguous else idx
            fix_index = np.flatnonzero(fix_run == run)
            fix_local = np.searchsorted(idx, self.fix[fix_index])
            self.runs.append(RunTrack(run, cols, int(idx.size), fix_local, fix_index))

    def _pinned(
        self, start: int, stop: int, which: np.ndarray, loss: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
        """Steps [start, stop) of the leaving balls `which` (indices into `fix`): displayed
        positions (r, j, 2), whether each is pinned (r, j), f there (or None), and whether
        each may carry a trail (r, j)."""
        raw = self.positions[start:stop][:, self.fix[which]]
        xy = np.array(raw, dtype=float)
        away = ~self._inside[start:stop][:, which]
        f = (
            np.array(self.loss[start:stop][:, self.fix[which]], dtype=float)
            if loss and self._recorded
            else None
        )
        if away.any():
            cols = np.broadcast_to(which, away.shape)[away]
            last = self._last_in[start:stop][:, which][away]
            left = last >= 0
            pinned = np.empty((cols.size, 2))
            pinned[left] = self._exit_xy[last[left], cols[left]]
            # Never inside yet (a start off the map): clamped to the domain's edge.
            never = clamp_to_domain(np.nan_to_num(raw[away][~left]), self.domain)
            pinned[~left] = never
            xy[away] = pinned
            if f is not None:
                assert self._value is not None, "Tracks was built without a value function"
                g = np.empty(cols.size)
                g[left] = self._exit_f[last[left], cols[left]]
                if len(never):
                    with np.errstate(all="ignore"):
                        g[~left] = np.asarray(self._value(never), float)
                f[away] = g
        return xy, away, f, within(raw, self.domain, TRAIL_MARGIN)

    # ------------------------------------------------------------------ per frame

    def frame(
        self, frame: int, loss: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(N, 2) displayed positions at `frame`, (N,) which are pinned (shown away from
        their true position), and (N,) f at the displayed positions (or None)."""
        xy = np.array(self.positions[frame], dtype=float)
        pinned = np.zeros(xy.shape[0], bool)
        f = np.array(self.loss[frame], dtype=float) if loss else None
        if self.fix.size:
            fxy, away, ff, _ok = self._pinned(frame, frame + 1, np.arange(self.fix.size), loss)
            xy[self.fix], pinned[self.fix] = fxy[0], away[0]
            if f is not None and ff is not None:
                f[self.fix] = ff[0]
        return xy, pinned, self._evaluated(xy, f)

    # ------------------------------------------------------------------ per run

    def window(
        self, rt: RunTrack, start: int, stop: int, loss: bool = False
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """A run's balls over steps [start, stop): displayed positions (r, n, 2), f there
        (r, n) or None, and which points may carry a trail (r, n), None when all may."""
        xy = np.array(self.positions[start:stop, rt.cols], dtype=float)
        f = np.array(self.loss[start:stop, rt.cols], dtype=float) if loss else None
        if not rt.fix_local.size:
            return xy, self._evaluated(xy, f), None
        fxy, _away, ff, trail_ok = self._pinned(start, stop, rt.fix_index, loss)
        xy[:, rt.fix_local] = fxy
        if f is not None and ff is not None:
            f[:, rt.fix_local] = ff
        ok = np.ones(xy.shape[:2], bool)
        ok[:, rt.fix_local] = trail_ok
        return xy, self._evaluated(xy, f), ok

    def _evaluated(self, xy: np.ndarray, f: np.ndarray | None) -> np.ndarray | None:
        """`f` as is, or (when the recorded loss belongs to another surface) f at `xy`."""
        if f is None or self._recorded:
            return f
        assert self._value is not None, "Tracks was built without a value function"
        with np.errstate(all="ignore"):
            return np.asarray(self._value(xy.reshape(-1, 2)), float).reshape(xy.shape[:-1])


def compact_segments(points: np.ndarray, ok: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Trail segments of (m+1, n, d) points with the cut ones removed.

    Returns `segs` (M, 2, d), contiguous and time-major, and `offsets` (m+1,): the segments
    of steps [a, b) are `segs[offsets[a]:offsets[b]]`.
    """
    m, n = points.shape[0] - 1, points.shape[1]
    segs = np.empty((max(m, 0), n, 2) + points.shape[2:], points.dtype)
    if m > 0:
        segs[:, :, 0] = points[:-1]
        segs[:, :, 1] = points[1:]
    if ok is None:
        return segs.reshape((m * n, 2) + points.shape[2:]), np.arange(max(m, 0) + 1) * n
    keep = ok[:-1] & ok[1:]
    offsets = np.zeros(max(m, 0) + 1, np.int64)
    np.cumsum(keep.sum(axis=1), out=offsets[1:])
    return segs[keep], offsets


DISTINCT_BITS = 10  # ends are told apart on a grid of 2**10 cells across the trail's extent
DISTINCT_FROM = 256  # trails with fewer segments are drawn as they are
# A trail not known from step 0 is checked for repeats per frame only up to this many
# segments (a few ms); a longer window of a bouncing run is drawn whole.
PER_FRAME_DISTINCT_MAX = 20_000
# A run's trail is laid out once per trajectory up to this many points; beyond, and for
# start grids (short trails), it is built per frame.
PRECOMPUTED_TRAIL_POINTS = 400_000


def first_drawn(segs: np.ndarray) -> np.ndarray | None:
    """(M,) True for each of the (M, 2, d) segments (d <= 3) that no earlier one already
    draws, or None when every one is new.

    A run that bounces between the same two walls (SGD at lr = 1/L on a bowl) repeats one
    full-width segment thousands of times; in software GL each copy costs its whole length
    in pixels, and a 4,000-step bounce held the window for over a second per paint. Ends
    are compared on a grid finer than a pixel of any view (1/1024 of the trail's extent on
    each axis), either way round, so dropping repeats changes no pixel that matters; a
    ball at rest (zero-length segments at one point) is dropped the same way.
    """
    m, d = len(segs), segs.shape[-1]
    if m < DISTINCT_FROM:
        return None
    ends = np.nan_to_num(segs.reshape(m * 2, d).astype(float), copy=False)
    lo = ends.min(axis=0)
    span = ends.max(axis=0) - lo
    cells = (1 << DISTINCT_BITS) - 1
    q = np.rint((ends - lo) / np.where(span > 0, span, 1.0) * cells).astype(np.int64)
    key = np.zeros(m * 2, np.int64)
    for axis in range(d):  # one integer per end: d * DISTINCT_BITS <= 30 bits
        key |= q[:, axis] << (axis * DISTINCT_BITS)
    a, b = key[0::2], key[1::2]
    pair = (np.minimum(a, b) << (d * DISTINCT_BITS)) | np.maximum(a, b)
    _, first = np.unique(pair, return_index=True)
    if first.size == m:
        return None
    keep = np.zeros(m, bool)
    keep[first] = True
    return keep


def lays_out(rt: RunTrack, frames: int) -> bool:
    """Whether the views lay out a run's whole trail once per trajectory (a frame then takes
    a slice of it): runs of a few balls, up to `PRECOMPUTED_TRAIL_POINTS` points."""
    return rt.n <= SHORT_TRAIL_BALLS and rt.n * frames <= PRECOMPUTED_TRAIL_POINTS


class Repeats:
    """Which segments of a run's trail repeat an earlier one (`first_drawn`), found once per
    trajectory over the whole trail `segs`, so that a frame's trail from step 0 (its first
    segments) is filtered by a slice instead of a sort. `segs=None`: the trail is not laid
    out; with `windows` each frame's window is checked when it is small enough, without
    (a start grid's short tails) nothing is checked."""

    def __init__(self, segs: np.ndarray | None, *, windows: bool = True) -> None:
        self._known = segs is not None
        self._drawn = None if segs is None else first_drawn(segs)
        self._windows = windows

    @classmethod
    def of_run(cls, rt: RunTrack, frames: int, whole: Callable[[RunTrack], np.ndarray]) -> Repeats:
        """The repeats of run `rt`: `whole(rt)` gives its whole trail's segments when the
        views lay it out (`lays_out`)."""
        if lays_out(rt, frames):
            return cls(whole(rt))
        return cls(None, windows=rt.n <= SHORT_TRAIL_BALLS)

    def leave_out(self, segs: np.ndarray, start: int) -> np.ndarray:
        """The trail's segments of steps [start, stop) (`compact_segments` order) without
        repeats of earlier ones."""
        if self._known and self._drawn is None:
            return segs  # no repeats in the whole trail, so none in any part of it
        if self._known and start == 0:
            assert self._drawn is not None
            return segs[self._drawn[: len(segs)]]
        if not self._windows or len(segs) > PER_FRAME_DISTINCT_MAX:
            return segs
        # A later start may have left out the first of some repeats: the window alone.
        keep = first_drawn(segs)
        return segs if keep is None else segs[keep]


def status_at(trajectory, frame: int) -> np.ndarray:
    """Each ball's status as of `frame`: it converges or diverges only at its stop step."""
    status = np.asarray(trajectory.status)
    stopped = np.asarray(trajectory.stop_step) <= frame
    return np.where(stopped, status, OK).astype(np.int8)


def trail_window(frame: int, trail_length: int | None, n_balls: int) -> int:
    """First step of the visible trail. Runs with many balls (a start grid) get short tails:
    thousands of full trails hide the basins the grid is there to show."""
    length = trail_length
    if n_balls > SHORT_TRAIL_BALLS:
        length = SHORT_TRAIL_STEPS if length is None else min(length, SHORT_TRAIL_STEPS)
    return 0 if length is None else max(0, frame - length)


# ------------------------------------------------------------------ reading aids

RING_BALLS = 256  # balls beyond this (a start grid's) are not searched for coincident ones
MAX_RINGS = 4  # at most this many rings round one spot (more balls share the last)


def coincident_rings(xy: np.ndarray, tol: float) -> np.ndarray:
    """(N,) how many rings to grow each ball by, so balls drawn at one spot stay apart.

    Balls closer than `tol` to each other (transitively) form a group; within a group the
    first ball gets the most rings and the last none, so drawing the larger first leaves a
    target of coloured rings round the last. Non-finite positions and scenes of more than
    `RING_BALLS` balls get none (a start grid converging is the point, not a clash).
    """
    n = xy.shape[0]
    rings = np.zeros(n, np.int32)
    if n < 2 or n > RING_BALLS:
        return rings
    with np.errstate(invalid="ignore"):
        d = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=-1)
    near = d < tol
    group = np.arange(n)
    for _ in range(n):  # connected components by label propagation
        new = np.where(near, group[None, :], n).min(axis=1)
        new = np.minimum(new, group)
        if np.array_equal(new, group):
            break
        group = new
    for g in np.unique(group):
        members = np.flatnonzero(group == g)
        if members.size > 1:
            rings[members] = np.minimum(np.arange(members.size)[::-1], MAX_RINGS)
    return rings


def outward(
    pinned: np.ndarray, raw: np.ndarray, domain: tuple[float, float, float, float]
) -> np.ndarray:
    """Unit (…, 2) directions in which balls pinned at `pinned` left the domain: towards
    their true position `raw` where it is finite, else away from the edge they are pinned
    to (or from the domain's centre when not on an edge)."""
    xmin, xmax, ymin, ymax = domain
    span = np.array([xmax - xmin, ymax - ymin], float)
    with np.errstate(invalid="ignore", over="ignore"):
        d = np.asarray(raw, float) - pinned
        finite = np.isfinite(d).all(-1, keepdims=True)
        d = np.where(finite, d, 0.0)
        norm = np.linalg.norm(d, axis=-1, keepdims=True)
    edge = np.zeros_like(pinned, dtype=float)
    eps = 1e-9 * span
    edge[..., 0] = np.where(
        pinned[..., 0] <= xmin + eps[0], -1.0, np.where(pinned[..., 0] >= xmax - eps[0], 1.0, 0.0)
    )
    edge[..., 1] = np.where(
        pinned[..., 1] <= ymin + eps[1], -1.0, np.where(pinned[..., 1] >= ymax - eps[1], 1.0, 0.0)
    )
    centre = (pinned - np.array([(xmin + xmax) / 2, (ymin + ymax) / 2])) / span
    fallback = np.where((edge != 0).any(-1, keepdims=True), edge, centre)
    fallback_norm = np.linalg.norm(fallback, axis=-1, keepdims=True)
    fallback = np.where(
        fallback_norm > 0, fallback / np.maximum(fallback_norm, 1e-300), np.array([1.0, 0.0])
    )
    good = finite & (norm > 1e-12)
    out = np.where(good, d / np.maximum(norm, 1e-300), fallback)
    return out


def edge_marks(
    tracks: Tracks, frame: int, status: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The balls drawn away from their true position at `frame` (outside the domain):
    their indices (k,), unit outward directions (k, 2) in data coordinates, and whether
    each has diverged (k,) (else it is only outside)."""
    xy, pinned, _f = tracks.frame(frame)
    idx = np.flatnonzero(pinned)
    if idx.size == 0:
        return idx, np.zeros((0, 2)), np.zeros(0, bool)
    raw = np.asarray(tracks.positions[frame][idx], float)
    return idx, outward(xy[idx], raw, tracks.domain), status[idx] == DIVERGED
