"""Finding or starting a display for OpenGL: the current one, or a private Xvfb.

Used by `studio render`, `studio bench` and the benchmarks: below both `studio.commands`
and the rest of `studio.gui`, and free of Qt itself (the display must exist before the
QApplication does). On a machine with no display (a server, CI) `display_for_gl` starts a
private Xvfb for as long as its block runs, so `studio render` works over ssh with nothing
but `apt-get install xvfb`.

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
    """Use the current display, or run a private Xvfb for as long as the block runs."""
    needs_x = sys.platform.startswith("linux") or sys.platform.startswith("freebsd")
    have = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if not needs_x or have or os.environ.get("QT_QPA_PLATFORM", "") not in ("", "xcb"):
        yield
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise StudioError(NO_DISPLAY_HINT)
    proc, display = start_xvfb(xvfb)
    os.environ["DISPLAY"] = display
    try:
        yield
    finally:
        # Qt holds the X connection until exit; Xvfb going away first only matters if
        # something still draws, and nothing does after the export has returned.
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
    read_fd, write_fd = os.pipe()
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
            preexec_fn=die_with_parent(),
        )  # noqa: PLW1509
    except OSError as exc:
        os.close(read_fd)
        os.close(write_fd)
        raise StudioError(f"cannot start Xvfb: {exc.strerror or exc}") from None
    os.close(write_fd)
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


__all__ = ["NO_DISPLAY_HINT", "die_with_parent", "display_for_gl", "start_xvfb"]
