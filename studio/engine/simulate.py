"""Run every ball of every optimizer over an objective: one gradient evaluation per step.

The objective is a 2-D surface or any `Objective` of D parameters (a network's weights).
All balls (runs × starts, plus EASGD workers) live in one `(N, D)` array; the rows after
them hold Nesterov's look-ahead points, so a single `value_and_grad` call per step serves
every optimizer. Each run's optimizer then updates its slice; stopped balls are masked, never
looped over. The same surface, runs, steps and seed give bit-identical trajectories; each
run draws its random numbers from its own generator, seeded from (seed, run index, purpose),
so editing a run, or adding one after it, never changes another run's noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from studio.engine.labels import run_labels
from studio.engine.memory import tune_allocator
from studio.engine.objective import Objective
from studio.engine.optimizers import Optimizer, build_optimizer
from studio.engine.registry import OPTIMIZERS, run_label, validate_hyper
from studio.engine.starts import check_starts
from studio.engine.trajectory import CONVERGED, DIVERGED, STOPPED, Trajectory
from studio.errors import StudioError
from studio.scene import MAX_STEPS, RunSpec, Scene

if TYPE_CHECKING:
    from studio.network.landscape import LandscapeSurface
    from studio.surface import Surface

MAX_BALL_STEPS = 12_000_000  # (steps + 1) × balls kept for a 2-D surface
# A trajectory keeps D + 3 float64 per ball and step (position, loss, ‖∇f‖, η); the limit is
# what MAX_BALL_STEPS takes at D = 2, 480 MB, whatever D is.
MAX_TRAJECTORY_BYTES = MAX_BALL_STEPS * (2 + 3) * 8
DIVERGENCE_FACTOR = 1e6  # a ball farther than this × the domain's size has diverged
GRID_INSET = 0.05  # a start grid keeps this fraction of the domain free at each edge
_PURPOSES = ("grad_noise", "xi", "delay", "batch")

Checkpoint = Callable[[], None]
"""Called by the step loop before every step. It may block, to leave the processor and the
GIL to another thread (the window's, docs/architecture.md#threading), or raise, to abandon a
simulation nobody waits for any more; the loop itself knows nothing of either."""


class SimulationError(StudioError):
    """A scene that cannot be simulated (e.g. batch_size on a surface without data)."""


@dataclass
class _Batches:
    """Mini-batch rows per ball, drawn from `pool` (every row, or the training split): a
    fresh shuffled order every epoch (Ruder §6.1), or with `rng` None the pool in order,
    batch after batch, cycling (docs/algorithms.md#mini-batches)."""

    size: int
    pool: np.ndarray
    rng: np.random.Generator | None
    perm: np.ndarray  # (balls, len(pool)): this epoch's order of each ball's rows
    index: int = 0

    def next_rows(self) -> np.ndarray:
        n_batches = -(-self.pool.shape[0] // self.size)
        if self.index == 0 and self.rng is not None:
            order = np.broadcast_to(self.pool, self.perm.shape)
            self.perm = self.rng.permuted(order, axis=1)
        j = self.index
        self.index = (j + 1) % n_batches
        return self.perm[:, j * self.size : (j + 1) * self.size]


def _batches(
    batch: int, order: str, pool: np.ndarray, balls: int, rng: np.random.Generator
) -> _Batches:
    if order == "in_order":
        return _Batches(batch, pool, None, np.broadcast_to(pool, (balls, pool.shape[0])))
    return _Batches(batch, pool, rng, np.empty((balls, pool.shape[0]), int))


@dataclass
class _Group:
    run: int
    sl: slice
    opt: Optimizer
    state: Any
    la: slice | None  # rows of the look-ahead points in the evaluation array
    batches: _Batches | None
    tol: float  # the loss-progress threshold of the patience rule
    grad_tol: float  # converged when ‖∇f‖ < grad_tol (0: never, for a noisy gradient)
    patience: int
    # stop_on=val_loss: each ball's validation loss (N,) -> the patience rule watches it
    validation: Callable[[np.ndarray], np.ndarray] | None = None


def grid_starts(domain: tuple[float, float, float, float], nx: int, ny: int) -> np.ndarray:
    """An nx × ny grid over the domain, inset by GRID_INSET of its size at each edge; x varies
    fastest."""
    xmin, xmax, ymin, ymax = domain

    def axis(lo: float, hi: float, n: int) -> np.ndarray:
        pad = GRID_INSET * (hi - lo)
        return np.linspace(lo + pad, hi - pad, n) if n > 1 else np.array([(lo + hi) / 2])

    gx, gy = np.meshgrid(axis(xmin, xmax, nx), axis(ymin, ymax, ny), indexing="xy")
    return np.column_stack([gx.ravel(), gy.ravel()])


def run_starts(run: RunSpec, domain: tuple[float, float, float, float]) -> np.ndarray:
    """The (s, 2) start points of a run: its grid if it has one, else its starts."""
    if run.grid is not None:
        return grid_starts(domain, *run.grid)
    return np.array(run.starts, dtype=float).reshape(-1, 2)


def trajectory_bytes(n_balls: int, steps: int, dim: int = 2) -> int:
    """The memory a trajectory of `n_balls` × `steps` updates over `dim` parameters takes."""
    return (steps + 1) * n_balls * (dim + 3) * 8


def check_size(n_balls: int, steps: int, dim: int = 2) -> None:
    """Refuse a trajectory too large to keep in memory (`MAX_TRAJECTORY_BYTES`)."""
    need = trajectory_bytes(n_balls, steps, dim)
    if need > MAX_TRAJECTORY_BYTES:
        what = "" if dim == 2 else f" x {dim:,} parameters"
        fewer = "fewer starts or steps" if dim == 2 else "fewer runs or steps, or fewer parameters"
        raise SimulationError(
            f"{n_balls:,} balls x {steps:,} steps{what} is {need / 1e6:,.0f} MB to keep, more "
            f"than {MAX_TRAJECTORY_BYTES / 1e6:,.0f} MB; use {fewer}"
        )


def _ball_labels(base: str, starts: np.ndarray, workers: int) -> list[str]:
    labels = []
    for j, start in enumerate(starts):
        where = f"({start[0]:.4g}, {start[1]:.4g})" if len(start) == 2 else f"start {j + 1}"
        name = base if len(starts) == 1 else f"{base} @ {where}"
        if workers:
            labels.append(f"{name} centre")
            labels += [f"{name} worker {i + 1}" for i in range(workers)]
        else:
            labels.append(name)
    return labels


def _rng_factory(seed: int, run: int) -> Any:
    def rng_for(purpose: str) -> np.random.Generator:
        key = (run, _PURPOSES.index(purpose))
        return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=key))

    return rng_for


def _start_points(
    objective: Objective,
    domain: tuple[float, float, float, float] | None,
    run: RunSpec,
    given: np.ndarray | None,
    dim: int,
) -> np.ndarray:
    """The (s, D) start points of a run: `given` if any, else the run's own (a surface)."""
    if given is None:
        if domain is None:
            raise SimulationError(
                f"{run_label(run)}: an objective of {dim} parameters needs its start points given"
            )
        return run_starts(run, domain)
    points = np.array(given, dtype=float)
    points = points.reshape(1, -1) if points.ndim == 1 else points
    if points.ndim != 2 or points.shape[1] != dim or not len(points):
        raise SimulationError(
            f"{run_label(run)}: start points must have shape (s, {dim}), got {np.shape(given)}"
        )
    return points


def _validation(
    objective: Objective, run: RunSpec, n_rows: int
) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """For a run with stop_on=val_loss: the rows its gradient uses, and its validation loss.

    A network (an objective with `validation_loss`) trains on its training split already
    and has its own validation split. A data-fit surface holds out the rows k with
    k % 5 == 4 (`Surface.validation_split`, docs/algorithms.md#early-stopping): the
    gradient then uses the others only."""
    own = getattr(objective, "validation_loss", None)
    if own is not None:
        return np.arange(n_rows), own
    split = getattr(objective, "validation_split", None)
    rows_of = getattr(objective, "value_grad_rows", None)
    if not n_rows or split is None or rows_of is None:
        raise SimulationError(
            f"{run_label(run)}: stop_on=val_loss needs a data-fit surface or a network"
        )
    train, held = split()
    if not held.size or not train.size:
        raise SimulationError(
            f"{run_label(run)}: stop_on=val_loss needs at least 5 data rows "
            f"(row k validates when k % 5 == 4), this surface has {n_rows}"
        )

    def validation_loss(points: np.ndarray) -> np.ndarray:
        values: np.ndarray = rows_of(points, np.broadcast_to(held, (len(points), len(held))))[0]
        return values

    return train, validation_loss


def simulate(
    objective: Objective,
    runs: Sequence[RunSpec],
    steps: int,
    seed: int,
    rng_keys: Sequence[int] | None = None,
    starts: Sequence[np.ndarray | None] | None = None,
    checkpoint: Checkpoint | None = None,
) -> Trajectory:
    """Simulate `steps` updates of every enabled run; see `Trajectory` for the result.

    `objective`: a 2-D surface, or any `Objective` of D parameters. `starts[i]`: run i's
    start points, (s, D) or one (D,) point, instead of the RunSpec's own starts or grid
    (needed for an objective without a `domain`; None for a run: its own).
    `rng_keys[i]`: the key run i's random numbers are drawn with (default: i, its index).
    A run simulated on its own with its scene index as key gives, bit for bit, the balls
    it has when simulated with the whole scene (`RunCache` relies on it).
    `checkpoint`: called before every step (see `Checkpoint`).
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= MAX_STEPS:
        raise SimulationError(f"steps must be a whole number in 0..{MAX_STEPS}, got {steps!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SimulationError(f"seed must be a whole number >= 0, got {seed!r}")
    tune_allocator()
    dim = int(objective.dim)
    raw_domain = getattr(objective, "domain", None)
    domain = (
        None
        if raw_domain is None
        else (
            float(raw_domain[0]),
            float(raw_domain[1]),
            float(raw_domain[2]),
            float(raw_domain[3]),
        )
    )
    n_rows = int(getattr(objective, "n_rows", 0) or 0)

    starts_all: list[np.ndarray] = []
    labels: list[str] = []
    ball_run: list[int] = []
    slices: list[slice] = []
    pending: list[tuple[int, slice, dict[str, Any]]] = []
    n = 0
    names = run_labels(runs)  # distinct where two runs' own labels would read the same
    for ri, run in enumerate(runs):
        if not run.enabled:
            slices.append(slice(n, n))
            continue
        hyper = validate_hyper(run.optimizer, run.hyper)
        given = None if starts is None else starts[ri]
        points = _start_points(objective, domain, run, given, dim)
        if domain is not None:  # a surface: no ball starts in a hole of f (see starts.py)
            points = check_starts(objective, names[ri], points, given is None and bool(run.grid))
        # An optimizer with a `workers` key lays out each start as a centre and its workers.
        workers = int(hyper["workers"]) if "workers" in OPTIMIZERS[run.optimizer].hyper else 0
        starts_rows = np.repeat(points, workers + 1, axis=0) if workers else points
        batch = int(hyper["batch_size"])
        if batch and not n_rows:
            raise SimulationError(f"{run_label(run)}: batch_size needs a data-fit surface")
        sl = slice(n, n + len(starts_rows))
        n += len(starts_rows)
        starts_all.append(starts_rows)
        labels += _ball_labels(names[ri], points, workers)
        ball_run += [ri] * len(starts_rows)
        slices.append(sl)
        pending.append((ri, sl, hyper))

    check_size(n, steps, dim)
    positions0 = np.concatenate(starts_all) if starts_all else np.zeros((0, dim))
    groups: list[_Group] = []
    m = n
    for ri, sl, hyper in pending:
        rng_for = _rng_factory(seed, ri if rng_keys is None else int(rng_keys[ri]))
        opt = build_optimizer(runs[ri].optimizer, hyper, rng_for)
        la = None
        if opt.lookahead is not None:
            la = slice(m, m + (sl.stop - sl.start))
            m = la.stop
        batch = int(hyper["batch_size"])
        batches = None
        size = sl.stop - sl.start
        pool = np.arange(n_rows)
        validation = None
        if hyper["stop_on"] == "val_loss":
            pool, validation = _validation(objective, runs[ri], n_rows)
        if 0 < batch < pool.shape[0]:
            batches = _batches(batch, str(hyper["batch_order"]), pool, size, rng_for("batch"))
        elif pool.shape[0] < n_rows:  # full batch over the training split, every update
            batches = _Batches(pool.shape[0], pool, None, np.broadcast_to(pool, (size, len(pool))))
        # The stopping rule tests the gradient the update uses. A noisy or mini-batch one is
        # never below `tol` (a ball at a saddle would otherwise stop at step 0, before the
        # noise that lets it escape), so for those runs only the patience rule can stop a ball.
        # (A full batch over the training split is not noisy, but the recorded ‖∇f‖ is over
        # every row, not the gradient used: so there too only the patience rule stops.)
        noisy = opt.stochastic or batches is not None
        tol = float(hyper["tol"])
        groups.append(
            _Group(
                ri,
                sl,
                opt,
                opt.init(positions0[sl]),
                la,
                batches,
                tol,
                0.0 if noisy else tol,
                int(hyper["patience"]),
                validation,
            )
        )
    if domain is not None:
        centre = np.array([(domain[0] + domain[1]) / 2, (domain[2] + domain[3]) / 2])
        bound = DIVERGENCE_FACTOR * max(domain[1] - domain[0], domain[3] - domain[2])
    else:
        # No domain to measure by: the starts' own scale (at least 1) sets the bound.
        centre = np.zeros(dim)
        scale = float(np.abs(positions0).max()) if n and np.isfinite(positions0).all() else 1.0
        bound = DIVERGENCE_FACTOR * max(1.0, scale)
    return _run(
        objective, groups, positions0, m, steps, centre, bound, labels, ball_run, slices, checkpoint
    )


def _run(
    objective: Objective,
    groups: list[_Group],
    positions0: np.ndarray,
    m: int,
    steps: int,
    centre: np.ndarray,
    bound: float,
    labels: list[str],
    ball_run: list[int],
    slices: list[slice],
    checkpoint: Checkpoint | None,
) -> Trajectory:
    n, dim = positions0.shape
    T = steps
    pos_out = np.empty((T + 1, n, dim))
    loss_out = np.empty((T + 1, n))
    gn_out = np.empty((T + 1, n))
    lr_out = np.empty((T + 1, n))
    status = np.zeros(n, np.int8)
    stop_step = np.full(n, T, dtype=np.int64)
    active = np.ones(n, dtype=bool)
    tol = np.zeros(n)
    grad_tol = np.zeros(n)
    for g in groups:
        tol[g.sl] = g.tol
        grad_tol[g.sl] = g.grad_tol
        lrs = np.array([g.opt.schedule(k) for k in range(T + 1)], dtype=float)
        lr_out[:, g.sl] = lrs[:, None]
    patience_groups = [g for g in groups if g.patience > 0 and g.validation is None]
    val_groups = [g for g in groups if g.validation is not None]
    best = np.full(n, np.inf)  # stop_on=val_loss: the best validation loss so far
    best_step = np.zeros(n, dtype=np.int64)  # and the step it was reached

    x = np.empty((m, dim))
    x[:n] = positions0
    p = x[:n]
    for g in groups:
        if g.la is not None and g.opt.lookahead is not None:
            x[g.la] = g.opt.lookahead(g.state, p[g.sl])
    inner = bound - float(np.abs(centre).max())
    max_abs, abs_, add_all, min_all = np.maximum.reduce, np.abs, np.add.reduce, np.minimum.reduce
    isfinite = math.isfinite

    tol_max = float(grad_tol.max()) if n else 0.0
    n_active = n
    live = [(g, True, True) for g in groups]  # (group, any ball active, all balls active)
    with np.errstate(all="ignore"):
        for t in range(T + 1):
            if n == 0:
                break
            if checkpoint is not None:
                checkpoint()
            f, grad = objective.value_and_grad(x)
            fn = loss_out[t]
            fn[:] = f[:n]
            gn = gn_out[t]
            # One formula for any number of balls (np.hypot rounds differently), so a run
            # stops at the same step alone or beside others. Two columns: one add per ball,
            # the sum a reduction over the short axis would give, without its overhead.
            if dim == 2:
                gx = grad[:n, 0]
                gy = grad[:n, 1]
                np.sqrt(gx * gx + gy * gy, out=gn)
            else:
                gb = grad[:n]
                np.sqrt(np.einsum("ij,ij->i", gb, gb), out=gn)
            changed = False
            # Fast test (plain ufunc reductions; a NaN fails it): every |coordinate| within
            # the bound less the centre's offset means every ball is within the bound.
            if not (max_abs(abs_(p), axis=None) <= inner and isfinite(add_all(fn))):
                ok = np.isfinite(fn) & (np.abs(p - centre).max(axis=1) <= bound)
                bad = active & ~ok
                if bad.any():
                    idx = np.flatnonzero(bad)
                    if t > 0:
                        p[idx] = pos_out[t - 1, idx]
                        fn[idx] = loss_out[t - 1, idx]
                        gn[idx] = gn_out[t - 1, idx]
                    status[idx] = DIVERGED
                    stop_step[idx] = max(t - 1, 0)
                    active[idx] = False
                    changed = True
            for g in val_groups:
                sl = g.sl
                if not active[sl].any():
                    continue
                assert g.validation is not None
                val = g.validation(p[sl])
                better = active[sl] & (val < best[sl] - tol[sl])  # NaN never improves
                best[sl] = np.where(better, val, best[sl])
                best_step[sl] = np.where(better, t, best_step[sl])
                # Ruder §6.3: no improvement on the best by tol in `patience` evaluations
                stalled = active[sl] & (t - best_step[sl] >= g.patience)
                if stalled.any():
                    idx = np.flatnonzero(stalled) + sl.start
                    status[idx] = STOPPED
                    stop_step[idx] = t
                    active[idx] = False
                    changed = True
            if patience_groups or min_all(gn) < tol_max:
                done = active & (gn < grad_tol)
                if done.any():
                    status[done] = CONVERGED
                    stop_step[done] = t
                    active &= ~done
                    changed = True
                for g in patience_groups:
                    if t >= g.patience:
                        sl = g.sl
                        stalled = active[sl] & ~(loss_out[t - g.patience, sl] - fn[sl] >= tol[sl])
                        if stalled.any():  # no progress by `tol` in `patience` updates
                            idx = np.flatnonzero(stalled) + sl.start
                            status[idx] = STOPPED
                            stop_step[idx] = t
                            active[idx] = False
                            changed = True
            pos_out[t] = p
            if changed:
                n_active = int(np.count_nonzero(active))
                live = [(g, bool(active[g.sl].any()), bool(active[g.sl].all())) for g in groups]
            if t == T:
                break
            if n_active == 0:
                pos_out[t + 1 :] = p
                loss_out[t + 1 :] = fn
                gn_out[t + 1 :] = gn
                break
            for g, any_active, all_active in live:
                if not any_active:
                    continue  # every ball of this run has stopped: its state is never used again
                sl = g.sl
                gr = grad[g.la] if g.la is not None else grad[sl]
                if g.batches is not None:
                    pts = x[g.la] if g.la is not None else p[sl]
                    gr = objective.grad_rows(pts, g.batches.next_rows())
                params = p[sl]
                updates, g.state = g.opt.update(gr, g.state, params)
                if all_active:
                    params += updates
                else:
                    np.add(params, updates, out=params, where=active[sl, None])
                if g.la is not None and g.opt.lookahead is not None:
                    x[g.la] = g.opt.lookahead(g.state, params)

    return Trajectory(
        positions=pos_out,
        loss=loss_out,
        grad_norm=gn_out,
        lr=lr_out,
        status=status,
        stop_step=stop_step,
        ball_run=np.array(ball_run, dtype=np.int64),
        ball_label=tuple(labels),
        run_slices=tuple(slices),
    )


def simulate_scene(scene: Scene) -> tuple[Surface | LandscapeSurface, Trajectory]:
    """Build the scene's surface and simulate its enabled runs.

    A network scene (`scene.surface.network`) trains the network from its shared initial
    weights and returns its landscape: a `LandscapeSurface` and a `LandscapeTrajectory`
    whose positions are plane coordinates (`studio.network.landscape`)."""
    if scene.surface.network is not None:
        from studio.network.landscape import simulate_landscape

        traj = simulate_landscape(scene)
        assert traj.surface is not None
        return traj.surface, traj
    from studio.surface import surface_from_spec

    surface = surface_from_spec(scene.surface)
    return surface, simulate(surface, scene.runs, scene.steps, scene.seed)
