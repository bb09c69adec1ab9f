"""Compiling under a time budget: the answer in time, or a one-line refusal and no work left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from studio.scene import SurfaceSpec
from studio.surface import ExpressionError, budget
from studio.surface.budget import (
    CompileBudgetError,
    surface_if_compiled,
    surface_within_budget,
)


def _spec(text: str, **params: float) -> SurfaceSpec:
    return SurfaceSpec(preset=None, expression=text, params=params)


def _gone(pid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_compiles_within_the_budget_then_answers_from_the_cache() -> None:
    spec = _spec("tanh(tanh(hypot(log2(2.960155), sigmoid(0)))) + x*y + 0.00071")
    assert surface_if_compiled(spec) is None
    surface = surface_within_budget(spec, budget_s=20.0)
    assert surface_if_compiled(spec) is not None
    assert surface_within_budget(spec).expression == surface.expression


def test_errors_come_back_as_they_are() -> None:
    with pytest.raises(ExpressionError, match="unknown name 'z' at column 5"):
        surface_within_budget(_spec("x + z"))
    with pytest.raises(ExpressionError, match="too large"):
        surface_within_budget(_spec("exp(b) + x*0.00072", b=1000.0), budget_s=20.0)


def test_past_the_budget_refuses_in_one_line_and_kills_the_work() -> None:
    budget.warm_up()
    surface_within_budget(_spec("x + 0.00073"), budget_s=20.0)  # the helper is ready
    child = budget._HELPER._child
    assert isinstance(child, budget._Popen)
    pid = child._process.pid
    # Any compile takes longer than a microsecond: the budget runs out mid-sympy.
    with pytest.raises(CompileBudgetError) as caught:
        surface_within_budget(_spec("sin(cos(x*y))^3 + atan2(x, y) + 0.00074"), budget_s=1e-6)
    assert str(caught.value) == "formula too complex to compile within 1e-06 s"
    assert "\n" not in str(caught.value)
    assert _gone(pid, within_s=5.0)  # killed and reaped, not left computing
    # A fresh helper took its place, and the same formula compiles with time to do it.
    surface_within_budget(_spec("sin(cos(x*y))^3 + atan2(x, y) + 0.00074"), budget_s=20.0)


def test_the_helper_dies_with_its_parent() -> None:
    code = textwrap.dedent("""
        import os, signal
        from studio.scene import SurfaceSpec
        from studio.surface import budget
        budget.surface_within_budget(SurfaceSpec(preset=None, expression="x + 0.00075"), 60)
        print(budget._HELPER._child._process.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert _gone(int(done.stdout.split()[0]), within_s=10.0)
