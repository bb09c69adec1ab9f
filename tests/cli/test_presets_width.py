"""`studio presets` fits the terminal it prints to."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from studio.commands.presets import preset_lines
from studio.surface import PRESETS


def presets_output(columns: int) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "studio", "presets"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": str(columns)},
    )
    assert out.returncode == 0 and out.stderr == "", out.stderr
    return out.stdout


def test_80_columns_no_line_is_wider_and_everything_is_there() -> None:
    text = presets_output(80)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    names = [line.split()[0] for line in lines if line and not line[0].isspace()]
    assert names == list(PRESETS)
    flat = " ".join(text.split())
    assert "(a - x)^2 + b(y - x^2)^2 with a=1, b=100" in flat
    assert "(-3.77931, -3.28319, 0)" in text  # a minimum is never cut across lines
    assert "domain [-4.5, 4.5] x [-4.5, 4.5]" in text


@pytest.mark.parametrize("columns", [20, 40, 60, 100, 140, 200])
def test_no_line_is_wider_than_the_terminal(columns: int) -> None:
    lines = preset_lines(columns)
    assert max(len(line) for line in lines) <= columns
    assert sum(line.startswith("rosenbrock") for line in lines) == 1


def test_a_wide_terminal_gets_the_one_line_table() -> None:
    lines = preset_lines(400)
    assert lines[0].split()[:2] == ["NAME", "FORMULA"]
    assert len(lines) == 1 + len(PRESETS)
