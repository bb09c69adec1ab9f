"""The `studio` command line: argparse subcommands, one module each in `studio.commands`.

Each command module exposes `register(subparsers)`, which adds its parser and sets
`run=<function(args) -> int>` as a default. Modules import heavy things (Qt, sympy,
the engine) inside their run function, so `studio --version` and argument errors are instant.

User errors (`StudioError`, bad arguments) are one line on stderr, `studio: error: ...`,
exit status 2. No traceback ever reaches the user; set STUDIO_DEBUG=1 to see one.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from studio import __version__
from studio.commands import COMMANDS
from studio.errors import StudioError

PROG = "studio"


class _OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are a single `studio: error: ...` line."""

    def error(self, message: str) -> NoReturn:
        fail(message)


def fail(message: str) -> NoReturn:
    """Print the one-line user error and exit with status 2."""
    first_line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    print(f"{PROG}: error: {first_line}", file=sys.stderr)
    raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog=PROG,
        description="Descent Studio: watch optimizers descend a loss surface; export the run.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_OneLineParser)
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # The studio's matrices are small and many (a few balls, a 1,185-weight network for ten
    # runs): OpenBLAS's threads cost more in hand-offs than they win, and they compete with the
    # GUI thread. Set before NumPy loads; a user's own setting wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or (
        args_list[0].startswith("-") and args_list[0] not in ("-h", "--help", "--version")
    ):
        args_list.insert(0, "gui")  # `studio` alone opens the window
    if args_list[0] == "render":
        # A private Xvfb (when there is no display) takes a while to come up: started now,
        # it is ready by the time the imports, the scene and the surface are
        # (docs/architecture.md#start-up). Stopped below if the render never uses it.
        # Not finding Xvfb is said by the command itself, after the arguments are checked.
        from studio.gui.display import start_display_early

        with contextlib.suppress(StudioError):
            start_display_early()
    try:
        parser = build_parser()
        args = parser.parse_args(args_list)
        return _run(args)
    finally:
        if args_list[0] == "render":
            from studio.gui.display import cancel_early_display

            cancel_early_display()


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.run(args) or 0)
    except StudioError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `studio trace ... | head`: the reader has what it wanted. Point stdout at devnull
        # so the interpreter's final flush does not complain again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug: still no traceback in front of the user
        if os.environ.get("STUDIO_DEBUG"):
            raise
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {exc} "
            "(set STUDIO_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 1
