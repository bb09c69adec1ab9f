"""Argument types shared by several subcommands."""

from __future__ import annotations

import argparse
import re


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
