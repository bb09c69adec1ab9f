"""Every optimizer of ALGORITHMS.md as a `chain` of small transforms (optax style).

`build_optimizer(name, hyper, rng_for)` takes hyperparameters already checked by
`registry.validate_hyper` and returns an `Optimizer`: `init(params) -> state`,
`update(grads, state, params) -> (updates, state)`, and for Nesterov a `lookahead(state,
params)` giving the points where the next gradient must be evaluated. The chain order is

    [delay] → [noise source] → [gradient noise] → [L2] → [elastic] → rule → [AdamW decay] → −η_k

so stale gradients, noise and regularisation combine with every rule the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

from studio.engine.noise import add_gradient_noise, noise_source
from studio.engine.parallel import delay_gradients, elastic_averaging
from studio.engine.schedules import Schedule, make_schedule
from studio.engine.transforms import (
    Array,
    GradientTransformation,
    TraceState,
    add_decayed_weights,
    chain,
    scale_by_adadelta,
    scale_by_adagrad,
    scale_by_adam,
    scale_by_learning_rate,
    scale_by_nadam,
    scale_by_rms,
    trace,
)

NOISE_TRAINING = ("noise_training", "noise_training_gaussian", "adam_noise_training")


class Optimizer(NamedTuple):
    """A gradient transformation plus, for look-ahead rules, where to take the gradient."""

    init: Callable[[Array], Any]
    update: Callable[[Array, Any, Array], tuple[Array, Any]]
    lookahead: Callable[[Any, Array], Array] | None
    schedule: Schedule


def _rule(name: str, h: Mapping[str, Any]) -> list[GradientTransformation]:
    """The optimizer's own scaling, before the learning rate."""
    if name in ("sgd", "noise_training", "noise_training_gaussian", "easgd"):
        return []
    if name == "momentum":
        return [trace(float(h["momentum"]))]
    if name == "adagrad":
        return [scale_by_adagrad(float(h["eps"]))]
    if name == "adadelta":
        return [scale_by_adadelta(float(h["rho"]), float(h["eps"]))]
    if name == "rmsprop":
        return [scale_by_rms(float(h["alpha"]), float(h["eps"]))]
    if name in ("adam", "adamw", "amsgrad", "adam_noise_training"):
        return [scale_by_adam(float(h["beta1"]), float(h["beta2"]), float(h["eps"]),
                              amsgrad=name == "amsgrad")]
    if name == "nadam":
        return [scale_by_nadam(float(h["beta1"]), float(h["beta2"]), float(h["eps"]),
                               float(h["momentum_decay"]))]
    raise ValueError(f"no rule for optimizer {name!r}")


def build_optimizer(name: str, hyper: Mapping[str, Any],
                    rng_for: Callable[[str], np.random.Generator]) -> Optimizer:
    """The optimizer `name` with validated `hyper`; `rng_for(purpose)` gives its generators."""
    schedule = make_schedule(float(hyper["lr"]), hyper)
    links: list[GradientTransformation] = []
    if int(hyper["delay"]) > 0:
        links.append(delay_gradients(int(hyper["delay"]), random=False))
    elif int(hyper["max_delay"]) > 0:
        links.append(delay_gradients(int(hyper["max_delay"]), random=True,
                                     rng=rng_for("delay")))
    if name in NOISE_TRAINING:
        links.append(noise_source(str(hyper["noise"]), rng_for("xi")))
    if float(hyper["grad_noise"]) > 0:
        links.append(add_gradient_noise(float(hyper["grad_noise"]), float(hyper["noise_gamma"]),
                                        rng_for("grad_noise")))
    wd = float(hyper["weight_decay"])
    if wd > 0 and name != "adamw":
        links.append(add_decayed_weights(wd))
    if name == "easgd":
        links.append(elastic_averaging(float(hyper["rho"]), int(hyper["workers"])))
    if name == "nesterov":
        # v' = −v accumulates −η_k g: v' ← μv' − η_k ∇f(θ + μv'); θ ← θ + v'.
        mu = float(hyper["momentum"])
        links += [scale_by_learning_rate(schedule), trace(mu)]
        index = len(links) - 1
        tx = chain(*links)

        def lookahead(state: tuple[Any, ...], params: Array) -> Array:
            t: TraceState = state[index]
            return params + mu * t.trace

        return Optimizer(tx.init, tx.update, lookahead, schedule)
    links += _rule(name, hyper)
    if name == "adamw" and wd > 0:
        links.append(add_decayed_weights(wd))
    links.append(scale_by_learning_rate(schedule))
    tx = chain(*links)
    return Optimizer(tx.init, tx.update, None, schedule)
