"""Network scenes: the scene model's network field, its JSON, and simulate_scene."""

from __future__ import annotations

import json

import numpy as np
import pytest

from studio.engine import simulate_scene
from studio.network.landscape import LandscapeSurface, LandscapeTrajectory
from studio.network.model import NetworkSpec
from studio.scene import (
    RunSpec,
    Scene,
    SceneError,
    SurfaceSpec,
    scene_from_dict,
    scene_to_dict,
    scene_to_json,
)


def net_scene(steps: int = 30, plane: str = "pca") -> Scene:
    spec = SurfaceSpec(preset=None, network=NetworkSpec(hidden=(6,), init_seed=3), plane=plane)
    return Scene(
        surface=spec,
        runs=(RunSpec("sgd", {"lr": 0.5}), RunSpec("adam", {"lr": 0.01}, color="#56b4e9")),
        steps=steps,
        seed=1,
    )


def test_a_network_scene_round_trips_as_version_2() -> None:
    scene = net_scene(plane="random")
    data = json.loads(scene_to_json(scene))
    assert data["version"] == 2
    assert data["surface"]["network"] == {
        "task": "digits01",
        "hidden": [6],
        "activation": "sigmoid",
        "init_seed": 3,
    }
    assert scene_from_dict(data) == scene


def test_a_surface_scene_is_still_written_as_version_1() -> None:
    data = scene_to_dict(Scene(runs=(RunSpec(),)))
    assert data["version"] == 1 and "network" not in data["surface"]
    assert scene_from_dict({"version": 1, "surface": {"preset": "bowl"}}).surface.network is None


@pytest.mark.parametrize(
    ("surface", "message"),
    [
        ({"network": {"task": "mnist"}}, "unknown task 'mnist'"),
        ({"network": {"hidden": [0]}}, "between 1 and 256"),
        ({"network": {"activation": "gelu"}}, "unknown activation"),
        ({"network": {"depth": 3}}, "unknown network key 'depth'"),
        ({"network": {}, "plane": "tsne"}, "surface.plane must be one of"),
        ({"network": {}, "preset": "bowl"}, "no 'preset' or 'expression'"),
        ({"network": [16]}, "must be an object"),
    ],
)
def test_bad_networks_are_one_line_errors(surface: dict, message: str) -> None:
    with pytest.raises(SceneError, match=message) as info:
        scene_from_dict({"version": 2, "surface": surface})
    assert "\n" not in str(info.value)


def test_simulate_scene_gives_the_landscape() -> None:
    scene = net_scene()
    surface, traj = simulate_scene(scene)
    assert isinstance(surface, LandscapeSurface) and isinstance(traj, LandscapeTrajectory)
    assert traj.surface is surface
    d = scene.surface.network.n_params  # type: ignore[union-attr]
    assert traj.positions.shape == (31, 2, 2) and traj.params.shape == (31, 2, d)
    assert traj.val_loss.shape == traj.accuracy.shape == traj.loss.shape == (31, 2)
    np.testing.assert_allclose(traj.positions[0], 0.0, atol=1e-12)  # the plane's origin
    # The loss is the true training loss: SGD at lr 0.5 learns digits 0/1 in 30 steps.
    assert traj.loss[-1, 0] < 0.5 * traj.loss[0, 0]
    assert traj.accuracy[-1].min() > 0.9
    xmin, xmax, _, _ = surface.domain
    assert xmin < traj.positions[..., 0].min() and traj.positions[..., 0].max() < xmax
    assert surface.axis_titles[0].startswith("PC1 ") and surface.axis_titles[0] in surface.title
    xs, ys, z = surface.grid(41, 41)
    np.testing.assert_allclose(z, surface.z)  # the grid itself, where they coincide
    # The interpolated surface is close to the network's own loss between grid lines.
    mid = np.column_stack([(xs[:-1] + xs[1:]) / 2, (ys[:-1] + ys[1:]) / 2])
    np.testing.assert_allclose(surface.value(mid), surface.exact(mid), rtol=0.05, atol=0.01)
