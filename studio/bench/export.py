"""`studio bench` export rows: frames/s end to end, beside matplotlib's FuncAnimation.

Ours: `studio.gui.export.renderer.export` (hidden GL/plot widgets, QPainter overlays, ffmpeg in
its own process). Baseline: the same scene drawn as the seed articles draw it, matplotlib
`FuncAnimation` with `FFMpegWriter` (MP4) or `PillowWriter` (GIF), a 3D `plot_surface` or a
`contourf` with six trajectories. Both include their set-up (figure or widgets, encoder).
matplotlib is imported only inside the baseline functions: it is not an app dependency, and
where it is missing (the standalone bundle leaves it out) the rows keep our figures and say
"matplotlib not installed" in the baseline column.

Peak memory is the whole export's: `studio render` plus its ffmpeg (the encoder is a
process of its own, which the render's own peak RSS never counted). On Linux the process
tree's peak RSS is read from /proc while it runs (each process's VmHWM, its high-water
mark); elsewhere only the render process's peak is known, and the row says so.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studio.bench.table import BenchRow

OPTIMIZERS = (
    ("sgd", 0.001),
    ("momentum", 0.001),
    ("nesterov", 0.001),
    ("rmsprop", 0.01),
    ("adam", 0.05),
    ("adagrad", 0.5),
)
STEPS = 300
NO_MATPLOTLIB = "matplotlib not installed"
SAMPLE_S = 0.02  # how often the memory sampler reads /proc


def _scene():
    from studio.scene import PALETTE, RunSpec, Scene, SurfaceSpec

    runs = tuple(
        RunSpec(name, {"lr": lr}, ((-1.5, 2.0),), label=name, color=PALETTE[i])
        for i, (name, lr) in enumerate(OPTIMIZERS)
    )
    return Scene(surface=SurfaceSpec(preset="rosenbrock"), runs=runs, steps=STEPS)


def _ours(folder: Path, name: str, view: str, size: tuple[int, int], frames: int) -> float:
    from studio.export.options import RenderOptions
    from studio.gui.export.renderer import export

    start = time.perf_counter()
    export(_scene(), folder / name, RenderOptions(size=size, view=view, frames=frames, fps=30))
    return frames / (time.perf_counter() - start)


def have_matplotlib() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def studio_command() -> list[str]:
    """How to run `studio`: the bundle's executable itself when frozen (PyInstaller: no
    `-m`, no interpreter), else this interpreter with `-m studio`."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "studio"]


