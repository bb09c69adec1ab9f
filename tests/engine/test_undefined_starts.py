"""Holes of f (log(x) + y² for x ≤ 0): a start there is refused with the reason, a start
grid leaves those points out, and the command line says so
(docs/algorithms.md#undefined-regions)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from studio_cli import assert_one_line_error
from studio_cli import run_studio as studio

from studio.engine import CONVERGED, DIVERGED, RUNNING, simulate
from studio.engine.starts import UndefinedStartError, grid_notes, start_problems
from studio.errors import StudioError
from studio.scene import RunSpec
from studio.surface import make_surface

LOG = "log(x) + y^2"


def test_a_start_where_f_is_undefined_is_refused_with_the_reason() -> None:
    surface = make_surface(LOG)
    runs = [
        RunSpec("adam", {"lr": 0.1}, ((2.0, 1.0),), label="ok"),
        RunSpec("adam", {"lr": 0.1}, ((-2.0, 1.0),), label="Adam"),
    ]
    with pytest.raises(UndefinedStartError) as err:
        simulate(surface, runs, 10, 0)
    assert isinstance(err.value, StudioError)  # the CLI's one line, exit 2
    assert str(err.value) == (
        "run 'Adam': start (-2, 1) is where f is undefined (log or square root of a "
        "negative number?)"
    )


@pytest.mark.parametrize(
    ("formula", "point", "words"),
    [
        ("log(x) + y^2", (-2.0, 1.0), "f is undefined"),
        ("sqrt(x*y)", (1.0, -1.0), "f is undefined"),
        ("log(x^2 + y^2 - 4)", (0.0, 0.0), "f is undefined"),
        ("log(x) + y^2", (0.0, 1.0), "minus infinity"),
        ("sqrt(x) + y^2", (0.0, 1.0), "gradient of f is undefined"),
    ],
)
def test_each_kind_of_hole_has_its_reason(
    formula: str, point: tuple[float, float], words: str
) -> None:
    problem = start_problems(make_surface(formula), [point])[0]
    assert problem is not None and words in problem


def test_defined_points_and_overflow_are_not_refused() -> None:
    # exp(x^2) at x = 40 overflows to +inf: a start that diverges at once, as before.
    assert start_problems(make_surface("exp(x^2) + y"), [(40.0, 0.0), (1.0, 1.0)]) == [None, None]
    traj = simulate(
        make_surface("exp(x^2) + y"), [RunSpec("sgd", {"lr": 0.01}, ((40.0, 0.0),))], 5, 0
    )
    assert traj.status[0] == DIVERGED and traj.stop_step[0] == 0


def test_a_start_grid_leaves_the_hole_out_and_says_how_many() -> None:
    surface = make_surface(LOG)
    run = RunSpec("adam", {"lr": 0.05}, grid=(4, 4), label="Adam")
    traj = simulate(surface, [run], 20, 0)
    assert traj.n_balls == 8  # the 8 points with x > 0
    assert (traj.positions[0, :, 0] > 0).all()
    assert traj.stop_step.min() > 0  # no ball "diverged at step 0"
    assert grid_notes(surface, [run]) == [
        "run 'Adam': 8 of 16 grid starts are where f or its gradient is undefined: left out"
    ]
    assert grid_notes(make_surface("x^2 + y^2"), [run]) == []


def test_a_start_grid_wholly_in_the_hole_is_refused() -> None:
    surface = make_surface(LOG, domain=(-5.0, -1.0, -5.0, 5.0))
    with pytest.raises(UndefinedStartError, match="every point of its start grid"):
        simulate(surface, [RunSpec("adam", {}, grid=(3, 3), label="Adam")], 10, 0)


def test_a_run_that_walks_into_the_hole_later_is_still_diverged() -> None:
    traj = simulate(make_surface(LOG), [RunSpec("adam", {"lr": 0.1}, ((2.0, 1.0),))], 60, 0)
    assert traj.status[0] == DIVERGED and traj.stop_step[0] > 5
    assert np.isfinite(traj.loss[:, 0]).all()  # frozen at its last point with a value
    assert traj.status[0] not in (RUNNING, CONVERGED)


# ----------------------------------------------------------------------------- command line


def test_cli_refuses_a_start_in_the_hole_in_one_line() -> None:
    proc = studio("trace", "--surface", LOG, "--optimizer", "adam:lr=0.1@-2,1", "--steps", "5")
    assert_one_line_error(proc, "run 'Adam (lr 0.1)'", "start (-2, 1)", "f is undefined")
    assert proc.stdout == ""


def test_cli_refuses_a_scene_file_with_a_start_in_the_hole(tmp_path: Path) -> None:
    scene = tmp_path / "hole.json"
    scene.write_text(
        json.dumps(
            {
                "version": 1,
                "steps": 5,
                "surface": {"expression": "sqrt(x*y)"},
                "runs": [{"optimizer": "sgd", "label": "SGD", "starts": [[1, -1]]}],
            }
        ),
        encoding="utf-8",
    )
    assert_one_line_error(
        studio("trace", str(scene)), "run 'SGD'", "start (1, -1)", "f is undefined"
    )


def test_cli_grid_note_and_trace(tmp_path: Path) -> None:
    out = tmp_path / "grid.csv"
    proc = studio(
        "trace",
        "--surface",
        LOG,
        "--optimizer",
        "adam",
        "--start-grid",
        "4x4",
        "--steps",
        "3",
        "-o",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert "studio: note: run 'Adam (lr 0.001)': 8 of 16 grid starts" in proc.stderr
    with out.open(newline="", encoding="utf-8") as handle:
        balls = {row["ball"] for row in csv.DictReader(handle)}
    assert len(balls) == 8


def test_python_api_refuses_a_start_in_the_hole() -> None:
    import studio as api

    scene = api.make_scene(LOG, api.run("adam", lr=0.1, start=(-2.0, 1.0)), steps=5)
    with pytest.raises(StudioError, match=r"start \(-2, 1\) is where f is undefined"):
        api.simulate(scene)
