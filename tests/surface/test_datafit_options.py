"""Data-fit options end to end: mean or sum over the rows, batches in order, a scene's own
rows (scene file, `--data`), early stopping on a validation loss (data-fit and network)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from studio.cli import main
from studio.engine import STOPPED, simulate
from studio.engine.registry import HyperparameterError, validate_hyper
from studio.scene import (
    RunSpec,
    Scene,
    SceneError,
    SurfaceSpec,
    scene_from_dict,
    scene_to_dict,
)
from studio.surface import ExpressionError, preset_surface, surface_from_spec
from studio.surface.datafit import parse_rows_csv, validation_split


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


# ------------------------------------------------------------------------ reduction


def test_sum_is_m_times_the_mean_and_says_so() -> None:
    mean = surface_from_spec(SurfaceSpec(preset="line_fit"))
    total = surface_from_spec(SurfaceSpec(preset="line_fit", reduction="sum"))
    xy = np.array([[0.3, -1.0], [2.0, 1.5]])
    m = mean.n_rows
    np.testing.assert_allclose(total.value(xy), m * mean.value(xy), rtol=1e-12)
    np.testing.assert_allclose(
        total.value_and_grad(xy)[1], m * mean.value_and_grad(xy)[1], rtol=1e-12
    )
    rows = np.array([[0, 3, 5], [1, 1, 2]])
    np.testing.assert_allclose(
        total.grad_rows(xy, rows), 3 * mean.grad_rows(xy, rows), rtol=1e-12
    )  # a mini-batch sums over its own rows
    assert total.expression.startswith(f"sum over {m} rows")
    assert mean.expression.startswith(f"mean over {m} rows")
    assert total.latex.startswith(rf"\sum_{{i=1}}^{{{m}}}")
    assert mean.latex.startswith(rf"\frac{{1}}{{{m}}}")
    # The minimiser is the same; its height is the sum.
    assert total.minima[0][:2] == mean.minima[0][:2]
    assert total.minima[0][2] == pytest.approx(m * mean.minima[0][2])


def test_reduction_and_data_need_a_data_fit_preset() -> None:
    with pytest.raises(ExpressionError, match="data-fit surfaces only"):
        surface_from_spec(SurfaceSpec(preset="rosenbrock", reduction="sum"))
    with pytest.raises(ExpressionError, match="data-fit surfaces only"):
        surface_from_spec(SurfaceSpec(preset=None, expression="x^2", data=((1.0, 2.0),)))


# ------------------------------------------------------------------------ scene files


def test_scene_version_rises_only_when_the_new_fields_are_used() -> None:
    plain = Scene(surface=SurfaceSpec(preset="line_fit"))
    d = scene_to_dict(plain)
    assert d["version"] == 1 and "reduction" not in d["surface"] and "data" not in d["surface"]
    own = Scene(surface=SurfaceSpec(preset="line_fit", reduction="sum", data=((1.0, 2.0),)))
    d = scene_to_dict(own)
    assert d["version"] == 3
    assert d["surface"]["reduction"] == "sum" and d["surface"]["data"] == [[1.0, 2.0]]
    assert scene_from_dict(json.loads(json.dumps(d))) == own


@pytest.mark.parametrize(
    ("surface", "message"),
    [
        ({"reduction": "median"}, "surface.reduction must be one of mean, sum"),
        ({"data": []}, "1 to 500"),
        ({"data": [[1, 2]] * 501}, "1 to 500"),
        ({"data": [[1, 2, 3]]}, "surface.data[0]"),
        ({"data": [[1, "a"]]}, "must be a number"),
        ({"data": [[1, 1e400]]}, "must be finite"),
    ],
)
def test_bad_scene_rows_are_one_line_errors(surface: dict, message: str) -> None:
    with pytest.raises(SceneError) as info:
        scene_from_dict({"surface": {"preset": "line_fit", **surface}})
    assert message in str(info.value) and "\n" not in str(info.value)


def test_scene_rows_replace_the_presets() -> None:
    spec = SurfaceSpec(preset="sigmoid_neuron", data=((0.5, 0.2), (2.5, 0.9), (1.0, 0.5)))
    surface = surface_from_spec(spec)
    assert surface.n_rows == 3 and surface.minima == ()  # the preset's minimum no longer holds
    assert "(edited)" in surface.title
    same = surface_from_spec(SurfaceSpec(preset="sigmoid_neuron", data=((0.5, 0.2), (2.5, 0.9))))
    assert same.minima == preset_surface("sigmoid_neuron").minima


# ------------------------------------------------------------------------ CSV rows


def test_csv_rows() -> None:
    assert parse_rows_csv("u,v\n1,2\n# note\n\n3.5, -4e-1\n") == ((1.0, 2.0), (3.5, -0.4))
    assert parse_rows_csv("U , V\n1,2\n") == ((1.0, 2.0),)
    assert parse_rows_csv("1,2\n3,4") == ((1.0, 2.0), (3.0, 4.0))
    for text, reason in (
        ("x,y\n1,2\n", "line 1: expected the header u,v or two numbers"),
        ("u,v\n1;2\n", "line 2 is not two numbers"),
        ("u,v\n1,inf\n", "line 2 is not finite"),
        ("", "no data rows"),
    ):
        with pytest.raises(ExpressionError, match=reason):
            parse_rows_csv(text)


def test_cli_data_and_reduction(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("u,v\n0.5,0.2\n2.5,0.9\n1.5,0.4\n", encoding="utf-8")
    out = tmp_path / "run.json"
    code, _, err = cli(
        capsys,
        "trace",
        "--surface",
        "sigmoid_neuron",
        "--data",
        str(rows),
        "--reduction",
        "sum",
        "--optimizer",
        "sgd:lr=1",
        "--start",
        "-2,-2",
        "--steps",
        "3",
        "-o",
        str(out),
    )
    assert code == 0, err
    scene = json.loads(out.read_text())["scene"]
    assert scene["version"] == 3
    assert scene["surface"]["data"] == [[0.5, 0.2], [2.5, 0.9], [1.5, 0.4]]
    assert scene["surface"]["reduction"] == "sum"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--surface", "rosenbrock", "--reduction", "sum"], "apply to a data-fit surface"),
        (["--surface", "line_fit", "--data", "{missing}"], "cannot read"),
        (["--surface", "line_fit", "--data", "{bad}"], "bad.csv: line 2 is not two numbers"),
        (
            ["--surface", "sigmoid_neuron", "--optimizer", "sgd:stop_on=val_loss,patience=5"],
            "needs at least 5 data rows",
        ),
        (["--surface", "bowl", "--optimizer", "sgd:stop_on=val_loss,patience=5"], "data-fit"),
        (["--surface", "line_fit", "--optimizer", "sgd:stop_on=val_loss"], "patience > 0"),
        (["--surface", "line_fit", "--optimizer", "sgd:batch_order=random"], "in_order"),
    ],
)
def test_cli_errors_are_one_line(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("u,v\n1,2,3\n", encoding="utf-8")
    args = [a.format(missing=tmp_path / "nope.csv", bad=bad) for a in args]
    if not any(a.startswith("--optimizer") for a in args):
        args += ["--optimizer", "sgd"]
    code, _, err = cli(capsys, "trace", *args, "--steps", "3", "--start", "0,0")
    assert code == 2
    assert message in err and err.count("\n") == 1, err


# ------------------------------------------------------------------------ batch order


def test_batches_in_order_cycle_through_the_rows() -> None:
    """B = 4 on 6 rows: rows 0-3, then 4-5, then 0-3 again (a short last batch)."""
    surface = preset_surface("sigmoid_neuron_6")
    run = RunSpec("sgd", {"lr": 0.5, "batch_size": 4, "batch_order": "in_order", "tol": 0.0})
    traj = simulate(surface, [run], 7, seed=3)
    rows = np.arange(6)
    batches = [rows[0:4], rows[4:6]]
    w = np.array([0.0, 0.0])
    expected = [w]
    for k in range(7):
        batch = batches[k % 2]
        g = surface.grad_rows(w[None, :], batch[None, :])[0]
        w = w - 0.5 * g
        expected.append(w)
    np.testing.assert_array_equal(traj.positions[:, 0], np.array(expected))
    # The default reshuffles each epoch: another path, and one that depends on the seed.
    shuffled = RunSpec("sgd", {"lr": 0.5, "batch_size": 4, "tol": 0.0})
    a = simulate(surface, [shuffled], 7, seed=3).positions
    b = simulate(surface, [shuffled], 7, seed=4).positions
    assert not np.array_equal(a, traj.positions) and not np.array_equal(a, b)
    c = simulate(surface, [run], 7, seed=4).positions
    np.testing.assert_array_equal(c, traj.positions)  # in order: no randomness at all


def test_batch_order_and_stop_on_are_registry_keys() -> None:
    hyper = validate_hyper(
        "adam", {"batch_order": "in_order", "stop_on": "val_loss", "patience": 3}
    )
    assert hyper["batch_order"] == "in_order" and hyper["stop_on"] == "val_loss"
    assert validate_hyper("sgd", {})["batch_order"] == "shuffle"
    assert validate_hyper("sgd", {})["stop_on"] == "grad"
    with pytest.raises(HyperparameterError, match="batch_order must be one of shuffle, in_order"):
        validate_hyper("sgd", {"batch_order": "sorted"})


# ------------------------------------------------------------------------ validation loss


def test_val_loss_stopping_on_a_data_fit_surface_follows_ruder() -> None:
    """Gradient over the training rows (k % 5 != 4); stop when the loss over the others has
    not improved on its best by tol for `patience` updates: checked against NumPy."""
    surface = preset_surface("line_fit")
    lr, patience, tol = 0.3, 8, 1e-3
    run = RunSpec(
        "sgd", {"lr": lr, "stop_on": "val_loss", "patience": patience, "tol": tol}, ((-2.5, 4.0),)
    )
    traj = simulate(surface, [run], 2000, seed=0)
    train, held = validation_split(surface.n_rows)
    assert held.tolist() == [4, 9, 14, 19]
    assert surface.data is not None
    u, v = surface.data[:, 0], surface.data[:, 1]
    w = np.array([-2.5, 4.0])
    best, best_step, stop = np.inf, 0, None
    path = [w]
    for t in range(2001):
        val = np.mean((w[0] * u[held] + w[1] - v[held]) ** 2 / 2)
        if val < best - tol:
            best, best_step = val, t
        if t - best_step >= patience:
            stop = t
            break
        r = w[0] * u[train] + w[1] - v[train]
        w = w - lr * np.array([np.mean(r * u[train]), np.mean(r)])
        path.append(w)
    assert stop is not None
    assert traj.status[0] == STOPPED and int(traj.stop_step[0]) == stop
    np.testing.assert_allclose(traj.positions[: stop + 1, 0], np.array(path), atol=1e-12)
    # Watching the gradient instead never holds rows out: the paths differ from step 1.
    plain = simulate(surface, [RunSpec("sgd", {"lr": lr}, ((-2.5, 4.0),))], 5, seed=0)
    assert not np.allclose(plain.positions[1, 0], traj.positions[1, 0])


def test_val_loss_stopping_on_a_network(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "net.npz"
    code, _, err = cli(
        capsys,
        "trace",
        "--network",
        "digits01:hidden=4,activation=tanh,init_seed=1",
        "--optimizer",
        "adam:lr=0.05,stop_on=val_loss,patience=5,tol=0.01",
        "--optimizer",
        "adam:lr=0.05",
        "--steps",
        "300",
        "-o",
        str(out),
    )
    assert code == 0, err
    with np.load(out) as npz:
        status, stop, val = npz["status"], npz["stop_step"], npz["val_loss"]
    assert status.tolist() == [STOPPED, 0]
    t = int(stop[0])
    assert 5 <= t < 300
    # At t the best validation loss is `patience` updates old; it improved up to there.
    history = val[: t + 1, 0]
    best_step = 0
    for k in range(1, t + 1):
        if history[k] < history[best_step] - 0.01:
            best_step = k
    assert t - best_step == 5