def _matplotlib(folder: Path, name: str, view: str, size: tuple[int, int], frames: int) -> float:
    """The notebooks' way: FuncAnimation redrawing a 3D surface or contourf plus 6 paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FFMpegWriter, FuncAnimation, PillowWriter

    from studio.engine import simulate
    from studio.export.ffmpeg import ffmpeg_exe
    from studio.surface import surface_from_spec

    start = time.perf_counter()
    scene = _scene()
    surface = surface_from_spec(scene.surface)
    traj = simulate(surface, list(scene.runs), scene.steps, scene.seed)
    xs = np.linspace(-2, 2, 150)
    ys = np.linspace(-1, 3, 150)
    gx, gy = np.meshgrid(xs, ys)
    z = np.log1p(surface.value(np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape))
    path_z = np.log1p(
        surface.value(traj.positions.reshape(-1, 2)).reshape(traj.positions.shape[:2])
    )
    fig = plt.figure(figsize=(size[0] / 100, size[1] / 100), dpi=100)
    ax = fig.add_subplot(projection="3d" if view == "3d" else None)
    if view == "3d":
        ax.plot_surface(gx, gy, z, cmap="viridis", linewidth=0, antialiased=False)
    else:
        ax.contourf(gx, gy, z, levels=30, cmap="viridis")
    lines = []
    for _i, run in enumerate(scene.runs):
        kw = {"color": run.color, "label": run.label}
        line = ax.plot([], [], [], **kw)[0] if view == "3d" else ax.plot([], [], **kw)[0]
        lines.append(line)
    ax.legend(loc="upper right")
    ax.set_title(surface.title)
    steps = np.rint(np.linspace(0, scene.steps, frames)).astype(int)

    def update(k: int):
        t = steps[k]
        for i, line in enumerate(lines):
            line.set_data(traj.positions[: t + 1, i, 0], traj.positions[: t + 1, i, 1])
            if view == "3d":
                line.set_3d_properties(path_z[: t + 1, i])
        return lines

    matplotlib.rcParams["animation.ffmpeg_path"] = ffmpeg_exe()
    anim = FuncAnimation(fig, update, frames=frames, blit=False)
    writer = (
        PillowWriter(fps=30)
        if name.endswith(".gif")
        else FFMpegWriter(fps=30, codec="libx264", extra_args=["-pix_fmt", "yuv420p"])
    )
    anim.save(str(folder / name), writer=writer, dpi=100)
    plt.close(fig)
    return frames / (time.perf_counter() - start)


_MPL_SCRIPT = """
import sys
from pathlib import Path
from studio.bench.export import _matplotlib
_matplotlib(Path(sys.argv[1]), "mpl.mp4", "3d", (1280, 720), int(sys.argv[2]))
"""


@dataclass(frozen=True)
class Run:
    """One measured command: wall seconds, and peak RSS in MB of the process itself and of
    its children (ffmpeg). `children_mb` is None where /proc could not be read."""

    seconds: float
    own_mb: float
    children_mb: float | None

    @property
    def total_mb(self) -> float:
        return self.own_mb + (self.children_mb or 0.0)


def _children(pid: int) -> list[int]:
    """Direct children of `pid` (Linux /proc), [] when it cannot be read."""
    found: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as f:
                found += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return found


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return ""


def _peak_mb(pid: int) -> float | None:
    """A process's peak resident memory so far (VmHWM), in MB; None when gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


