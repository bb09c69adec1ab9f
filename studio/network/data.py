"""The digits data sets of the network lab, read with NumPy from `assets/data/digits.csv.gz`.

The file is the UCI optical-digits set (Alpaydin & Kaynak, CC BY 4.0; the attribution is in
`assets/data/DIGITS_LICENSE.txt`): 1,797 rows of 64 pixel counts in 0..16 (an 8×8 image, row
by row) and the digit. Inputs are pixel/16, so every feature lies in [0, 1].

The split is fixed and easy to reproduce elsewhere: a task keeps its rows of the file in file
order, and its k-th row (0-based) is a validation row when k % 5 == 4, a training row
otherwise: a fifth of every task validates. (For `digits` k is the row's index in the file.
For `digits01` it counts the 0s and 1s only: the file cycles through the digits, so the
file's own index would put only 13% of the 0s and 1s in validation.)

- `digits01`: only the digits 0 and 1; the label is 1 for the digit 1 and 0 for the digit 0
  (one sigmoid output, mean binary cross-entropy).
- `digits`: all ten digits; the label is the digit (ten softmax outputs, mean cross-entropy).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import cache

import numpy as np

from studio.errors import StudioError
from studio.resources import asset_path

DIGITS_FILE = "data/digits.csv.gz"
N_PIXELS = 64
PIXEL_MAX = 16.0
TASKS = ("digits01", "digits")


class DataError(StudioError):
    """A task that does not exist, or a data file that cannot be read."""


@dataclass(frozen=True, eq=False)
class TaskData:
    """One task's inputs and labels, split into training and validation rows.

    `x_*` are (rows, 64) float64 in [0, 1]; `y_*` are (rows,) int64 labels (0/1 for
    `digits01`, 0..9 for `digits`); `*_index` are the rows' 0-based indices in the file.
    `n_outputs` is 1 for a binary task (sigmoid output) and the number of classes otherwise.
    """

    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    train_index: np.ndarray
    val_index: np.ndarray
    n_outputs: int

    @property
    def n_inputs(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_val(self) -> int:
        return int(self.x_val.shape[0])


@cache
def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 rows of the file: pixels (rows, 64) int64 in 0..16 and digits (rows,) int64.

    The arrays are read once per process and marked read-only, since they are shared.
    """
    path = asset_path(DIGITS_FILE)
    try:
        with gzip.open(path, "rt", encoding="ascii") as fh:
            table = np.loadtxt(fh, delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"cannot read {DIGITS_FILE}: {exc}") from None
    if table.shape[1] != N_PIXELS + 1:
        raise DataError(f"{DIGITS_FILE} must have {N_PIXELS + 1} columns, not {table.shape[1]}")
    pixels, digits = table[:, :N_PIXELS].copy(), table[:, N_PIXELS].copy()
    if pixels.min() < 0 or pixels.max() > PIXEL_MAX or digits.min() < 0 or digits.max() > 9:
        raise DataError(f"{DIGITS_FILE} has pixels outside 0..16 or labels outside 0..9")
    pixels.flags.writeable = False
    digits.flags.writeable = False
    return pixels, digits


def is_validation(index: np.ndarray) -> np.ndarray:
    """Whether each 0-based row index of a task's rows belongs to the validation split."""
    return np.asarray(index) % 5 == 4


@cache
def load_task(task: str) -> TaskData:
    """The rows of `task` (one of `TASKS`), split and scaled; cached, arrays read-only."""
    if task not in TASKS:
        raise DataError(f"unknown task '{task}' (choose from {', '.join(TASKS)})")
    pixels, digits = load_digits()
    index = np.arange(len(digits))
    if task == "digits01":
        keep = digits <= 1
        labels, n_outputs = digits, 1
    else:
        keep = np.ones(len(digits), bool)
        labels, n_outputs = digits, 10
    rank = np.cumsum(keep) - 1  # each kept row's index among the task's rows
    val = is_validation(rank) & keep
    train = ~is_validation(rank) & keep
    data = TaskData(
        task,
        x_train=pixels[train] / PIXEL_MAX,
        y_train=labels[train],
        x_val=pixels[val] / PIXEL_MAX,
        y_val=labels[val],
        train_index=index[train],
        val_index=index[val],
        n_outputs=n_outputs,
    )
    for a in (data.x_train, data.y_train, data.x_val, data.y_val, data.train_index, data.val_index):
        a.flags.writeable = False
    return data
