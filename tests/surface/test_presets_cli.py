"""`studio presets` lists every preset; the suggested hyperparameters really descend."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from studio.surface import PRESETS, preset_surface


def test_studio_presets_lists_every_preset() -> None:
    # A terminal wide enough for the one-line table (a narrow one: tests/cli/test_presets_width.py).
    out = subprocess.run(
        ["studio", "presets"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "300"},
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:2] == ["NAME", "FORMULA"]
    names = [line.split()[0] for line in lines[1:]]
    assert names == list(PRESETS)
    assert "x^2 + 10y^2" in out.stdout and "(1, 1, 0)" in out.stdout


def test_python_m_studio_presets() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "studio", "presets"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "rosenbrock" in out.stdout and out.stderr == ""


DEFAULTS = {
    "sgd": {"lr": 0.01},
    "momentum": {"lr": 0.01, "momentum": 0.9},
    "nesterov": {"lr": 0.01, "momentum": 0.9},
    "adagrad": {"lr": 0.01, "eps": 1e-10},
    "adadelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-6},
    "rmsprop": {"lr": 0.001, "alpha": 0.9, "eps": 1e-8},
    "adam": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    "adamw": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01},
    "amsgrad": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    "nadam": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
}


def descend(
    grad: object, name: str, hyper: dict[str, float], start: np.ndarray, steps: int = 500
) -> np.ndarray:
    """docs/algorithms.md's update rules, written out plainly (independent of studio.engine)."""
    h = {**DEFAULTS[name], **hyper}
    th = start.astype(float)
    a, b, c = np.zeros_like(th), np.zeros_like(th), np.zeros_like(th)
    lr, prod = h["lr"], 1.0
    for t in range(1, steps + 1):
        if name == "nesterov":
            a = h["momentum"] * a + lr * grad(th - h["momentum"] * a)  # type: ignore[operator]
            th = th - a
            continue
        g = grad(th)  # type: ignore[operator]
        if name == "sgd":
            th = th - lr * g
        elif name == "momentum":
            a = h["momentum"] * a + g
            th = th - lr * a
        elif name == "adagrad":
            a = a + g * g
            th = th - lr * g / (np.sqrt(a) + h["eps"])
        elif name == "adadelta":
            a = h["rho"] * a + (1 - h["rho"]) * g * g
            d = np.sqrt(b + h["eps"]) / np.sqrt(a + h["eps"]) * g
            b = h["rho"] * b + (1 - h["rho"]) * d * d
            th = th - lr * d
        elif name == "rmsprop":
            a = h["alpha"] * a + (1 - h["alpha"]) * g * g
            th = th - lr * g / (np.sqrt(a) + h["eps"])
        else:
            b1, b2, eps = h["beta1"], h["beta2"], h["eps"]
            if name == "adamw":
                th = th * (1 - lr * h["weight_decay"])
            a = b1 * a + (1 - b1) * g
            b = b2 * b + (1 - b2) * g * g
            if name == "amsgrad":
                c = np.maximum(c, b)
                th = th - lr / (1 - b1**t) * a / (np.sqrt(c) / np.sqrt(1 - b2**t) + eps)
            elif name == "nadam":
                mu = b1 * (1 - 0.5 * 0.96 ** (t * 0.004))
                mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * 0.004))
                prod *= mu
                d = np.sqrt(b / (1 - b2**t)) + eps
                th = (
                    th
                    - lr * (1 - mu) / (1 - prod) * g / d
                    - lr * mu_next / (1 - prod * mu_next) * a / d
                )
            else:
                th = th - lr * (a / (1 - b1**t)) / (np.sqrt(b / (1 - b2**t)) + eps)
    return th


@pytest.mark.parametrize("name", list(PRESETS))
def test_suggested_hyperparameters_descend_without_diverging(name: str) -> None:
    preset = PRESETS[name]
    surface = preset_surface(name)
    starts = np.array(preset.starts)
    f0 = surface.value(starts)
    xmin, xmax, ymin, ymax = preset.domain
    centre = np.array([(xmin + xmax) / 2, (ymin + ymax) / 2])
    span = max(xmax - xmin, ymax - ymin)
    for optimizer in DEFAULTS:
        end = descend(
            lambda p: surface.value_and_grad(p)[1],
            optimizer,
            preset.suggested.get(optimizer, {}),
            starts,
        )
        f = surface.value(end)
        assert np.all(np.isfinite(f)), (optimizer, end)
        assert np.abs(end - centre).max() < 5 * span, (optimizer, end)
        assert np.all(f < f0 - 1e-3 * (np.abs(f0) + 1)), (optimizer, f0, f)
