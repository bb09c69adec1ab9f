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
    if args.screenshot is not None:
        check_screenshot_target(args.screenshot)
    from studio.gui.app import run_gui  # Qt is imported only when a window is wanted

    return run_gui(scene_path=args.scene, screenshot=args.screenshot, size=args.size)


def check_screenshot_target(path: Path) -> None:
    """Refuse, before any window opens, a screenshot that could not be written as asked:
    it is a PNG (a .jpg name would hold PNG bytes), into a folder that exists (as `render`
    and `trace` ask)."""
    from studio.errors import StudioError
    from studio.export import check_target

    check_target(path)
    if path.suffix.lower() != ".png":
        raise StudioError(f"--screenshot writes a PNG: give a name ending in .png, got {path.name}")
