"""Activations agree with their textbook formulas and stay finite at extreme inputs."""
import numpy as np
import pytest

from refimpl.core.layers import ACTIVATIONS, shifted_softplus_backward, shifted_softplus_forward

EXTREMES = np.array([-1e4, -800.0, -50.0, -1.0, -1e-12, 0.0, 1e-12, 1.0, 50.0, 800.0, 1e4])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_finite_values_and_gradients_at_extreme_inputs(name):
    forward, backward = ACTIVATIONS[name]
    with np.errstate(over="raise", invalid="raise", divide="raise"):   # overflow is an error
        out, cache = forward(EXTREMES)
        grad = backward(np.ones_like(EXTREMES), cache)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(grad))


def test_shifted_softplus_matches_logaddexp():
    x = np.concatenate([EXTREMES, np.random.default_rng(0).normal(scale=20.0, size=1000)])
    out, cache = shifted_softplus_forward(x)
    np.testing.assert_allclose(out, np.logaddexp(0.0, x) - np.log(2.0), rtol=1e-13, atol=1e-15)
    with np.errstate(over="ignore"):                  # exp(-x) = inf gives sigmoid = 0, correctly
        sigmoid = 1.0 / (1.0 + np.exp(-x))
    np.testing.assert_allclose(shifted_softplus_backward(np.ones_like(x), cache), sigmoid,
                               rtol=1e-12, atol=1e-300)
    assert out[EXTREMES.tolist().index(0.0)] == 0.0   # ssp(0) = 0 exactly
