"""The network lab end to end: train every run on one network, then draw them on one plane.

`simulate_landscape(scene)` trains the scene's runs with the engine's `simulate` (the
network's weights are the D parameters; every run starts from the same initial weights,
`NetworkSpec.init_seed`, so the race is fair), then makes what the views and the exports
draw, so that a network scene looks to them like any surface scene:

- **The plane.** The PCA plane of all runs' paths together (`pca_plane`, one plane for every
  optimizer), or two filter-normalised random directions (`random_plane`, drawn from the
  scene's seed), through the shared initial weights. Balls that diverged are left out of
  the PCA (their last finite weights would dominate it); if no run moves, or every run
  diverged, the random plane is used instead.
- **The 2-D trajectory** (`LandscapeTrajectory`): each ball's plane coordinates (T+1, N, 2)
  as `positions`; `loss` is the ball's TRUE full-batch training loss (not the loss of the
  plane at its projection: a path leaves the plane, so a ball may float above or below the
  drawn landscape); `grad_norm`, `lr`, `status` as the engine made them; and beside them
  `val_loss` and `accuracy` (validation split, per step and ball) and `params`, the full
  weights (T+1, N, D), which `studio trace` writes; the window, which never reads them, asks
  for none (`keep_weights=False`), so an edit's new training is the only copy it holds.
- **The surface** (`LandscapeSurface`): the 41 × 41 grid of full-batch training losses on
  the plane (`loss_grid`), over the paths' extent widened by a quarter of the span on each
  side; the views sample it by bilinear interpolation. Its axes are titled with the share
  of the paths' displacement each direction holds ("PC1 71%").

Memory: the engine keeps (T+1) × N × (D + 3) float64 (`check_size` refuses more than
480 MB); the default `digits01` network (D = 1,185) with 10 runs × 1,000 steps holds 95 MB.
The validation metrics and the 2-D positions add 5 floats per ball and step.
"""

from __future__ import annotations

import functools
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from studio.engine.simulate import Checkpoint, simulate
from studio.engine.trajectory import DIVERGED, Trajectory
from studio.network.model import NetworkObjective, NetworkSpec
from studio.network.plane import (
    Plane,
    PlaneError,
    finite_rows,
    grid_axes,
    loss_grid,
    pca_plane,
    random_plane,
    row_blocks,
)

if TYPE_CHECKING:
    from studio.engine.run_cache import RunCache
    from studio.scene import RunSpec, Scene, SurfaceSpec

GRID = 41
MARGIN = 0.25
TASK_TITLES = {"digits01": "Digits 0/1", "digits": "Digits 0-9"}
Progress = Callable[[int, int], None]


@functools.lru_cache(maxsize=8)
def network_objective(spec: NetworkSpec) -> NetworkObjective:
    """The objective of `spec` (its data loaded once), shared by every call with that spec."""
    return NetworkObjective(spec)


def network_starts(objective: NetworkObjective, runs: Sequence[RunSpec]) -> list[np.ndarray | None]:
    """`simulate`'s `starts`: one ball per run, at the spec's initial weights (1, D)."""
    init = objective.initial_params()[None, :]
    init.flags.writeable = False
    return [init for _ in runs]


def describe(spec: NetworkSpec) -> str:
    """ "Digits 0/1, 64-16-8-1 sigmoid"."""
    return (
        f"{TASK_TITLES.get(spec.task, spec.task)}, {'-'.join(map(str, spec.sizes))} "
        f"{spec.activation}"
    )


# --------------------------------------------------------------------------- the surface


