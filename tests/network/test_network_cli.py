"""`studio trace --network`: the columns, the NPZ's weights, and one-line errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from studio_cli import assert_one_line_error, run_studio

from studio.cli import main

NET = "digits01:hidden=8,activation=tanh,init_seed=2"


def test_trace_writes_plane_coordinates_metrics_and_weights(tmp_path: Path) -> None:
    out = tmp_path / "run.npz"
    r = run_studio(
        "trace",
        "--network",
        NET,
        "--optimizer",
        "adam:lr=0.01",
        "--optimizer",
        "sgd:lr=0.5",
        "--steps",
        "40",
        "-o",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    d = np.load(out)
    d_params = 64 * 8 + 8 + 8 + 1
    assert d["positions"].shape == (41, 2, 2) and d["params"].shape == (41, 2, d_params)
    for key in ("loss", "val_loss", "accuracy", "grad_norm", "lr"):
        assert d[key].shape == (41, 2)
    # The positions are the weights projected on the stored plane.
    diff = d["params"] - d["plane_origin"]
    np.testing.assert_allclose(diff @ d["plane_directions"].T, d["positions"], atol=1e-9)
    np.testing.assert_array_equal(d["params"][0, 0], d["params"][0, 1])  # a fair start
    assert d["accuracy"][-1].min() > 0.9 and d["loss"][-1].max() < d["loss"][0].min()
    assert json.loads(str(d["scene"]))["surface"]["network"]["hidden"] == [8]

    r = run_studio("trace", "--network", NET, "--optimizer", "adam:lr=0.01", "--steps", "3")
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == [
        "optimizer",
        "label",
        "ball",
        "step",
        "x",
        "y",
        "loss",
        "val_loss",
        "accuracy",
        "grad_norm",
        "lr",
    ]
    assert len(rows) == 5 and rows[1][4:6] == ["0.0", "0.0"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--network", "mnist"], "unknown task 'mnist'"),
        (["--network", "digits01:hidden=0"], "between 1 and 256"),
        (["--network", "digits01:hidden=16x"], "hidden sizes are written like 16x8"),
        (["--network", "digits01:activation=gelu"], "unknown activation 'gelu'"),
        (["--network", "digits01:hidden=256x256"], "parameters is too many"),
        (["--network", "digits01:hidden=64x64", "--steps", "20000"], "MB to keep"),
        (["--network", "digits01", "--start", "1,1"], "initial weights"),
        (["--network", "digits01", "--surface", "bowl"], "--network replaces the surface"),
        (["--surface", "bowl", "--plane", "random"], "--plane applies to a network"),
    ],
)
def test_bad_networks_are_one_line_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["trace", *args, "--optimizer", "adam", "--optimizer", "sgd"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_a_network_trace_too_large_to_keep_is_refused_before_training(tmp_path) -> None:
    out = tmp_path / "x.npz"
    r = run_studio(
        "trace", "--network", "digits:hidden=256x120", "--optimizer", "adam",
        "--optimizer", "sgd", "--steps", "5000", "-o", str(out),
    )  # fmt: skip
    assert_one_line_error(r, "48,690 parameters is 3,896 MB to keep", "or fewer parameters")
    assert not out.exists()
