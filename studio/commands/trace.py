"""`studio trace [SCENE.json] [scene flags] [-o OUT.csv|OUT.json|OUT.npz]`: trajectories as data.

Without `-o` it prints CSV on stdout. CSV columns: optimizer (the run's label), ball (index),
step, x, y, loss, grad_norm, lr; one row per ball per step, step 0 being the start; a ball
that stopped (converged or diverged) has rows up to its stop step only. A diverged ball is
reported on stderr (`studio: warning: <label> diverged at step N`) and the exit status stays
0. The output file is written atomically, and not at all if anything fails.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from studio.errors import StudioError

if TYPE_CHECKING:
    from studio.engine import Trajectory
    from studio.scene import Scene

FORMATS = (".csv", ".json", ".npz")
CSV_COLUMNS = ("optimizer", "ball", "step", "x", "y", "loss", "grad_norm", "lr")


class TraceError(StudioError):
    """An output that cannot be written (one line)."""


def register(sub: argparse._SubParsersAction) -> None:
    from studio.commands.scene_args import add_scene_arguments

    p = sub.add_parser(
        "trace", help="simulate a scene and write the trajectories (CSV, JSON or NPZ)",
        description="Simulate a scene (a file, or inline flags) and write every ball's path. "
                    "Example: studio trace --surface rosenbrock --optimizer adam:lr=0.05 "
                    "--optimizer momentum:lr=0.0002 --start -1.5,2 --steps 500 -o run.csv")
    add_scene_arguments(p)
    p.add_argument("-o", "--output", type=Path, metavar="OUT",
                   help="OUT.csv, OUT.json or OUT.npz (default: CSV on stdout)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from studio.commands.scene_args import scene_from_args
    from studio.engine import DIVERGED, simulate_scene

    out: Path | None = args.output
    if out is not None and out.suffix.lower() not in FORMATS:
        raise TraceError(f"{out.name}: the output must end in {', '.join(FORMATS)}")
    scene = scene_from_args(args)
    _surface, traj = simulate_scene(scene)
    if out is None:
        write_csv(traj, sys.stdout)
    else:
        writer = {".csv": _csv_bytes, ".json": _json_bytes,
                  ".npz": _npz_bytes}[out.suffix.lower()]
        write_atomically(out, lambda fh: writer(traj, scene, fh))
    for b in range(traj.n_balls):
        if traj.status[b] != DIVERGED:
            continue
        where = f"ball {b}, {traj.ball_label[b]}"
        if not math.isfinite(float(traj.loss[0, b])):
            x, y = traj.positions[0, b]
            print(f"studio: warning: {where}: f is not finite at its start ({x:g}, {y:g})",
                  file=sys.stderr)
        else:
            print(f"studio: warning: {where} diverged at step {int(traj.stop_step[b]) + 1}",
                  file=sys.stderr)
    return 0


def _last_row(traj: Trajectory, ball: int) -> int:
    return int(traj.stop_step[ball])


def write_csv(traj: Trajectory, fh: IO[str]) -> None:
    """The CSV table: one row per ball per step up to the ball's stop step."""
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    pos, loss, gn, lr = (traj.positions.tolist(), traj.loss.tolist(), traj.grad_norm.tolist(),
                         traj.lr.tolist())
    for b in range(traj.n_balls):
        label = traj.ball_label[b]
        w.writerows((label, b, t, pos[t][b][0], pos[t][b][1], loss[t][b], gn[t][b], lr[t][b])
                    for t in range(_last_row(traj, b) + 1))


def _csv_bytes(traj: Trajectory, scene: Scene, fh: IO[bytes]) -> None:
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
    write_csv(traj, text)
    text.flush()
    text.detach()


def _finite(values: list[float]) -> list[float | None]:
    return [v if math.isfinite(v) else None for v in values]


def _json_bytes(traj: Trajectory, scene: Scene, fh: IO[bytes]) -> None:
    from studio.engine import STATUS_NAMES
    from studio.scene import scene_to_dict

    balls: list[dict[str, Any]] = []
    for b in range(traj.n_balls):
        end = _last_row(traj, b) + 1
        run = scene.runs[int(traj.ball_run[b])]
        balls.append({
            "label": traj.ball_label[b], "optimizer": run.optimizer,
            "run": int(traj.ball_run[b]), "color": run.color,
            "status": STATUS_NAMES[int(traj.status[b])], "stop_step": int(traj.stop_step[b]),
            "x": _finite(traj.positions[:end, b, 0].tolist()),
            "y": _finite(traj.positions[:end, b, 1].tolist()),
            "loss": _finite(traj.loss[:end, b].tolist()),
            "grad_norm": _finite(traj.grad_norm[:end, b].tolist()),
            "lr": _finite(traj.lr[:end, b].tolist()),
        })
    doc = {"scene": scene_to_dict(scene), "steps": traj.steps, "balls": balls}
    fh.write(json.dumps(doc, allow_nan=False).encode("utf-8"))


def _npz_bytes(traj: Trajectory, scene: Scene, fh: IO[bytes]) -> None:
    import numpy as np

    from studio.scene import scene_to_json

    np.savez_compressed(
        fh, positions=traj.positions, loss=traj.loss, grad_norm=traj.grad_norm, lr=traj.lr,
        status=traj.status, stop_step=traj.stop_step, ball_run=traj.ball_run,
        ball_label=np.array(traj.ball_label, dtype=str), scene=np.array(scene_to_json(scene)))


def write_atomically(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write through `write` into a temporary file beside `path`, then rename it onto `path`."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                   dir=path.parent if str(path.parent) else ".")
    except OSError as exc:
        raise TraceError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give a normal file's mode
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise TraceError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
