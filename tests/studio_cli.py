"""Running the `studio` command the way a user does, for the tests of its command line."""

from __future__ import annotations

import subprocess
import sys
from typing import Any


def run_studio(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """`python -m studio ARGS`: its exit status, stdout and stderr as text (never raises on
    a non-zero exit); `kwargs` go to `subprocess.run` (cwd, env)."""
    return subprocess.run(
        [sys.executable, "-m", "studio", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        **kwargs,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    """A user's mistake: exit status 2, one line "studio: error: ..." naming `words`, no
    traceback."""
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("studio: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in lines[0], lines[0]
