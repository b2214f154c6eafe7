"""Radial bases beyond the registry's finite-difference rows: values against closed forms, the sine
basis's limit and slope at d = 0 and across its series switch."""
import numpy as np
import pytest

from refimpl.nn import radial
from refimpl.nn.radial import gaussian_rbf_forward, sine_rbf_backward, sine_rbf_forward


def test_sine_basis_matches_its_formula_and_its_limit_at_zero():
    d = np.array([0.0, 1e-9, 1e-4, 0.3, 2.0, 4.9])
    e, _ = sine_rbf_forward(d, 5, 5.0)
    n = np.arange(1, 6)
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = np.sin(n * np.pi * d[:, None] / 5.0) / d[:, None]
    exact[0] = n * np.pi / 5.0                                   # the limit n pi / r_c
    np.testing.assert_allclose(e, exact, rtol=1e-12)


def test_sine_basis_slope_is_zero_at_zero_and_the_series_matches_the_formula_at_the_switch():
    n_rbf, rc = 4, 5.0
    k = np.arange(1, n_rbf + 1) * np.pi / rc
    d = np.array([0.0, radial.SERIES_BELOW / k[-1] * (1 - 1e-9)])  # just inside the series for every n
    e, cache = sine_rbf_forward(d, n_rbf, rc)
    slopes = np.stack([sine_rbf_backward(np.eye(n_rbf)[[n, n]], cache) for n in range(n_rbf)], axis=1)
    assert np.all(slopes[0] == 0.0)                              # e_n is even in d
    x = k * d[1]
    np.testing.assert_allclose(e[1], np.sin(x) / d[1], rtol=1e-14)
    np.testing.assert_allclose(slopes[1], (x * np.cos(x) - np.sin(x)) / d[1] ** 2, rtol=1e-11)  # the formula's own round-off


def test_sine_basis_rejects_negative_distances_and_bad_sizes():
    with pytest.raises(ValueError, match=r"^d: expected distances >= 0"):
        sine_rbf_forward(np.array([-0.1]), 3, 5.0)
    with pytest.raises(ValueError, match=r"^n_rbf: expected a positive integer"):
        sine_rbf_forward(np.array([1.0]), 0, 5.0)
    with pytest.raises(ValueError, match=r"^cutoff"):
        sine_rbf_forward(np.array([1.0]), 3, 0.0)


def test_gaussian_basis_centres_and_width():
    e, _ = gaussian_rbf_forward(np.array([0.0, 2.5]), 3, 5.0)    # centres 0, 2.5, 5; width 2.5
    np.testing.assert_allclose(e, np.exp(-0.5 * np.array([[0, 1, 4], [1, 0, 1]])), rtol=1e-15)
