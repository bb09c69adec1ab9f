"""The public Python API: what a notebook or a script sees."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import studio
from studio.engine import simulate_scene

from readback import read_gif

ROOT = Path(__file__).resolve().parents[1]


def test_the_api_is_listed_documented_and_light() -> None:
    for name in studio.__all__:
        assert getattr(studio, name) is not None
        assert (
            name in (studio.__doc__ or "")
            or name.startswith("_")
            or name in ("Clip", "Result", "RunDraft", "StudioError")
        )
    assert all(
        (getattr(studio, n).__doc__ or "").strip() for n in studio.__all__ if n != "__version__"
    )
    code = (
        "import sys, studio; print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PyQt6', 'pyqtgraph', 'OpenGL', 'sympy', 'IPython')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_scene_from_the_api_equals_the_same_command_line(tmp_path: Path) -> None:
    from studio.cli import build_parser
    from studio.commands.scene_args import scene_from_args

    race = studio.make_scene(
        "rosenbrock",
        studio.run("adam", lr=0.05),
        studio.run("momentum", lr=2e-4),
        start=(-1.5, 2),
        steps=50,
    )
    args = build_parser().parse_args(
        [
            "trace",
            "--surface",
            "rosenbrock",
            "--optimizer",
            "adam:lr=0.05",
            "--optimizer",
            "momentum:lr=0.0002",
            "--start",
            "-1.5,2",
            "--steps",
            "50",
        ]
    )
    assert race == scene_from_args(args)
    result = studio.simulate(race)
    assert result.positions.shape == (51, 2, 2)
    np.testing.assert_array_equal(result.positions, simulate_scene(race)[1].positions)
    assert result.status == ["running", "running"]


def test_results_write_the_trace_formats(tmp_path: Path) -> None:
    result = studio.simulate(
        studio.make_scene("x^2 + y^2", studio.run("sgd", lr=0.1), start=(1, 1), steps=5)
    )
    result.to_csv(tmp_path / "r.csv")
    result.to_json(tmp_path / "r.json")
    result.to_npz(tmp_path / "r.npz")
    assert (tmp_path / "r.csv").read_text().count("\n") == 7
    assert json.loads((tmp_path / "r.json").read_text())
    assert np.load(tmp_path / "r.npz")["positions"].shape == (6, 1, 2)
    with pytest.raises(studio.StudioError, match="expected a .csv"):
        result.to_csv(tmp_path / "r.txt")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: studio.make_scene("x^^2", "sgd", start=(0, 0)), "column"),
        (lambda: studio.make_scene("x +* y", "sgd"), "column 4"),  # before the start
        (lambda: studio.make_scene("rosenbrock", studio.run("adam", lr=-1)), "lr"),
        (lambda: studio.make_scene("x^2 + y^2", "sgd"), "start"),
        (lambda: studio.make_scene("rosenbrock", "nosuch"), "nosuch"),
        (lambda: studio.load("/nonexistent/scene.json"), "scene.json"),
    ],
)
def test_errors_are_one_line_studio_errors(make, message: str) -> None:
    with pytest.raises(studio.StudioError) as info:
        make()
    text = str(info.value)
    assert "\n" not in text and message in text


def test_render_and_inline_display(tmp_path: Path) -> None:
    pytest.importorskip("IPython")
    from IPython.core.formatters import DisplayFormatter

    race = studio.make_scene(
        "x^2 + y^2",
        studio.run("sgd", lr=0.1),
        studio.run("adam", lr=0.2),
        start=(1.5, -1),
        steps=30,
    )
    clip = studio.render(race, tmp_path / "race.gif", size=(320, 180), duration=2)
    frames = read_gif(clip.path)
    assert frames.shape[1:3] == (180, 320) and len(frames) >= 20
    formats, _ = DisplayFormatter().format(clip)
    assert (
        formats["text/html"].startswith("<img") and "data:image/gif;base64," in formats["text/html"]
    )
    mp4 = studio.render(race, tmp_path / "race.mp4", size=(320, 180), frames=10)
    assert "<video" in DisplayFormatter().format(mp4)[0]["text/html"]
    png = DisplayFormatter().format(race)[0]["image/png"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
