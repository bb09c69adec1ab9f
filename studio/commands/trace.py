"""`studio trace [SCENE.json] [scene flags] [-o OUT.csv|OUT.json|OUT.npz]`: trajectories as data.

Without `-o` it prints CSV on stdout. CSV columns: optimizer (the registry key, e.g. adam),
label (the run's label, as the legend shows it), ball (index), step, x, y, loss, grad_norm,
lr; one row per ball per step, step 0 being the start. A network
scene (`--network`) writes x, y as the ball's coordinates on the landscape plane, loss as its
true training loss, and val_loss, accuracy (the validation split) after loss; a data-fit
scene with a run that stops on the validation loss (`stop_on=val_loss`) writes val_loss
after loss (NaN for the other runs' balls); its NPZ adds
`params` (every ball's weights, steps + 1 × balls × D), the plane (`plane_origin`,
`plane_directions`, `plane_explained`) and the loss grid (`grid_x`, `grid_y`, `grid_loss`). A ball
that stopped (converged or diverged) has rows up to its stop step only. A diverged ball is
reported on stderr (`studio: warning: <label> diverged at step N`) and the exit status stays
0. The output file is written atomically, and not at all if anything fails; an .npz is
stored uncompressed unless `--compress` is given.

Memory: the writers stream (CSV and JSON rows are made a chunk at a time from the arrays), and
a scene whose trajectory and output would not fit the memory limit is refused before it is
simulated (`studio.engine.memory.check_trace_memory`).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from collections.abc import Iterator
from itertools import repeat
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from studio.atomic import write_atomically
from studio.commands.common import standard_output
from studio.errors import StudioError

if TYPE_CHECKING:
    import numpy as np

    from studio.engine import Trajectory
    from studio.scene import Scene

FORMATS = (".csv", ".json", ".npz")
CSV_COLUMNS = ("optimizer", "label", "ball", "step", "x", "y", "loss", "grad_norm", "lr")
# A network scene's trajectory (studio.network.landscape): x, y are plane coordinates, loss
# the true training loss, and these two follow it (the validation split's).
NETWORK_EXTRA = ("val_loss", "accuracy")


def _values(traj: Trajectory, scene: Scene) -> tuple[tuple[str, ...], tuple[np.ndarray, ...]]:
    """The per-step columns after optimizer, label, ball, step: names and (T+1, N) arrays."""
    names = ["x", "y", "loss"]
    arrays = [traj.positions[:, :, 0], traj.positions[:, :, 1], traj.loss]
    if all(hasattr(traj, k) for k in NETWORK_EXTRA):
        names += NETWORK_EXTRA
        arrays += [getattr(traj, k) for k in NETWORK_EXTRA]
    else:
        val = datafit_val_loss(traj, scene)
        if val is not None:
            names.append("val_loss")
            arrays.append(val)
    return (*names, "grad_norm", "lr"), (*arrays, traj.grad_norm, traj.lr)


# Points whose validation loss is computed at once: bounds the (points, rows) temporaries.
_VAL_POINTS = 16384


def datafit_val_loss(traj: Trajectory, scene: Scene) -> np.ndarray | None:
    """On a data-fit surface with a run that stops on the validation loss: every ball's loss
    over the held-out rows (k % 5 == 4), (T+1, N), NaN for balls of the other runs; what
    that run's patience rule watched. None when no run stops on it."""
    import numpy as np

    from studio.engine import validate_hyper

    if scene.surface.network is not None:
        return None
    watched = [
        i
        for i, run in enumerate(scene.runs)
        if run.enabled and validate_hyper(run.optimizer, run.hyper)["stop_on"] == "val_loss"
    ]
    if not watched:
        return None
    from studio.surface import surface_from_spec

    surface = surface_from_spec(scene.surface)
    _train, held = surface.validation_split()
    out = np.full(traj.loss.shape, np.nan)
    for i in watched:
        sl = traj.run_slices[i]
        points = traj.positions[:, sl].reshape(-1, 2)
        values = np.empty(len(points))
        for p0 in range(0, len(points), _VAL_POINTS):
            chunk = points[p0 : p0 + _VAL_POINTS]
            rows = np.broadcast_to(held, (len(chunk), len(held)))
            values[p0 : p0 + len(chunk)] = surface.value_grad_rows(chunk, rows)[0]
        out[:, sl] = values.reshape(traj.loss.shape[0], -1)
    return out


