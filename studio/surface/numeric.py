"""The NumPy forms of the language's own functions: what generated code calls them by.

Sympy-free, so that code generated earlier (the pregenerated presets, the disk cache; see
docs/architecture.md#start-up) runs without importing sympy. Numerically stable forms:
sigmoid through tanh, softplus via logaddexp.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def _np_sigmoid(z: Any) -> Any:
    return 0.5 + 0.5 * np.tanh(0.5 * np.asarray(z, dtype=np.float64))


def _np_softplus(z: Any) -> Any:
    return np.logaddexp(0.0, np.asarray(z, dtype=np.float64))


NUMPY_NAMESPACE: dict[str, Callable[..., Any]] = {
    "StudioSign": np.sign,
    "StudioAbs": np.abs,
    "StudioMin": np.minimum,
    "StudioMax": np.maximum,
    "StudioSigmoid": _np_sigmoid,
    "StudioSoftplus": _np_softplus,
    "StudioAtan2": np.arctan2,
}
"""What generated code resolves our own functions to (sympy's are printed as numpy.*)."""
