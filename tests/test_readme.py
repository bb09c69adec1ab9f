"""The README's two newcomer commands stay true: CI runs the very test command it shows."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_COMMAND = 'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[test]" && pytest'
LAUNCH_COMMAND = "python3 -m venv .venv && . .venv/bin/activate && pip install . && studio"


def test_readme_commands_match_ci() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert TEST_COMMAND in readme
    assert LAUNCH_COMMAND in readme
    assert TEST_COMMAND in ci.splitlines()
