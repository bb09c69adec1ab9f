"""`studio render` end to end, as a user runs it (a subprocess): files, errors, no display."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image
from studio_cli import assert_one_line_error

from readback import read_mp4

ORANGE, BLUE = (0xE6, 0x9F, 0x00), (0x56, 0xB4, 0xE9)
SCENE_FLAGS = [
    "--surface",
    "rosenbrock",
    "--optimizer",
    "adam:lr=0.05",
    "--optimizer",
    "momentum:lr=0.0005",
    "--start",
    "-1.5,2",
    "--steps",
    "60",
]


def render(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "studio", "render", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=os.environ.copy() if env is None else env,
    )


def colour_pixels(frame: np.ndarray, rgb: tuple[int, int, int], tol: int = 40) -> int:
    return int((np.abs(frame[..., :3].astype(int) - rgb).max(-1) < tol).sum())


def test_gif_with_a_private_xvfb_when_there_is_no_display(tmp_path: Path) -> None:
    """No DISPLAY: render starts its own Xvfb (installed on the test machines)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    out = tmp_path / "run.gif"
    proc = render(
        *SCENE_FLAGS,
        "-o",
        str(out),
        "--size",
        "240x136",
        "--frames",
        "6",
        "--fps",
        "10",
        "--view",
        "contour",
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # not a terminal: no progress bar
    frames = iio.imread(out, index=None)
    assert frames.shape == (6, 136, 240, 3)
    assert not np.array_equal(frames[0], frames[-1])
    assert colour_pixels(frames[-1], ORANGE) > 5 and colour_pixels(frames[-1], BLUE) > 5
    with Image.open(out) as im:
        assert im.info["loop"] == 0 and im.info["duration"] == 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.gif"]


def test_mp4_3d_with_orbit(tmp_path: Path) -> None:
    out = tmp_path / "run.mp4"
    proc = render(
        *SCENE_FLAGS,
        "-o",
        str(out),
        "--size",
        "256x144",
        "--duration",
        "0.5",
        "--fps",
        "12",
        "--orbit",
        "90",
        "--light",
        "--title",
        "Adam vs momentum",
    )
    assert proc.returncode == 0, proc.stderr
    meta, frames = read_mp4(out)
    assert meta["size"] == (256, 144) and meta["fps"] == 12 and meta["codec"] == "h264"
    assert len(frames) == 6
    assert frames[0].mean() > 150  # --light: a light background
    assert np.abs(frames[0].astype(int) - frames[-1]).mean() > 2  # the camera turned


def test_png_composite_from_a_scene_file(tmp_path: Path) -> None:
    scene = tmp_path / "scene.json"
    scene.write_text(
        '{"version": 1, "steps": 40, "surface": {"preset": "rosenbrock"}, "runs": ['
        '{"optimizer": "adam", "hyper": {"lr": 0.05}, "starts": [[-1.5, 2]], '
        '"color": "#e69f00", "label": "Adam"}]}',
        encoding="utf-8",
    )
    out = tmp_path / "still.png"
    proc = render(
        str(scene), "-o", str(out), "--size", "320x180", "--view", "composite", "--to", "20"
    )
    assert proc.returncode == 0, proc.stderr
    img = iio.imread(out)
    assert img.shape == (180, 320, 3)
    assert colour_pixels(img, ORANGE) > 5


@pytest.mark.parametrize(
    "args,words",
    [
        (["--surface", "x +* y", "--optimizer", "sgd", "--start", "0,0"], ["column"]),
        (["--size", "161x97"], ["even width and height"]),
        (["--frames", "0"], ["--frames"]),
        (["--to", "999"], ["past the last step"]),
        (["--camera", "sideways"], ["camera must be auto"]),
        (["--camera", "10,95"], ["elevation"]),
        (["--preset", "gif-5mb"], ["writes GIF"]),
        (["--transparent"], ["--transparent needs a PNG"]),
        (["--orbit", "nan"], ["--orbit", "3,600 degrees"]),
        (["--orbit", "1e400"], ["--orbit", "3,600 degrees"]),
        (["--hold", "1e9"], ["--hold", "0 to 10,000 seconds"]),
        (["--msaa", "1000"], ["--msaa", "0 to 16"]),
        (["--view", "contour", "--camera", "top"], ["--camera", "3d+loss"]),
        (["--view", "loss", "--orbit", "30"], ["--orbit", "has none"]),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_file(
    tmp_path: Path, args: list[str], words: list[str]
) -> None:
    flags = args if args[0] == "--surface" else [*SCENE_FLAGS, *args]
    out = tmp_path / "run.mp4"
    proc = render(*flags, "-o", str(out))
    assert_one_line_error(proc, *words)
    assert list(tmp_path.iterdir()) == []


def no_display_no_xvfb(tmp_path: Path) -> dict[str, str]:
    """An environment where any attempt to render fails ("install xvfb"): an error that
    comes instead was found before rendering started."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PATH"] = str(tmp_path / "empty")
    return env


@pytest.mark.parametrize("view", ["3d", "composite"])
def test_a_frame_too_small_for_the_legend_leaves_it_out(tmp_path: Path, view: str) -> None:
    """A thumbnail (64×64) has no place for the 3D legend: rendered without it, not an
    internal error."""
    out = tmp_path / "thumb.png"
    proc = render(*SCENE_FLAGS, "--size", "64x64", "--view", view, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert iio.imread(out).shape == (64, 64, 3)


@pytest.mark.parametrize(
    "name,fps,words",
    [
        ("run.mp4", "999999", ["--fps", "MP4 frame rate must be 1 to 120"]),
        ("run.mp4", "0.5", ["--fps", "MP4 frame rate must be 1 to 120"]),
        ("run.gif", "60", ["--fps", "GIF frame rate must be 1 to 50"]),
    ],
)
def test_frame_rates_players_cannot_play_are_refused_up_front(
    tmp_path: Path, name: str, fps: str, words: list[str]
) -> None:
    out = tmp_path / name
    proc = render(
        *SCENE_FLAGS,
        "-o",
        str(out),
        "--fps",
        fps,
        "--frames",
        "3",
        env=no_display_no_xvfb(tmp_path),
    )
    assert_one_line_error(proc, *words)
    assert list(tmp_path.iterdir()) == []


def test_gif_at_30_fps_plays_every_frame_for_3_hundredths(tmp_path: Path) -> None:
    """GIF delays are whole hundredths: 30 frames/s becomes 33.3, evenly (not 30, 30, 40 ms),
    and a --duration clip is planned at that rate (1 s = 33 frames)."""
    out = tmp_path / "run.gif"
    proc = render(
        *SCENE_FLAGS,
        "-o",
        str(out),
        "--size",
        "64x36",
        "--fps",
        "30",
        "--duration",
        "1",
        "--view",
        "loss",
    )
    assert proc.returncode == 0, proc.stderr
    with Image.open(out) as im:
        durations = []
        for k in range(im.n_frames):
            im.seek(k)
            durations.append(im.info["duration"])
    assert durations == [30] * 33


def test_a_folder_as_output_is_refused_before_rendering(tmp_path: Path) -> None:
    folder = tmp_path / "clips.mp4"
    folder.mkdir()
    proc = render(*SCENE_FLAGS, "-o", str(folder), env=no_display_no_xvfb(tmp_path))
    assert_one_line_error(proc, "clips.mp4: it is a folder")
    assert list(folder.iterdir()) == []


def encoded_bytes(folder: Path, scratch: Path) -> int:
    """Bytes ffmpeg has written so far: the MP4's hidden temporary file beside the target,
    or a GIF's lossless scratch copy."""
    files = [*folder.glob(".*"), *scratch.glob("studio-gif-*/*.mkv")]
    return sum(f.stat().st_size for f in files if f.is_file())


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="POSIX process groups")
@pytest.mark.parametrize(
    "view,name", [("3d", "run.mp4"), ("contour", "run.mp4"), ("composite", "run.gif")]
)
def test_ctrl_c_stops_cleanly(tmp_path: Path, view: str, name: str) -> None:
    """Ctrl+C in a terminal signals the whole foreground process group (studio and, unless
    it has a group of its own, ffmpeg): one line, exit 130, nothing left behind."""
    folder, scratch = tmp_path / "out", tmp_path / "scratch"
    folder.mkdir()
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "studio",
            "render",
            *SCENE_FLAGS,
            "--steps",
            "2000",
            "-o",
            str(folder / name),
            "--size",
            "320x180",
            "--view",
            view,
            "--frames",
            "2000",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=env,
    )
    try:
        # Mid-way: frames have reached ffmpeg, and far more are still to come.
        while encoded_bytes(folder, scratch) == 0 and proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.02)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, err
    assert err == "studio: interrupted\n"
    assert list(folder.iterdir()) == []
    assert list(scratch.glob("studio-gif-*")) == []


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _without_display(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return {**env, **extra}


def _start_render(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "studio",
            "render",
            *SCENE_FLAGS,
            "--steps",
            "2000",
            "--size",
            "320x180",
            "--frames",
            "2000",
            *args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_for_helpers(proc: subprocess.Popen[str], folder: Path) -> list[int]:
    """The render's children once both its private Xvfb and its ffmpeg run and its temporary
    file is in `folder`. (The temporary file appears just before ffmpeg starts, so waiting
    for the file alone can catch the render with one helper.)"""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        children = _children(proc.pid)
        names = [_name(pid) for pid in children]
        if "Xvfb" in names and any(n.startswith("ffmpeg") for n in names) and any(folder.iterdir()):
            return children
        time.sleep(0.02)
    raise AssertionError(
        "the render never ran Xvfb and ffmpeg: "
        f"{proc.stderr.read() if proc.poll() is not None and proc.stderr else ''}"
    )


def _wait_gone(pids: list[int], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)


needs_xvfb_and_proc = pytest.mark.skipif(
    not Path("/proc/self/stat").exists() or shutil.which("Xvfb") is None,
    reason="needs Xvfb and /proc",
)


@needs_xvfb_and_proc
def test_sigterm_without_a_display_leaves_no_xvfb_and_no_file(tmp_path: Path) -> None:
    """`timeout`, a closed terminal or a cancelled CI job: the private Xvfb and ffmpeg go,
    and so does the temporary file."""
    folder = tmp_path / "out"
    folder.mkdir()
    proc = _start_render(_without_display(), "-o", str(folder / "a.mp4"))
    try:
        helpers = _wait_for_helpers(proc, folder)  # Xvfb and ffmpeg
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert err == "studio: interrupted\n"
    assert list(folder.iterdir()) == []
    _wait_gone(helpers)
    assert not any(_alive(pid) for pid in helpers)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@needs_xvfb_and_proc
def test_kill_9_leaves_no_xvfb_and_the_next_run_cleans_up(tmp_path: Path) -> None:
    """SIGKILL gives the render no chance to clean up: its private Xvfb still dies with it,
    and what it left (the hidden temporary GIF beside the target, the scratch folder) is
    removed by the next export into those folders."""
    folder, scratch = tmp_path / "out", tmp_path / "scratch"
    folder.mkdir()
    scratch.mkdir()
    env = _without_display(TMPDIR=str(scratch))
    proc = _start_render(env, "-o", str(folder / "a.gif"))
    try:
        helpers = _wait_for_helpers(proc, folder)
        xvfb = [pid for pid in helpers if _name(pid) == "Xvfb"]
        proc.kill()
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    _wait_gone(helpers)  # Xvfb by its death signal; ffmpeg at the end of its input
    assert xvfb and not any(_alive(pid) for pid in xvfb), "the private Xvfb outlived studio"
    left = [*folder.iterdir(), *scratch.iterdir()]
    assert left and all(f.name.startswith((".studio-tmp-", "studio-gif-")) for f in left)
    assert all(f"-{proc.pid}-" in f.name for f in left)

    again = render(
        *SCENE_FLAGS, "-o", str(folder / "b.gif"), "--size", "160x96", "--frames", "2", env=env
    )
    assert again.returncode == 0, again.stderr
    assert [f.name for f in folder.iterdir()] == ["b.gif"]
    assert list(scratch.iterdir()) == []


def test_unknown_suffix_is_refused(tmp_path: Path) -> None:
    proc = render(*SCENE_FLAGS, "-o", str(tmp_path / "run.avi"))
    assert_one_line_error(proc, ".gif, .mp4, .png")


def test_no_display_and_no_xvfb_says_what_to_install(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PATH"] = str(tmp_path)  # nothing on it: no Xvfb
    proc = render(*SCENE_FLAGS, "-o", str(tmp_path / "run.gif"), env=env)
    assert_one_line_error(proc, "install xvfb")
    assert not (tmp_path / "run.gif").exists()


def test_a_short_run_glides_and_holds_its_ending(tmp_path: Path) -> None:
    """20 steps render by default to over 2 s in which at least 80 % of consecutive frames
    differ (the balls glide between steps), then the last frame holds."""
    out = tmp_path / "run.mp4"
    proc = render(
        "--surface",
        "0.1*x^2 + 2*y^2",
        "--domain",
        "-7,7,-7,7",
        "--optimizer",
        "adam:lr=0.5",
        "--optimizer",
        "sgd:lr=0.2",
        "--start",
        "-6,3",
        "--steps",
        "20",
        "--size",
        "320x180",
        "--fps",
        "20",
        "--camera",
        "iso",
        "-o",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    frames = [f.astype(int) for f in read_mp4(out)[1]]
    assert len(frames) / 20 >= 2.0
    moved = [(np.abs(a - b).max(-1) > 24).sum() >= 3 for a, b in itertools.pairwise(frames)]
    assert np.mean(moved) >= 0.8
    assert not any(moved[-10:])  # the hold


def test_camera_lower_plot_and_floor_flags(tmp_path: Path) -> None:
    top, iso = tmp_path / "top.png", tmp_path / "iso.png"
    for path, camera in ((top, "top"), (iso, "-60,32")):
        proc = render(
            *SCENE_FLAGS,
            "--view",
            "3d+loss",
            "--camera",
            camera,
            "--lower-plot",
            "lr",
            "--floor-contours",
            "--ghost",
            "--size",
            "480x270",
            "-o",
            str(path),
        )
        assert proc.returncode == 0, proc.stderr
    a, b = (np.asarray(Image.open(p).convert("RGB"), int) for p in (top, iso))
    assert (np.abs(a - b).max(-1) > 40).mean() > 0.05  # the camera moved


def test_transparent_png(tmp_path: Path) -> None:
    out = tmp_path / "run.png"
    proc = render(*SCENE_FLAGS, "--transparent", "--size", "320x180", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    image = np.asarray(Image.open(out))
    assert image.shape == (180, 320, 4) and (image[..., 3] == 0).any()
