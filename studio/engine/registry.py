"""What optimizers and schedules exist, how each is built, and validation of a run's keys.

Each entry of `OPTIMIZERS` is one row: title, hyperparameters, a line of doc and `rule`,
the function that builds the optimizer's own transforms (`transforms.Rule`); each entry of
`SCHEDULES` likewise carries `make`, which builds its `k -> η_k` function. Adding an
optimizer is a transform (if no existing one fits) plus one row here; adding a schedule is
a function in `schedules.py` plus one row. The GUI builds its widgets from these tables
(key, default, a sane range, log scale or not, int/float/choice, one line of help); the CLI
and the scene loader validate with `validate_hyper`, which raises `StudioError` with a
one-line message.

Every optimizer takes the common keys: `weight_decay` (L2, g ← g + λθ; decoupled in
`adamw`), `schedule` plus the keys of the chosen schedule, `grad_noise`/`noise_gamma`,
`batch_size`/`batch_order` (data-fit surfaces), `delay`/`max_delay` (stale gradients),
`tol`/`patience`/`stop_on` (stopping). Keys of a schedule that is not selected are
accepted and ignored (a GUI may keep them while the user flips schedules); `validate_hyper`
leaves them out of its result.
The update rules are written out in docs/algorithms.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from studio.engine import schedules
from studio.engine.noise import NOISE_KINDS
from studio.engine.parallel import elastic_averaging
from studio.engine.schedules import Schedule
from studio.engine.transforms import (
    Rule,
    add_decayed_weights,
    scale_by_adadelta,
    scale_by_adagrad,
    scale_by_adam,
    scale_by_learning_rate,
    scale_by_nadam,
    scale_by_rms,
    trace,
)
from studio.errors import StudioError

HyperValue = float | int | str
BATCH_ORDERS = ("shuffle", "in_order")  # mini-batch rows: reshuffled each epoch, or in order
STOP_ON = ("grad", "val_loss")  # what early stopping watches


class HyperparameterError(StudioError):
    """An unknown optimizer or key, or a value out of its range (one line)."""


@dataclass(frozen=True)
class HyperInfo:
    """One hyperparameter: the GUI's widget and the validator's rule.

    `lo`..`hi` is the widget's range (log-scaled if `log`); `minimum`/`maximum` are the
    hard limits `validate_hyper` enforces (open if `min_open`/`max_open`; None: unbounded).
    `label` is what a front end shows a person ("noise γ", "T₀"); the key stays what files,
    the command line and tooltips use.
    """

    key: str
    default: HyperValue
    lo: float = 0.0
    hi: float = 1.0
    log: bool = False
    kind: str = "float"  # "float" | "int" | "choice"
    choices: tuple[str, ...] = ()
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    min_open: bool = False
    max_open: bool = False
    label: str = ""

    @property
    def title(self) -> str:
        """The human label, else the key."""
        return self.label or self.key

    def check(self, value: object, where: str) -> HyperValue:
        """The value coerced to this key's kind, or `HyperparameterError`."""
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise HyperparameterError(
                    f"{where}: {self.key} must be one of {', '.join(self.choices)}, got {value!r}"
                )
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise HyperparameterError(f"{where}: {self.key} must be a number, got {value!r}")
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an int beyond any float, e.g. from a hostile scene file
            raise HyperparameterError(f"{where}: {self.key} is too large") from None
        if not finite:
            raise HyperparameterError(f"{where}: {self.key} must be finite, got {value!r}")
        out: HyperValue
        if self.kind == "int":
            if float(value) != int(value):
                raise HyperparameterError(
                    f"{where}: {self.key} must be a whole number, got {value!r}"
                )
            out = int(value)
        else:
            out = float(value)
        if self.minimum is not None and (
            out < self.minimum or (self.min_open and out == self.minimum)
        ):
            raise HyperparameterError(f"{where}: {self.key} must be {self._range()}, got {value!r}")
        if self.maximum is not None and (
            out > self.maximum or (self.max_open and out == self.maximum)
        ):
            raise HyperparameterError(f"{where}: {self.key} must be {self._range()}, got {value!r}")
        return out

    def _range(self) -> str:
        lo, hi = self.minimum, self.maximum
        if hi is None:
            return f"{'>' if self.min_open else '>='} {lo:g}"
        if lo is None:
            return f"{'<' if self.max_open else '<='} {hi:g}"
        return f"in {'(' if self.min_open else '['}{lo:g}, {hi:g}{')' if self.max_open else ']'}"


