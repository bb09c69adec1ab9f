"""`studio bench` rows for `studio trace` to each format: peak memory and time of the largest
start grid at its step cap (a tenth of the steps with `--quick`), each trace in a child
process so its peak RSS is its own (`os.wait4`); the memory limit it must stay under is
`studio.engine.memory.MEMORY_LIMIT`, and NPZ's time is set beside `--compress` (zlib)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from studio.bench.table import BenchRow


def trace_section(quick: bool) -> tuple[str, list[BenchRow]]:
    """(title, rows): peak RSS (MiB) and seconds of `studio trace` to CSV, JSON, NPZ (stored
    and --compress) and CSV on stdout, for a 64x64 grid at the step cap of its ball-steps."""
    from studio.engine.memory import MEMORY_LIMIT
    from studio.engine.simulate import MAX_BALL_STEPS
    from studio.scene import MAX_GRID

    balls = MAX_GRID * MAX_GRID
    steps = MAX_BALL_STEPS // balls - 1
    if quick:
        steps //= 10
    scene = [
        "--surface",
        "rosenbrock",
        "--optimizer",
        "sgd:lr=0.00001,tol=0",
        "--start-grid",
        f"{MAX_GRID}x{MAX_GRID}",
        "--steps",
        str(steps),
    ]
    limit_mib = MEMORY_LIMIT / 2**20
    rows: list[BenchRow] = []
    with tempfile.TemporaryDirectory(prefix="studio-bench-trace-") as tmp:
        zlib_s = 0.0
        for name, extra in (
            ("NPZ --compress", ["-o", "run.npz", "--compress"]),
            ("NPZ", ["-o", "run.npz"]),
            ("CSV", ["-o", "run.csv"]),
            ("JSON", ["-o", "run.json"]),
            ("CSV on stdout", []),
        ):
            peak, seconds = _run_child([*scene, *extra], Path(tmp))
            what = f"trace {balls} balls x {steps} steps -> {name}"
            rows.append(
                BenchRow(
                    f"{what}: peak RSS",
                    peak,
                    "MiB",
                    lower_is_better=True,
                    target=f"< {limit_mib:.0f}",
                )
            )
            if name == "NPZ --compress":
                zlib_s = seconds
                rows.append(BenchRow(f"{what}: time", seconds, "s", lower_is_better=True))
            elif name == "NPZ":
                rows.append(
                    BenchRow(
                        f"{what}: time",
                        seconds,
                        "s",
                        baseline=zlib_s,
                        baseline_name="--compress (zlib)",
                        lower_is_better=True,
                    )
                )
            else:
                rows.append(BenchRow(f"{what}: time", seconds, "s", lower_is_better=True))
            for leftover in Path(tmp).iterdir():
                leftover.unlink()
    return "studio trace: memory and time per output format", rows


def _run_child(args: list[str], cwd: Path) -> tuple[float, float]:
    """(peak RSS in MiB, seconds) of `studio trace ARGS` run in `cwd`, stdout discarded."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio", "trace", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    err = proc.stderr.read()  # a few lines at most (warnings), so no deadlock on the pipe
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # wait4 reaped it, not Popen
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        reason = err.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(
            f"studio trace {' '.join(args)} failed: {reason[-1] if reason else proc.returncode}"
        )
    return usage.ru_maxrss / 1024, seconds  # ru_maxrss is in KiB on Linux
