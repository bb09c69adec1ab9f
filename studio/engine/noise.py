"""Random gradient transformations: annealed gradient noise and noise training.

Each holds a seeded `np.random.Generator` in its state; `simulate` gives every run its own
generator (from the scene seed and the run's index), so a run's noise never depends on the
other runs.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from studio.engine.transforms import Array, GradientTransformation

NOISE_KINDS = ("gumbel", "gaussian")


class NoiseState(NamedTuple):
    updates: int  # how many updates this state has seen (`count` would shadow tuple.count)
    rng: np.random.Generator


def add_gradient_noise(
    eta: float, gamma: float, rng: np.random.Generator
) -> GradientTransformation:
    """g ← g + N(0, σ_k²) with σ_k² = η_noise / (1 + k)^γ, k = 0, 1, …

    Neelakantan et al. 2015, "Adding Gradient Noise Improves Learning for Very Deep
    Networks". Keys: `grad_noise` (η_noise: 0.01, 0.3 or 1.0 in the paper), `noise_gamma`
    (γ = 0.55).
    """

    def init(params: Array) -> NoiseState:
        return NoiseState(0, rng)

    def update(grads: Array, state: NoiseState, params: Array) -> tuple[Array, NoiseState]:
        sigma = math.sqrt(eta / (1.0 + state.updates) ** gamma)
        noisy = grads + sigma * state.rng.standard_normal(grads.shape)
        return noisy, NoiseState(state.updates + 1, state.rng)

    return GradientTransformation(init, update)


def noise_source(kind: str, rng: np.random.Generator) -> GradientTransformation:
    """Noise training (Seo 2018; docs/algorithms.md#noise-training): ignore the gradient,
    emit ξ per coordinate.

    ξ ~ Gumbel(0, 1) (`noise=gumbel`) or N(0, 1) (`noise=gaussian`). Followed by the learning
    rate it moves the ball by θ ← θ − ηξ; followed by Adam it is "Adam noise training".
    The seed's finding is that this barely descends, and the studio shows it as it is.
    """
    if kind not in NOISE_KINDS:
        raise ValueError(f"noise kind {kind!r}")

    def init(params: Array) -> NoiseState:
        return NoiseState(0, rng)

    def update(grads: Array, state: NoiseState, params: Array) -> tuple[Array, NoiseState]:
        if kind == "gumbel":
            xi = state.rng.gumbel(0.0, 1.0, grads.shape)
        else:
            xi = state.rng.standard_normal(grads.shape)
        return xi, NoiseState(state.updates + 1, state.rng)

    return GradientTransformation(init, update)
