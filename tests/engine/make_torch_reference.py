"""Regenerate torch_reference.json: torch.optim trajectories in float64 (not a dependency).

    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch==2.13.0 numpy
    /tmp/torchenv/bin/python tests/engine/make_torch_reference.py

For each optimizer of docs/algorithms.md that torch has, with each of the schedules constant,
step, exponential and cosine_restarts, it runs `STEPS` updates on Rosenbrock and Beale from
fixed starts and stores the positions. The hyperparameters are written in the studio's own
keys (explicit everywhere: torch's RMSprop alpha default differs from
docs/algorithms.md#rmsprop); the scheduler is stepped once after every update, as the spec's
k = update index.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

STEPS = 40
OUT = Path(__file__).with_name("torch_reference.json")

SURFACES: dict[str, tuple[float, float]] = {"rosenbrock": (-1.2, 1.0), "beale": (2.0, 1.7)}

# Per surface: optimizer -> studio hyperparameters (the rates keep every run finite).
HYPER: dict[str, dict[str, dict[str, Any]]] = {
    "rosenbrock": {
        "sgd": {"lr": 1e-4},
        "momentum": {"lr": 1e-4, "momentum": 0.9},
        "adagrad": {"lr": 0.1, "eps": 1e-10},
        "adadelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-6},
        "rmsprop": {"lr": 0.01, "alpha": 0.9, "eps": 1e-8},
        "adam": {"lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
        "adamw": {"lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1},
        "amsgrad": {"lr": 0.05, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8},
        "nadam": {"lr": 0.05, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "momentum_decay": 0.004},
    },
    "beale": {
        "sgd": {"lr": 1e-3},
        "momentum": {"lr": 1e-3, "momentum": 0.8},
        "adagrad": {"lr": 0.2, "eps": 1e-10},
        "adadelta": {"lr": 2.0, "rho": 0.95, "eps": 1e-6},
        "rmsprop": {"lr": 0.01, "alpha": 0.99, "eps": 1e-8},
        "adam": {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "eps": 1e-8},
        "adamw": {"lr": 0.02, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.5},
        "amsgrad": {"lr": 0.02, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
        "nadam": {"lr": 0.02, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "momentum_decay": 0.004},
    },
}

SCHEDULES: dict[str, dict[str, Any]] = {
    "constant": {},
    "step": {"schedule": "step", "step_size": 10, "gamma": 0.5},
    "exponential": {"schedule": "exponential", "gamma": 0.95},
    "cosine_restarts": {"schedule": "cosine_restarts", "T0": 5, "T_mult": 2, "eta_min": 1e-5},
}


def f(surface: str, p: torch.Tensor) -> torch.Tensor:
    x, y = p[0], p[1]
    if surface == "rosenbrock":
        return (1 - x) ** 2 + 100 * (y - x**2) ** 2
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def make(name: str, params: list[torch.Tensor], h: dict[str, Any]) -> torch.optim.Optimizer:
    lr = h["lr"]
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=h["momentum"])
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, eps=h["eps"])
    if name == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, rho=h["rho"], eps=h["eps"])
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=h["alpha"], eps=h["eps"])
    betas = (h["beta1"], h["beta2"])
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, eps=h["eps"])
    if name == "amsgrad":
        return torch.optim.Adam(params, lr=lr, betas=betas, eps=h["eps"], amsgrad=True)
    if name == "adamw":
        return torch.optim.AdamW(
            params, lr=lr, betas=betas, eps=h["eps"], weight_decay=h["weight_decay"]
        )
    if name == "nadam":
        return torch.optim.NAdam(
            params, lr=lr, betas=betas, eps=h["eps"], momentum_decay=h["momentum_decay"]
        )
    raise ValueError(name)


def scheduler(opt: torch.optim.Optimizer, s: dict[str, Any]) -> Any:
    kind = s.get("schedule", "constant")
    if kind == "constant":
        return None
    if kind == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=s["step_size"], gamma=s["gamma"])
    if kind == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(opt, gamma=s["gamma"])
    return torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        opt, T_0=s["T0"], T_mult=s["T_mult"], eta_min=s["eta_min"]
    )


def trajectory(
    surface: str, name: str, hyper: dict[str, Any], sched: dict[str, Any]
) -> list[list[float]]:
    p = torch.tensor(SURFACES[surface], dtype=torch.float64, requires_grad=True)
    opt = make(name, [p], hyper)
    sch = scheduler(opt, sched)
    out = [p.detach().tolist()]
    for _ in range(STEPS):
        opt.zero_grad()
        f(surface, p).backward()
        opt.step()
        if sch is not None:
            sch.step()
        out.append(p.detach().tolist())
    return out


def main() -> None:
    torch.set_default_dtype(torch.float64)
    cases = []
    for surface, table in HYPER.items():
        for name, hyper in table.items():
            for sched_name, sched in SCHEDULES.items():
                pos = trajectory(surface, name, hyper, sched)
                cases.append(
                    {
                        "surface": surface,
                        "optimizer": name,
                        "schedule": sched_name,
                        "hyper": {**hyper, **sched},
                        "start": list(SURFACES[surface]),
                        "positions": [[float(f"{v:.12g}") for v in xy] for xy in pos],
                    }
                )
    OUT.write_text(
        json.dumps(
            {"torch": torch.__version__, "steps": STEPS, "cases": cases}, separators=(",", ":")
        )
        + "\n"
    )
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
