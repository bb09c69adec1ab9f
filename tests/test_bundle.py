"""The standalone bundle: build it from build.spec in a fresh venv, then run it without Python.

Slow (a few minutes: a pip install and a PyInstaller build), and part of the normal suite:
CI runs plain `pytest`. The checkout is copied to a temporary directory first, so the build
leaves nothing in the repository. Every run of the bundle gets an environment with the test
venv hidden (no VIRTUAL_ENV, no PYTHONPATH/PYTHONHOME, no venv on PATH): the bundle must
bring its own interpreter and libraries. Timings go to the terminal.
"""

from __future__ import annotations

import faulthandler
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["pyproject.toml", "README.md", "build.spec", "studio", "assets"]
EXE_NAME = "studio.exe" if sys.platform == "win32" else "studio"


def _say(config: pytest.Config, line: str) -> None:
    """Print to the terminal now, past pytest's output capturing."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(f"[bundle] {line}")


def _run(cmd: list[str], *, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    assert done.returncode == 0, (
        f"{cmd} exited {done.returncode}\n--- stdout\n{done.stdout[-4000:]}"
        f"\n--- stderr\n{done.stderr[-4000:]}"
    )
    return done


def _without_python(tmp: Path) -> dict[str, str]:
    """This environment, minus every trace of a Python installation."""
    venvs = [os.environ.get("VIRTUAL_ENV", ""), sys.prefix if sys.prefix != sys.base_prefix else ""]
    python_dirs = {Path(p).resolve() for p in venvs if p}
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "VIRTUAL_ENV",
            "PYTHONPATH",
            "PYTHONHOME",
            "PYTHONSTARTUP",
            "PYTHONUSERBASE",
            "CONDA_PREFIX",
        )
    }
    path = [
        p
        for p in env.get("PATH", "").split(os.pathsep)
        if p and not any(Path(p).resolve().is_relative_to(d) for d in python_dirs)
    ]
    env["PATH"] = os.pathsep.join(path)
    env["HOME"] = str(tmp)  # no user site-packages, no user Qt settings
    env.setdefault("LANG", "C.UTF-8")  # Qt warns on a C locale
    return env


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Path:
    """Build dist/studio/ once per module: fresh venv, `pip install .[build]`, PyInstaller."""
    faulthandler.cancel_dump_traceback_later()  # the build legitimately outlasts the 120 s dump
    work = tmp_path_factory.mktemp("bundle")
    src = work / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=ignore)
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, src / name)

    t0 = time.perf_counter()
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], timeout=300)
    py = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    _run(
        [str(py), "-m", "pip", "install", "--disable-pip-version-check", "-q", f"{src}[build]"],
        timeout=1500,
    )
    t1 = time.perf_counter()
    _say(pytestconfig, f"fresh venv + pip install .[build]: {t1 - t0:.0f} s")

    _run(
        [
            str(py),
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(work / "dist"),
            "--workpath",
            str(work / "build"),
            str(src / "build.spec"),
        ],
        timeout=1500,
        cwd=work,
    )
    t2 = time.perf_counter()
    app = work / "dist" / "studio"
    size = sum(f.stat().st_size for f in app.rglob("*") if f.is_file() and not f.is_symlink())
    _say(
        pytestconfig,
        f"pyinstaller build.spec: {t2 - t1:.0f} s; dist/studio is {size / 2**20:.0f} MiB",
    )
    return app


@pytest.fixture
def run_bundle(bundle: Path, tmp_path: Path, pytestconfig: pytest.Config):
    env = _without_python(tmp_path)

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        t = time.perf_counter()
        done = _run([str(bundle / EXE_NAME), *args], timeout=timeout, env=env, cwd=tmp_path)
        _say(pytestconfig, f"studio {' '.join(args)}: {time.perf_counter() - t:.2f} s")
        return done

    return run


def test_bundle_layout(bundle: Path) -> None:
    internal = bundle / "_internal"
    assert (bundle / EXE_NAME).is_file()
    assert (internal / "studio" / "assets" / "icon.png").is_file()
    assert list((internal / "imageio_ffmpeg" / "binaries").glob("ffmpeg*")), "no ffmpeg"
    assert (internal / "pyqtgraph").is_dir()
    for unwanted in (
        "PySide6",
        "PySide2",
        "PyQt5",
        "matplotlib",
        "tkinter",
        "IPython",
        "pytest",
        "scipy",
        "torch",
    ):
        assert not list(internal.rglob(unwanted)), f"{unwanted} is in the bundle"
    assert not list(internal.rglob("*Qt6WebEngine*")) and not list(internal.rglob("*Qt6Qml*"))
    assert not list(internal.rglob("translations/*.qm"))


def test_version(run_bundle) -> None:
    from studio import __version__

    assert run_bundle("--version").stdout.strip() == f"studio {__version__}"


def test_presets(run_bundle) -> None:
    assert "rosenbrock" in run_bundle("presets").stdout


def test_trace(run_bundle) -> None:
    out = run_bundle(
        "trace",
        "--surface",
        "rosenbrock",
        "--optimizer",
        "adam",
        "--start",
        "-1,1",
        "--steps",
        "10",
    ).stdout
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) >= 11  # a header and a row per step (sympy + lambdify ran in the bundle)


def test_render_gif(run_bundle, tmp_path: Path) -> None:
    import imageio.v3 as iio

    run_bundle(
        "render",
        "--surface",
        "rosenbrock",
        "--optimizer",
        "adam:lr=0.05",
        "--start",
        "-1.5,2",
        "--steps",
        "60",
        "--frames",
        "20",
        "--size",
        "320x240",
        "-o",
        "x.gif",
    )
    frames = iio.imread(tmp_path / "x.gif", index=None)
    assert frames.shape[:3] == (20, 240, 320)
    assert len(np.unique(frames[-1].reshape(-1, frames.shape[-1]), axis=0)) > 16


def test_render_mp4(run_bundle, tmp_path: Path) -> None:
    from readback import read_mp4

    run_bundle(
        "render",
        "--surface",
        "beale",
        "--optimizer",
        "adam:lr=0.05",
        "--start",
        "1,1.5",
        "--steps",
        "60",
        "--frames",
        "12",
        "--size",
        "320x240",
        "-o",
        "x.mp4",
    )
    meta, frames = read_mp4(tmp_path / "x.mp4")
    assert meta["codec"] == "h264" and meta["size"] == (320, 240) and len(frames) == 12


def test_gui_screenshot(run_bundle, tmp_path: Path) -> None:
    import imageio.v3 as iio

    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        pytest.fail("no DISPLAY: run under pytest-xvfb (pip install -e '.[test]')")
    run_bundle("gui", "--screenshot", "shot.png", "--size", "1280x800", timeout=120)
    image = iio.imread(tmp_path / "shot.png")
    colours = np.unique(image[..., :3].reshape(-1, 3), axis=0)
    assert len(colours) > 500, f"only {len(colours)} colours: the GL view did not paint"
