"""Coalesce expensive redraws to at most one per frame interval; the last request wins.

A parameter slider being dragged changes the surface dozens of times a second, and each
change would rebuild a view's mesh, isolines and floor contours. `Throttle` runs its
function at once when it has not run within the interval (a single edit stays immediate),
and otherwise once at the end of the interval; the function reads the newest model state
when it runs, so the last value of a drag is always the one drawn.

While requests keep coming (a request within `BURST_S` of the one before, or `dragging()`
says so: a slider or spin box gesture on the surface), `coarse` is True during the run, so the
view may rebuild at a lower resolution and keep up with the drag; once the requests stop for
`SETTLE_MS`, the function runs once more with `coarse` False (the full detail of the surface
the drag ended on).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PyQt6.QtCore import QObject, QTimer

FRAME_INTERVAL_MS = 33  # about 30 rebuilds a second at most
BURST_S = 0.25  # a request this soon after the one before continues a drag
MIN_GAP_S = 0.012  # the event loop's own time between two runs, however slow they are
SETTLE_MS = 200  # a drag that pauses this long is drawn again in full detail


class Throttle(QObject):
    def __init__(
        self,
        fn: Callable[[], None],
        interval_ms: int = FRAME_INTERVAL_MS,
        parent: QObject | None = None,
        dragging: Callable[[], bool] | None = None,
    ) -> None:
        """`dragging`: whether the model is being dragged now (a run is then coarse even
        when the machine is too slow for the requests to come as a burst)."""
        super().__init__(parent)
        self._fn = fn
        self._dragging = dragging
        self._interval_s = interval_ms / 1000.0
        self._last = -float("inf")  # the last run's start, or later when it ran long
        # Bursts are told by when requests come, not by when runs end: on a busy machine a
        # run (or a timer) is late, and a lone edit must not be mistaken for a drag.
        self._last_request = -float("inf")  # when the last request came
        self._burst = False  # a request since the last run came within BURST_S of another
        self.coarse = False  # True while the function runs inside a burst of requests
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._run)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._refine)

    def request(self) -> None:
        """Run now if the last run is an interval old, else once when the interval ends."""
        now = time.perf_counter()
        self._burst = self._burst or now - self._last_request < BURST_S
        self._last_request = now
        if self._timer.isActive():
            return  # already due: that run will see the newest state
        wait = self._last + self._interval_s - now
        if wait <= 0:
            self._run()
        else:
            self._timer.start(max(1, int(wait * 1000)))

    def flush(self) -> None:
        """Run a pending request now (e.g. before reading what the view shows), and a
        pending full-detail run after a burst."""
        if self._timer.isActive():
            self._timer.stop()
            self._run()
        if self._settle.isActive():
            self._settle.stop()
            self._refine()

    @property
    def pending(self) -> bool:
        return self._timer.isActive() or self._settle.isActive()

    def _run(self) -> None:
        self.coarse = self._burst or bool(self._dragging and self._dragging())
        self._burst = False
        started = time.perf_counter()
        try:
            self._call()
        finally:
            self._stamp(started)
            if self.coarse:
                self._settle.start()
            self.coarse = False

    def _refine(self) -> None:
        self.coarse = False
        started = time.perf_counter()
        try:
            self._call()
        finally:
            self._stamp(started)

    def _stamp(self, started: float) -> None:
        """The next run is due an interval after this one started, so the runs keep the
        frame rate; but never sooner than `MIN_GAP_S` after this one ended, so a run slower
        than the interval still leaves the event loop time to paint and take input."""
        self._last = max(started, time.perf_counter() + MIN_GAP_S - self._interval_s)

    def _call(self) -> None:
        try:
            self._fn()
        except RuntimeError as exc:
            # A timer fired after the view was closed: pyqtgraph clears a plot's scene on
            # close, so its items are gone while the widget still exists. Nothing to draw.
            if "has been deleted" not in str(exc):
                raise
