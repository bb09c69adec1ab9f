"""Descent Studio: gradient-descent optimizers racing on a loss surface you type."""

__version__ = "0.1.0"
