"""`studio bench` export rows: frames/s end to end, beside the seeds' matplotlib way.

Ours: `studio.gui.offscreen.export` (hidden GL/plot widgets, QPainter overlays, ffmpeg in
its own process). Baseline: the same scene drawn as the seed articles draw it, matplotlib
`FuncAnimation` with `FFMpegWriter` (MP4) or `PillowWriter` (GIF), a 3D `plot_surface` or a
`contourf` with six trajectories. Both include their set-up (figure or widgets, encoder).
matplotlib is imported only inside the baseline functions: it is not an app dependency.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from studio.benchtable import BenchRow

OPTIMIZERS = (("sgd", 0.001), ("momentum", 0.001), ("nesterov", 0.001), ("rmsprop", 0.01),
              ("adam", 0.05), ("adagrad", 0.5))
STEPS = 300


def _scene():
    from studio.scene import PALETTE, RunSpec, Scene, SurfaceSpec

    runs = tuple(RunSpec(name, {"lr": lr}, ((-1.5, 2.0),), label=name, color=PALETTE[i])
                 for i, (name, lr) in enumerate(OPTIMIZERS))
    return Scene(surface=SurfaceSpec(preset="rosenbrock"), runs=runs, steps=STEPS)


def _ours(folder: Path, name: str, view: str, size: tuple[int, int], frames: int) -> float:
    from studio.gui.offscreen import RenderOptions, export

    start = time.perf_counter()
    export(_scene(), folder / name, RenderOptions(size=size, view=view, frames=frames,
                                                   fps=30))
    return frames / (time.perf_counter() - start)


def _matplotlib(folder: Path, name: str, view: str, size: tuple[int, int],
                frames: int) -> float:
    """The seeds' way: FuncAnimation redrawing a 3D surface or contourf plus 6 paths."""
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
    path_z = np.log1p(surface.value(traj.positions.reshape(-1, 2)).reshape(
        traj.positions.shape[:2]))
    fig = plt.figure(figsize=(size[0] / 100, size[1] / 100), dpi=100)
    ax = fig.add_subplot(projection="3d" if view == "3d" else None)
    if view == "3d":
        ax.plot_surface(gx, gy, z, cmap="viridis", linewidth=0, antialiased=False)
    else:
        ax.contourf(gx, gy, z, levels=30, cmap="viridis")
    lines = []
    for i, run in enumerate(scene.runs):
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
    writer = PillowWriter(fps=30) if name.endswith(".gif") else FFMpegWriter(
        fps=30, codec="libx264", extra_args=["-pix_fmt", "yuv420p"])
    anim.save(str(folder / name), writer=writer, dpi=100)
    plt.close(fig)
    return frames / (time.perf_counter() - start)


_MPL_SCRIPT = """
import sys
from pathlib import Path
from studio.gui.export_bench import _matplotlib
_matplotlib(Path(sys.argv[1]), "mpl.mp4", "3d", (1280, 720), int(sys.argv[2]))
"""


def _wall(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and the process's peak RSS in MB (its own, not ffmpeg's)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[2:4]} failed: {err.strip()[-300:]}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def export_section(quick: bool) -> tuple[str, list[BenchRow]]:
    from studio.commands.render import display_for_gl

    ours_n, mpl_n = (60, 20) if quick else (150, 60)
    rows: list[BenchRow] = []
    with tempfile.TemporaryDirectory(prefix="studio-bench-") as tmp, display_for_gl():
        from studio.gui.app import get_app

        app = get_app()  # noqa: F841 - held for the widgets' lifetime
        folder = Path(tmp)
        for label, view, size, name, target in (
                ("3D 1280x720 MP4", "3d", (1280, 720), "a.mp4", ">= 30 frames/s"),
                ("contour 1280x720 MP4", "contour", (1280, 720), "b.mp4", ""),
                ("3D 800x450 GIF", "3d", (800, 450), "c.gif", "")):
            ours = _ours(folder, name, view, size, ours_n)
            theirs = _matplotlib(folder, "mpl_" + name, view, size, mpl_n)
            rows.append(BenchRow(f"export {label}, 6 paths, end to end", ours, "frames/s",
                                 baseline=theirs, baseline_name="matplotlib FuncAnimation",
                                 target=target))
        frames = 40 if quick else 120
        render = [sys.executable, "-m", "studio", "render", "--surface", "rosenbrock",
                  *[a for n, lr in OPTIMIZERS for a in ("--optimizer", f"{n}:lr={lr}")],
                  "--start", "-1.5,2", "--steps", str(STEPS), "--frames", str(frames), "-q"]
        ours_s, _ = _wall([*render, "-o", str(folder / "r.mp4"), "--size", "1280x720"])
        mpl_s, _ = _wall([sys.executable, "-c", _MPL_SCRIPT, str(folder), str(frames)])
        rows.append(BenchRow(f"studio render {frames} frames 1280x720 MP4 (with start-up)",
                             ours_s, "s", baseline=mpl_s, baseline_name="matplotlib script",
                             lower_is_better=True))
        _, rss = _wall([*render, "-o", str(folder / "big.mp4"), "--size", "1920x1080"])
        rows.append(BenchRow(f"studio render {frames} frames 1920x1080: peak memory", rss,
                             "MB", lower_is_better=True, target="< 500 MB"))
    return "Export (render + encode, end to end)", rows