# Rows turned into Python objects at a time by the CSV and JSON writers: a few MB, so
# memory does not grow with the trajectory, and large enough that slicing costs nothing.
CHUNK_ROWS = 8192


class TraceError(StudioError):
    """An output that cannot be written (one line)."""


def register(sub: argparse._SubParsersAction) -> None:
    from studio.commands.scene_args import add_scene_arguments

    p = sub.add_parser(
        "trace",
        help="simulate a scene and write the trajectories (CSV, JSON or NPZ)",
        description="Simulate a scene (a file, or inline flags) and write every ball's path. "
        "Example: studio trace --surface rosenbrock --optimizer adam:lr=0.05 "
        "--optimizer momentum:lr=0.0002 --start -1.5,2 --steps 500 -o run.csv",
    )
    add_scene_arguments(p)
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="OUT",
        help="OUT.csv, OUT.json or OUT.npz (default: CSV on stdout)",
    )
    p.add_argument(
        "--compress",
        action="store_true",
        help="compress an .npz output (smaller, several times slower to write)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from studio.commands.scene_args import scene_from_args
    from studio.engine import DIVERGED, simulate_scene
    from studio.engine.memory import check_trace_memory

    out: Path | None = args.output
    compress = bool(getattr(args, "compress", False))
    fmt = output_format(out, compress)
    scene = scene_from_args(args)
    check_trace_memory(scene, fmt)
    surface, traj = simulate_scene(scene)
    write_trace(traj, scene, out, compress)
    if scene.surface.network is None:  # grid points in a hole of f were left out: say so
        from studio.engine.starts import grid_notes

        for line in grid_notes(surface, scene.runs):
            print(f"studio: note: {line}", file=sys.stderr)
    for b in range(traj.n_balls):
        if traj.status[b] != DIVERGED:
            continue
        where = f"ball {b}, {traj.ball_label[b]}"
        if not math.isfinite(float(traj.loss[0, b])):
            x, y = traj.positions[0, b]
            print(
                f"studio: warning: {where}: f is not finite at its start ({x:g}, {y:g})",
                file=sys.stderr,
            )
        else:
            print(
                f"studio: warning: {where} diverged at step {int(traj.stop_step[b]) + 1}",
                file=sys.stderr,
            )
    return 0


def output_format(out: Path | None, compress: bool = False) -> str:
    """The output's format (".csv" for standard output); TraceError for one we cannot write."""
    fmt = ".csv" if out is None else out.suffix.lower()
    if out is not None and fmt not in FORMATS:
        raise TraceError(f"{out.name}: the output must end in {', '.join(FORMATS)}")
    if compress and fmt != ".npz":
        raise TraceError("--compress applies to an .npz output only")
    return fmt


def write_trace(traj: Trajectory, scene: Scene, out: Path | None, compress: bool = False) -> None:
    """Write `traj` as CSV, JSON or NPZ by `out`'s suffix (CSV on standard output for None),
    atomically: a failed write leaves no file."""
    fmt = output_format(out, compress)
    if out is None:
        write_stdout(traj, scene)
    elif fmt == ".npz":
        write_atomically(out, lambda fh: _npz_bytes(traj, scene, fh, compress), TraceError)
    else:
        writer = _csv_bytes if fmt == ".csv" else _json_bytes
        write_atomically(out, lambda fh: writer(traj, scene, fh), TraceError)


def write_stdout(traj: Trajectory, scene: Scene) -> None:
    """CSV on stdout (`standard_output`: a full disk is one line, a closed pipe quiet)."""
    with standard_output() as out:
        write_csv(traj, scene, out)


def _last_row(traj: Trajectory, ball: int) -> int:
    return int(traj.stop_step[ball])


def _chunks(end: int) -> Iterator[tuple[int, int]]:
    """Row ranges [t0, t1) of at most CHUNK_ROWS covering 0..end."""
    for t0 in range(0, end, CHUNK_ROWS):
        yield t0, min(t0 + CHUNK_ROWS, end)


def ball_optimizers(traj: Trajectory, scene: Scene) -> list[str]:
    """The registry key of each ball's optimizer (its run's `optimizer`)."""
    return [scene.runs[int(r)].optimizer for r in traj.ball_run]


def write_csv(traj: Trajectory, scene: Scene, fh: IO[str]) -> None:
    """The CSV table: one row per ball per step up to the ball's stop step.

    Rows are made CHUNK_ROWS at a time from slices of the arrays, so the Python objects alive
    at once are one chunk's worth whatever the trajectory's size; each chunk goes to `fh` in
    one write (a write per row through a text stream cost a quarter of the time)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    names, arrays = _values(traj, scene)
    w.writerow(("optimizer", "label", "ball", "step", *names))
    keys = ball_optimizers(traj, scene)
    for b in range(traj.n_balls):
        label = traj.ball_label[b]
        for t0, t1 in _chunks(_last_row(traj, b) + 1):
            w.writerows(
                zip(
                    repeat(keys[b]),
                    repeat(label),
                    repeat(b),
                    range(t0, t1),
                    *(a[t0:t1, b].tolist() for a in arrays),
                    strict=False,
                )
            )
            fh.write(buf.getvalue())
            buf.seek(0)
            buf.truncate()
    fh.write(buf.getvalue())  # the header of a trajectory without balls


def _csv_bytes(traj: Trajectory, scene: Scene, fh: IO[bytes]) -> None:
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
    write_csv(traj, scene, text)
    text.flush()
    text.detach()


def _finite(values: list[float]) -> list[float | None]:
    return [v if math.isfinite(v) else None for v in values]


def _json_bytes(traj: Trajectory, scene: Scene, fh: IO[bytes]) -> None:
    """`{"scene": …, "steps": T, "balls": [{label, …, "x": […], …}, …]}`, byte for byte what
    `json.dumps` prints for the whole document (non-finite values as null), written a ball
    and a chunk of rows at a time instead of building the document in memory."""
    from studio.engine import STATUS_NAMES
    from studio.scene import scene_to_dict

    text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
    head = json.dumps(
        {"scene": scene_to_dict(scene), "steps": traj.steps, "balls": []}, allow_nan=False
    )
    text.write(head[: -len("]}")])
    columns = tuple(zip(*_values(traj, scene), strict=True))
    for b in range(traj.n_balls):
        end = _last_row(traj, b) + 1
        run = scene.runs[int(traj.ball_run[b])]
        meta = {
            "label": traj.ball_label[b],
            "optimizer": run.optimizer,
            "run": int(traj.ball_run[b]),
            "color": run.color,
            "status": STATUS_NAMES[int(traj.status[b])],
            "stop_step": int(traj.stop_step[b]),
        }
        text.write((", " if b else "") + json.dumps(meta, allow_nan=False)[:-1])
        for key, column in columns:
            text.write(f', "{key}": [')
            for t0, t1 in _chunks(end):
                values = json.dumps(_finite(column[t0:t1, b].tolist()), allow_nan=False)
                text.write((", " if t0 else "") + values[1:-1])
            text.write("]")
        text.write("}")
    text.write("]}")
    text.flush()
    text.detach()


def _npz_bytes(traj: Trajectory, scene: Scene, fh: IO[bytes], compress: bool = False) -> None:
    """NumPy's own .npz; stored uncompressed unless asked (zlib took 80% of a large trace's
    time). `np.savez` writes each array to the archive in buffered chunks, not as one copy."""
    import numpy as np

    from studio.scene import scene_to_json

    save = np.savez_compressed if compress else np.savez
    from studio.network.landscape import LandscapeTrajectory

    extra: dict[str, Any] = {}
    if isinstance(traj, LandscapeTrajectory) and traj.plane and traj.surface:
        # A network scene: the validation metrics, every ball's full weights, the plane
        # (θ = origin + x·directions[0] + y·directions[1]) and the loss grid drawn on it.
        plane, surface = traj.plane, traj.surface
        extra = {
            "val_loss": traj.val_loss,
            "accuracy": traj.accuracy,
            "params": traj.params,
            "plane_origin": plane.origin,
            "plane_directions": plane.directions,
            "plane_explained": np.array(plane.explained or (np.nan, np.nan)),
            "grid_x": surface.xs,
            "grid_y": surface.ys,
            "grid_loss": surface.z,
        }
    else:
        val = datafit_val_loss(traj, scene)
        if val is not None:
            extra = {"val_loss": val}
    save(
        fh,
        positions=traj.positions,
        loss=traj.loss,
        grad_norm=traj.grad_norm,
        lr=traj.lr,
        status=traj.status,
        stop_step=traj.stop_step,
        ball_run=traj.ball_run,
        ball_label=np.array(traj.ball_label, dtype=str),
        ball_optimizer=np.array(ball_optimizers(traj, scene), dtype=str),
        scene=np.array(scene_to_json(scene)),
        **extra,
    )
