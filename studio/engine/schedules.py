"""Learning-rate schedules: plain `k -> η_k` functions, k = 0, 1, … the update index.

They match torch's schedulers stepped once per update (the first update uses k = 0):
StepLR, ExponentialLR, CosineAnnealingWarmRestarts, and the Transformer's "Noam" warm-up.
`registry.SCHEDULES` is the table of them (name, keys, and how to build each from a run's
hyperparameters).
"""

from __future__ import annotations

import math
from collections.abc import Callable

Schedule = Callable[[int], float]


def constant(lr: float) -> Schedule:
    """η_k = η."""
    return lambda k: lr


def step_decay(lr: float, step_size: int, gamma: float) -> Schedule:
    """η_k = η·γ^⌊k/s⌋: multiply by γ every `step_size` updates (torch StepLR)."""
    return lambda k: lr * gamma ** (k // step_size)


def exponential_decay(lr: float, gamma: float) -> Schedule:
    """η_k = η·γᵏ (torch ExponentialLR)."""
    return lambda k: lr * gamma**k


def cosine_restarts(lr: float, t0: int, t_mult: int = 1, eta_min: float = 0.0) -> Schedule:
    """SGDR (Loshchilov & Hutter 2016), as torch CosineAnnealingWarmRestarts.

    η_k = η_min + (η − η_min)(1 + cos(π T_cur/T_i))/2; when T_cur reaches T_i the rate
    restarts at η and T_i ← T_i·T_mult (T_0 = `T0`).
    """

    def schedule(k: int) -> float:
        if t_mult == 1:
            t_cur, t_i = k % t0, t0
        else:
            # Cycle n starts at T0·(m^n − 1)/(m − 1); find n with integers, no float log.
            start, t_i = 0, t0
            while k >= start + t_i:
                start += t_i
                t_i *= t_mult
            t_cur = k - start
        return eta_min + (lr - eta_min) * (1.0 + math.cos(math.pi * t_cur / t_i)) / 2.0

    return schedule


def warmup(lr: float, warmup_steps: int) -> Schedule:
    """η_k = η·√w·min(s^−½, s·w^−3/2), s = k + 1: linear rise to η at s = w, then η√(w/s)
    (Vaswani et al. 2017, the "Noam" schedule normalised to peak at η)."""
    w = float(warmup_steps)
    return lambda k: lr * math.sqrt(w) * min((k + 1) ** -0.5, (k + 1) * w**-1.5)
