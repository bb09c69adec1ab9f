"""Small gradient transformations in the optax style, vectorised over balls.

A transformation is a pair of pure functions: `init(params) -> state` and
`update(grads, state, params) -> (updates, state)`. Arrays are `(n, D)` float64, one row
per ball (D = 2 on a surface); states are immutable NamedTuples (a random generator held in
a state is the one mutable thing, and it is seeded, so a run is reproducible). Optimizers
are `chain(...)`s of these; the last link (`scale_by_learning_rate`) turns a direction into a
step `-η d`.

Per-step scalars (bias corrections, learning rates) are plain Python floats computed with
`math`, so a step over ten balls costs a handful of NumPy calls.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

Array = np.ndarray
Schedule = Callable[[int], float]


class GradientTransformation(NamedTuple):
    """`init(params) -> state`; `update(grads, state, params) -> (updates, state)`."""

    init: Callable[[Array], Any]
    update: Callable[[Array, Any, Array], tuple[Array, Any]]


class EmptyState(NamedTuple):
    """The state of a stateless transformation."""


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply `transforms` in order; the state is the tuple of their states."""

    def init(params: Array) -> tuple[Any, ...]:
        return tuple(t.init(params) for t in transforms)

    def update(grads: Array, state: tuple[Any, ...], params: Array) -> tuple[Array, Any]:
        new_state = []
        for t, s in zip(transforms, state, strict=False):
            grads, s = t.update(grads, s, params)
            new_state.append(s)
        return grads, tuple(new_state)

    return GradientTransformation(init, update)


class Rule(NamedTuple):
    """An optimizer's own links of its chain: what a registry entry builds.

    `optimizers.build_optimizer` puts the links shared by every optimizer (stale gradients,
    noise, L2) before `links` and the learning-rate step `−η_k` after them, unless `scaled`
    says the links already apply it (Nesterov's velocity holds η_k g). `lookahead(state,
    params)`, given the state of the last link, is where the next gradient is evaluated
    (None: at the ball itself).
    """

    links: tuple[GradientTransformation, ...] = ()
    scaled: bool = False
    lookahead: Callable[[Any, Array], Array] | None = None


# ------------------------------------------------------------------------ learning rate


class ScheduleState(NamedTuple):
    updates: int  # how many updates this state has seen (`count` would shadow tuple.count)


def scale_by_learning_rate(schedule: Schedule) -> GradientTransformation:
    """u = −η_k · d, with η_k = schedule(k) and k = 0, 1, … the update index."""

    def init(params: Array) -> ScheduleState:
        return ScheduleState(0)

    def update(grads: Array, state: ScheduleState, params: Array) -> tuple[Array, ScheduleState]:
        return grads * -schedule(state.updates), ScheduleState(state.updates + 1)

    return GradientTransformation(init, update)


# ------------------------------------------------------------------------- weight decay


def add_decayed_weights(weight_decay: float) -> GradientTransformation:
    """d ← d + λθ. Before a scaling rule it is L2 regularisation (g ← g + λθ); after
    `scale_by_adam` and before the learning rate it is AdamW's decoupled decay
    θ ← θ − ηλθ (Loshchilov & Hutter 2017)."""

    def init(params: Array) -> EmptyState:
        return EmptyState()

    def update(grads: Array, state: EmptyState, params: Array) -> tuple[Array, EmptyState]:
        return grads + weight_decay * params, state

    return GradientTransformation(init, update)


# ----------------------------------------------------------------------------- momentum


class TraceState(NamedTuple):
    trace: Array


def trace(momentum: float) -> GradientTransformation:
    """b ← μb + d; output b (heavy-ball momentum, Qian 1999; torch SGD with dampening 0)."""

    def init(params: Array) -> TraceState:
        return TraceState(np.zeros_like(params))

    def update(grads: Array, state: TraceState, params: Array) -> tuple[Array, TraceState]:
        b = momentum * state.trace + grads
        return b, TraceState(b)

    return GradientTransformation(init, update)


# ---------------------------------------------------------------------- adaptive scaling


class AdagradState(NamedTuple):
    sum_of_squares: Array


def scale_by_adagrad(eps: float) -> GradientTransformation:
    """G ← G + g²; d = g / (√G + ε) (Duchi, Hazan & Singer 2011)."""

    def init(params: Array) -> AdagradState:
        return AdagradState(np.zeros_like(params))

    def update(grads: Array, state: AdagradState, params: Array) -> tuple[Array, AdagradState]:
        s = state.sum_of_squares + grads * grads
        return grads / (np.sqrt(s) + eps), AdagradState(s)

    return GradientTransformation(init, update)


class AdadeltaState(NamedTuple):
    e_grad: Array
    e_delta: Array


