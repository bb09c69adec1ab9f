"""The shipped network scenes show what their articles report."""

from __future__ import annotations

import numpy as np

from studio.engine import simulate_scene
from studio.resources import asset_path
from studio.scene import load_scene


def final_losses(name: str) -> tuple[dict[str, float], dict[str, float], object]:
    scene = load_scene(asset_path(f"scenes/{name}"))
    _surface, traj = simulate_scene(scene)
    labels = [r.label for r in scene.runs]
    loss = {label: float(traj.loss[-1, i]) for i, label in enumerate(labels)}
    start = {label: float(traj.loss[0, i]) for i, label in enumerate(labels)}
    return loss, start, traj


def test_optimizers_and_noise_on_digits01() -> None:
    loss, start, traj = final_losses("digits01_optimizers_noise.json")
    assert len(set(start.values())) == 1  # one shared initial network: a fair race
    # Seo (2018): the adaptive methods' cost falls fastest...
    for adaptive in ("Adagrad", "RMSprop", "Adam", "Nadam"):
        for plain in ("SGD", "Momentum", "NAG", "Gradient noise"):
            assert loss[adaptive] < loss[plain], (adaptive, plain)
    # ...every gradient method learns, and noise training does not.
    for label in ("SGD", "Momentum", "NAG", "Gradient noise"):
        assert loss[label] < 0.25 * start[label]
    for label in ("Gumbel noise training", "Noisy Adam"):
        assert abs(loss[label] - start[label]) < 0.02 * start[label]
    assert traj.surface.axis_titles[0].startswith("PC1")  # type: ignore[attr-defined]


def test_decoupled_weight_decay_on_digits() -> None:
    loss, _start, traj = final_losses("digits_weight_decay.json")
    acc = traj.accuracy[-1]  # type: ignore[attr-defined]
    labels = list(loss)
    # Loshchilov & Hutter: Adam divides an L2 term by the gradients' running RMS, so weights
    # with small gradients are pulled to zero at nearly the full rate η and the network
    # underfits; AdamW shrinks every weight by ηλ alone and keeps learning at the same λ.
    assert acc[labels.index("AdamW (λ 0.1)")] > acc[labels.index("Adam + L2 (λ 0.1)")] + 0.1
    assert loss["AdamW (λ 0.1)"] < loss["Adam + L2 (λ 0.1)"]
    assert np.all(acc > 0.5)
