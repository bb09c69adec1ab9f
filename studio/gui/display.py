"""Finding or starting a display for OpenGL: the current one, or a private Xvfb.

Used by `studio render`, `studio bench` and the benchmarks: below both `studio.commands`
and the rest of `studio.gui`, and free of Qt itself (the display must exist before the
QApplication does). On a machine with no display (a server, CI) `display_for_gl` starts a
private Xvfb for as long as its block runs (once Qt has connected to it, until the process
exits), so `studio render` works over ssh with nothing but `apt-get install xvfb`.

The private Xvfb dies with the process that started it, even when that process is killed
outright (SIGKILL leaves no chance to clean up): on Linux the kernel sends Xvfb SIGTERM when
its parent goes (`prctl(PR_SET_PDEATHSIG)`, set in the child before it runs Xvfb).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

from studio.errors import StudioError

XVFB_START_TIMEOUT_S = 15
NO_DISPLAY_HINT = (
    "no display and no Xvfb: install xvfb (apt-get install xvfb) or run under a desktop session"
)
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>


@contextlib.contextmanager
def display_for_gl() -> Iterator[None]:
    """Use the current display, or run a private Xvfb for as long as the block runs (the
    one `start_display_early` started, if it did)."""
    global _EARLY
    early, _EARLY = _EARLY, None
    if early is None and not _needs_private():
        yield
        return
    try:
        proc, display = start_xvfb(_xvfb()) if early is None else _started(*early)
    except BaseException:
        if early is not None:
            stop_xvfb(early[0])
        raise
    os.environ["DISPLAY"] = display
    try:
        yield
    finally:
        if _qt_holds_display() and _DIES_WITH_US:
            # Qt keeps its X connection until the process exits: a server stopped under it
            # makes Xlib print "The X11 connection broke" and exit(1) (after `studio bench`'s
            # tables; in a notebook, the kernel). The server is left to die with us (its
            # death signal, see `die_with_parent`), and this process keeps using it: DISPLAY
            # stays set, so a later block (the API's next render) finds it.
            _KEPT.append(proc)
        else:
            os.environ.pop("DISPLAY", None)
            stop_xvfb(proc)


def start_display_early() -> None:
    """Start the private Xvfb that `display_for_gl` will need (if it will) without waiting
    for it to be ready: the caller compiles its surface meanwhile, and the block then finds
    the server up (`studio render`'s start-up). Undone by `cancel_early_display`."""
    global _EARLY
    if _EARLY is None and _needs_private():
        _EARLY = _spawn(_xvfb())


def cancel_early_display() -> None:
    """Stop a server `start_display_early` started that no block will use (an error)."""
    global _EARLY
    early, _EARLY = _EARLY, None
    if early is not None:
        os.close(early[1])
        stop_xvfb(early[0])


def _needs_private() -> bool:
    needs_x = sys.platform.startswith("linux") or sys.platform.startswith("freebsd")
    have = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    return needs_x and not have and os.environ.get("QT_QPA_PLATFORM", "") in ("", "xcb")


def _xvfb() -> str:
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise StudioError(NO_DISPLAY_HINT)
    return xvfb


_EARLY: tuple[subprocess.Popen[bytes], int] | None = None  # (Xvfb, its -displayfd pipe)
# Set by `start_xvfb`: whether the kernel stops our Xvfb when this process exits.
_DIES_WITH_US = False
_KEPT: list[subprocess.Popen[bytes]] = []  # private servers Qt still holds


def _qt_holds_display() -> bool:
    """Whether a Qt GUI application exists (it connected to the display when made). Qt is
    looked up, never imported: this module stays below Qt."""
    gui = sys.modules.get("PyQt6.QtGui")
    app_class = getattr(gui, "QGuiApplication", None)
    return app_class is not None and app_class.instance() is not None


def stop_xvfb(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that makes the child receive SIGTERM when this process dies (Linux);
    None where the kernel offers no such thing."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def start_xvfb(xvfb: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start Xvfb on a free display number; `-displayfd` tells us which once it is ready."""
    return _started(*_spawn(xvfb))


def _spawn(xvfb: str) -> tuple[subprocess.Popen[bytes], int]:
    """Xvfb, started, and the pipe on which it will write its display number when ready."""
    global _DIES_WITH_US
    read_fd, write_fd = os.pipe()
    preexec = die_with_parent()
    _DIES_WITH_US = preexec is not None
    try:
        proc = subprocess.Popen(
            [
                xvfb,
                "-displayfd",
                str(write_fd),
                "-screen",
                "0",
                "1920x1080x24",
                "+extension",
                "GLX",
                "+render",
                "-nolisten",
                "tcp",
                "-noreset",
            ],
            pass_fds=(write_fd,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            # Between fork and exec only a prctl call; Xvfb starts before any of our
            # threads (Qt's, the encoder's feeder) exist.
            preexec_fn=preexec,
        )  # noqa: PLW1509
    except OSError as exc:
        os.close(read_fd)
        os.close(write_fd)
        raise StudioError(f"cannot start Xvfb: {exc.strerror or exc}") from None
    os.close(write_fd)
    return proc, read_fd


def _started(proc: subprocess.Popen[bytes], read_fd: int) -> tuple[subprocess.Popen[bytes], str]:
    """Wait until the Xvfb `_spawn` started is ready: it and its display name."""
    try:
        number = _read_display_number(read_fd, proc)
    finally:
        os.close(read_fd)
    return proc, f":{number}"


def _read_display_number(fd: int, proc: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + XVFB_START_TIMEOUT_S
    data = b""
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(left, 0))
        chunk = os.read(fd, 32) if ready else b""
        if not chunk:
            proc.kill()
            proc.wait()
            raise StudioError(
                "Xvfb did not start (no display number within "
                f"{XVFB_START_TIMEOUT_S} s); run under a desktop session"
            )
        data += chunk
    return int(data.strip())


__all__ = [
    "NO_DISPLAY_HINT",
    "cancel_early_display",
    "die_with_parent",
    "display_for_gl",
    "start_display_early",
    "start_xvfb",
    "stop_xvfb",
]
