"""A scene stores its lower-plot choice (`Scene.lower_plot`): JSON, versions, refusals, and
`studio render` showing it (or `--lower-plot`), validation loss and accuracy on networks only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from studio_cli import run_studio

from studio.errors import StudioError
from studio.export.options import lower_plot_for
from studio.network.model import NetworkSpec
from studio.resources import asset_path
from studio.scene import (
    RunSpec,
    Scene,
    SceneError,
    SurfaceSpec,
    load_scene,
    scene_from_dict,
    scene_to_dict,
)

NETWORK = SurfaceSpec(preset=None, network=NetworkSpec(hidden=(6,), init_seed=2))


def test_a_lower_plot_round_trips_as_version_3_and_the_default_is_not_written() -> None:
    scene = Scene(surface=NETWORK, runs=(RunSpec("adam", {"lr": 0.01}),), lower_plot="accuracy")
    data = scene_to_dict(scene)
    assert data["version"] == 3 and data["lower_plot"] == "accuracy"
    assert scene_from_dict(json.loads(json.dumps(data))) == scene
    plain = scene_to_dict(Scene(surface=NETWORK, runs=(RunSpec(),)))
    assert plain["version"] == 2 and "lower_plot" not in plain
    lr = scene_to_dict(Scene(runs=(RunSpec(),), lower_plot="lr"))
    assert lr["version"] == 3 and scene_from_dict(lr).lower_plot == "lr"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"surface": {"preset": "bowl"}, "lower_plot": "accuracy"}, "needs a network surface"),
        ({"surface": {"preset": "bowl"}, "lower_plot": "loss"}, "must be one of grad, lr"),
        ({"surface": {"preset": "bowl"}, "lower_plot": ["grad"]}, "must be one of"),
    ],
)
def test_bad_lower_plots_are_refused_in_one_line(data: dict, message: str) -> None:
    with pytest.raises(SceneError, match=message):
        scene_from_dict(data)


def test_the_weight_decay_scene_opens_on_validation_accuracy() -> None:
    assert load_scene(asset_path("scenes/digits_weight_decay.json")).lower_plot == "accuracy"


def test_lower_plot_for_asks_the_scene_then_refuses_network_plots_on_a_surface() -> None:
    net = Scene(surface=NETWORK, lower_plot="val_loss")
    assert lower_plot_for(net, None) == "val_loss"
    assert lower_plot_for(net, "grad") == "grad"
    with pytest.raises(StudioError, match="needs a network scene"):
        lower_plot_for(Scene(), "accuracy")


def test_render_draws_the_scene_s_lower_plot_and_refuses_accuracy_on_a_surface(
    tmp_path: Path,
) -> None:
    scene = Scene(
        surface=NETWORK,
        runs=(RunSpec("adam", {"lr": 0.02}), RunSpec("sgd", {"lr": 0.5}, color="#56b4e9")),
        steps=30,
        lower_plot="accuracy",
    )
    path = tmp_path / "net.json"
    path.write_text(json.dumps(scene_to_dict(scene)))
    shown = {}
    for name, extra in (("scene", []), ("accuracy", ["--lower-plot", "accuracy"])):
        out = tmp_path / f"{name}.png"
        proc = run_studio(
            "render", str(path), "--view", "loss", "--size", "480x360", *extra, "-o", str(out)
        )
        assert proc.returncode == 0, proc.stderr
        shown[name] = np.asarray(Image.open(out).convert("RGB"), int)
    out = tmp_path / "grad.png"
    proc = run_studio(
        "render",
        str(path),
        "--view",
        "loss",
        "--size",
        "480x360",
        "--lower-plot",
        "grad",
        "-o",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    grad = np.asarray(Image.open(out).convert("RGB"), int)
    # The scene's choice is accuracy: the same picture as asking for it, not the gradient norm.
    assert np.array_equal(shown["scene"], shown["accuracy"])
    assert (np.abs(grad - shown["scene"]).max(-1) > 40).sum() > 500

    proc = run_studio(
        "render",
        "--surface",
        "bowl",
        "--optimizer",
        "sgd",
        "--steps",
        "5",
        "--lower-plot",
        "accuracy",
        "-o",
        str(tmp_path / "x.png"),
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs a network scene" in lines[0], proc.stderr
    assert not (tmp_path / "x.png").exists()


def test_validation_of_a_known_path_is_reused_and_equal() -> None:
    from studio.network.landscape import _VALIDATED, network_objective, path_validation

    obj = network_objective(NETWORK.network)  # type: ignore[arg-type]
    rng = np.random.default_rng(0)
    paths = obj.initial_params()[None, None] + 0.1 * rng.standard_normal((5, 3, obj.dim))
    direct = obj.validation(paths.reshape(-1, obj.dim))
    first = path_validation(obj, paths)
    before = len(_VALIDATED)
    again = path_validation(obj, paths[:, [2, 0, 1]])  # the same paths, other columns
    assert len(_VALIDATED) == before  # nothing recomputed
    for got, want in zip(first, direct, strict=True):
        np.testing.assert_array_equal(got, want.reshape(5, 3))
    np.testing.assert_array_equal(again[0], first[0][:, [2, 0, 1]])
