"""Drawing a network's runs on a plane never copies their weights whole.

A network trajectory holds every ball's weights at every step, up to the engine's cap of
hundreds of MB. The plane (PCA), the projection, the validation metrics and the loss grid
used to make one or more copies of it (a 470 MB trajectory peaked at 2.4 GB); they now work a
block of `BLOCK_BYTES` at a time. Measured with tracemalloc, which sees NumPy's buffers, with
the block made small so that a copy of the weights would stand out.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import numpy as np
import pytest

from studio.network import landscape as landscape_module
from studio.network import plane as plane_module
from studio.network.landscape import path_validation
from studio.network.model import NetworkObjective, NetworkSpec
from studio.network.plane import finite_rows, loss_grid, pca_plane

BLOCK = 256 * 1024


def peak_bytes(work: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture
def paths(monkeypatch: pytest.MonkeyPatch) -> tuple[NetworkObjective, np.ndarray]:
    """A (301, 3, D) trajectory of about 8 MB, drifting from the initial weights."""
    monkeypatch.setattr(plane_module, "BLOCK_BYTES", BLOCK)
    landscape_module._VALIDATED.clear()
    obj = NetworkObjective(NetworkSpec(hidden=(32, 16)))
    rng = np.random.default_rng(0)
    steps = rng.normal(scale=1e-3, size=(301, 3, obj.dim))
    steps[0] = 0.0
    return obj, obj.initial_params() + np.cumsum(steps, axis=0)


def test_the_plane_and_projection_work_in_blocks(paths) -> None:
    obj, traj = paths
    flat = traj.reshape(-1, obj.dim)
    rows = np.arange(0, len(flat), 3)  # thinned, as `choose_plane` does: a small Gram matrix
    whole = flat.nbytes
    plane = pca_plane(flat, obj.initial_params())
    assert peak_bytes(lambda: pca_plane(flat, obj.initial_params(), rows)) < whole / 4
    assert peak_bytes(lambda: plane.project(traj)) < whole / 4
    assert peak_bytes(lambda: finite_rows(flat, rows)) < whole / 4
    # Blocks change nothing: the same plane and coordinates as in one piece.
    a = flat - obj.initial_params()
    top = np.linalg.svd(a, full_matrices=False)[2][:2]
    assert np.abs(np.abs(np.sum(plane.directions * top, axis=1)) - 1).max() < 1e-9
    coords = plane.project(traj)
    np.testing.assert_allclose(coords, a.reshape(traj.shape) @ plane.directions.T, atol=1e-12)


def test_validation_and_the_loss_grid_work_in_blocks(paths) -> None:
    obj, traj = paths
    plane = pca_plane(traj, obj.initial_params())
    xs, ys = np.linspace(-1, 1, 41), np.linspace(-1, 1, 41)
    grid_points_weights = 41 * 41 * obj.dim * 8
    assert peak_bytes(lambda: loss_grid(obj, plane, xs, ys)) < grid_points_weights / 4
    # Every ball's path is strided in the (T+1, N, D) array: a whole copy of one is 2.7 MB.
    val_loss, accuracy = path_validation(obj, traj)
    landscape_module._VALIDATED.clear()
    assert peak_bytes(lambda: path_validation(obj, traj)) < traj.nbytes / 4
    direct = obj.validation(traj[:, 1])
    np.testing.assert_allclose(val_loss[:, 1], direct[0], rtol=1e-12)
    np.testing.assert_allclose(accuracy[:, 1], direct[1], rtol=1e-12)


def test_a_wide_network_trace_peaks_near_its_weights_not_a_multiple(tmp_path) -> None:
    """digits 64-256-120-10 over 600 steps: 234 MB of weights. The plane, projection and
    validation each copied them (three copies and more: 2.4 GB at the cap's 1,200 steps)."""
    from studio.bench.memory import network_scene, run_measured
    from studio.scene import scene_to_json

    scene = network_scene(quick=False, steps=600)
    assert scene.surface.network is not None
    weights = 601 * scene.surface.network.n_params * 8
    (tmp_path / "net.json").write_text(scene_to_json(scene))
    rc, peak_mib, _seconds, err = run_measured(["trace", "net.json", "-o", "x.npz"], tmp_path)
    assert rc == 0, err
    assert weights < peak_mib * 2**20 < weights + 250e6
