"""`studio trace` end to end, as a user runs it (a subprocess), plus the scene flags."""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from studio_cli import run_studio as studio

from studio.commands import trace
from studio.commands.scene_args import add_scene_arguments, scene_from_args
from studio.engine import run_label, simulate_scene
from studio.errors import StudioError
from studio.resources import asset_path
from studio.scene import SurfaceSpec, load_scene
from studio.surface import PRESETS, surface_from_spec


def test_csv_on_stdout() -> None:
    out = studio(
        "trace",
        "--surface",
        "rosenbrock",
        "--optimizer",
        "adam:lr=0.05,beta2=0.99",
        "--optimizer",
        "momentum:lr=0.0002,momentum=0.9,schedule=step,step_size=50,gamma=0.5",
        "--start",
        "-1.5,2",
        "--steps",
        "20",
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert rows[0] == [
        "optimizer",
        "label",
        "ball",
        "step",
        "x",
        "y",
        "loss",
        "grad_norm",
        "lr",
    ]
    assert len(rows) == 1 + 2 * 21
    # The optimizer column is the registry key, the label column the run's label.
    assert rows[1][:6] == ["adam", "Adam (lr 0.05)", "0", "0", "-1.5", "2.0"]
    assert float(rows[1][6]) == pytest.approx(12.5)
    assert rows[22][:4] == ["momentum", "Momentum (lr 0.0002)", "1", "0"]
    assert float(rows[-1][8]) == pytest.approx(0.0002)


def test_json_and_npz_files(tmp_path: Path) -> None:
    args = [
        "trace",
        "--surface",
        "x**2 + a*y**2",
        "--surface-param",
        "a=10",
        "--domain",
        "-3,3,-2,2",
        "--optimizer",
        "rmsprop:lr=0.01,schedule=cosine_restarts,T0=10,T_mult=2",
        "--optimizer",
        "sgd:lr=0.01,grad_noise=0.3",
        "--start-grid",
        "2x2",
        "--steps",
        "30",
        "--seed",
        "4",
    ]
    out = studio(*args, "-o", str(tmp_path / "run.json"))
    assert out.returncode == 0, out.stderr
    doc = json.loads((tmp_path / "run.json").read_text())
    assert len(doc["balls"]) == 8 and doc["steps"] == 30
    assert doc["balls"][0]["x"][0] == pytest.approx(-2.7)
    assert doc["scene"]["surface"]["params"] == {"a": 10.0}
    out = studio(*args, "-o", str(tmp_path / "run.npz"))
    assert out.returncode == 0, out.stderr
    with np.load(tmp_path / "run.npz") as npz:
        assert npz["positions"].shape == (31, 8, 2)
        np.testing.assert_allclose(npz["positions"][:, :, 0].T.tolist()[0], doc["balls"][0]["x"])
        # Both the registry key and the label of each ball, as in JSON and CSV.
        assert npz["ball_optimizer"].tolist() == ["rmsprop"] * 4 + ["sgd"] * 4
        assert npz["ball_label"][0] == doc["balls"][0]["label"]
    assert doc["balls"][0]["optimizer"] == "rmsprop"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json", "run.npz"]


def test_patience_reads_stopped_early_not_converged(tmp_path: Path) -> None:
    out = studio(
        "trace",
        "--surface",
        "himmelblau",
        "--optimizer",
        "sgd:lr=0.005,grad_noise=1.0,patience=20,tol=0.001",
        "--steps",
        "2000",
        "-o",
        str(tmp_path / "run.json"),
    )
    assert out.returncode == 0, out.stderr
    ball = json.loads((tmp_path / "run.json").read_text())["balls"][0]
    assert ball["status"] == "stopped early" and 20 <= ball["stop_step"] < 2000


def test_scene_file_and_overrides(tmp_path: Path) -> None:
    out = studio(
        "trace",
        str(asset_path("scenes/default.json")),
        "--steps",
        "5",
        "-o",
        str(tmp_path / "d.csv"),
    )
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO((tmp_path / "d.csv").read_text())))
    scene = load_scene(asset_path("scenes/default.json"))
    assert len(rows) == 1 + 6 * len(scene.runs)
    assert {r[0] for r in rows[1:]} == {r.optimizer for r in scene.runs}
    assert {r[1] for r in rows[1:]} == {run_label(r) for r in scene.runs}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--optimizer", "adamm"], "unknown optimizer 'adamm'"),
        (["--optimizer", "adam:beta3=0.1"], "adam: unknown hyperparameter 'beta3'"),
        (["--optimizer", "adam:lr=-1"], "adam: lr must be > 0"),
        (["--optimizer", "adam:lr=fast"], "adam: lr must be a number"),
        (["--optimizer", "adam:lr"], "expected key=value"),
        (["--surface", "x**2 + zz", "--optimizer", "sgd", "--start", "1,1"], "zz"),
        (["--surface", "x**2", "--optimizer", "sgd"], "give --start"),
        (["--steps", "5"], "nothing to trace"),
        (["--optimizer", "sgd", "--steps", "0x"], "argument --steps"),
        (["--optimizer", "sgd", "--start", "1;2"], "argument --start"),
        (["--optimizer", "sgd", "--steps", "99999999"], "steps"),
    ],
)
def test_errors_are_one_line_exit_2_and_write_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    out = studio("trace", *args, "-o", str(tmp_path / "out.csv"))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("studio: error: "), out.stderr
    assert message in lines[0]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "content", [b"{not json", b"\xff\xfe\x00", b'{"runs": 3}', b'{"version": 99}']
)
def test_corrupt_scene_is_one_line(tmp_path: Path, content: bytes) -> None:
    scene = tmp_path / "bad.json"
    scene.write_bytes(content)
    out = studio("trace", str(scene), "-o", str(tmp_path / "out.csv"))
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "bad.json" in out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