def _lr(default: float) -> HyperInfo:
    return HyperInfo(
        "lr",
        default,
        1e-5,
        10.0,
        log=True,
        help="learning rate η",
        minimum=0.0,
        min_open=True,
        label="learning rate η",
    )


def _unit(key: str, default: float, help: str, label: str, hi: float = 0.999) -> HyperInfo:
    """A decay rate in [0, 1)."""
    return HyperInfo(
        key, default, 0.0, hi, help=help, minimum=0.0, maximum=1.0, max_open=True, label=label
    )


def _eps(default: float) -> HyperInfo:
    return HyperInfo(
        "eps",
        default,
        1e-12,
        1e-1,
        log=True,
        help="ε added to the denominator for stability",
        minimum=0.0,
        label="ε",
    )


MOMENTUM = _unit("momentum", 0.9, "momentum μ", "momentum μ")
BETA1 = _unit("beta1", 0.9, "β1: decay of the first moment m", "β₁")
BETA2 = _unit("beta2", 0.999, "β2: decay of the second moment v", "β₂", hi=0.9999)

Hyper = Mapping[str, HyperValue]


@dataclass(frozen=True)
class ScheduleInfo:
    """A learning-rate schedule: its keys, and `make(lr, hyper)` building `k -> η_k`."""

    name: str
    title: str
    keys: tuple[HyperInfo, ...]
    doc: str
    make: Callable[[float, Hyper], Schedule]


SCHEDULES: dict[str, ScheduleInfo] = {
    s.name: s
    for s in (
        ScheduleInfo("constant", "Constant", (), "η_k = η", lambda lr, h: schedules.constant(lr)),
        ScheduleInfo(
            "step",
            "Step decay",
            (
                HyperInfo(
                    "step_size",
                    100,
                    1,
                    1000,
                    kind="int",
                    help="s: updates between decays",
                    minimum=1,
                    label="step size s",
                ),
                HyperInfo(
                    "gamma",
                    0.5,
                    0.01,
                    1.0,
                    help="γ: factor at each decay",
                    minimum=0.0,
                    maximum=1.0,
                    min_open=True,
                    label="factor γ",
                ),
            ),
            "η_k = η·γ^⌊k/s⌋ (halving at fixed steps)",
            lambda lr, h: schedules.step_decay(lr, int(h["step_size"]), float(h["gamma"])),
        ),
        ScheduleInfo(
            "exponential",
            "Exponential decay",
            (
                HyperInfo(
                    "gamma",
                    0.99,
                    0.9,
                    1.0,
                    help="γ: factor per update",
                    minimum=0.0,
                    maximum=1.0,
                    min_open=True,
                    label="factor γ",
                ),
            ),
            "η_k = η·γᵏ",
            lambda lr, h: schedules.exponential_decay(lr, float(h["gamma"])),
        ),
        ScheduleInfo(
            "cosine_restarts",
            "Cosine with warm restarts (SGDR)",
            (
                HyperInfo(
                    "T0",
                    50,
                    1,
                    1000,
                    kind="int",
                    help="T_0: length of the first cycle",
                    minimum=1,
                    label="T₀",
                ),
                HyperInfo(
                    "T_mult",
                    1,
                    1,
                    4,
                    kind="int",
                    help="cycle length factor after a restart",
                    minimum=1,
                    maximum=100,
                    label="cycle growth",
                ),
                HyperInfo(
                    "eta_min",
                    0.0,
                    0.0,
                    1.0,
                    help="η_min: the rate at the end of a cycle",
                    minimum=0.0,
                    label="η min",
                ),
            ),
            "η_min + (η − η_min)(1 + cos(π T_cur/T_i))/2, T_i ← T_i·T_mult at each restart",
            lambda lr, h: schedules.cosine_restarts(
                lr, int(h["T0"]), int(h["T_mult"]), float(h["eta_min"])
            ),
        ),
        ScheduleInfo(
            "warmup",
            "Warm-up (Noam)",
            (
                HyperInfo(
                    "warmup",
                    50,
                    1,
                    1000,
                    kind="int",
                    help="w: updates to reach η",
                    minimum=1,
                    label="warm-up w",
                ),
            ),
            "η·√w·min(s^−½, s·w^−3/2), s = k + 1",
            lambda lr, h: schedules.warmup(lr, int(h["warmup"])),
        ),
    )
}
SCHEDULE_KEYS: frozenset[str] = frozenset(h.key for s in SCHEDULES.values() for h in s.keys)


