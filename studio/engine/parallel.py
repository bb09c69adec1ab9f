"""Parallel and distributed SGD, simulated on one machine.

The rules: docs/algorithms.md#stale-gradients and #easgd.

* Stale gradients (Downpour SGD, Dean et al. 2012; Hogwild!, Recht et al. 2011): each update
  uses the gradient computed τ updates ago, θ_{t+1} = θ_t − η g(θ_{t−τ}). `delay_gradients`
  keeps the recent gradients in its state; τ is fixed (`delay`) or drawn per ball and per
  update uniformly from 0..τ (`max_delay`). Before τ updates exist, the oldest one is used.
* Elastic averaging SGD (Zhang, Choromanska & LeCun 2015), synchronous form: k worker balls
  θ_i and a centre θ̃ per start; θ_i ← θ_i − η(g_i + ρ(θ_i − θ̃)),
  θ̃ ← θ̃ + ηρ Σ_i(θ_i − θ̃). `elastic_averaging` rewrites the gradients so that the usual
  learning-rate step performs exactly that; the ball layout per start is the centre first,
  then its `workers` workers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from studio.engine.transforms import Array, EmptyState, GradientTransformation


class DelayState(NamedTuple):
    """`history` (τ + 1, n, D) is a ring buffer of the latest gradients. Like the generator,
    it is owned by the state and advanced in place (copying it would cost O(τn) per update);
    an older state must not be updated again."""

    updates: int  # how many updates this state has seen (`count` would shadow tuple.count)
    history: Array
    rng: np.random.Generator | None


def delay_gradients(
    tau: int, random: bool, rng: np.random.Generator | None = None
) -> GradientTransformation:
    """Output the gradient of τ updates ago (or of a uniform random 0..τ ago per ball)."""
    if tau < 0:
        raise ValueError("delay must be >= 0")
    depth = tau + 1

    def init(params: Array) -> DelayState:
        return DelayState(0, np.zeros((depth, *params.shape)), rng)

    def update(grads: Array, state: DelayState, params: Array) -> tuple[Array, DelayState]:
        t = state.updates
        history = state.history
        history[t % depth] = grads
        if random and state.rng is not None:
            lag = state.rng.integers(0, tau + 1, size=grads.shape[0])
            lag = np.minimum(lag, t)
            out = history[(t - lag) % depth, np.arange(grads.shape[0])]
        else:
            out = history[(t - min(tau, t)) % depth].copy()  # the buffer row is reused
        return out, DelayState(t + 1, history, state.rng)

    return GradientTransformation(init, update)


def elastic_averaging(rho: float, workers: int) -> GradientTransformation:
    """Workers: g_i ← g_i + ρ(θ_i − θ̃); centre: g̃ ← −ρ Σ_i(θ_i − θ̃).

    `params` holds groups of 1 + `workers` rows: the centre, then its workers.
    """
    group = workers + 1

    def init(params: Array) -> EmptyState:
        if params.shape[0] % group:
            raise ValueError("EASGD rows must come in groups of 1 + workers")
        return EmptyState()

    def update(grads: Array, state: EmptyState, params: Array) -> tuple[Array, EmptyState]:
        dim = params.shape[1]
        p = params.reshape(-1, group, dim)
        diff = p[:, 1:] - p[:, :1]
        out = np.empty_like(p)
        out[:, 1:] = grads.reshape(-1, group, dim)[:, 1:] + rho * diff
        out[:, 0] = -rho * diff.sum(axis=1)
        return out.reshape(grads.shape), state

    return GradientTransformation(init, update)