HUGE = "1" + "0" * 400


@pytest.mark.parametrize(
    ("runs", "message"),
    [
        (f'[{{"optimizer": "sgd", "hyper": {{"lr": {HUGE}}}, "starts": [[0, 0]]}}]', "401 digits"),
        ('[{"optimizer": "sgd", "hyper": {"delay": 1e300}, "starts": [[0, 0]]}]', "delay"),
        ('[{"optimizer": "sgd", "starts": [[1e308, 0]]}]', None),
    ],
)
def test_absurd_numbers_in_a_scene_are_refused_in_one_line(
    tmp_path: Path, runs: str, message: str | None
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(f'{{"version": 1, "surface": {{"preset": "bowl"}}, "runs": {runs}}}')
    try:
        scene = load_scene(path)
        simulate_scene(scene)
    except StudioError as exc:
        assert message is None or message in str(exc)
        assert "\n" not in str(exc)
    else:
        assert message is None  # a far start is allowed: that ball diverges at once


def test_a_device_or_fifo_is_not_read_as_a_scene() -> None:
    with pytest.raises(StudioError, match="not a regular file"):
        load_scene("/dev/zero")


def test_a_huge_domain_is_refused() -> None:
    with pytest.raises(StudioError, match="domain bounds"):
        surface_from_spec(SurfaceSpec(preset="bowl", domain=(-1e308, 1e308, -1, 1)))


def test_unknown_preset_parameter_is_an_error() -> None:
    with pytest.raises(StudioError, match="rosenbrock has no parameter 'z'"):
        surface_from_spec(SurfaceSpec(preset="rosenbrock", params={"z": 10.0}))


def test_trace_into_a_closed_pipe_is_quiet() -> None:
    cmd = (
        f"{sys.executable} -m studio trace --surface bowl --optimizer sgd --steps 5000 "
        "--start-grid 8x8 | head -1"
    )
    out = subprocess.run(
        ["bash", "-o", "pipefail", "-c", cmd],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0 and out.stderr == ""
    assert out.stdout.startswith("optimizer,label,ball,step,x,y,loss")


def test_missing_scene_and_bad_output(tmp_path: Path) -> None:
    out = studio("trace", str(tmp_path / "nope.json"))
    assert out.returncode == 2 and "cannot read" in out.stderr
    out = studio("trace", "--optimizer", "sgd", "-o", str(tmp_path / "out.txt"))
    assert out.returncode == 2 and "must end in" in out.stderr
    out = studio("trace", "--optimizer", "sgd", "-o", str(tmp_path / "no" / "out.csv"))
    assert out.returncode == 2 and "cannot write" in out.stderr


def test_divergence_warns_and_truncates_rows(tmp_path: Path) -> None:
    out = studio(
        "trace",
        "--surface",
        "x**2 + 10*y**2",
        "--optimizer",
        "sgd:lr=0.2",
        "--optimizer",
        "sgd:lr=0.01",
        "--start",
        "1,1",
        "--steps",
        "60",
        "-o",
        str(tmp_path / "d.csv"),
    )
    assert out.returncode == 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("studio: warning: ball 0, SGD (lr 0.2) diverged at step ")
    step = int(lines[0].rsplit(" ", 1)[1])
    rows = list(csv.reader(io.StringIO((tmp_path / "d.csv").read_text())))[1:]
    wild = [r for r in rows if r[2] == "0"]
    assert [int(r[3]) for r in wild] == list(range(step))
    assert all(np.isfinite(float(v)) for r in wild for v in r[4:])
    assert len([r for r in rows if r[2] == "1"]) == 61


def _parse(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_scene_arguments(p)
    return p.parse_args(list(argv))


def test_scene_from_args_builds_a_valid_scene() -> None:
    scene = scene_from_args(
        _parse(
            "--optimizer",
            "adam:lr=0.05",
            "--optimizer",
            "nesterov:momentum=0.8,schedule=warmup,warmup=20",
            "--start",
            "-1.5,2",
            "--start",
            "-2,2",
            "--seed",
            "3",
        )
    )
    assert scene.surface.preset == "rosenbrock" and scene.steps == 500 and scene.seed == 3
    assert [r.optimizer for r in scene.runs] == ["adam", "nesterov"]
    # The preset's suggested rate under the keys given, as a run added in the window gets.
    lr = PRESETS["rosenbrock"].suggested["nesterov"]["lr"]
    assert scene.runs[1].hyper == {"lr": lr, "momentum": 0.8, "schedule": "warmup", "warmup": 20}
    assert isinstance(scene.runs[1].hyper["warmup"], int)
    assert scene.runs[0].starts == ((-1.5, 2.0), (-2.0, 2.0))
    assert [run_label(r) for r in scene.runs] == ["Adam (lr 0.05)", f"Nesterov (lr {lr:g})"]
    assert scene.runs[0].color != scene.runs[1].color
    grid = scene_from_args(
        _parse("--surface", "himmelblau", "--optimizer", "sgd", "--start-grid", "3x4")
    )
    assert grid.runs[0].grid == (3, 4) and grid.surface.preset == "himmelblau"
    with pytest.raises(StudioError):
        scene_from_args(_parse("--optimizer", "sgd:lr=1,lr=2"))


def test_default_scene_races_without_divergence() -> None:
    from studio.engine import DIVERGED, simulate_scene

    scene = load_scene(asset_path("scenes/default.json"))
    assert 5 <= len(scene.runs) <= 8 and scene.steps == 500
    _surface, traj = simulate_scene(scene)
    assert not (traj.status == DIVERGED).any()
    final = {scene.runs[r].optimizer: traj.loss[-1, r] for r in range(len(scene.runs))}
    assert min(final, key=final.__getitem__) == "adam"
    assert max(final, key=final.__getitem__) == "sgd"
    assert len({round(float(v), 2) for v in final.values()}) == len(final)  # they differ


def test_bench_baseline_loops_do_the_same_updates() -> None:
    from studio.bench.engine import GUI_OPTIMIZERS, _loop_adam, _loop_one
    from studio.engine import simulate, validate_hyper
    from studio.scene import RunSpec, SurfaceSpec
    from studio.surface import PRESETS, surface_from_spec

    surface = surface_from_spec(SurfaceSpec(preset="rosenbrock"))
    start = np.array([-1.5, 2.0])
    for name in GUI_OPTIMIZERS:
        hyper = {**PRESETS["rosenbrock"].suggested.get(name, {}), "tol": 0.0}
        traj = simulate(surface, [RunSpec(name, hyper, ((-1.5, 2.0),))], 50, 0)
        loop = _loop_one(name, validate_hyper(name, hyper), start, 50)
        np.testing.assert_allclose(loop, traj.positions[-1, 0], rtol=1e-9, err_msg=name)
    traj = simulate(surface, [RunSpec("adam", {"lr": 0.01, "tol": 0.0}, ((-1.5, 2.0),))], 50, 0)
    np.testing.assert_allclose(
        _loop_adam(start[None], 50, 0.01)[0], traj.positions[-1, 0], rtol=1e-9
    )


def test_bench_prints_its_table() -> None:
    out = studio("bench", "--quick", "--only", "engine")
    assert out.returncode == 0, out.stderr
    assert "ball-steps/s" in out.stdout and "GUI scene" in out.stdout


def _reference_csv(traj, scene) -> str:  # type: ignore[no-untyped-def]
    """The table as whole-array lists would print it: what the streaming writer must match."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(trace.CSV_COLUMNS)
    pos, loss, gn, lr = (
        traj.positions.tolist(),
        traj.loss.tolist(),
        traj.grad_norm.tolist(),
        traj.lr.tolist(),
    )
    for b in range(traj.n_balls):
        w.writerows(
            (
                scene.runs[int(traj.ball_run[b])].optimizer,
                traj.ball_label[b],
                b,
                t,
                pos[t][b][0],
                pos[t][b][1],
                loss[t][b],
                gn[t][b],
                lr[t][b],
            )
            for t in range(int(traj.stop_step[b]) + 1)
        )
    return buf.getvalue()


def _reference_json(traj, scene) -> bytes:  # type: ignore[no-untyped-def]
    from studio.engine import STATUS_NAMES
    from studio.scene import scene_to_dict

    def finite(values: list[float]) -> list[float | None]:
        return [v if np.isfinite(v) else None for v in values]

    balls = []
    for b in range(traj.n_balls):
        end = int(traj.stop_step[b]) + 1
        run = scene.runs[int(traj.ball_run[b])]
        balls.append(
            {
                "label": traj.ball_label[b],
                "optimizer": run.optimizer,
                "run": int(traj.ball_run[b]),
                "color": run.color,
                "status": STATUS_NAMES[int(traj.status[b])],
                "stop_step": int(traj.stop_step[b]),
                **{
                    k: finite(v[:end, b].tolist())
                    for k, v in (
                        ("x", traj.positions[:, :, 0]),
                        ("y", traj.positions[:, :, 1]),
                        ("loss", traj.loss),
                        ("grad_norm", traj.grad_norm),
                        ("lr", traj.lr),
                    )
                },
            }
        )
    doc = {"scene": scene_to_dict(scene), "steps": traj.steps, "balls": balls}
    return json.dumps(doc, allow_nan=False).encode()


def test_streaming_writers_match_the_whole_document_byte_for_byte(monkeypatch) -> None:
    # Chunks of 7 rows: many chunk boundaries, a diverged ball stopping mid-chunk.
    monkeypatch.setattr(trace, "CHUNK_ROWS", 7)
    scene = scene_from_args(
        _parse(
            "--surface",
            "x**2 + 10*y**2",
            "--optimizer",
            "sgd:lr=0.2",
            "--optimizer",
            "adam:lr=0.01,grad_noise=0.3",
            "--start-grid",
            "3x2",
            "--steps",
            "40",
            "--seed",
            "3",
        )
    )
    _surface, traj = simulate_scene(scene)
    assert len(set(traj.stop_step.tolist())) > 1
    text = io.StringIO()
    trace.write_csv(traj, scene, text)
    assert text.getvalue() == _reference_csv(traj, scene)
    raw = io.BytesIO()
    trace._json_bytes(traj, scene, raw)
    assert raw.getvalue() == _reference_json(traj, scene)


def test_npz_is_stored_uncompressed_unless_asked(tmp_path: Path) -> None:
    args = [
        "trace",
        "--surface",
        "bowl",
        "--optimizer",
        "sgd",
        "--start-grid",
        "2x2",
        "--steps",
        "30",
    ]
    assert studio(*args, "-o", str(tmp_path / "plain.npz")).returncode == 0
    assert studio(*args, "--compress", "-o", str(tmp_path / "small.npz")).returncode == 0
    with zipfile.ZipFile(tmp_path / "plain.npz") as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}
    with zipfile.ZipFile(tmp_path / "small.npz") as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}
    with np.load(tmp_path / "plain.npz") as a, np.load(tmp_path / "small.npz") as b:
        assert a.files == b.files
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key])
    out = studio(*args, "--compress", "-o", str(tmp_path / "run.csv"))
    assert out.returncode == 2 and "--compress applies to an .npz output only" in out.stderr


@pytest.mark.parametrize("suffix", [".csv", ".json", ".npz"])
def test_a_trace_too_large_for_memory_is_refused_up_front(tmp_path: Path, suffix: str) -> None:
    # 64 runs x a 64x64 grid x 17 EASGD balls per start: 4.5 million balls.
    runs = [
        {"optimizer": "easgd", "hyper": {"workers": 16}, "grid": [64, 64], "label": f"run {i}"}
        for i in range(64)
    ]
    scene = tmp_path / "huge.json"
    scene.write_text(
        json.dumps({"version": 1, "steps": 1, "surface": {"preset": "bowl"}, "runs": runs})
    )
    out = studio("trace", str(scene), "-o", str(tmp_path / f"out{suffix}"))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "more than the 1 GB limit" in lines[0], out.stderr
    assert "4,456,448 balls" in lines[0]
    assert [p.name for p in tmp_path.iterdir()] == ["huge.json"]


def test_the_largest_grid_at_its_step_cap_is_admitted() -> None:
    from studio.engine.memory import MEMORY_LIMIT, check_trace_memory, scene_balls, trace_bytes

    scene = scene_from_args(
        _parse("--optimizer", "sgd", "--start-grid", "64x64", "--steps", "2928")
    )
    for fmt in (".csv", ".json", ".npz"):
        check_trace_memory(scene, fmt)
    n, chars, width = scene_balls(scene)
    assert (n, width) == (4096, 1)
    assert trace_bytes(n, 2928, chars, ".npz", width) < MEMORY_LIMIT
