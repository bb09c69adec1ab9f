"""The shipped digits data and the documented split (a task's k-th row validates when
k % 5 == 4)."""

from __future__ import annotations

import numpy as np
import pytest

from studio.errors import StudioError
from studio.network.data import TASKS, DataError, is_validation, load_digits, load_task
from studio.resources import asset_path


def test_the_file_holds_the_uci_digits() -> None:
    pixels, digits = load_digits()
    assert pixels.shape == (1797, 64) and digits.shape == (1797,)
    assert pixels.min() == 0 and pixels.max() == 16
    assert np.bincount(digits).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert asset_path("data/DIGITS_LICENSE.txt").read_text().count("CC BY 4.0") >= 1


@pytest.mark.parametrize(
    ("task", "n_train", "n_val", "labels"),
    [
        ("digits01", 288, 72, {0, 1}),
        ("digits", 1438, 359, set(range(10))),
    ],
)
def test_split_sizes_and_labels(task: str, n_train: int, n_val: int, labels: set[int]) -> None:
    data = load_task(task)
    assert (data.n_train, data.n_val) == (n_train, n_val)
    assert data.x_train.shape == (n_train, 64) and data.x_val.shape == (n_val, 64)
    assert set(data.y_train.tolist()) == labels and set(data.y_val.tolist()) == labels
    assert data.n_outputs == (1 if task == "digits01" else 10)
    pixels, digits = load_digits()
    task_rows = np.flatnonzero(digits <= 1) if task == "digits01" else np.arange(len(digits))
    rank = np.searchsorted(task_rows, data.val_index)
    assert np.all(task_rows[rank] == data.val_index) and np.all(rank % 5 == 4)
    rank = np.searchsorted(task_rows, data.train_index)
    assert not np.any(rank % 5 == 4)
    assert not set(data.train_index.tolist()) & set(data.val_index.tolist())
    # Inputs are pixel / 16; for digits01 the label is 1 exactly for the digit 1.
    np.testing.assert_array_equal(data.x_train, pixels[data.train_index] / 16.0)
    np.testing.assert_array_equal(data.x_val * 16.0, pixels[data.val_index])
    np.testing.assert_array_equal(data.y_train, digits[data.train_index])
    if task == "digits01":
        kept = np.flatnonzero(digits <= 1)
        np.testing.assert_array_equal(np.sort(np.r_[data.train_index, data.val_index]), kept)


def test_split_rule_and_read_only_arrays() -> None:
    assert is_validation(np.arange(10)).tolist() == [False] * 4 + [True] + [False] * 4 + [True]
    data = load_task("digits01")
    with pytest.raises(ValueError):
        data.x_train[0, 0] = 1.0
    assert load_task("digits01") is data  # cached: one copy per process


def test_unknown_task_is_a_one_line_error() -> None:
    with pytest.raises(DataError) as info:
        load_task("mnist")
    assert isinstance(info.value, StudioError)
    assert str(info.value) == f"unknown task 'mnist' (choose from {', '.join(TASKS)})"