class _TreeSampler:
    """Samples the peak RSS of every descendant of `pid` until stopped. A child's VmHWM
    only grows, so its last reading is (within one sample) its peak; children that run one
    after another (a GIF's passes) are never in memory together, so the figure is the
    largest sum of those seen alive at the same moment. A private Xvfb (`studio render`
    on a machine with no display) is the display server, not the export: left out."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.available = os.path.isdir(f"/proc/{pid}")
        self.peaks: dict[int, float] = {}
        self.own = 0.0  # the process's own VmHWM (wait4's ru_maxrss counts its children)
        self.worst = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-memory", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.own = max(self.own, _peak_mb(self.pid) or 0.0)
            todo, alive = _children(self.pid), []
            while todo:
                child = todo.pop()
                if _name(child) == "Xvfb":
                    continue
                todo += _children(child)
                mb = _peak_mb(child)
                if mb is not None:
                    self.peaks[child] = mb
                    alive.append(child)
            self.worst = max(self.worst, sum(self.peaks[c] for c in alive))
            self._stop.wait(SAMPLE_S)

    def stop(self) -> tuple[float, float] | None:
        """(own peak, children's peak) in MB; None where /proc could not be read."""
        self._stop.set()
        self._thread.join()
        return (self.own, self.worst) if self.available and self.own > 0 else None


def _wall(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    """Run `cmd` to completion: wall time, its own peak RSS and its children's."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    sampler = _TreeSampler(proc.pid)
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    measured = sampler.stop()  # VmHWM only grows: the last reading before the exit is it
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[1:4])} failed: {err.strip()[-300:]}")
    if measured is None:  # no /proc: ru_maxrss is the largest of the process and its children
        return Run(time.perf_counter() - start, usage.ru_maxrss / 1024, None)
    return Run(time.perf_counter() - start, *measured)


def export_section(quick: bool) -> tuple[str, list[BenchRow]]:
    from studio.gui.display import display_for_gl

    ours_n, mpl_n = (60, 20) if quick else (150, 60)
    mpl = have_matplotlib()
    baseline_name = "matplotlib FuncAnimation" if mpl else NO_MATPLOTLIB
    rows: list[BenchRow] = []
    with tempfile.TemporaryDirectory(prefix="studio-bench-") as tmp, display_for_gl():
        from studio.gui.app import get_app

        app = get_app()  # noqa: F841 - held for the widgets' lifetime
        folder = Path(tmp)
        for label, view, size, name, target in (
            ("3D 1280x720 MP4", "3d", (1280, 720), "a.mp4", ">= 30 frames/s"),
            ("contour 1280x720 MP4", "contour", (1280, 720), "b.mp4", ""),
            ("3D 800x450 GIF", "3d", (800, 450), "c.gif", ""),
        ):
            ours = _ours(folder, name, view, size, ours_n)
            theirs = _matplotlib(folder, "mpl_" + name, view, size, mpl_n) if mpl else None
            rows.append(
                BenchRow(
                    f"export {label}, 6 paths, end to end",
                    ours,
                    "frames/s",
                    baseline=theirs,
                    baseline_name=baseline_name,
                    target=target,
                )
            )
        frames = 40 if quick else 120
        render = [
            *studio_command(),
            "render",
            "--surface",
            "rosenbrock",
            *[a for n, lr in OPTIMIZERS for a in ("--optimizer", f"{n}:lr={lr}")],
            "--start",
            "-1.5,2",
            "--steps",
            str(STEPS),
            "--frames",
            str(frames),
            "-q",
        ]
        ours_run = _wall([*render, "-o", str(folder / "r.mp4"), "--size", "1280x720"])
        # The baseline script needs an interpreter: a frozen bundle has none to offer.
        mpl_s = (
            _wall([sys.executable, "-c", _MPL_SCRIPT, str(folder), str(frames)]).seconds
            if mpl and not getattr(sys, "frozen", False)
            else None
        )
        rows.append(
            BenchRow(
                f"studio render {frames} frames 1280x720 MP4 (with start-up)",
                ours_run.seconds,
                "s",
                baseline=mpl_s,
                baseline_name="matplotlib script"
                if mpl_s is not None
                else (NO_MATPLOTLIB if not mpl else "-"),
                lower_is_better=True,
            )
        )
        # Start-up: a one-frame PNG is almost all of it (imports, display, GL set-up,
        # simulating and the first GL paint); the best of a few runs after one unmeasured,
        # as an installed copy starts: with its modules' bytecode written (a shell that
        # sets PYTHONDONTWRITEBYTECODE would otherwise compile every module on every run).
        still = [
            *studio_command(),
            "render",
            "--surface",
            "rosenbrock",
            "--optimizer",
            "adam",
            "--steps",
            "20",
            "-q",
            "-o",
            str(folder / "s.png"),
        ]
        installed = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        _wall(still, installed)
        startup = min(_wall(still, installed).seconds for _ in range(2 if quick else 3))
        rows.append(
            BenchRow(
                "studio render start-up: a 1-frame PNG 1280x720, wall",
                startup,
                "s",
                lower_is_better=True,
                target="< 0.8 s",
            )
        )
        for fmt in ("mp4", "gif"):
            run = _wall([*render, "-o", str(folder / f"big.{fmt}"), "--size", "1920x1080"])
            rows.append(
                BenchRow(
                    memory_label(frames, fmt, run),
                    run.total_mb,
                    "MB",
                    lower_is_better=True,
                    target="< 500 MB",
                )
            )
    return "Export (render + encode, end to end)", rows


def memory_label(frames: int, fmt: str, run: Run) -> str:
    what = f"studio render {frames} frames 1920x1080 {fmt.upper()}: peak memory"
    if run.children_mb is None:
        return f"{what} (the largest process; studio and ffmpeg not summed here)"
    return f"{what} (studio {run.own_mb:.0f} + ffmpeg {run.children_mb:.0f})"
