"""The standard test surfaces (docs/algorithms.md#presets), as data: formula text, domain, minima.

Formulas are strings in the studio's own language, parsed by the same parser as anything
the user types (so a preset is also an example of the syntax). `suggested` holds, per
optimizer, the hyperparameters that make balls descend visibly within ~500 steps from the
classic starts without diverging, where the optimizer's defaults would barely move or would
blow up (checked by tests/surface/test_presets_cli.py with hand-written optimizers). The saddles
are unbounded below: there "without diverging" means the ball is still within a few domain
widths after 500 steps (the monkey saddle's cubic valleys blow fixed-step methods up in
finite time, so its one start sits on the ridge and its rates are small).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.surface.datafit import Rows, read_rows

Hyper = dict[str, float]

SIGMOID_LOSS = "(sigmoid(x*u + y) - v)^2/2"
SQUARED_LOSS = "(x*u + y - v)^2/2"
LOGISTIC_LOSS = "softplus(-v(x*u + y))"


@dataclass(frozen=True)
class Preset:
    """One named surface. For a data-fit preset `expression` is the per-row loss in x, y
    and the data columns u, v, and `data` its (u, v) rows."""

    name: str
    title: str
    expression: str
    params: dict[str, float] = field(default_factory=dict)
    domain: tuple[float, float, float, float] = (-5.0, 5.0, -5.0, 5.0)
    minima: tuple[tuple[float, float, float], ...] = ()
    starts: tuple[tuple[float, float], ...] = ()
    height: str = "linear"
    suggested: dict[str, Hyper] = field(default_factory=dict)
    data_fit: bool = False
    data: Rows = ()


def _adaptive(lr: float) -> dict[str, Hyper]:
    """The same learning rate for the Adam family (their step size is ~lr per coordinate)."""
    return {name: {"lr": lr} for name in ("adam", "adamw", "amsgrad", "nadam")}


def _table() -> tuple[Preset, ...]:
    return (
        Preset(
            "bowl",
            "Bowl (anisotropic quadratic)",
            "x^2 + 10y^2",
            domain=(-5.0, 5.0, -5.0, 5.0),
            minima=((0.0, 0.0, 0.0),),
            starts=((-4.0, 2.0), (4.5, -3.5)),
            height="linear",
            suggested={
                "sgd": {"lr": 0.05},
                "momentum": {"lr": 0.01},
                "nesterov": {"lr": 0.01},
                "adagrad": {"lr": 1.0},
                "rmsprop": {"lr": 0.05},
                **_adaptive(0.1),
            },
        ),
        Preset(
            "rosenbrock",
            "Rosenbrock",
            "(a - x)^2 + b(y - x^2)^2",
            {"a": 1.0, "b": 100.0},
            domain=(-2.0, 2.0, -1.0, 3.0),
            minima=((1.0, 1.0, 0.0),),
            starts=((-1.5, 2.0), (-2.0, 2.0)),
            height="log1p",
            suggested={
                "sgd": {"lr": 0.0005},
                "momentum": {"lr": 0.0002},
                "nesterov": {"lr": 0.0002},
                "adagrad": {"lr": 0.5},
                "rmsprop": {"lr": 0.01},
                **_adaptive(0.05),
            },
        ),
        Preset(
            "beale",
            "Beale",
            "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2",
            domain=(-4.5, 4.5, -4.5, 4.5),
            minima=((3.0, 0.5, 0.0),),
            starts=((2.0, 1.7),),
            height="log1p",
            suggested={
                "sgd": {"lr": 0.001},
                "momentum": {"lr": 0.0005},
                "nesterov": {"lr": 0.0005},
                "adagrad": {"lr": 0.5},
                "rmsprop": {"lr": 0.01},
                **_adaptive(0.05),
            },
        ),
        Preset(
            "himmelblau",
            "Himmelblau",
            "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
            domain=(-5.0, 5.0, -5.0, 5.0),
            minima=(
                (3.0, 2.0, 0.0),
                (-2.805118, 3.131312, 0.0),
                (-3.779310, -3.283186, 0.0),
                (3.584428, -1.848126, 0.0),
            ),
            starts=((-0.4, -0.65),),
            height="log1p",
            suggested={
                "sgd": {"lr": 0.005},
                "momentum": {"lr": 0.002},
                "nesterov": {"lr": 0.002},
                "adagrad": {"lr": 1.0},
                "rmsprop": {"lr": 0.05},
                **_adaptive(0.1),
            },
        ),
        Preset(
            "rastrigin",
            "Rastrigin",
            "20 + x^2 - 10cos(2pi*x) + y^2 - 10cos(2pi*y)",
            domain=(-4.5, 4.5, -4.5, 4.5),
            minima=((0.0, 0.0, 0.0),),
            starts=((3.2, -2.7), (-1.3, 1.9)),
            height="linear",
            suggested={
                "sgd": {"lr": 0.002},
                "momentum": {"lr": 0.001},
                "nesterov": {"lr": 0.001},
                "adagrad": {"lr": 0.5},
                "rmsprop": {"lr": 0.02},
                **_adaptive(0.05),
            },
        ),
        Preset(
            "ackley",
            "Ackley",
            "-20exp(-0.2sqrt(0.5(x^2 + y^2))) - exp(0.5(cos(2pi*x) + cos(2pi*y))) + e + 20",
            domain=(-5.0, 5.0, -5.0, 5.0),
            minima=((0.0, 0.0, 0.0),),
            starts=((3.3, -2.4), (-1.6, 2.3)),
            height="linear",
            suggested={
                "sgd": {"lr": 0.02},
                "momentum": {"lr": 0.005},
                "nesterov": {"lr": 0.005},
                "adagrad": {"lr": 0.5},
                "rmsprop": {"lr": 0.02},
                **_adaptive(0.05),
            },
        ),
        Preset(
            "booth",
            "Booth",
            "(x + 2y - 7)^2 + (2x + y - 5)^2",
            domain=(-10.0, 10.0, -10.0, 10.0),
            minima=((1.0, 3.0, 0.0),),
            starts=((-8.0, -6.0), (8.0, -8.0)),
            height="log1p",
            suggested={
                "sgd": {"lr": 0.02},
                "momentum": {"lr": 0.005},
                "nesterov": {"lr": 0.005},
                "adagrad": {"lr": 2.0},
                "rmsprop": {"lr": 0.1},
                **_adaptive(0.2),
            },
        ),
        Preset(
            "goldstein_price",
            "Goldstein-Price",
            "(1 + (x + y + 1)^2*(19 - 14x + 3x^2 - 14y + 6x*y + 3y^2))"
            "*(30 + (2x - 3y)^2*(18 - 32x + 12x^2 + 48y - 36x*y + 27y^2))",
            domain=(-2.0, 2.0, -2.0, 2.0),
            minima=((0.0, -1.0, 3.0),),
            starts=((-0.6, 0.4), (0.5, -1.5)),
            height="log1p",
            suggested={
                "sgd": {"lr": 0.00002},
                "momentum": {"lr": 0.00001},
                "nesterov": {"lr": 0.00001},
                "adagrad": {"lr": 0.1},
                "rmsprop": {"lr": 0.005},
                **_adaptive(0.02),
            },
        ),
        Preset(
            "six_hump_camel",
            "Six-hump camel",
            "(4 - 2.1x^2 + x^4/3)*x^2 + x*y + (-4 + 4y^2)*y^2",
            domain=(-3.0, 3.0, -2.0, 2.0),
            minima=((0.089842, -0.712656, -1.031628), (-0.089842, 0.712656, -1.031628)),
            starts=((-1.5, 1.0), (2.0, -1.2)),
            height="linear",
            suggested={
                "sgd": {"lr": 0.01},
                "momentum": {"lr": 0.002},
                "nesterov": {"lr": 0.002},
                "adagrad": {"lr": 0.5},
                "rmsprop": {"lr": 0.02},
                **_adaptive(0.05),
            },
        ),
        Preset(
            "saddle",
            "Saddle",
            "x^2 - y^2",
            domain=(-2.0, 2.0, -2.0, 2.0),
            starts=((-0.5, -1e-4),),
            height="linear",
            suggested={
                "sgd": {"lr": 0.01},
                "momentum": {"lr": 0.001},
                "nesterov": {"lr": 0.001},
                "adagrad": {"lr": 0.1},
                "adadelta": {"lr": 0.01},
                "rmsprop": {"lr": 0.01},
                **_adaptive(0.01),
            },
        ),
        Preset(
            "monkey_saddle",
            "Monkey saddle",
            "x^3 - 3x*y^2",
            domain=(-1.5, 1.5, -1.5, 1.5),
            starts=((0.8, 0.05),),
            height="linear",
            suggested={
                "sgd": {"lr": 0.002},
                "momentum": {"lr": 0.0002},
                "nesterov": {"lr": 0.0002},
                "adagrad": {"lr": 0.05},
                "adadelta": {"lr": 0.1},
                "rmsprop": {"lr": 0.005},
                **_adaptive(0.005),
            },
        ),
        Preset(
            "two_wells",
            "Two wells",
            "x^2 + y^2 - 2exp(-((x - 1)^2 + y^2)/0.2) - 3exp(-((x + 1)^2 + y^2)/0.2)",
            domain=(-2.0, 2.0, -2.0, 2.0),
            minima=((-0.936301, 0.0, -2.06309), (0.905318, 0.0, -1.092732)),
            starts=((1.8, 1.5), (0.2, -1.8)),
            height="linear",
            suggested={
                "sgd": {"lr": 0.02},
                "momentum": {"lr": 0.005},
                "nesterov": {"lr": 0.005},
                "adagrad": {"lr": 0.2},
                "rmsprop": {"lr": 0.01},
                **_adaptive(0.02),
            },
        ),
        Preset(
            "sigmoid_neuron",
            "Sigmoid neuron (2 points)",
            SIGMOID_LOSS,
            domain=(-7.0, 5.0, -7.0, 5.0),
            minima=((1.791759, -2.282174, 0.0),),
            starts=((-2.0, -2.0), (-6.0, 4.0)),
            height="linear",
            data_fit=True,
            data=((0.5, 0.2), (2.5, 0.9)),
            suggested={
                "sgd": {"lr": 2.0},
                "momentum": {"lr": 0.5},
                "nesterov": {"lr": 0.5},
                "adagrad": {"lr": 1.0},
                "adadelta": {"lr": 10.0},
                "rmsprop": {"lr": 0.05},
                **_adaptive(0.1),
            },
        ),
        Preset(
            "sigmoid_neuron_6",
            "Sigmoid neuron (6 points)",
            SIGMOID_LOSS,
            domain=(-7.0, 5.0, -7.0, 5.0),
            minima=((0.020341, -0.426267, 0.011624),),
            starts=((-2.0, -2.0), (-6.0, 4.0)),
            height="linear",
            data_fit=True,
            data=((3.5, 0.5), (0.35, 0.5), (3.2, 0.5), (-2.0, 0.5), (1.5, 0.1), (-0.5, 0.3)),
            suggested={
                "sgd": {"lr": 2.0},
                "momentum": {"lr": 0.5},
                "nesterov": {"lr": 0.5},
                "adagrad": {"lr": 1.0},
                "adadelta": {"lr": 10.0},
                "rmsprop": {"lr": 0.05},
                **_adaptive(0.1),
            },
        ),
        Preset(
            "line_fit",
            "Least-squares line fit",
            SQUARED_LOSS,
            domain=(-3.0, 4.5, -3.0, 5.0),
            minima=((0.773281, 1.027761, 0.059594),),
            starts=((-2.5, 4.0), (4.0, -2.5)),
            height="linear",
            data_fit=True,
            data=read_rows("data/line_fit.csv"),
            suggested={
                "sgd": {"lr": 0.1},
                "momentum": {"lr": 0.02},
                "nesterov": {"lr": 0.02},
                "adagrad": {"lr": 1.0},
                "rmsprop": {"lr": 0.05},
                **_adaptive(0.1),
            },
        ),
        Preset(
            "logistic_regression",
            "Logistic regression",
            LOGISTIC_LOSS,
            domain=(-4.0, 6.0, -5.0, 5.0),
            minima=((1.429814, 0.896593, 0.346431),),
            starts=((-3.0, 4.0), (5.0, -4.0)),
            height="linear",
            data_fit=True,
            data=read_rows("data/logistic.csv"),
            suggested={
                "sgd": {"lr": 0.5},
                "momentum": {"lr": 0.1},
                "nesterov": {"lr": 0.1},
                "adagrad": {"lr": 1.0},
                "rmsprop": {"lr": 0.05},
                **_adaptive(0.1),
            },
        ),
    )


PRESETS: dict[str, Preset] = {p.name: p for p in _table()}
"""Every preset by name, in display order (bowl first)."""
