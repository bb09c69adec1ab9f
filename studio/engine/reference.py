"""The update rules written plainly: one ball, one step at a time, in Python and NumPy.

This is the studio's independent reference for docs/algorithms.md. It shares no code with
the engine's transforms and is not vectorised over balls: each rule is the textbook
formula on a (D,) vector, in a loop, the way the source articles write it. The tests
compare `simulate` with it, and `studio bench` times it as the baseline the engine is
measured against.

Only the deterministic parts are here. Gradient noise, noise training, random delays and
mini-batches draw from the engine's seeded generators, so they are checked statistically
instead; stopping rules are the engine's business (give it `tol=0` to compare whole paths).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping

import numpy as np

from studio.engine.registry import HyperValue, validate_hyper

Grad = Callable[[np.ndarray], np.ndarray]  # ∇f at one point: (D,) -> (D,)

GRADIENT_RULES = (
    "sgd",
    "momentum",
    "nesterov",
    "adagrad",
    "adadelta",
    "rmsprop",
    "adam",
    "adamw",
    "amsgrad",
    "nadam",
)


def reference_lr(hyper: Mapping[str, HyperValue], k: int) -> float:
    """η_k, the rate of update k (the first update is k = 0), for validated `hyper`."""
    lr = float(hyper["lr"])
    name = hyper["schedule"]
    if name == "constant":
        return lr
    if name == "step":
        return lr * float(hyper["gamma"]) ** (k // int(hyper["step_size"]))
    if name == "exponential":
        return lr * float(hyper["gamma"]) ** k
    if name == "cosine_restarts":
        # torch's CosineAnnealingWarmRestarts stepped k times: T_cur counts the updates of
        # the current cycle; a cycle that ends starts the next one, T_mult times longer.
        t_cur, t_i = k, int(hyper["T0"])
        while t_cur >= t_i:
            t_cur -= t_i
            t_i *= int(hyper["T_mult"])
        eta_min = float(hyper["eta_min"])
        return eta_min + (lr - eta_min) * (1.0 + math.cos(math.pi * t_cur / t_i)) / 2.0
    if name == "warmup":
        w, s = float(hyper["warmup"]), k + 1
        return lr * math.sqrt(w) * min(s**-0.5, s * w**-1.5)
    raise ValueError(f"no reference for schedule {name!r}")


def _check_deterministic(optimizer: str, h: Mapping[str, HyperValue]) -> None:
    for key in ("grad_noise", "max_delay", "batch_size"):
        if float(h[key]) > 0:
            raise ValueError(f"the reference has no {key} (it draws random numbers)")


def reference_path(
    optimizer: str, hyper: Mapping[str, object], start: np.ndarray, grad: Grad, steps: int
) -> np.ndarray:
    """Positions (steps + 1, D) of one ball of `optimizer` from `start` after each update.

    `hyper` as a run gives it (defaults filled in by `validate_hyper`): every gradient rule
    of `GRADIENT_RULES`, `weight_decay` (L2, decoupled for AdamW), every schedule and a
    fixed `delay`. `grad(θ)` is the exact gradient at one point.
    """
    if optimizer not in GRADIENT_RULES:
        raise ValueError(f"no reference for {optimizer!r} (reference_easgd has EASGD)")
    h = validate_hyper(optimizer, hyper)
    _check_deterministic(optimizer, h)
    theta = np.array(start, dtype=float)
    zeros = np.zeros_like(theta)
    wd = float(h["weight_decay"])
    # Stale gradients: the gradient of τ updates ago; before τ exist, the oldest there is.
    recent: deque[np.ndarray] = deque(maxlen=int(h["delay"]) + 1)
    path = [theta]

    if optimizer in ("momentum", "nesterov"):
        mu = float(h["momentum"])
        buf = zeros
    elif optimizer == "adagrad":
        eps = float(h["eps"])
        sum_sq = zeros
    elif optimizer == "adadelta":
        rho, eps = float(h["rho"]), float(h["eps"])
        e_grad, e_delta = zeros, zeros
    elif optimizer == "rmsprop":
        alpha, eps = float(h["alpha"]), float(h["eps"])
        mean_sq = zeros
    elif optimizer in ("adam", "adamw", "amsgrad", "nadam"):
        b1, b2, eps = float(h["beta1"]), float(h["beta2"]), float(h["eps"])
        psi = float(h.get("momentum_decay", 0.0))
        m, v, v_max, mu_product = zeros, zeros, zeros, 1.0

    for k, lr in enumerate([reference_lr(h, k) for k in range(steps)]):
        t = k + 1
        # Nesterov takes the gradient at the look-ahead point θ − μv, the others at θ.
        recent.append(grad(theta - mu * buf if optimizer == "nesterov" else theta))
        g = recent[0]
        if wd > 0 and optimizer != "adamw":
            g = g + wd * theta

        if optimizer == "sgd":
            theta = theta - lr * g
        elif optimizer == "momentum":
            buf = mu * buf + g
            theta = theta - lr * buf
        elif optimizer == "nesterov":
            buf = mu * buf + lr * g
            theta = theta - buf
        elif optimizer == "adagrad":
            sum_sq = sum_sq + g * g
            theta = theta - lr * g / (np.sqrt(sum_sq) + eps)
        elif optimizer == "adadelta":
            e_grad = rho * e_grad + (1 - rho) * g * g
            delta = np.sqrt(e_delta + eps) / np.sqrt(e_grad + eps) * g
            e_delta = rho * e_delta + (1 - rho) * delta * delta
            theta = theta - lr * delta
        elif optimizer == "rmsprop":
            mean_sq = alpha * mean_sq + (1 - alpha) * g * g
            theta = theta - lr * g / (np.sqrt(mean_sq) + eps)
        elif optimizer == "nadam":
            mu_t = b1 * (1 - 0.5 * 0.96 ** (t * psi))
            mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
            mu_product *= mu_t
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            d = np.sqrt(v / (1 - b2**t)) + eps
            theta = (
                theta
                - lr * (1 - mu_t) / (1 - mu_product) * g / d
                - lr * mu_next / (1 - mu_product * mu_next) * m / d
            )
        else:  # adam, adamw, amsgrad
            if optimizer == "adamw":
                theta = theta * (1 - lr * wd)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            if optimizer == "amsgrad":
                v_max = np.maximum(v_max, v)
                theta = theta - lr / (1 - b1**t) * m / (np.sqrt(v_max) / math.sqrt(1 - b2**t) + eps)
            else:
                m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
                theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        path.append(theta)
    return np.array(path)


def reference_easgd(
    hyper: Mapping[str, object], start: np.ndarray, grad: Grad, steps: int
) -> np.ndarray:
    """EASGD from one start: positions (steps + 1, 1 + workers, D), the centre first.

    θ_i ← θ_i − η(g_i + ρ(θ_i − θ̃)); θ̃ ← θ̃ + ηρ Σ_i(θ_i − θ̃), both from the values before
    the update (Zhang, Choromanska & LeCun 2015, synchronous form). `hyper` must set
    `grad_noise` to 0 (EASGD's default is noisy); `weight_decay` and a fixed `delay` apply to
    each worker's gradient.
    """
    h = validate_hyper("easgd", hyper)
    _check_deterministic("easgd", h)
    rho, wd, n = float(h["rho"]), float(h["weight_decay"]), int(h["workers"])
    centre = np.array(start, dtype=float)
    workers = [centre.copy() for _ in range(n)]
    recent = [deque[np.ndarray](maxlen=int(h["delay"]) + 1) for _ in range(n)]
    path = [np.array([centre, *workers])]
    for _k, lr in enumerate([reference_lr(h, k) for k in range(steps)]):
        new = []
        for i, w in enumerate(workers):
            recent[i].append(grad(w))
            g = recent[i][0] + wd * w if wd > 0 else recent[i][0]
            new.append(w - lr * (g + rho * (w - centre)))
        centre = centre + lr * rho * sum(w - centre for w in workers)
        workers = new
        path.append(np.array([centre, *workers]))
    return np.array(path)
