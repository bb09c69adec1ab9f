"""The optimizer engine: pure NumPy, no Qt. Simulate first, play back after.

    from studio.engine import simulate_scene, OPTIMIZERS, SCHEDULES, validate_hyper
    surface, traj = simulate_scene(scene)   # traj.positions[t] is frame t
"""

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
    SimulationError,
    grid_starts,
    run_starts,
    simulate,
    simulate_scene,
)
from studio.engine.trajectory import CONVERGED, DIVERGED, RUNNING, STATUS_NAMES, Trajectory

__all__ = [
    "CONVERGED", "DIVERGED", "OPTIMIZERS", "RUNNING", "SCHEDULES", "STATUS_NAMES", "HyperInfo",
    "HyperparameterError", "Optimizer", "OptimizerInfo", "RunCache", "ScheduleInfo", "SimulationError",
    "Trajectory", "build_optimizer", "grid_starts", "hyper_info", "optimizer_defaults",
    "run_label", "run_starts", "simulate", "simulate_scene", "validate_hyper",
]
