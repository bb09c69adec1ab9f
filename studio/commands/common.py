"""What several subcommands share: argument types, and writing to standard output."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Iterator
from typing import TextIO


def parse_size(text: str) -> tuple[int, int]:
    """`1280x720` -> (1280, 720), within the export's side and area limits."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"size must look like 1280x720, got {text!r}")
    from studio.errors import StudioError
    from studio.export.options import check_frame_size

    w, h = int(m.group(1)), int(m.group(2))
    try:
        check_frame_size((w, h))
    except StudioError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return w, h


@contextlib.contextmanager
def standard_output() -> Iterator[TextIO]:
    """Standard output for a command's result. One that cannot take it (a full disk,
    /dev/full) is a one-line StudioError; a closed pipe (`| head`) is not an error:
    BrokenPipeError goes on to the CLI, which ends quietly."""
    from studio.errors import StudioError

    try:
        yield sys.stdout
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        # What is still buffered would fail again in the interpreter's final flush and
        # print a traceback-like "Exception ignored" message: point stdout at devnull.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise StudioError(f"cannot write to standard output: {exc.strerror or exc}") from None
