"""`studio --version` and the one-line error path, run as a user would (a subprocess)."""

from studio_cli import run_studio

import studio


def test_version() -> None:
    out = run_studio("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"studio {studio.__version__}"


def test_unknown_command_is_one_line_exit_2() -> None:
    out = run_studio("frobnicate")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("studio: error: ")
    assert "Traceback" not in out.stderr


def test_bad_size_is_one_line_exit_2() -> None:
    out = run_studio("gui", "--screenshot", "x.png", "--size", "big")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "studio: error: argument --size: size must look like 1280x720, got 'big'"
    ]
