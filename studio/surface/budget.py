"""Building a surface under a time budget, for callers that must not wait (the GUI).

sympy has no cancellation, and a Python thread cannot be stopped: a formula whose gradient or
printing explodes would keep a thread busy (and the GIL contended) long after its caller gave
up. So a formula that is not compiled yet is first compiled in a helper process, which is
killed when the budget runs out; only when the helper finished in time is the same formula
compiled here, from the same text, through the same ast-whitelist parser. Nothing the helper
sends back becomes code or an expression: it receives the formula as JSON and answers "done"
or the error it met, and the work it proved bounded is repeated here (the helper is a probe:
no expression or function crosses the process boundary, so nothing is unpickled). Formulas
already compiled cost nothing of this.

The helper is one long-lived process, started ahead of need (`warm_up`) and restarted at once
after it is killed; its start-up (importing sympy) is not counted in the budget. It exits by
itself when its parent goes away, even if the parent was killed.
"""

from __future__ import annotations

import atexit
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from multiprocessing.connection import Connection
from typing import Protocol

from studio.errors import StudioError
from studio.scene import SurfaceSpec
from studio.surface.errors import ExpressionError
from studio.surface.spec import surface_from_spec
from studio.surface.surface import NotCompiledError, Surface, cached_only, compile_formula

DEFAULT_BUDGET_S = 2.0
STARTUP_TIMEOUT_S = 60.0  # importing sympy on a loaded machine; a hung start is an error
_PARENT_POLL_S = 0.5
# What the helper interpreter runs: our own entry point, with the socket's descriptor and
# the parent's pid as arguments (never any text from a formula).
_HELPER_CODE = "import sys; from studio.surface.budget import _helper_main; _helper_main(sys.argv)"


class CompileBudgetError(ExpressionError):
    """A formula whose compilation did not finish within the budget."""

    def __init__(self, budget_s: float) -> None:
        super().__init__(f"formula too complex to compile within {budget_s:g} s")
        self.budget_s = budget_s


def surface_if_compiled(spec: SurfaceSpec) -> Surface | None:
    """The spec's surface when its formula is compiled already (cheap: parse, bind values,
    sample the height), else None. Raises StudioError for what is wrong without compiling
    (a syntax error, an unknown name, a bad parameter or domain)."""
    try:
        with cached_only():
            return surface_from_spec(spec)
    except NotCompiledError:
        return None


def surface_within_budget(spec: SurfaceSpec, budget_s: float = DEFAULT_BUDGET_S) -> Surface:
    """`surface_from_spec(spec)`, or `CompileBudgetError` when compiling its formula takes
    longer than `budget_s` (then no work on it is left running). Blocks: call it from a
    worker thread. Raises StudioError for a bad spec, like `surface_from_spec`."""
    try:
        with cached_only():
            return surface_from_spec(spec)
    except NotCompiledError as needed:
        _HELPER.probe(needed.text, needed.params, needed.data, budget_s)
    return surface_from_spec(spec)


def warm_up() -> None:
    """Start the helper process now (it takes a moment to import sympy), without waiting."""
    _HELPER.start()


def shut_down() -> None:
    """Stop the helper process (it is also stopped when this process exits)."""
    _HELPER.stop()


class _Child(Protocol):
    def kill(self) -> None: ...
    def alive(self) -> bool: ...
    def reap(self) -> None: ...


class _Popen:
    """The helper as a plain interpreter running `_HELPER_CODE`."""

    def __init__(self, fd: int) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-c", _HELPER_CODE, str(fd), str(os.getpid())],
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
            close_fds=True,
        )

    def kill(self) -> None:
        self._process.kill()

    def alive(self) -> bool:
        return self._process.poll() is None

    def reap(self) -> None:
        self._process.wait()


class _Frozen:
    """The helper in a frozen bundle, which has no interpreter to run code with: the bundle
    re-enters itself through multiprocessing (studio/__main__.py calls freeze_support)."""

    def __init__(self, fd: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._process = context.Process(
            target=_helper_main,
            args=(["", str(fd), str(os.getpid())],),
            name="studio-compile",
            daemon=True,
        )
        self._process.start()

    def kill(self) -> None:
        self._process.kill()

    def alive(self) -> bool:
        return self._process.is_alive()

    def reap(self) -> None:
        self._process.join()


class _Helper:
    """The helper process and its socket; one request at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one request in flight; guards the fields below
        self._child: _Child | None = None
        self._conn: Connection | None = None
        self._ready = False

    def start(self) -> None:
        with self._lock:
            self._spawn_if_needed()

    def stop(self) -> None:
        with self._lock:
            self._kill()

    def probe(self, text: str, params: Mapping[str, float], data: bool, budget_s: float) -> None:
        """Have the helper compile the formula; CompileBudgetError past `budget_s`."""
        with self._lock:
            conn = self._wait_ready()
            request = {"text": text, "params": dict(params), "data": data}
            try:
                conn.send_bytes(json.dumps(request).encode())
                if conn.poll(budget_s):
                    conn.recv_bytes()  # "done" or the error's text: met again here
                    return
            except (OSError, EOFError):
                pass  # the helper died (e.g. out of memory on this formula)
            self._kill()
            self._spawn_if_needed()  # the next formula need not wait for sympy's import
            raise CompileBudgetError(budget_s)

    def _spawn_if_needed(self) -> None:
        if self._child is not None and self._child.alive():
            return
        self._kill()
        ours, theirs = socket.socketpair()
        try:
            fd = theirs.fileno()
            self._child = _Frozen(fd) if getattr(sys, "frozen", False) else _Popen(fd)
        finally:
            theirs.close()
        self._conn, self._ready = Connection(ours.detach()), False

    def _wait_ready(self) -> Connection:
        self._spawn_if_needed()
        conn = self._conn
        assert conn is not None
        if not self._ready:
            try:
                started = conn.poll(STARTUP_TIMEOUT_S) and conn.recv_bytes() == b"ready"
            except (OSError, EOFError):
                started = False
            if not started:
                self._kill()
                raise StudioError("the formula compiler did not start")
            self._ready = True
        return conn

    def _kill(self) -> None:
        child, conn = self._child, self._conn
        self._child, self._conn, self._ready = None, None, False
        if conn is not None:
            conn.close()
        if child is not None:
            child.kill()
            child.reap()


_HELPER = _Helper()
atexit.register(_HELPER.stop)  # no helper outlives a normal exit, nor warns of one running


def _helper_main(argv: list[str]) -> None:
    """The helper's loop: compile each requested formula, answer "done" or the error."""
    conn = Connection(int(argv[1]))
    threading.Thread(target=_exit_with_parent, args=(int(argv[2]),), daemon=True).start()
    conn.send_bytes(b"ready")
    while True:
        try:
            request = json.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        try:
            compile_formula(str(request["text"]), dict(request["params"]), bool(request["data"]))
            answer = "done"
        except StudioError as exc:
            answer = str(exc)
        except (RecursionError, MemoryError) as exc:
            answer = type(exc).__name__
        conn.send_bytes(answer.encode())


def _exit_with_parent(parent_pid: int) -> None:
    """End the helper when its parent is gone, even mid-compile (a killed parent cannot)."""
    while os.getppid() == parent_pid:
        time.sleep(_PARENT_POLL_S)
    os._exit(0)
