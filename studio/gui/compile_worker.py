"""Formula compilation off the GUI thread, under a time budget; the last request wins.

The surface editor asks for a spec whose formula is not compiled yet; one worker thread runs
`surface_within_budget` (which itself keeps the sympy work in a helper process it can kill,
see studio.surface.budget). Requests made while one runs replace each other, so only the
newest waits; a result for anything but the newest request is dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PyQt6.QtCore import QObject, pyqtSignal

from studio.errors import StudioError
from studio.gui.gui_priority import GUI_GC
from studio.scene import SurfaceSpec
from studio.surface.budget import DEFAULT_BUDGET_S, surface_within_budget, warm_up


class _Relay(QObject):
    """Carries results from the worker thread to the GUI thread (a queued signal). It has no
    parent, so it outlives a closed editor while a compile is still finishing."""

    done = pyqtSignal(int, object)  # generation, None or the StudioError


class CompileWorker(QObject):
    """Compiles specs in a worker thread; `busyChanged` drives a "compiling…" cue."""

    failed = pyqtSignal(object)  # the StudioError of the newest request
    busyChanged = pyqtSignal(bool)

    def __init__(self, parent: QObject | None = None, budget_s: float = DEFAULT_BUDGET_S) -> None:
        super().__init__(parent)
        self.budget_s = budget_s
        self._generation = 0
        self._on_ready: Callable[[], None] | None = None
        self._busy = False
        self._lock = threading.Lock()  # guards _pending and _running with the worker
        self._pending: tuple[int, SurfaceSpec] | None = None
        self._running = False
        self._relay = _Relay()
        self._relay.done.connect(self._on_done)
        warm_up()  # the helper imports sympy while the user is still reading

    @property
    def busy(self) -> bool:
        return self._busy

    def request(self, spec: SurfaceSpec, on_ready: Callable[[], None]) -> None:
        """Compile `spec` off this thread; then call `on_ready()` here (the spec's surface is
        then cached), or emit `failed`. Replaces any earlier request."""
        self._generation += 1
        self._on_ready = on_ready
        with self._lock:
            self._pending = (self._generation, spec)
            start = not self._running
            self._running = True
        if start:
            # A daemon thread per burst of requests: quitting never waits on a compile.
            threading.Thread(target=self._drain, name="compile", daemon=True).start()
        self._set_busy(True)

    def cancel(self) -> None:
        """Forget the outstanding request (a newer edit was applied without compiling)."""
        self._generation += 1
        self._on_ready = None
        with self._lock:
            self._pending = None
        self._set_busy(False)

    def _drain(self) -> None:
        """Worker thread: compile the newest pending spec until none is left."""
        while True:
            with self._lock:
                job, self._pending = self._pending, None
                if job is None:
                    self._running = False
                    return
            generation, spec = job
            error: StudioError | None = None
            try:
                surface_within_budget(spec, self.budget_s)
            except StudioError as exc:
                error = exc
            except Exception as exc:  # noqa: BLE001 - a thread boundary: say it, keep serving
                error = StudioError(f"cannot compile this formula ({type(exc).__name__})")
            self._relay.done.emit(generation, error)

    def _on_done(self, generation: int, error: StudioError | None) -> None:
        if generation != self._generation:
            return  # superseded: the newest request's own result will follow
        on_ready, self._on_ready = self._on_ready, None
        self._set_busy(False)
        if error is not None:
            self.failed.emit(error)
        elif on_ready is not None:
            on_ready()

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            (GUI_GC.hold if busy else GUI_GC.release)()
            self.busyChanged.emit(busy)
