"""The scripts in examples/ run as a user runs them, and make what they say they make."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from readback import read_gif, read_mp4

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(script: str, out: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def _moving(frames: np.ndarray) -> float:
    pairs = [not np.array_equal(a, b) for a, b in zip(frames[:-1], frames[1:], strict=True)]
    return sum(pairs) / len(pairs)


def test_gradient_descent_race(tmp_path: Path) -> None:
    out = _run("gradient_descent_race.py", tmp_path)
    assert out.count("loss after 20 steps") == 5
    with (tmp_path / "race.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["step"] for r in rows} >= {"0", "20"}
    frames = read_gif(tmp_path / "race.gif")
    assert frames.shape[1:3] == (360, 640) and len(frames) > 1
    assert _moving(frames) > 0.5


def test_learning_rate_sweep(tmp_path: Path) -> None:
    out = _run("learning_rate_sweep.py", tmp_path)
    assert "best rate: lr " in out
    data = np.load(tmp_path / "sweep.npz")
    assert data["positions"].shape == (401, 8, 2)
    from imageio.v3 import imread

    assert imread(tmp_path / "sweep.png").shape[:2] == (540, 960)


def test_slide_clip(tmp_path: Path) -> None:
    _run("slide_clip.py", tmp_path)
    meta, frames = read_mp4(tmp_path / "slide.mp4")
    assert meta["size"] == (1280, 720) and len(frames) >= 30
    assert _moving(np.asarray(frames)) > 0.5


def test_the_notebook_runs_inline_and_is_stripped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    notebook = json.loads((EXAMPLES / "inline_display.ipynb").read_text(encoding="utf-8"))
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    monkeypatch.chdir(tmp_path)
    shell = InteractiveShell.instance()
    shown: list[dict] = []
    for cell in code:
        result = shell.run_cell("".join(cell["source"]), store_history=False)
        assert result.success, result.error_in_exec or result.error_before_exec
        if result.result is not None:
            shown.append(shell.display_formatter.format(result.result)[0])
    assert "image/png" in shown[0]  # the scene as a still
    assert "<video" in shown[-1]["text/html"]  # the clip as an inline video
    InteractiveShell.clear_instance()
