"""`studio gui [SCENE] [--screenshot PATH] [--size WxH]`: open the studio window."""

from __future__ import annotations

import argparse
from pathlib import Path

from studio.commands.common import parse_size


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the studio window (the default command)")
    p.add_argument("scene", nargs="?", type=Path, help="a scene .json file to open")
    p.add_argument(
        "--screenshot",
        type=Path,
        metavar="PATH",
        help="open the window, save a PNG of it once painted, and exit",
    )
    p.add_argument(
        "--size", type=parse_size, metavar="WxH", default=None, help="window size, e.g. 1600x900"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from studio.gui.app import run_gui  # Qt is imported only when a window is wanted

    return run_gui(scene_path=args.scene, screenshot=args.screenshot, size=args.size)
