"""The network lab's multilayer perceptron: its spec, initial weights, loss and exact gradients.

A network is dense layers input → hidden… → output, each with biases. A layer maps rows
`a` (batch × fan_in) to `z = a W + b`; hidden layers then apply the activation (sigmoid, tanh
or ReLU), the output layer feeds the task's loss: one logit, sigmoid and mean binary
cross-entropy for `digits01`; ten logits, softmax and mean cross-entropy for `digits`.

**The parameter vector** (length D) holds the layers in order, input side first; for each
layer its weights W, fan_in × fan_out in row-major order (W[i, j], from input unit i to
output unit j, sits at offset + i·fan_out + j), then its biases b (fan_out). For the default
`digits01` network, 64 → 16 → 8 → 1, that is W1 (1024), b1 (16), W2 (128), b2 (8), W3 (8),
b3 (1): D = 1185. `layer_slices` gives the offsets.

**Initial weights** come from `np.random.default_rng(init_seed)`, drawn layer by layer in
that order; biases start at zero. A layer whose output goes through sigmoid or tanh, and the
output layer (its logits go to sigmoid or softmax), use Xavier/Glorot uniform weights,
U(−a, a) with a = √(6 / (fan_in + fan_out)); a layer followed by ReLU uses He normal weights,
N(0, 2 / fan_in).

**Vectorised over runs.** Every function takes parameters as an (R, D) array, R networks at
once (runs, balls, or the points of a landscape grid): weights are viewed as (R, fan_in,
fan_out), activations are (R, B, width), and `np.matmul` broadcasts the run axis. Losses are
computed stably: binary cross-entropy as softplus(z) − y·z (softplus through exp(−|z|)),
softmax cross-entropy with log-sum-exp. Gradients are exact (backpropagation), of the mean
over the B rows. Large R is split into chunks so that one chunk's activations stay within
`CHUNK_BYTES` (32 MiB): 75 runs at a time for the default network on all 312 training rows.

**Threads.** The products here are small (a few million multiply-adds); OpenBLAS splits
them over threads anyway, which on a busy two-core machine made training several times
slower. Run with `OPENBLAS_NUM_THREADS=1` (set before NumPy is imported).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from studio.errors import StudioError
from studio.network.data import N_PIXELS, TASKS, TaskData, load_task

ACTIVATIONS = ("sigmoid", "tanh", "relu")
DEFAULT_HIDDEN = (16, 8)
MAX_HIDDEN_LAYERS = 4
MAX_WIDTH = 256
MAX_PARAMS = 50_000
MAX_SEED = 2**32 - 1
CHUNK_BYTES = 32 * 2**20
_OUTPUTS = {"digits01": 1, "digits": 10}


class NetworkError(StudioError):
    """A network that cannot be built: an unknown task or activation, bad hidden sizes."""


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise NetworkError(f"{name} must be a whole number, not {value!r}")
    if not low <= int(value) <= high:
        raise NetworkError(f"{name} must be between {low} and {high}, not {int(value)}")
    return int(value)


@dataclass(frozen=True)
class NetworkSpec:
    """What a network is: the task, the hidden layer sizes, the activation, the init seed.

    Construction validates and raises `NetworkError` with a one-line message. `hidden` may be
    given as any sequence of ints; it is stored as a tuple.
    """

    task: str = "digits01"
    hidden: tuple[int, ...] = DEFAULT_HIDDEN
    activation: str = "sigmoid"
    init_seed: int = 0

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise NetworkError(f"unknown task '{self.task}' (choose from {', '.join(TASKS)})")
        if self.activation not in ACTIVATIONS:
            raise NetworkError(
                f"unknown activation '{self.activation}' (choose from {', '.join(ACTIVATIONS)})"
            )
        if isinstance(self.hidden, (str, bytes)) or not hasattr(self.hidden, "__iter__"):
            raise NetworkError(f"hidden sizes must be a list of whole numbers, not {self.hidden!r}")
        hidden = tuple(self.hidden)
        if not 1 <= len(hidden) <= MAX_HIDDEN_LAYERS:
            raise NetworkError(
                f"a network has 1 to {MAX_HIDDEN_LAYERS} hidden layers, not {len(hidden)}"
            )
        hidden = tuple(_check_int("a hidden layer size", h, 1, MAX_WIDTH) for h in hidden)
        object.__setattr__(self, "hidden", hidden)
        object.__setattr__(self, "init_seed", _check_int("init_seed", self.init_seed, 0, MAX_SEED))
        if self.n_params > MAX_PARAMS:
            raise NetworkError(
                f"{self.n_params:,} parameters is too many "
                f"(at most {MAX_PARAMS:,}); use smaller hidden layers"
            )

    @property
    def sizes(self) -> tuple[int, ...]:
        """Layer widths from the input to the output, e.g. (64, 16, 8, 1)."""
        return (N_PIXELS, *self.hidden, _OUTPUTS[self.task])

    @property
    def n_params(self) -> int:
        """D, the length of the parameter vector."""
        s = self.sizes
        return sum((fi + 1) * fo for fi, fo in pairwise(s))

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "hidden": list(self.hidden),
            "activation": self.activation,
            "init_seed": self.init_seed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NetworkSpec:
        """The inverse of `to_dict`; missing keys take the defaults, unknown keys are errors."""
        if not isinstance(data, Mapping):
            raise NetworkError(f"a network must be a mapping, not {type(data).__name__}")
        unknown = sorted(set(data) - {"task", "hidden", "activation", "init_seed"})
        if unknown:
            raise NetworkError(f"unknown network key '{unknown[0]}'")
        hidden = data.get("hidden", DEFAULT_HIDDEN)
        if not isinstance(hidden, (list, tuple)):
            raise NetworkError(f"hidden sizes must be a list of whole numbers, not {hidden!r}")
        return cls(
            task=str(data.get("task", "digits01")),
            hidden=tuple(hidden),
            activation=str(data.get("activation", "sigmoid")),
            init_seed=data.get("init_seed", 0),
        )

    @classmethod
    def parse(cls, text: str) -> NetworkSpec:
        """A spec from the CLI's text form `TASK[:hidden=16x8,activation=tanh,init_seed=3]`."""
        task, _, rest = text.strip().partition(":")
        fields: dict[str, Any] = {"task": task.strip()}
        for item in filter(None, (p.strip() for p in rest.split(","))):
            key, sep, value = (s.strip() for s in item.partition("="))
            if not sep:
                raise NetworkError(f"expected key=value in the network, not '{item}'")
            if key == "hidden":
                if not re.fullmatch(r"\d{1,6}(x\d{1,6})*", value):
                    raise NetworkError(f"hidden sizes are written like 16x8, not '{value}'")
                fields["hidden"] = tuple(int(v) for v in value.split("x"))
            elif key == "activation":
                fields["activation"] = value
            elif key == "init_seed":
                if not re.fullmatch(r"\d{1,12}", value):
                    raise NetworkError(f"init_seed must be a whole number, not '{value}'")
                fields["init_seed"] = int(value)
            else:
                raise NetworkError(
                    f"unknown network key '{key}' (choose from hidden, activation, init_seed)"
                )
        return cls.from_dict(fields)

    def to_text(self) -> str:
        """The text form `parse` reads, e.g.
        `digits01:hidden=16x8,activation=sigmoid,init_seed=0`."""
        return (
            f"{self.task}:hidden={'x'.join(map(str, self.hidden))},"
            f"activation={self.activation},init_seed={self.init_seed}"
        )