def make_schedule(lr: float, hyper: Hyper) -> Schedule:
    """The schedule a validated hyperparameter dict asks for (`schedule` plus its keys)."""
    return SCHEDULES[str(hyper.get("schedule", "constant"))].make(lr, hyper)


COMMON: tuple[HyperInfo, ...] = (
    HyperInfo(
        "weight_decay",
        0.0,
        0.0,
        1.0,
        help="λ: L2 penalty, g ← g + λθ",
        minimum=0.0,
        label="weight decay λ",
    ),
    HyperInfo(
        "schedule",
        "constant",
        kind="choice",
        choices=tuple(SCHEDULES),
        help="learning-rate schedule",
        label="schedule",
    ),
    HyperInfo(
        "grad_noise",
        0.0,
        0.0,
        2.0,
        help="η_noise: add N(0, η_noise/(1+k)^γ) to the gradient (Neelakantan 2015)",
        minimum=0.0,
        label="gradient noise",
    ),
    HyperInfo(
        "noise_gamma",
        0.55,
        0.0,
        2.0,
        help="γ: decay exponent of the gradient noise",
        minimum=0.0,
        label="noise γ",
    ),
    HyperInfo(
        "batch_size",
        0,
        0,
        64,
        kind="int",
        help="rows per mini-batch on a data-fit surface (0: all rows)",
        minimum=0,
        label="batch size",
    ),
    HyperInfo(
        "batch_order",
        "shuffle",
        kind="choice",
        choices=BATCH_ORDERS,
        help="the rows of each mini-batch: reshuffled every epoch (shuffle), or rows 0..B-1, "
        "B..2B-1, ... in order, cycling (in_order)",
        label="batch order",
    ),
    HyperInfo(
        "delay",
        0,
        0,
        50,
        kind="int",
        help="τ: use the gradient of τ updates ago",
        minimum=0,
        maximum=1000,
        label="delay τ",
    ),
    HyperInfo(
        "max_delay",
        0,
        0,
        50,
        kind="int",
        help="random staleness: gradient of 0..τ updates ago",
        minimum=0,
        maximum=1000,
        label="max delay",
    ),
    HyperInfo(
        "tol",
        1e-8,
        1e-12,
        1e-1,
        log=True,
        help="stop (converged) when ‖∇f‖ < tol",
        minimum=0.0,
        label="tolerance",
    ),
    HyperInfo(
        "patience",
        0,
        0,
        1000,
        kind="int",
        help="also stop (stopped early) when the loss improves by < tol over this "
        "many updates (0: off); with stop_on=val_loss, when the validation loss has not "
        "improved on its best by tol for this many updates",
        minimum=0,
        maximum=100_000,
        label="patience",
    ),
    HyperInfo(
        "stop_on",
        "grad",
        kind="choice",
        choices=STOP_ON,
        help="what the patience rule watches: the training loss (grad) or the validation "
        "loss (val_loss: a network's validation split, or on a data-fit surface the rows "
        "k with k % 5 == 4, then left out of the gradient)",
        label="stop on",
    ),
)

