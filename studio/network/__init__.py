"""The network lab: the digits data, a multilayer perceptron with exact gradients vectorised
over runs, and the 2-D landscape planes its training runs are drawn on. Pure NumPy, no Qt.

    from studio.network import NetworkSpec, NetworkObjective, pca_plane, loss_grid, grid_axes
    obj = NetworkObjective(NetworkSpec.parse("digits01:hidden=16x8,activation=sigmoid"))
    loss, grad = obj.value_and_grad(params)          # params (N, D) -> (N,), (N, D)
    plane = pca_plane(path)                          # path (steps + 1, N, D)
    xs, ys = grid_axes(plane.project(path))          # 41 lines per axis
    z = loss_grid(obj, plane, xs, ys)                # (41, 41), indexing "ij"
"""

from studio.network.data import TASKS, DataError, TaskData, load_digits, load_task
from studio.network.model import (
    ACTIVATIONS,
    DEFAULT_HIDDEN,
    MAX_HIDDEN_LAYERS,
    MAX_PARAMS,
    MAX_WIDTH,
    LayerSlice,
    NetworkError,
    NetworkObjective,
    NetworkSpec,
    init_params,
    layer_slices,
    unflatten,
)
from studio.network.plane import (
    PLANES,
    Plane,
    PlaneError,
    filter_normalise,
    grid_axes,
    loss_grid,
    pca_plane,
    random_plane,
)

__all__ = [
    "ACTIVATIONS",
    "DEFAULT_HIDDEN",
    "MAX_HIDDEN_LAYERS",
    "MAX_PARAMS",
    "MAX_WIDTH",
    "PLANES",
    "TASKS",
    "DataError",
    "LayerSlice",
    "NetworkError",
    "NetworkObjective",
    "NetworkSpec",
    "Plane",
    "PlaneError",
    "TaskData",
    "filter_normalise",
    "grid_axes",
    "init_params",
    "layer_slices",
    "load_digits",
    "load_task",
    "loss_grid",
    "pca_plane",
    "random_plane",
    "unflatten",
]