def _interpolate(
    xs: np.ndarray, ys: np.ndarray, z: np.ndarray, xy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear interpolation of z (len(xs), len(ys)) at points (N, 2), clamped to the grid,
    and the interpolant's gradient (N, 2) (zero across a clamped edge)."""
    x = np.clip(xy[:, 0], xs[0], xs[-1])
    y = np.clip(xy[:, 1], ys[0], ys[-1])
    i = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(xs) - 2)
    j = np.clip(np.searchsorted(ys, y, side="right") - 1, 0, len(ys) - 2)
    dx, dy = xs[i + 1] - xs[i], ys[j + 1] - ys[j]
    u, v = (x - xs[i]) / dx, (y - ys[j]) / dy
    z00, z10, z01, z11 = z[i, j], z[i + 1, j], z[i, j + 1], z[i + 1, j + 1]
    value = z00 * (1 - u) * (1 - v) + z10 * u * (1 - v) + z01 * (1 - u) * v + z11 * u * v
    grad = np.empty((len(x), 2))
    grad[:, 0] = ((z10 - z00) * (1 - v) + (z11 - z01) * v) / dx
    grad[:, 1] = ((z01 - z00) * (1 - u) + (z11 - z10) * u) / dy
    inside_x = (xy[:, 0] >= xs[0]) & (xy[:, 0] <= xs[-1])
    inside_y = (xy[:, 1] >= ys[0]) & (xy[:, 1] <= ys[-1])
    grad[~inside_x, 0] = 0.0
    grad[~inside_y, 1] = 0.0
    bad = ~np.all(np.isfinite(xy), axis=1)
    value[bad] = np.nan
    grad[bad] = np.nan
    return value, grad


@dataclass(frozen=True, eq=False)
class LandscapeSurface:
    """A network's training loss on a 2-D plane, in the shape of `studio.surface.Surface`
    that the views, the overlays and the exports read: `domain`, `value`, `grid`, `height`,
    `title`, `minima`, and empty formula texts.

    `xs`, `ys`, `z`: the loss grid (z indexed [i, j] for (xs[i], ys[j])); `value` and `grid`
    interpolate it bilinearly, `exact` evaluates the network itself. `axis_titles`: what
    the plane's two directions are ("PC1 71%", "PC2 12%"). A surface without a plane is the
    placeholder shown while the first training runs (flat, `pending`).
    """

    spec: NetworkSpec
    xs: np.ndarray
    ys: np.ndarray
    z: np.ndarray
    plane: Plane | None
    title: str
    axis_titles: tuple[str, str] = ("x", "y")
    name: str = "network"
    expression: str = ""
    params: Mapping[str, float] = field(default_factory=dict)
    minima: tuple[tuple[float, float, float], ...] = ()
    height: str = "linear"
    latex: str = ""
    gradient_text: tuple[str, str] = ("", "")
    gradient_latex: tuple[str, str] = ("", "")
    symbolic: Any = None
    data: Any = None

    def __post_init__(self) -> None:
        for a in (self.xs, self.ys, self.z):
            a.setflags(write=False)

    @property
    def pending(self) -> bool:
        return self.plane is None

    @property
    def domain(self) -> tuple[float, float, float, float]:
        return (float(self.xs[0]), float(self.xs[-1]), float(self.ys[0]), float(self.ys[-1]))

    @property
    def dim(self) -> int:
        return 2

    @property
    def n_rows(self) -> int:
        return 0

    def value(self, xy: np.ndarray) -> np.ndarray:
        """The interpolated loss at plane points (N, 2) -> (N,)."""
        return _interpolate(self.xs, self.ys, self.z, np.asarray(xy, float).reshape(-1, 2))[0]

    def value_and_grad(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The interpolant and its gradient: the plane as a 2-D objective of its own."""
        return _interpolate(self.xs, self.ys, self.z, np.asarray(xy, float).reshape(-1, 2))

    def grad_rows(self, xy: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return self.value_and_grad(xy)[1]

    def exact(self, xy: np.ndarray) -> np.ndarray:
        """The network's own full-batch training loss at plane points (N, 2) -> (N,)."""
        if self.plane is None:
            return np.zeros(len(np.asarray(xy).reshape(-1, 2)))
        return network_objective(self.spec).loss(self.plane.point(np.asarray(xy, float)))

    def grid(
        self,
        nx: int,
        ny: int,
        domain: Sequence[float] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """xs (nx,), ys (ny,), Z (nx, ny) over the domain, interpolated from the loss grid."""
        xmin, xmax, ymin, ymax = self.domain if domain is None else tuple(domain)
        gx_, gy_ = np.linspace(xmin, xmax, int(nx)), np.linspace(ymin, ymax, int(ny))
        gx, gy = np.meshgrid(gx_, gy_, indexing="ij")
        z = self.value(np.column_stack([gx.ravel(), gy.ravel()]))
        return gx_, gy_, z.reshape(len(gx_), len(gy_))


def pending_surface(spec: SurfaceSpec) -> LandscapeSurface:
    """The flat placeholder of a network scene before its first training has finished."""
    assert spec.network is not None
    axis = np.array([-1.0, 1.0])
    return LandscapeSurface(
        spec.network,
        axis,
        axis.copy(),
        np.zeros((2, 2)),
        None,
        f"{describe(spec.network)} (training)",
    )


# ------------------------------------------------------------------------ the trajectory


@dataclass(frozen=True, eq=False)
class LandscapeTrajectory(Trajectory):
    """A network scene's trajectory on its plane (see the module docstring): a `Trajectory`
    whose positions are plane coordinates, plus `val_loss` and `accuracy` (T+1, N), the
    full weights `params` (T+1, N, D) (or (T+1, N, 0) when not kept), the `plane` and the
    `surface` to draw it on."""

    val_loss: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    accuracy: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    params: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))
    plane: Plane | None = None
    surface: LandscapeSurface | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        for a in (self.val_loss, self.accuracy, self.params):
            a.setflags(write=False)

    @property
    def dim(self) -> int:
        """D, the number of weights (positions hold the 2 plane coordinates)."""
        return int(self.plane.origin.size) if self.plane is not None else 0