@dataclass(frozen=True)
class LayerSlice:
    """Where one layer sits in the parameter vector: W at [w_start, b_start), b after it."""

    fan_in: int
    fan_out: int
    w_start: int

    @property
    def b_start(self) -> int:
        return self.w_start + self.fan_in * self.fan_out

    @property
    def end(self) -> int:
        return self.b_start + self.fan_out


def layer_slices(spec: NetworkSpec) -> tuple[LayerSlice, ...]:
    """The layers' places in the parameter vector, input side first."""
    out, offset = [], 0
    for fi, fo in pairwise(spec.sizes):
        out.append(LayerSlice(fi, fo, offset))
        offset += (fi + 1) * fo
    return tuple(out)


def unflatten(params: np.ndarray, spec: NetworkSpec) -> list[tuple[np.ndarray, np.ndarray]]:
    """Views (W, b) of each layer of one parameter vector (D,): W (fan_in, fan_out),
    b (fan_out,)."""
    return [
        (params[s.w_start : s.b_start].reshape(s.fan_in, s.fan_out), params[s.b_start : s.end])
        for s in layer_slices(spec)
    ]


def init_params(spec: NetworkSpec) -> np.ndarray:
    """The initial parameter vector (D,) of `spec` (Xavier or He by activation, zero biases)."""
    rng = np.random.default_rng(spec.init_seed)
    params = np.zeros(spec.n_params)
    slices = layer_slices(spec)
    for k, s in enumerate(slices):
        w = params[s.w_start : s.b_start]
        if spec.activation == "relu" and k < len(slices) - 1:
            w[:] = rng.normal(0.0, np.sqrt(2.0 / s.fan_in), w.size)
        else:
            a = np.sqrt(6.0 / (s.fan_in + s.fan_out))
            w[:] = rng.uniform(-a, a, w.size)
    return params


