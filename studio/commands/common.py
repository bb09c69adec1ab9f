"""Argument types shared by several subcommands."""

from __future__ import annotations

import argparse
import re


def parse_size(text: str) -> tuple[int, int]:
    """`1280x720` -> (1280, 720); each side between 16 and 8192 pixels."""
    m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"size must look like 1280x720, got {text!r}")
    w, h = int(m.group(1)), int(m.group(2))
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise argparse.ArgumentTypeError(f"size {w}x{h} is outside 16..8192 pixels per side")
    return w, h
