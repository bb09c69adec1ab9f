"""Build a run's optimizer: its registry entry's rule inside the links every optimizer shares.

`build_optimizer(name, hyper, rng_for)` takes hyperparameters already checked by
`registry.validate_hyper` and returns an `Optimizer`: `init(params) -> state`,
`update(grads, state, params) -> (updates, state)`, and for look-ahead rules (Nesterov) a
`lookahead(state, params)` giving the points where the next gradient must be evaluated.
The chain (optax style, docs/algorithms.md) is

    [delay] → [noise source] → [gradient noise] → [L2] → rule → −η_k

where `rule` is what the optimizer's `OPTIMIZERS` entry builds, so stale gradients, noise
and regularisation combine with every rule the same way. Nothing here names an optimizer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

from studio.engine.noise import add_gradient_noise, noise_source
from studio.engine.parallel import delay_gradients
from studio.engine.registry import OPTIMIZERS, HyperValue, make_schedule
from studio.engine.schedules import Schedule
from studio.engine.transforms import (
    Array,
    GradientTransformation,
    add_decayed_weights,
    chain,
    scale_by_learning_rate,
)


class Optimizer(NamedTuple):
    """A gradient transformation plus, for look-ahead rules, where to take the gradient.

    `stochastic`: its direction carries noise (gradient noise or a noise source), so a small
    gradient is no sign of convergence.
    """

    init: Callable[[Array], Any]
    update: Callable[[Array, Any, Array], tuple[Array, Any]]
    lookahead: Callable[[Any, Array], Array] | None
    schedule: Schedule
    stochastic: bool = False


def build_optimizer(
    name: str, hyper: Mapping[str, HyperValue], rng_for: Callable[[str], np.random.Generator]
) -> Optimizer:
    """The optimizer `name` with validated `hyper`; `rng_for(purpose)` gives its generators."""
    info = OPTIMIZERS[name]
    schedule = make_schedule(float(hyper["lr"]), hyper)
    links: list[GradientTransformation] = []
    if int(hyper["delay"]) > 0:
        links.append(delay_gradients(int(hyper["delay"]), random=False))
    elif int(hyper["max_delay"]) > 0:
        links.append(delay_gradients(int(hyper["max_delay"]), random=True, rng=rng_for("delay")))
    if info.gradient_free:
        links.append(noise_source(str(hyper["noise"]), rng_for("xi")))
    grad_noise = float(hyper["grad_noise"])
    if grad_noise > 0:
        links.append(
            add_gradient_noise(grad_noise, float(hyper["noise_gamma"]), rng_for("grad_noise"))
        )
    wd = float(hyper["weight_decay"])
    if wd > 0 and info.l2:
        links.append(add_decayed_weights(wd))
    rule = info.rule(hyper, schedule)
    links += rule.links
    last = len(links) - 1  # the rule's last link, whose state a look-ahead reads
    if not rule.scaled:
        links.append(scale_by_learning_rate(schedule))
    tx = chain(*links)
    stochastic = info.gradient_free or grad_noise > 0
    if rule.lookahead is None:
        return Optimizer(tx.init, tx.update, None, schedule, stochastic)
    ahead = rule.lookahead

    def lookahead(state: tuple[Any, ...], params: Array) -> Array:
        return ahead(state[last], params)

    return Optimizer(tx.init, tx.update, lookahead, schedule, stochastic)
