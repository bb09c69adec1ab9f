"""The window before background work: the simulation thread runs while the GUI thread waits.

CPython runs one thread's Python at a time (the GIL). A thread that gives the GIL up for a
C call (every Qt, OpenGL and most NumPy calls of the GUI thread) waits, to take it back,
until the thread holding it is forced to let go: up to the switch interval each time. While
a long simulation ran beside it, a paint of thousands of such calls took seconds. So the
simulation yields: its step loop calls `GuiPriority.wait_turn` (an engine `Checkpoint`),
which returns at once while the GUI thread is blocked waiting for events, and otherwise
waits until it is (docs/architecture.md#threading).

What "waiting for events" means is told by the Qt event loop itself: the dispatcher's
`aboutToBlock` signal says the loop is about to sleep; an event being delivered
(`StudioApplication.notify`) or the dispatcher's `awake` says the GUI thread works again.
Code the GUI thread runs outside an event (a script, a test) counts as work too.

Fairness: a GUI thread that never sleeps (a window too slow for its playback rate) would
stop the simulation; after `STARVE_S` without a moment of sleep, the worker takes a slice
of `SLICE_S` anyway. A GUI thread that sleeps now and then (between the events of a drag)
leaves the worker those moments only: the window keeps up, and the paths follow when it
can spare the time.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time

from PyQt6.QtCore import QAbstractEventDispatcher, QEvent, QObject
from PyQt6.QtWidgets import QApplication
from pyqtgraph.util.garbage_collector import GarbageCollector

STARVE_S = 0.1  # the longest a worker waits for the GUI thread to sleep...
SLICE_S = 0.05  # ...before it runs this long regardless (a third of the time)
HEAD_START_S = 0.05  # a new job's first stretch, run beside the GUI thread
GC_INTERVAL_S = 0.5  # how often the GUI thread looks for garbage while a worker runs


class GuiPriority:
    """Whether the GUI thread is asleep in its event loop; workers wait for it (Qt-free)."""

    def __init__(self) -> None:
        self._asleep = threading.Event()
        self._own_until = 0.0  # the worker's current slice ends then (monotonic)
        self.active = False  # set once a StudioApplication reports; until then never wait

    def gui_sleeps(self) -> None:
        self._asleep.set()

    def gui_works(self) -> None:
        if self._asleep.is_set():  # clear() takes a lock: not on every event
            self._asleep.clear()

    def head_start(self, seconds: float = HEAD_START_S) -> None:
        """A new job runs its first `seconds` regardless: most simulations are that short,
        and running beside the GUI thread's own work on the edit brings their paths sooner
        than waiting for it to sleep."""
        self._own_until = time.monotonic() + seconds

    def wait_turn(self) -> None:
        """Called by a worker between short pieces of work: returns when it may go on."""
        if not self.active or self._asleep.is_set():
            return
        if time.monotonic() < self._own_until:
            return
        if not self._asleep.wait(STARVE_S):
            self._own_until = time.monotonic() + SLICE_S


PRIORITY = GuiPriority()


class GuiThreadGc:
    """While a worker thread runs Python, Python's cycle collector runs on the GUI thread
    only (pyqtgraph's `GarbageCollector`: automatic collection off, a timer collecting
    instead). A collection the worker happens to trigger would otherwise finalize whatever
    cyclic garbage holds a Qt object (a closed window's widgets) on the worker's thread,
    where Qt must never delete a widget. Counted: held by each busy worker, automatic
    collection back when the last one is done. GUI thread only."""

    def __init__(self) -> None:
        self._holders = 0
        self._collector: GarbageCollector | None = None

    def hold(self) -> None:
        self._holders += 1
        if self._holders > 1:
            return
        if self._collector is None:
            self._collector = GarbageCollector(interval=GC_INTERVAL_S)  # disables gc
        else:
            gc.disable()
            self._collector.timer.start()

    def release(self) -> None:
        if self._holders == 0:
            return
        self._holders -= 1
        if self._holders == 0 and self._collector is not None:
            # At exit the application (and with it the timer) may be gone before the last
            # session lets go: automatic collection comes back all the same.
            with contextlib.suppress(RuntimeError):
                self._collector.timer.stop()
            gc.enable()


GUI_GC = GuiThreadGc()


class StudioApplication(QApplication):
    """The QApplication the studio creates: it tells `PRIORITY` when the GUI thread works."""

    def __init__(self, argv: list[str]) -> None:
        super().__init__(argv)
        self._gui_thread = threading.get_ident()
        dispatcher = QAbstractEventDispatcher.instance()
        if dispatcher is not None:
            dispatcher.aboutToBlock.connect(PRIORITY.gui_sleeps)
            dispatcher.awake.connect(PRIORITY.gui_works)
            PRIORITY.active = True
        self.aboutToQuit.connect(self._release_workers)

    def notify(self, receiver: QObject | None, event: QEvent | None) -> bool:
        if threading.get_ident() == self._gui_thread:
            PRIORITY.gui_works()
        return super().notify(receiver, event)

    @staticmethod
    def _release_workers() -> None:
        # No event loop will sleep again: a worker still simulating must not wait for it.
        PRIORITY.active = False


__all__ = [
    "GUI_GC",
    "GuiThreadGc",
    "HEAD_START_S",
    "PRIORITY",
    "SLICE_S",
    "STARVE_S",
    "GuiPriority",
    "StudioApplication",
]