RuleBuilder = Callable[[Hyper, Schedule], Rule]


@dataclass(frozen=True)
class OptimizerInfo:
    """An optimizer: its own keys first, then the common ones, and how to build it.

    `rule(hyper, schedule)` builds the optimizer's own transforms from validated
    hyperparameters (see `transforms.Rule`; `optimizers.build_optimizer` adds the shared
    links). `gradient_free`: the direction is the noise ξ of the `noise` key, never the
    gradient (noise training). `l2`: `weight_decay` is L2 added to the gradient before the
    rule (False where the rule applies its own decay, as AdamW's decoupled one). A `workers`
    key makes every start a centre ball followed by that many worker balls (EASGD).
    """

    name: str
    title: str
    own: tuple[HyperInfo, ...]
    doc: str
    rule: RuleBuilder
    overrides: Mapping[str, HyperValue] = field(default_factory=dict)
    gradient_free: bool = False
    l2: bool = True
    hyper: dict[str, HyperInfo] = field(init=False)

    def __post_init__(self) -> None:
        common = tuple(
            replace(h, default=self.overrides[h.key]) if h.key in self.overrides else h
            for h in COMMON
        )
        object.__setattr__(self, "hyper", {h.key: h for h in (*self.own, *common)})

    @property
    def defaults(self) -> dict[str, HyperValue]:
        """Every non-schedule key with its default for this optimizer."""
        return {k: h.default for k, h in self.hyper.items()}

    @property
    def allowed(self) -> frozenset[str]:
        return frozenset(self.hyper) | SCHEDULE_KEYS


# ------------------------------------------------------------------ the rules, by family


def _plain(h: Hyper, schedule: Schedule) -> Rule:
    """No scaling of its own: θ ← θ − η_k d."""
    return Rule()


def _momentum(h: Hyper, schedule: Schedule) -> Rule:
    return Rule((trace(float(h["momentum"])),))


def _nesterov(h: Hyper, schedule: Schedule) -> Rule:
    # v' = −v accumulates −η_k g: v' ← μv' − η_k ∇f(θ + μv'); θ ← θ + v', so the next
    # gradient is taken at θ + μv' (the look-ahead form of docs/algorithms.md).
    mu = float(h["momentum"])
    return Rule(
        (scale_by_learning_rate(schedule), trace(mu)),
        scaled=True,
        lookahead=lambda state, params: params + mu * state.trace,
    )


def _adagrad(h: Hyper, schedule: Schedule) -> Rule:
    return Rule((scale_by_adagrad(float(h["eps"])),))


def _adadelta(h: Hyper, schedule: Schedule) -> Rule:
    return Rule((scale_by_adadelta(float(h["rho"]), float(h["eps"])),))


def _rmsprop(h: Hyper, schedule: Schedule) -> Rule:
    return Rule((scale_by_rms(float(h["alpha"]), float(h["eps"])),))


def _adam(amsgrad: bool = False) -> RuleBuilder:
    def rule(h: Hyper, schedule: Schedule) -> Rule:
        return Rule(
            (scale_by_adam(float(h["beta1"]), float(h["beta2"]), float(h["eps"]), amsgrad=amsgrad),)
        )

    return rule


def _adamw(h: Hyper, schedule: Schedule) -> Rule:
    # The decay after the Adam direction and before −η_k: θ ← θ − η_k(d + λθ).
    wd = float(h["weight_decay"])
    adam = _adam()(h, schedule).links
    return Rule((*adam, add_decayed_weights(wd)) if wd > 0 else adam)


def _nadam(h: Hyper, schedule: Schedule) -> Rule:
    return Rule(
        (
            scale_by_nadam(
                float(h["beta1"]), float(h["beta2"]), float(h["eps"]), float(h["momentum_decay"])
            ),
        )
    )


def _easgd(h: Hyper, schedule: Schedule) -> Rule:
    return Rule((elastic_averaging(float(h["rho"]), int(h["workers"])),))


