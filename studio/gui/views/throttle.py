"""Coalesce expensive redraws to at most one per frame interval; the last request wins.

A parameter slider being dragged changes the surface dozens of times a second, and each
change would rebuild a view's mesh, isolines and floor contours. `Throttle` runs its
function at once when it has not run within the interval (a single edit stays immediate),
and otherwise once at the end of the interval; the function reads the newest model state
when it runs, so the last value of a drag is always the one drawn.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PyQt6.QtCore import QObject, QTimer

FRAME_INTERVAL_MS = 33  # about 30 rebuilds a second at most


class Throttle(QObject):
    def __init__(
        self,
        fn: Callable[[], None],
        interval_ms: int = FRAME_INTERVAL_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._fn = fn
        self._interval_s = interval_ms / 1000.0
        self._last = -float("inf")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._run)

    def request(self) -> None:
        """Run now if the last run is an interval old, else once when the interval ends."""
        if self._timer.isActive():
            return  # already due: that run will see the newest state
        wait = self._last + self._interval_s - time.perf_counter()
        if wait <= 0:
            self._run()
        else:
            self._timer.start(max(1, int(wait * 1000)))

    def flush(self) -> None:
        """Run a pending request now (e.g. before reading what the view shows)."""
        if self._timer.isActive():
            self._timer.stop()
            self._run()

    @property
    def pending(self) -> bool:
        return self._timer.isActive()

    def _run(self) -> None:
        # Stamped after the work, so a rebuild slower than the interval still leaves the
        # event loop an interval of its own before the next one.
        try:
            self._fn()
        finally:
            self._last = time.perf_counter()
