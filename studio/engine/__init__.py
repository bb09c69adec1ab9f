"""The optimizer engine: pure NumPy, no Qt. Simulate first, play back after.

    from studio.engine import simulate_scene, OPTIMIZERS, SCHEDULES, validate_hyper
    surface, traj = simulate_scene(scene)   # traj.positions[t] is frame t

Any `Objective` of D parameters (not only a 2-D surface) runs through `simulate`;
`studio.engine.reference` has the plain per-ball loop the engine is checked against.
"""

from studio.engine.labels import run_labels
from studio.engine.objective import Objective, SurfaceLike
from studio.engine.optimizers import Optimizer, build_optimizer
from studio.engine.registry import (
    OPTIMIZERS,
    SCHEDULES,
    HyperInfo,
    HyperparameterError,
    OptimizerInfo,
    ScheduleInfo,
    hyper_info,
    optimizer_defaults,
    run_label,
    validate_hyper,
)
from studio.engine.run_cache import RunCache
from studio.engine.simulate import (
    Checkpoint,
    SimulationError,
    check_size,
    grid_starts,
    run_starts,
    simulate,
    simulate_scene,
    trajectory_bytes,
)
from studio.engine.trajectory import (
    CONVERGED,
    DIVERGED,
    RUNNING,
    STATUS_NAMES,
    STOPPED,
    Trajectory,
)

__all__ = [
    "CONVERGED",
    "Checkpoint",
    "DIVERGED",
    "OPTIMIZERS",
    "RUNNING",
    "SCHEDULES",
    "STATUS_NAMES",
    "STOPPED",
    "HyperInfo",
    "HyperparameterError",
    "Objective",
    "Optimizer",
    "OptimizerInfo",
    "RunCache",
    "ScheduleInfo",
    "SimulationError",
    "SurfaceLike",
    "Trajectory",
    "build_optimizer",
    "check_size",
    "grid_starts",
    "hyper_info",
    "optimizer_defaults",
    "run_label",
    "run_labels",
    "run_starts",
    "simulate",
    "simulate_scene",
    "trajectory_bytes",
    "validate_hyper",
]
