"""The network lab: digits data, a multilayer perceptron with exact vectorised gradients,
and the 2-D landscape planes its training runs are shown on. Pure NumPy, no Qt."""