def _noise(help: str = "distribution of ξ") -> HyperInfo:
    return HyperInfo(
        "noise", "gumbel", kind="choice", choices=NOISE_KINDS, help=help, label="noise ξ"
    )


_ADAM = (BETA1, BETA2, _eps(1e-8))

OPTIMIZERS: dict[str, OptimizerInfo] = {
    o.name: o
    for o in (
        OptimizerInfo("sgd", "SGD", (_lr(0.01),), "θ ← θ − ηg (Robbins & Monro 1951)", _plain),
        OptimizerInfo(
            "momentum",
            "Momentum",
            (_lr(0.01), MOMENTUM),
            "b ← μb + g; θ ← θ − ηb (Qian 1999; torch SGD momentum)",
            _momentum,
        ),
        OptimizerInfo(
            "nesterov",
            "Nesterov",
            (_lr(0.01), MOMENTUM),
            "v ← μv + η∇f(θ − μv); θ ← θ − v (Sutskever 2013, look-ahead form)",
            _nesterov,
        ),
        OptimizerInfo(
            "adagrad",
            "Adagrad",
            (_lr(0.01), _eps(1e-10)),
            "G ← G + g²; θ ← θ − ηg/(√G + ε) (Duchi 2011)",
            _adagrad,
        ),
        OptimizerInfo(
            "adadelta",
            "Adadelta",
            (
                _lr(1.0),
                _unit("rho", 0.9, "ρ: decay of the running averages", "decay ρ"),
                _eps(1e-6),
            ),
            "E ← ρE + (1−ρ)g²; Δ = √(D+ε)/√(E+ε)·g; D ← ρD + (1−ρ)Δ²; θ ← θ − ηΔ (Zeiler 2012)",
            _adadelta,
        ),
        OptimizerInfo(
            "rmsprop",
            "RMSprop",
            (_lr(0.001), _unit("alpha", 0.9, "α: decay of the mean square", "decay α"), _eps(1e-8)),
            "E ← αE + (1−α)g²; θ ← θ − ηg/(√E + ε) (Hinton, lecture 6e)",
            _rmsprop,
        ),
        OptimizerInfo(
            "adam",
            "Adam",
            (_lr(0.001), *_ADAM),
            "bias-corrected moments m̂, v̂; θ ← θ − ηm̂/(√v̂ + ε) (Kingma & Ba 2014)",
            _adam(),
        ),
        OptimizerInfo(
            "adamw",
            "AdamW",
            (_lr(0.001), *_ADAM),
            "θ ← θ(1 − ηλ), then the Adam step (Loshchilov & Hutter 2017); "
            "weight_decay defaults to 0.01",
            _adamw,
            {"weight_decay": 0.01},
            l2=False,
        ),
        OptimizerInfo(
            "amsgrad",
            "AMSGrad",
            (_lr(0.001), *_ADAM),
            "Adam with v_max ← max(v_max, v) in the denominator (Reddi 2018)",
            _adam(amsgrad=True),
        ),
        OptimizerInfo(
            "nadam",
            "Nadam",
            (
                _lr(0.001),
                *_ADAM,
                HyperInfo(
                    "momentum_decay",
                    0.004,
                    0.0,
                    0.05,
                    help="ψ: momentum schedule μ_t = β1(1 − ½·0.96^(tψ))",
                    minimum=0.0,
                    label="momentum decay ψ",
                ),
            ),
            "Adam with Nesterov momentum (Dozat 2016; torch NAdam)",
            _nadam,
        ),
        OptimizerInfo(
            "noise_training",
            "Noise training",
            (_lr(0.01), _noise()),
            "θ ← θ − ηξ, ξ ~ Gumbel(0, 1) per coordinate: no gradient at all (Seo 2018)",
            _plain,
            gradient_free=True,
        ),
        OptimizerInfo(
            "noise_training_gaussian",
            "Noise training + Gaussian noise",
            (_lr(0.01), _noise()),
            "noise training plus annealed Gaussian additive noise (Seo 2018); "
            "grad_noise defaults to 0.3",
            _plain,
            {"grad_noise": 0.3},
            gradient_free=True,
        ),
        OptimizerInfo(
            "adam_noise_training",
            "Adam noise training",
            (_lr(0.01), *_ADAM, _noise()),
            "Adam fed with the noise ξ instead of the gradient (Seo 2018)",
            _adam(),
            gradient_free=True,
        ),
        OptimizerInfo(
            "easgd",
            "EASGD",
            (
                _lr(0.01),
                HyperInfo(
                    "workers",
                    4,
                    1,
                    16,
                    kind="int",
                    help="k: worker balls per start",
                    minimum=1,
                    maximum=64,
                    label="workers k",
                ),
                HyperInfo(
                    "rho",
                    1.0,
                    0.0,
                    10.0,
                    help="ρ: strength of the elastic pull",
                    minimum=0.0,
                    label="elastic pull ρ",
                ),
            ),
            "workers θ_i ← θ_i − η(g_i + ρ(θ_i − θ̃)); centre θ̃ ← θ̃ + ηρΣ(θ_i − θ̃) "
            "(Zhang et al. 2015); workers see noisy gradients, grad_noise defaults "
            "to 1.0",
            _easgd,
            {"grad_noise": 1.0},
        ),
    )
}


