"""A plain reference: one network, one optimizer, one step at a time, the way the article's
code trains (Seo, "Optimizers and noise" on MNIST 0/1), written independently of the
vectorised `NetworkObjective`.

It is the baseline the bench compares against and the reference the tests check the
vectorised code with: the same data split, loss and parameter layout (`studio.network.model`),
the gradient written out layer by layer for one network (`loss_and_grad`), and the update rules
of the engine's plain per-ball reference (`studio.engine.reference`, docs/algorithms.md).
No noise or mini-batches: full-batch training.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from studio.engine.reference import GRADIENT_RULES, reference_path
from studio.network.data import TaskData, load_task
from studio.network.model import NetworkSpec, init_params, unflatten

OPTIMIZERS = GRADIENT_RULES  # the ten rules of the engine's plain reference
DEFAULTS: dict[str, dict[str, float]] = {
    "sgd": {"lr": 0.01},
    "momentum": {"lr": 0.01, "momentum": 0.9},
    "nesterov": {"lr": 0.01, "momentum": 0.9},
    "adagrad": {"lr": 0.01, "eps": 1e-10},
    "adadelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-6},
    "rmsprop": {"lr": 0.001, "alpha": 0.9, "eps": 1e-8},
    "adam": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    "adamw": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01},
    "amsgrad": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    "nadam": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "momentum_decay": 0.004},
}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * z) + 1.0)


def loss_and_grad(
    spec: NetworkSpec, params: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray]:
    """Mean loss of one network (params (D,)) on rows x (B, 64), labels y (B,), and its gradient."""
    layers = unflatten(params, spec)
    acts = [x]
    for w, b in layers[:-1]:
        z = acts[-1] @ w + b
        if spec.activation == "sigmoid":
            acts.append(_sigmoid(z))
        elif spec.activation == "tanh":
            acts.append(np.tanh(z))
        else:
            acts.append(np.maximum(z, 0.0))
    w_out, b_out = layers[-1]
    z = acts[-1] @ w_out + b_out
    n = len(x)
    if z.shape[1] == 1:
        logit = z[:, 0]
        loss = float(np.mean(np.logaddexp(0.0, logit) - y * logit))
        dz = (_sigmoid(logit) - y)[:, None] / n
    else:
        shifted = z - z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = float(-np.mean(log_p[np.arange(n), y]))
        dz = np.exp(log_p)
        dz[np.arange(n), y] -= 1.0
        dz /= n
    grads: list[np.ndarray] = []
    for k in range(len(layers) - 1, -1, -1):
        w, _ = layers[k]
        grads[:0] = [(acts[k].T @ dz).ravel(), dz.sum(axis=0)]
        if k:
            a = acts[k]
            if spec.activation == "sigmoid":
                deriv = a * (1.0 - a)
            elif spec.activation == "tanh":
                deriv = 1.0 - a * a
            else:
                deriv = (a > 0.0).astype(float)
            dz = (dz @ w.T) * deriv
    return loss, np.concatenate(grads)


def train(
    spec: NetworkSpec,
    optimizer: str,
    hyper: Mapping[str, float] | None = None,
    params0: np.ndarray | None = None,
    steps: int = 100,
    data: TaskData | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch training of one network: parameters (steps + 1, D) and the training loss
    at each of them (steps + 1,). `hyper` overrides `DEFAULTS[optimizer]`; `params0`
    defaults to the spec's initial weights."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"the reference has no optimizer '{optimizer}'")
    h = {**DEFAULTS[optimizer], **(hyper or {})}
    data = data if data is not None else load_task(spec.task)
    x, y = data.x_train, data.y_train

    theta0 = init_params(spec) if params0 is None else np.array(params0, dtype=float)
    losses: list[float] = []

    def grad(p: np.ndarray) -> np.ndarray:
        loss, g = loss_and_grad(spec, p, x, y)
        losses.append(loss)
        return g

    path = reference_path(optimizer, h, theta0, grad, steps)
    if optimizer == "nesterov":
        # Its gradients are taken at the look-ahead point; the loss recorded is at θ, where
        # the ball is drawn.
        losses = [loss_and_grad(spec, p, x, y)[0] for p in path[:-1]]
    losses.append(loss_and_grad(spec, path[-1], x, y)[0])
    return path, np.array(losses)