def choose_plane(objective: NetworkObjective, traj: Trajectory, kind: str, seed: int) -> Plane:
    """The plane `kind` ("pca" or "random") through the shared initial weights."""
    origin = objective.initial_params()
    if kind == "pca":
        positions = traj.positions
        steps, n, dim = positions.shape
        keep = traj.status != DIVERGED
        balls = np.flatnonzero(keep) if keep.any() else np.arange(n)
        # A long path is thinned to about 2,000 rows: the principal directions of a smooth
        # path barely change, and the Gram matrix stays small. Rows are picked by index,
        # never copied out: the weights can be hundreds of MB.
        stride = max(1, -(-steps * len(balls) // 2000))
        picked = np.r_[np.arange(0, steps, stride), steps - 1]
        flat = positions.reshape(-1, dim)
        rows = finite_rows(flat, (picked[:, None] * n + balls[None, :]).ravel())
        try:
            return pca_plane(flat, origin, rows)
        except PlaneError:
            pass  # no run moved (or all diverged): the random plane still shows the bowl
    return random_plane(objective.spec, origin, seed=seed)


def landscape(
    objective: NetworkObjective,
    traj: Trajectory,
    plane_kind: str = "pca",
    seed: int = 0,
    grid: int = GRID,
    progress: Progress | None = None,
    keep_weights: bool = True,
) -> LandscapeTrajectory:
    """Project a network trajectory (positions (T+1, N, D)) on its plane, compute the loss
    grid and the validation metrics: what the views and `studio trace` use. Without
    `keep_weights` the result's `params` is empty (the views never read the weights)."""
    plane = choose_plane(objective, traj, plane_kind, seed)
    coords = plane.project(traj.positions)
    shown = coords[:, traj.status != DIVERGED] if (traj.status != DIVERGED).any() else coords
    xs, ys = grid_axes(shown, grid, MARGIN)
    z = loss_grid(objective, plane, xs, ys, progress=progress)
    val_loss, accuracy = path_validation(objective, traj.positions)
    shape = traj.loss.shape
    titles = plane.axis_labels()
    kind = "PCA plane" if plane.kind == "pca" else "random plane"
    surface = LandscapeSurface(
        objective.spec,
        xs,
        ys,
        z,
        plane,
        f"{describe(objective.spec)} · {kind} ({titles[0]}, {titles[1]})",
        titles,
    )
    return LandscapeTrajectory(
        positions=coords,
        loss=traj.loss,
        grad_norm=traj.grad_norm,
        lr=traj.lr,
        status=traj.status,
        stop_step=traj.stop_step,
        ball_run=traj.ball_run,
        ball_label=traj.ball_label,
        run_slices=traj.run_slices,
        val_loss=val_loss.reshape(shape),
        accuracy=accuracy.reshape(shape),
        params=traj.positions if keep_weights else np.zeros(shape + (0,)),
        plane=plane,
        surface=surface,
    )


# Validation metrics of recent paths, by a digest of the network and the path's weights: an
# edit of one run in the window retrains that run alone (RunCache), and without this its
# validation loss and accuracy at every step were recomputed for every run too.
_VALIDATED: OrderedDict[bytes, tuple[np.ndarray, np.ndarray]] = OrderedDict()
MAX_VALIDATED = 256  # paths remembered (each two (T+1,) arrays)


def path_validation(
    objective: NetworkObjective, positions: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Validation loss and accuracy (T+1, N) of each ball's path (positions (T+1, N, D)),
    reusing those of a path already validated (the same weights give the same figures)."""
    steps, n, _dim = positions.shape
    val_loss, accuracy = np.empty((steps, n)), np.empty((steps, n))
    salt = repr(objective.spec).encode()[:64]
    for b in range(n):
        # Ball by ball and a block of steps at a time: the weights are never copied whole.
        path = positions[:, b]
        blocks = row_blocks(steps, path.shape[1])
        digest = hashlib.blake2b(digest_size=16, key=salt)
        for r in blocks:
            digest.update(np.ascontiguousarray(path[r]).data)
        key = digest.digest()
        known = _VALIDATED.get(key)
        if known is not None:
            _VALIDATED.move_to_end(key)
        else:
            parts = [objective.validation(path[r]) for r in blocks]
            known = (
                np.concatenate([loss for loss, _ in parts]),
                np.concatenate([acc for _, acc in parts]),
            )
            _VALIDATED[key] = known
            while len(_VALIDATED) > MAX_VALIDATED:
                _VALIDATED.popitem(last=False)
        val_loss[:, b], accuracy[:, b] = known
    return val_loss, accuracy


def simulate_network(
    scene: Scene, cache: RunCache | None = None, checkpoint: Checkpoint | None = None
) -> Trajectory:
    """Train the runs of a network scene: the weights' trajectory (T+1, N, D).

    `checkpoint`: called before every training step (`studio.engine.Checkpoint`)."""
    spec = scene.surface.network
    if spec is None:
        raise ValueError("not a network scene")
    obj = network_objective(spec)
    runs = list(scene.runs)
    starts = network_starts(obj, runs)
    if cache is not None:
        return cache.simulate(
            obj, runs, scene.steps, scene.seed, starts=starts, checkpoint=checkpoint
        )
    return simulate(obj, runs, scene.steps, scene.seed, starts=starts, checkpoint=checkpoint)


def simulate_landscape(
    scene: Scene,
    cache: RunCache | None = None,
    progress: Progress | None = None,
    checkpoint: Checkpoint | None = None,
    keep_weights: bool = True,
) -> LandscapeTrajectory:
    """Train a network scene's runs and draw them on its plane (`landscape`).

    `checkpoint` is called before every training step and after every chunk of the loss
    grid (`studio.engine.Checkpoint`)."""
    spec = scene.surface.network
    assert spec is not None, "not a network scene"
    traj = simulate_network(scene, cache, checkpoint)

    def grid_progress(done: int, total: int) -> None:
        if checkpoint is not None:
            checkpoint()
        if progress is not None:
            progress(done, total)

    return landscape(
        network_objective(spec),
        traj,
        scene.surface.plane,
        scene.seed,
        progress=grid_progress,
        keep_weights=keep_weights,
    )


__all__ = [
    "GRID",
    "LandscapeSurface",
    "LandscapeTrajectory",
    "choose_plane",
    "describe",
    "landscape",
    "network_objective",
    "network_starts",
    "pending_surface",
    "simulate_landscape",
    "simulate_network",
]
