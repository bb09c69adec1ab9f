"""A start per optimizer on the command line: `--optimizer adam:lr=0.4@-6,-6`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from studio_cli import assert_one_line_error
from studio_cli import run_studio as studio

from studio.editing import RunText, RunTextError, format_run_text, parse_run_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("adam", RunText("adam", {})),
        ("adam:lr=0.4@-6,-6", RunText("adam", {"lr": 0.4}, ((-6.0, -6.0),))),
        ("adam@-6,-6", RunText("adam", {}, ((-6.0, -6.0),))),
        (
            "sgd:lr=1e-3,batch_size=4,schedule=step@1,2@ -.5 , 3e1",
            RunText(
                "sgd", {"lr": 1e-3, "batch_size": 4, "schedule": "step"}, ((1.0, 2.0), (-0.5, 30.0))
            ),
        ),
    ],
)
def test_run_text_is_read(text: str, expected: RunText) -> None:
    parsed = parse_run_text(text)
    assert parsed == expected
    assert isinstance(parsed.hyper.get("batch_size", 0), int)
    assert parse_run_text(format_run_text(parsed.optimizer, parsed.hyper, parsed.starts)) == parsed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("adam@-6", "a start after @ must be X,Y"),
        ("adam@", "a start after @ must be X,Y"),
        ("adam@1,2,3", "a start after @ must be X,Y"),
        ("adam@x,1", "a start after @ must be X,Y"),
        (":lr=1", "optimizer name first"),
        ("adam:lr", "expected key=value"),
    ],
)
def test_bad_run_text_says_why(text: str, message: str) -> None:
    with pytest.raises(RunTextError, match=message):
        parse_run_text(text)


def test_own_start_beats_the_default_start_and_the_rest_take_it(tmp_path: Path) -> None:
    out = studio(
        "trace",
        "--surface",
        "x^2 + y^2",
        "--optimizer",
        "sgd:lr=0.1",
        "--optimizer",
        "adam:lr=0.4@-6,-6@2,1",
        "--optimizer",
        "momentum",
        "--start",
        "3,4",
        "--domain",
        "-7,7,-7,7",
        "--steps",
        "3",
        "-o",
        str(tmp_path / "run.json"),
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads((tmp_path / "run.json").read_text())
    starts = [(b["optimizer"], b["x"][0], b["y"][0]) for b in doc["balls"]]
    assert starts == [
        ("sgd", 3.0, 4.0),
        ("adam", -6.0, -6.0),
        ("adam", 2.0, 1.0),
        ("momentum", 3.0, 4.0),
    ]
    runs = doc["scene"]["runs"]
    assert [r["starts"] for r in runs] == [[[3.0, 4.0]], [[-6.0, -6.0], [2.0, 1.0]], [[3.0, 4.0]]]


def test_own_start_beats_a_start_grid(tmp_path: Path) -> None:
    out = studio(
        "trace",
        "--surface",
        "x^2 + y^2",
        "--optimizer",
        "sgd",
        "--optimizer",
        "adam@-1,1",
        "--start-grid",
        "2x2",
        "--steps",
        "1",
        "-o",
        str(tmp_path / "run.json"),
    )
    assert out.returncode == 0, out.stderr
    runs = json.loads((tmp_path / "run.json").read_text())["scene"]["runs"]
    assert runs[0]["grid"] == [2, 2]
    assert runs[1]["starts"] == [[-1.0, 1.0]] and runs[1]["grid"] is None


def test_a_surface_without_a_classic_start_names_every_way_to_give_one(tmp_path: Path) -> None:
    out = studio(
        "trace",
        "--surface",
        "x^2",
        "--optimizer",
        "sgd@1,1",
        "--optimizer",
        "adam",
        "-o",
        str(tmp_path / "run.json"),
    )
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "studio: error: adam: this surface has no classic start: give "
        "--start X,Y, --start-grid NXxNY or --optimizer adam@X,Y"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_mistyped_formula_is_told_before_a_missing_start(tmp_path: Path) -> None:
    out = studio(
        "trace", "--surface", "x +* y", "--optimizer", "adam", "-o", str(tmp_path / "r.csv")
    )
    assert_one_line_error(out, "syntax error", "column 4")
    assert list(tmp_path.iterdir()) == []


def test_bad_own_start_is_one_line_exit_2(tmp_path: Path) -> None:
    out = studio(
        "trace", "--surface", "x^2", "--optimizer", "sgd@1;1", "-o", str(tmp_path / "run.json")
    )
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "studio: error: sgd@1;1: a start after @ must be X,Y (two numbers), got '1;1'"
    ]


@pytest.mark.parametrize("command", ["trace", "render"])
def test_help_documents_the_own_start(command: str) -> None:
    out = studio(command, "--help")
    assert out.returncode == 0
    text = " ".join(out.stdout.split())
    assert "NAME[:key=value,...][@X,Y...]" in text
    assert "adam:lr=0.4@-6,-6" in text
    assert "the others start at --start / --start-grid" in text


def test_readme_command_block_shows_the_own_start() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("The same scenes work from the command line")[1].split("```")[1]
    assert "@-6,-6" in block