def scale_by_adadelta(rho: float, eps: float) -> GradientTransformation:
    """E ← ρE + (1−ρ)g²; Δ = √(D+ε)/√(E+ε)·g; D ← ρD + (1−ρ)Δ²; d = Δ (Zeiler 2012)."""

    def init(params: Array) -> AdadeltaState:
        return AdadeltaState(np.zeros_like(params), np.zeros_like(params))

    def update(grads: Array, state: AdadeltaState, params: Array) -> tuple[Array, AdadeltaState]:
        e = rho * state.e_grad + (1.0 - rho) * (grads * grads)
        delta = np.sqrt(state.e_delta + eps) / np.sqrt(e + eps) * grads
        d = rho * state.e_delta + (1.0 - rho) * (delta * delta)
        return delta, AdadeltaState(e, d)

    return GradientTransformation(init, update)


class RmsState(NamedTuple):
    nu: Array


def scale_by_rms(alpha: float, eps: float) -> GradientTransformation:
    """E ← αE + (1−α)g²; d = g / (√E + ε) (RMSprop, Hinton's lecture 6e)."""

    def init(params: Array) -> RmsState:
        return RmsState(np.zeros_like(params))

    def update(grads: Array, state: RmsState, params: Array) -> tuple[Array, RmsState]:
        nu = alpha * state.nu + (1.0 - alpha) * (grads * grads)
        return grads / (np.sqrt(nu) + eps), RmsState(nu)

    return GradientTransformation(init, update)


class AdamState(NamedTuple):
    updates: int  # how many updates this state has seen (`count` would shadow tuple.count)
    mu: Array
    nu: Array
    nu_max: Array | None


def scale_by_adam(
    beta1: float, beta2: float, eps: float, amsgrad: bool = False
) -> GradientTransformation:
    """m ← β1m + (1−β1)g; v ← β2v + (1−β2)g²; d = m/(1−β1ᵗ) / (√v/√(1−β2ᵗ) + ε).

    Adam (Kingma & Ba 2014) in torch's arrangement of the bias corrections. With `amsgrad`,
    v_max ← max(v_max, v) replaces v in the denominator (Reddi, Kale & Kumar 2018).
    """

    def init(params: Array) -> AdamState:
        z = np.zeros_like(params)
        return AdamState(0, z, z, z if amsgrad else None)

    def update(grads: Array, state: AdamState, params: Array) -> tuple[Array, AdamState]:
        t = state.updates + 1
        mu = beta1 * state.mu + (1.0 - beta1) * grads
        nu = beta2 * state.nu + (1.0 - beta2) * (grads * grads)
        nu_max = None
        v = nu
        if state.nu_max is not None:  # AMSGrad
            nu_max = np.maximum(state.nu_max, nu)
            v = nu_max
        bc1 = 1.0 - beta1**t
        bc2_sqrt = math.sqrt(1.0 - beta2**t)
        # (m / bc1) / (√v / √bc2 + ε), with the scalars folded: one NumPy call fewer.
        d = mu / (np.sqrt(v) * (bc1 / bc2_sqrt) + bc1 * eps)
        return d, AdamState(t, mu, nu, nu_max)

    return GradientTransformation(init, update)


class NadamState(NamedTuple):
    updates: int  # how many updates this state has seen (`count` would shadow tuple.count)
    mu: Array
    nu: Array
    mu_product: float


def scale_by_nadam(
    beta1: float, beta2: float, eps: float, momentum_decay: float
) -> GradientTransformation:
    """Nadam (Dozat 2016) as torch.optim.NAdam.

    μ_t = β1(1 − ½·0.96^(tψ)); Π_t = ∏_{i≤t} μ_i; m, v as Adam; d_t = √(v/(1−β2ᵗ)) + ε;
    direction = (1−μ_t)/(1−Π_t)·g/d_t + μ_{t+1}/(1−Π_t μ_{t+1})·m/d_t.
    """

    def init(params: Array) -> NadamState:
        z = np.zeros_like(params)
        return NadamState(0, z, z, 1.0)

    def update(grads: Array, state: NadamState, params: Array) -> tuple[Array, NadamState]:
        t = state.updates + 1
        mu_t = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        prod = state.mu_product * mu_t
        m = beta1 * state.mu + (1.0 - beta1) * grads
        v = beta2 * state.nu + (1.0 - beta2) * (grads * grads)
        denom = np.sqrt(v / (1.0 - beta2**t)) + eps
        c_grad = (1.0 - mu_t) / (1.0 - prod)
        c_mom = mu_next / (1.0 - prod * mu_next)
        d = (c_grad * grads + c_mom * m) / denom
        return d, NadamState(t, m, v, prod)

    return GradientTransformation(init, update)