def _activate(z: np.ndarray, activation: str, out: np.ndarray) -> None:
    """out = act(z); `out` may be z itself."""
    if activation == "sigmoid":
        # The tanh form never overflows, where 1 / (1 + exp(-z)) does for z << 0.
        np.multiply(z, 0.5, out=out)
        np.tanh(out, out=out)
        out += 1.0
        out *= 0.5
    elif activation == "tanh":
        np.tanh(z, out=out)
    else:
        np.maximum(z, 0.0, out=out)


def _derivative(a: np.ndarray, activation: str) -> np.ndarray:
    """The activation's derivative written through its output a = act(z)."""
    if activation == "sigmoid":
        d = 1.0 - a
        d *= a
        return d
    if activation == "tanh":
        d = a * a
        np.subtract(1.0, d, out=d)
        return d
    return (a > 0.0).astype(a.dtype)


def _with_ones(x: np.ndarray) -> np.ndarray:
    """x with a column of ones appended (read-only): the input that multiplies a bias row."""
    out = np.ones((*x.shape[:-1], x.shape[-1] + 1))
    out[..., :-1] = x
    out.flags.writeable = False
    return out


@dataclass(eq=False)
class NetworkObjective:
    """A network on its task's data, as the engine's objective: D parameters, N runs at once.

    `value_and_grad(params, rows)` is the mean training loss and its exact gradient; `rows`
    (N, B) picks each run's mini-batch from the training split, None means every training
    row. `validation(params)` is the validation split's loss and accuracy. `n_train` is the
    number of training rows (what mini-batch indices range over).

    Inside, the first layer's W and b are adjacent in the parameter vector, so together they
    are one (n_in + 1) × fan_out matrix whose last row is b; the inputs carry a column of
    ones, and one matrix product gives z = x W + b and, backwards, both gradients.
    """

    spec: NetworkSpec = field(default_factory=NetworkSpec)
    data: TaskData | None = None

    def __post_init__(self) -> None:
        if self.data is None:
            self.data = load_task(self.spec.task)
        if self.data.task != self.spec.task:
            raise NetworkError(f"data for '{self.data.task}' given to a '{self.spec.task}' network")
        self.layers = layer_slices(self.spec)
        self._width = sum(self.spec.sizes)
        self._x_train = _with_ones(self.data.x_train)
        self._x_val = _with_ones(self.data.x_val)

    @property
    def task_data(self) -> TaskData:
        assert self.data is not None
        return self.data

    @property
    def dim(self) -> int:
        return self.spec.n_params

    @property
    def n_train(self) -> int:
        return self.task_data.n_train

    @property
    def n_rows(self) -> int:
        """The engine's name for `n_train`: mini-batch rows are drawn from the training split."""
        return self.task_data.n_train

    def grad_rows(self, params: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Each run's mean gradient over its own rows (N, B) of the training split: (N, D).

        With `n_rows` and `value_and_grad(params)` this is the engine's `Objective`
        protocol (`studio.engine.objective`), so `simulate` trains networks as it
        descends surfaces."""
        rows = np.asarray(rows)
        if (
            rows.ndim != 2
            or rows.shape[0] != len(params)
            or not np.issubdtype(rows.dtype, np.integer)
        ):
            raise ValueError(
                f"rows must be integers of shape ({len(params)}, B), got {rows.dtype} {rows.shape}"
            )
        return self.value_and_grad(params, rows)[1]

    def initial_params(self) -> np.ndarray:
        """The spec's initial parameter vector (D,)."""
        return init_params(self.spec)

    # ------------------------------------------------------------------ public, vectorised

    def value_and_grad(
        self, params: np.ndarray, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean training loss (N,) and its gradient (N, D) at each of N parameter vectors."""
        params = self._check(params)
        loss = np.empty(len(params))
        grad = np.empty_like(params)
        for sl in self._chunks(len(params), self._batch(rows)):
            x, y = self._inputs(sl, rows)
            loss[sl] = self._backprop(params[sl], x, y, grad[sl])
        return loss, grad

    def loss(self, params: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Mean training loss (N,) only (a forward pass), full-batch when `rows` is None."""
        params = self._check(params)
        loss = np.empty(len(params))
        for sl in self._chunks(len(params), self._batch(rows)):
            x, y = self._inputs(sl, rows)
            loss[sl] = _loss(self._forward(params[sl], x)[-1], y)
        return loss

    def validation(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Validation loss (N,) and accuracy (N,) in [0, 1]."""
        return self._evaluate(self._check(params), self._x_val, self.task_data.y_val)

    def validation_loss(self, params: np.ndarray) -> np.ndarray:
        """Validation loss (N,): what a run with stop_on=val_loss watches (the engine's
        hook, `studio.engine.simulate`)."""
        return self.validation(params)[0]

    def train_metrics(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Full-batch training loss (N,) and accuracy (N,) in [0, 1]."""
        return self._evaluate(self._check(params), self._x_train, self.task_data.y_train)

    # ------------------------------------------------------------------------ internals

    def _check(self, params: np.ndarray) -> np.ndarray:
        params = np.ascontiguousarray(params, dtype=np.float64)
        if params.ndim != 2 or params.shape[1] != self.dim:
            raise ValueError(f"params must be (N, {self.dim}), not {params.shape}")
        return params

    def _batch(self, rows: np.ndarray | None) -> int:
        return self.n_train if rows is None else int(np.shape(rows)[1])

    def _chunks(self, n: int, batch: int) -> list[slice]:
        # Per run: activations (B × widths) plus about as much again in backprop temporaries.
        per_run = 16 * max(batch, 1) * self._width
        size = max(1, CHUNK_BYTES // per_run)
        return [slice(i, min(i + size, n)) for i in range(0, n, size)] or [slice(0, 0)]

    def _inputs(self, sl: slice, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if rows is None:
            return self._x_train, self.task_data.y_train
        r = np.asarray(rows)[sl]
        return self._x_train[r], self.task_data.y_train[r]

    def _evaluate(
        self, params: np.ndarray, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        loss = np.empty(len(params))
        acc = np.empty(len(params))
        for sl in self._chunks(len(params), len(y)):
            zt = self._forward(params[sl], x)[-1]
            loss[sl] = _loss(zt, y)
            pred = (zt[:, 0, :] > 0.0) if zt.shape[1] == 1 else zt.argmax(axis=1)
            acc[sl] = (pred == y).mean(axis=-1)
        return loss, acc

    def _forward(self, params: np.ndarray, x: np.ndarray) -> list[np.ndarray]:
        """[x, a_1, …, a_{L−1}, zᵀ]: the inputs (with their column of ones), each hidden
        layer's output (R, B, width), and the logits transposed, (R, outputs, B).

        The first layer's W and b are one matrix applied to x with its column of ones. With
        inputs shared by every run (x is 2-D) it is one product x (B, n_in + 1) @ [every
        run's W_1] (n_in + 1, R·fan_out), since NumPy's matmul takes a slow loop when it
        broadcasts a 2-D operand over the run axis; its output then lies in (B, R, fan_out)
        memory order, viewed as (R, B, fan_out). Activations are applied in place on
        contiguous memory (strided writes defeat NumPy's SIMD loops). The logits come out
        transposed so that softmax's max, exp and sum run along contiguous rows of B values,
        not across ten classes at a time (several times faster).
        """
        n = len(params)
        s = self.layers[0]
        w = params[:, s.w_start : s.end].reshape(n, s.fan_in + 1, s.fan_out)
        if x.ndim == 2:
            flat = x @ w.transpose(1, 0, 2).reshape(s.fan_in + 1, n * s.fan_out)
            z = flat.reshape(len(x), n, s.fan_out).transpose(1, 0, 2)
        else:
            z = np.matmul(x, w)
        outs = [x]
        for s in self.layers[1:]:
            _activate(z, self.spec.activation, out=z)
            outs.append(z)
            w = params[:, s.w_start : s.b_start].reshape(n, s.fan_in, s.fan_out)
            if s is self.layers[-1]:
                z = np.matmul(w.transpose(0, 2, 1), z.transpose(0, 2, 1))
                z += params[:, s.b_start : s.end, None]
            else:
                z = np.matmul(z, w)
                z += params[:, None, s.b_start : s.end]
        outs.append(z)
        return outs

    def _backprop(
        self, params: np.ndarray, x: np.ndarray, y: np.ndarray, grad: np.ndarray
    ) -> np.ndarray:
        """The loss (R,); writes its gradient into `grad` (R, D)."""
        outs = self._forward(params, x)
        zt = outs[-1]
        n, batch = zt.shape[0], zt.shape[2]
        loss = _loss(zt, y)
        # dL/dz of the mean loss, transposed like zt: (sigmoid(z) − y) / B, or
        # (softmax(z) − onehot(y)) / B.
        if zt.shape[1] == 1:
            dt = np.tanh(0.5 * zt)
            dt += 1.0
            dt *= 0.5
            dt[:, 0, :] -= y
        else:
            dt = np.exp(zt - zt.max(axis=1, keepdims=True))
            dt /= dt.sum(axis=1, keepdims=True)
            _subtract_onehot(dt, y)
        dt /= batch
        ones = np.ones(batch)
        s = self.layers[-1]
        a = outs[-2]
        g_w = grad[:, s.w_start : s.b_start].reshape(n, s.fan_in, s.fan_out)
        np.matmul(a.transpose(0, 2, 1), dt.transpose(0, 2, 1), out=g_w)
        np.matmul(dt, ones, out=grad[:, s.b_start : s.end])
        w = params[:, s.w_start : s.b_start].reshape(n, s.fan_in, s.fan_out)
        back = np.matmul(dt.transpose(0, 2, 1), w.transpose(0, 2, 1))
        for k in range(len(self.layers) - 1, 0, -1):
            a = outs[k]
            if k == 1 and x.ndim == 2:
                # The first layer's gradient below wants delta in (B, R, ·) memory order.
                delta = np.empty((batch, n, a.shape[-1])).transpose(1, 0, 2)
            else:
                delta = back
            np.multiply(back, _derivative(a, self.spec.activation), out=delta)
            if k == 1:
                break
            s = self.layers[k - 1]
            a = outs[k - 1]
            g_w = grad[:, s.w_start : s.b_start].reshape(n, s.fan_in, s.fan_out)
            np.matmul(a.transpose(0, 2, 1), delta, out=g_w)
            # A product with ones sums over the batch axis far faster than .sum(axis=1).
            np.matmul(ones, delta, out=grad[:, s.b_start : s.end])
            w = params[:, s.w_start : s.b_start].reshape(n, s.fan_in, s.fan_out)
            back = np.matmul(delta, w.transpose(0, 2, 1))
        s = self.layers[0]
        g = grad[:, s.w_start : s.end].reshape(n, s.fan_in + 1, s.fan_out)
        if x.ndim == 2:
            flat = x.T @ delta.transpose(1, 0, 2).reshape(batch, n * s.fan_out)
            g[...] = flat.reshape(s.fan_in + 1, n, s.fan_out).transpose(1, 0, 2)
        else:
            np.matmul(x.transpose(0, 2, 1), delta, out=g)
        return loss


def _loss(zt: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean loss over the batch of transposed logits zt (R, outputs, B), labels y (B,) or (R, B)."""
    if zt.shape[1] == 1:
        # softplus(z) − y·z, with softplus(z) = max(z, 0) + log1p(exp(−|z|)): exact, never
        # overflows, and several times faster than np.logaddexp(0, z).
        logit = zt[:, 0, :]
        loss = np.log1p(np.exp(-np.abs(logit)))
        loss += np.maximum(logit, 0.0)
        loss -= y * logit
        return loss.mean(axis=-1)
    m = zt.max(axis=1)
    lse = np.log(np.exp(zt - m[:, None, :]).sum(axis=1))
    lse += m
    lse -= _pick(zt, y)
    return lse.mean(axis=-1)


def _pick(zt: np.ndarray, y: np.ndarray) -> np.ndarray:
    """zt[r, y[r, b], b] (R, B) from zt (R, outputs, B), y (B,) shared or (R, B) per run."""
    if y.ndim == 1:
        return zt[:, y, np.arange(len(y))]
    return np.take_along_axis(zt, y[:, None, :], axis=1)[:, 0, :]


def _subtract_onehot(probs: np.ndarray, y: np.ndarray) -> None:
    """probs[r, y, b] −= 1 in place for probs (R, outputs, B), y (B,) or (R, B)."""
    if y.ndim == 1:
        probs[:, y, np.arange(len(y))] -= 1.0
    else:
        labels = y[:, None, :]
        np.put_along_axis(probs, labels, np.take_along_axis(probs, labels, 1) - 1.0, 1)