def run_label(run: object) -> str:
    """What every view, legend and output calls a run: the user's label, else its optimizer
    and learning rate ("Adam (lr 0.05)"), derived afresh so it never goes stale after an edit.
    `run` is a `studio.scene.RunSpec` (duck-typed: the scene imports nothing from here)."""
    label = getattr(run, "label", "")
    if label:
        return label
    name = getattr(run, "optimizer", "")
    info = OPTIMIZERS.get(name)
    if info is None:
        return name
    lr = getattr(run, "hyper", {}).get("lr", info.hyper["lr"].default)
    return f"{info.title} (lr {lr:g})" if isinstance(lr, (int, float)) else info.title


def optimizer_defaults(optimizer: str) -> dict[str, HyperValue]:
    """All non-schedule keys of `optimizer` with their defaults."""
    return _info(optimizer).defaults


def hyper_info(optimizer: str, key: str) -> HyperInfo | None:
    """The metadata of `key` for `optimizer` (a schedule key: the first schedule's), or None."""
    info = OPTIMIZERS.get(optimizer)
    if info is None:
        return None
    if key in info.hyper:
        return info.hyper[key]
    for s in SCHEDULES.values():
        for h in s.keys:
            if h.key == key:
                return h
    return None


def _info(optimizer: str) -> OptimizerInfo:
    info = OPTIMIZERS.get(optimizer)
    if info is None:
        raise HyperparameterError(
            f"unknown optimizer {optimizer!r} (known: {', '.join(OPTIMIZERS)})"
        )
    return info


def validate_hyper(optimizer: str, hyper: Mapping[str, object]) -> dict[str, HyperValue]:
    """The complete hyperparameters of a run: defaults overlaid with `hyper`, each checked.

    Raises `HyperparameterError` (a `StudioError`) naming the optimizer, the key and the rule.
    """
    info = _info(optimizer)
    for key in hyper:
        if key not in info.allowed:
            raise HyperparameterError(
                f"{optimizer}: unknown hyperparameter {key!r} (allowed: "
                f"{', '.join(sorted(info.allowed))})"
            )
    out = optimizer_defaults(optimizer)
    for key, h in info.hyper.items():
        if key in hyper:
            out[key] = h.check(hyper[key], optimizer)
    schedule = SCHEDULES[str(out["schedule"])]
    for h in schedule.keys:
        out[h.key] = h.check(hyper[h.key], optimizer) if h.key in hyper else h.default
    if int(out["delay"]) > 0 and int(out["max_delay"]) > 0:
        raise HyperparameterError(f"{optimizer}: give either delay or max_delay, not both")
    if out["stop_on"] == "val_loss" and int(out["patience"]) == 0:
        raise HyperparameterError(
            f"{optimizer}: stop_on=val_loss needs patience > 0 (the updates without improvement)"
        )
    return out
