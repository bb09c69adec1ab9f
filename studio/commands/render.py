"""`studio render SCENE.json | --surface ... -o OUT.gif|.mp4|.png`: export without a window.

The same offscreen renderer and frame loop as the GUI's File → Export animation. GL needs
an X display: on a machine with none (a server, CI) this starts a private Xvfb for the
duration of the command (studio.gui.display), so `studio render` works over ssh with
nothing but `apt-get install xvfb`. The views and formats offered, and each format's
default size and rate, come from their registries (studio.export.views, studio.export).

Ctrl+C stops the export between two frames (never inside Qt's paint code, where
pyqtgraph would print the interrupt as a traceback and carry on), deletes the temporary
file and exits 130 with `studio: interrupted`. ffmpeg runs in its own process group, so the
terminal's Ctrl+C reaches only us; the writer stops ffmpeg itself.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from studio.commands.common import parse_size
from studio.errors import StudioError

if TYPE_CHECKING:
    from studio.export import FrameWriter

# Ranges of the numeric flags, stated in their refusals.
MAX_HOLD_S = 10_000
MAX_POSITIVE = 1_000_000  # --fps and --duration (each has a narrower check of its own)
MAX_ORBIT_DEG = 3600  # ten turns
MAX_MSAA = 16  # what GL drivers commonly offer; more gives the same picture, slower


def register(sub: argparse._SubParsersAction) -> None:
    from studio.commands.scene_args import add_scene_arguments
    from studio.export import WRITERS
    from studio.export.views import VIEW_NAMES, views_help

    p = sub.add_parser(
        "render",
        help="export a scene as GIF, MP4 or PNG without opening a window",
        description="Render a scene (a file, or the inline flags of `studio trace`) to an "
        "animated GIF, an MP4 for slides, or a PNG of one step.",
    )
    add_scene_arguments(p)
    out = p.add_argument_group("output")
    out.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="OUT",
        help=f"{_either('OUT' + w.suffix for w in WRITERS.values())} "
        "(the format follows the suffix)",
    )
    out.add_argument(
        "--size",
        type=parse_size,
        default=None,
        metavar="WxH",
        help=f"frame size ({_defaults(lambda w: '{}x{}'.format(*w.default_size))})",
    )
    out.add_argument(
        "--fps",
        type=_positive_float,
        default=None,
        help=f"frames per second ({_defaults(lambda w: f'{w.default_fps:g}')}). "
        "MP4: 1 to 120. GIF: "
        "1 to 50, and every frame lasts the same whole number of "
        "hundredths of a second, so other rates round to 100/N: "
        "50, 33.3, 25, 20, 16.7, ... (30 plays at 33.3)",
    )
    length = out.add_mutually_exclusive_group()
    length.add_argument(
        "--frames",
        type=_positive_int,
        default=None,
        metavar="N",
        help="number of frames, steps spread evenly",
    )
    length.add_argument(
        "--duration",
        type=_positive_float,
        default=None,
        metavar="S",
        help="clip length in seconds (frames = duration × fps)",
    )
    length.add_argument(
        "--steps-per-frame",
        type=_positive_int,
        default=None,
        metavar="K",
        help="advance K steps per frame",
    )
    out.add_argument(
        "--hold",
        type=_non_negative_float,
        default=None,
        metavar="S",
        help="seconds the last frame is held at the end (default 1)",
    )
    out.add_argument(
        "--preset",
        choices=_preset_names(),
        default=None,
        help="named output choices: " + _presets_help(),
    )
    out.add_argument(
        "--msaa",
        type=_samples,
        default=None,
        metavar="N",
        help="antialias the 3D view with N samples per pixel (default 0, or 4 "
        "with a preset; it slows a software-GL export by about 40%%)",
    )
    out.add_argument(
        "--transparent",
        action="store_true",
        help="PNG only: a transparent background, for overlaying on a slide",
    )
    out.add_argument(
        "--from",
        dest="from_step",
        type=_non_negative_int,
        default=0,
        metavar="STEP",
        help="first step shown (default 0)",
    )
    out.add_argument(
        "--to",
        dest="to_step",
        type=_non_negative_int,
        default=None,
        metavar="STEP",
        help="last step shown (default: the last step; the step a PNG shows)",
    )
    look = p.add_argument_group("look")
    look.add_argument("--view", choices=VIEW_NAMES, default=VIEW_NAMES[0], help=views_help())
    look.add_argument(
        "--orbit",
        type=_degrees,
        default=0.0,
        metavar="DEG",
        help="turn the 3D camera DEG degrees over the clip",
    )
    look.add_argument(
        "--camera",
        default=None,
        metavar="auto|top|front|iso|AZ,EL[,DIST]",
        help="the 3D camera: auto (angles that show the paths), a preset, or "
        "azimuth and elevation in degrees (and a distance; default: "
        "fitted to the frame)",
    )
    look.add_argument(
        "--lower-plot",
        choices=("grad", "lr", "val_loss", "accuracy"),
        default=None,
        help="the loss view's lower plot: gradient norm, learning rate, or on a network "
        "scene validation loss or accuracy (default: the scene's choice, else grad)",
    )
    look.add_argument(
        "--floor-contours", action="store_true", help="draw isolines on the 3D view's floor"
    )
    look.add_argument(
        "--ghost", action="store_true", help="show the loss curves' future faintly while they grow"
    )
    look.add_argument(
        "--title",
        default=None,
        metavar="TEXT",
        help="title text (default: the scene title or the formula; '' for none)",
    )
    look.add_argument(
        "--no-legend", dest="legend", action="store_false", help="leave out the legend"
    )
    look.add_argument(
        "--no-step", dest="step_counter", action="store_false", help="leave out the step counter"
    )
    theme = look.add_mutually_exclusive_group()
    theme.add_argument(
        "--dark", dest="dark", action="store_true", default=True, help="dark background (default)"
    )
    theme.add_argument("--light", dest="dark", action="store_false", help="light background")
    look.add_argument(
        "--trail",
        type=_non_negative_int,
        default=None,
        metavar="N",
        help="trail length in steps (default: the whole path)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def _preset_names() -> list[str]:
    from studio.export.options import EXPORT_PRESETS

    return list(EXPORT_PRESETS)


def _presets_help() -> str:
    from studio.export.options import EXPORT_PRESETS

    return "; ".join(
        f"{p.name}: {p.label}" + ("" if p.max_bytes else f", {p.size[0]}x{p.size[1]} {p.fps:g} fps")
        for p in EXPORT_PRESETS.values()
    )


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value <= MAX_HOLD_S:
        raise argparse.ArgumentTypeError(f"must be 0 to {MAX_HOLD_S:,} seconds, got {text}")
    return value


def _either(items: Iterable[str]) -> str:
    """ "a, b or c"."""
    *first, last = items
    return f"{', '.join(first)} or {last}" if first else last


def _defaults(show: Callable[[type[FrameWriter]], str]) -> str:
    """A writer default as --help says it: "default 30; 25 for GIF" (the formats' most
    common value, then the exceptions)."""
    from studio.export import WRITERS

    writers = list(WRITERS.values())
    values = [show(w) for w in writers]
    common = max(values, key=values.count)
    others = [f"{v} for {w.name}" for w, v in zip(writers, values, strict=False) if v != common]
    return "; ".join([f"default {common}", *others])


def _whole(text: str, lowest: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < lowest:
        raise argparse.ArgumentTypeError(f"must be at least {lowest}, got {value}")
    return value


def _positive_int(text: str) -> int:
    return _whole(text, 1)


def _non_negative_int(text: str) -> int:
    return _whole(text, 0)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value <= MAX_POSITIVE:
        raise argparse.ArgumentTypeError(
            f"must be above 0 and at most {MAX_POSITIVE:,}, got {text}"
        )
    return value


def _degrees(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not -MAX_ORBIT_DEG <= value <= MAX_ORBIT_DEG:
        raise argparse.ArgumentTypeError(
            f"must be -{MAX_ORBIT_DEG:,} to {MAX_ORBIT_DEG:,} degrees, got {text}"
        )
    return value


def _samples(text: str) -> int:
    value = _whole(text, 0)
    if value > MAX_MSAA:
        raise argparse.ArgumentTypeError(f"must be 0 to {MAX_MSAA} samples per pixel, got {value}")
    return value


def run(args: argparse.Namespace) -> int:
    from studio.commands.scene_args import scene_from_args
    from studio.export import ExportError, check_target, format_of, playback_fps, writer_class
    from studio.export.options import (
        DEFAULT_HOLD,
        EXPORT_PRESETS,
        RenderOptions,
        parse_camera,
    )
    from studio.gui.display import cancel_early_display, display_for_gl, start_display_early

    # Whatever can be refused is refused before anything starts (a display, a render).
    fmt = format_of(args.output)
    check_target(args.output)
    writer = writer_class(fmt)
    preset = EXPORT_PRESETS[args.preset] if args.preset else None
    if preset is not None and preset.fmt != fmt:
        raise StudioError(
            f"--preset {preset.name} writes {preset.fmt.upper()}: name the output .{preset.fmt}"
        )
    if args.transparent and fmt != "png":
        raise StudioError("--transparent needs a PNG (GIF and MP4 have no such background)")
    camera = None if args.camera is None else parse_camera(args.camera)
    from studio.export.views import VIEW_NAMES, export_view

    if (camera is not None or args.orbit) and export_view(args.view).flat:
        with_3d = [n for n in VIEW_NAMES if not export_view(n).flat]
        raise StudioError(
            f"--camera and --orbit turn the 3D view; --view {args.view} has none "
            f"(one that has: {_either(with_3d)})"
        )
    fps = args.fps or (preset.fps if preset else writer.default_fps)
    try:
        fps = playback_fps(fmt, fps)
    except ExportError as exc:
        raise StudioError(f"--fps: {exc}") from None
    if writer.animated:
        from studio.export.ffmpeg import ffmpeg_exe

        ffmpeg_exe()  # found (and checked, once) now: no ffmpeg is an error before rendering
    # A private Xvfb (no display) comes up while the scene and surface are built; usually
    # `studio.cli` started it already (docs/architecture.md#start-up), and this call then
    # does nothing. It is where a missing Xvfb is reported, after the checks above.
    start_display_early()
    try:
        from studio.engine.memory import check_render_memory
        from studio.export.options import lower_plot_for
        from studio.export.views import export_view
        from studio.surface import surface_from_spec

        scene = scene_from_args(args)
        lower_plot = lower_plot_for(scene, args.lower_plot)
        # What would not fit in memory is refused now, in one line, not after a long render.
        size = args.size or (preset.size if preset else writer.default_size)
        check_render_memory(scene, export_view(args.view).panels, size, args.transparent)
        surface = surface_from_spec(scene.surface)
        if scene.surface.network is None:  # grid points in a hole of f are left out: say so
            from studio.engine.starts import grid_notes

            for line in grid_notes(surface, scene.runs):
                print(f"studio: note: {line}", file=sys.stderr)
    except BaseException:
        cancel_early_display()
        raise
    cancel = threading.Event()
    frames_done = [0, -1]  # done, total
    # Interrupts are caught from here on, so the private Xvfb and the temporary file are
    # cleaned up whatever stops us (Ctrl+C, a closed terminal, `timeout`, a CI cancel).
    with interrupts_set(cancel, lambda: frames_done[0] == frames_done[1]), display_for_gl():
        from studio.gui.app import get_app

        app = get_app()  # held: a collected QApplication takes every widget with it
        from studio.export.frames import ExportCancelled
        from studio.gui.export.renderer import export, export_under

        still = not writer.animated
        options = RenderOptions(
            size=size,
            fps=fps,
            view=args.view,
            title=args.title,
            legend=args.legend,
            step_counter=args.step_counter,
            dark=args.dark,
            trail=args.trail,
            orbit=args.orbit,
            from_step=args.from_step,
            to_step=args.to_step,
            frames=1 if still else args.frames,
            duration=args.duration,
            steps_per_frame=args.steps_per_frame,
            still=still,
            hold=DEFAULT_HOLD if args.hold is None else args.hold,
            lower_plot=lower_plot,
            ghost=args.ghost,
            floor_contours=args.floor_contours,
            transparent=args.transparent,
            msaa=args.msaa if args.msaa is not None else (preset.msaa if preset else 0),
            camera=camera if isinstance(camera, tuple) else None,
            auto_camera=camera == "auto",
        )
        bar = _ProgressBar(str(args.output)) if not args.quiet and sys.stderr.isatty() else None

        def progress(done: int, total: int) -> None:
            frames_done[:] = [done, total]
            if bar is not None:
                bar.update(done, total)

        try:
            if preset is not None and preset.max_bytes is not None:
                export_under(
                    scene,
                    args.output,
                    options,
                    preset.max_bytes,
                    fixed=args.size is not None,
                    progress_cb=progress,
                    cancel_flag=cancel,
                )
            else:
                export(scene, args.output, options, progress_cb=progress, cancel_flag=cancel)
        except (ExportCancelled, KeyboardInterrupt):
            if bar is not None:
                bar.clear()
            raise KeyboardInterrupt from None  # the CLI says "studio: interrupted", exit 130
        except BaseException:
            if bar is not None:
                bar.clear()
            raise
        if bar is not None:
            bar.done()
        del app
    return 0


INTERRUPTS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


@contextlib.contextmanager
def interrupts_set(flag: threading.Event, finishing: Callable[[], bool]) -> Iterator[None]:
    """For the block, Ctrl+C (SIGINT), SIGTERM and SIGHUP set `flag` instead of raising
    wherever Python happens to be (often inside a Qt paint event) or killing us before
    the cleanup. The export checks the flag between frames. Once every frame is drawn
    (`finishing()`: ffmpeg completing the file) nothing checks it any more and no Qt code
    runs, so the signal raises KeyboardInterrupt there, as a second one does (a way out of
    anything that hangs)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if flag.is_set() or finishing():
            raise KeyboardInterrupt
        flag.set()

    previous = {sig: signal.signal(sig, handler) for sig in INTERRUPTS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class _ProgressBar:
    """One self-overwriting stderr line: bar, frames, time left."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.start = time.monotonic()
        self.last = 0.0

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        width = 28
        filled = int(width * done / max(total, 1))
        rate = done / max(now - self.start, 1e-6)
        left = (total - done) / rate if rate > 0 else 0.0
        sys.stderr.write(
            f"\r{self.name}  [{'#' * filled}{'.' * (width - filled)}] "
            f"{done}/{total} frames  {rate:5.1f} fps  {left:4.0f} s left "
        )
        sys.stderr.flush()

    def clear(self) -> None:
        sys.stderr.write("\r\x1b[2K")
        sys.stderr.flush()

    def done(self) -> None:
        took = time.monotonic() - self.start
        sys.stderr.write(f"\r\x1b[2K{self.name}: written in {took:.1f} s\n")
        sys.stderr.flush()
