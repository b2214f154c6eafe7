"""Seeded parameter initializers. Pass ``rng = np.random.default_rng(seed)``; never global state."""
import numpy as np

from refimpl.core.validate import check_nonnegative_int, check_positive_int


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng: expected numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")


def _check_fan(name, value):
    """A layer width: an integer >= 1 (the scales below divide by it)."""
    return check_positive_int(name, value)


def glorot_uniform(rng, fan_in, fan_out):
    """Glorot/Xavier uniform weights, U(-a, a) with a = sqrt(6 / (fan_in + fan_out)). Returns (fan_in, fan_out)."""
    _check_rng(rng)
    fan_in, fan_out = _check_fan("fan_in", fan_in), _check_fan("fan_out", fan_out)
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=(fan_in, fan_out))


def he_normal(rng, fan_in, fan_out):
    """He/Kaiming normal weights, N(0, 2 / fan_in), suited to ReLU. Returns (fan_in, fan_out)."""
    _check_rng(rng)
    fan_in, fan_out = _check_fan("fan_in", fan_in), _check_fan("fan_out", fan_out)
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))


def zeros(*shape):
    """A float64 array of zeros (biases). shape: non-negative integers, e.g. ``zeros(8)``."""
    for n in shape:
        check_nonnegative_int("shape", n)
    return np.zeros(shape)
