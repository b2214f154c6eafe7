"""Radial bases: expansions of a distance d into K smooth features (forward/backward pairs)."""
import numpy as np

from refimpl.core.validate import as_float_array, check_like, check_positive_int


# ----------------------------------------------------------------------------- radial basis
def gaussian_rbf_forward(d, n_rbf, cutoff):
    """Gaussian radial basis ``e_k(d) = exp(-(d - mu_k)^2 / (2 sigma^2))``.

    Centres mu_k = k r_c / (K - 1), k = 0..K-1, evenly spaced from 0 to r_c; width sigma = the spacing.
    d: (E,) distances; n_rbf: K >= 2; cutoff: r_c > 0. Returns e: (E, K).
    """
    d = as_float_array("d", d, ndim=1)
    n_rbf = check_positive_int("n_rbf", n_rbf)
    if n_rbf < 2:
        raise ValueError(f"n_rbf: expected an integer >= 2 (two centres fix the spacing), got {n_rbf}")
    if not cutoff > 0:
        raise ValueError(f"cutoff: expected a number > 0 (Angstrom), got {cutoff!r}")
    mu = np.linspace(0.0, cutoff, n_rbf)
    sigma = mu[1] - mu[0]
    diff = d[:, None] - mu
    e = np.exp(-0.5 * (diff / sigma) ** 2)
    return e, (diff, e, sigma)


def gaussian_rbf_backward(de, cache, *, check_finite=True):
    """``dd = sum_k de_k * e_k * (-(d - mu_k) / sigma^2)``. de: (E, K). Returns dd: (E,)."""
    diff, e, sigma = cache
    de = check_like("de", de, e.shape, check_finite)
    return np.einsum("ek,ek->e", de, e * diff) * (-1.0 / sigma**2)


# ----------------------------------------------------------------------------- sine (Bessel) basis
SERIES_BELOW = 0.1        # x = k d below which the sine basis uses its Taylor series


def sine_rbf_forward(d, n_rbf, cutoff):
    """Sine basis ``e_n(d) = sin(n pi d / r_c) / d``, n = 1..K (PaiNN; DimeNet's radial basis without
    its envelope and normalisation).

    At d = 0 it takes its limit n pi / r_c (schnetpack's ``BesselRBF`` gives 0 there, with a wrong
    gradient); for x = n pi d / r_c < 0.1 a Taylor series replaces the quotients, whose cancellation
    would cost digits (the slope's x cos x - sin x ~ -x^3/3 loses 3 eps / x^2 relative).
    d: (E,) distances >= 0; n_rbf: K >= 1; cutoff: r_c > 0. Returns e: (E, K).
    """
    d = as_float_array("d", d, ndim=1)
    n_rbf = check_positive_int("n_rbf", n_rbf)
    if not cutoff > 0:
        raise ValueError(f"cutoff: expected a number > 0 (Angstrom), got {cutoff!r}")
    if d.size and d.min() < 0:
        raise ValueError(f"d: expected distances >= 0, found {d.min()}")
    k = np.arange(1, n_rbf + 1) * np.pi / cutoff                  # frequencies n pi / r_c
    x = d[:, None] * k                                             # (E, K)
    small = x < SERIES_BELOW
    safe_d = np.where(d > 0, d, 1.0)[:, None]
    x2 = x * x
    # sin(x)/d = k sin(x)/x, sin(x)/x = 1 - x^2/3! + x^4/5! - x^6/7! + x^8/9! (error < 3e-18 for x < 0.1)
    series = 1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0)))
    e = np.where(small, k * series, np.sin(x) / safe_d)
    return e, (d, k, x, small, safe_d)


def sine_rbf_backward(de, cache, *, check_finite=True):
    """``de_n/dd = (k_n cos(k_n d) d - sin(k_n d)) / d^2`` (-> 0 as d -> 0; series there). de: (E, K).
    Returns dd: (E,)."""
    d, k, x, small, safe_d = cache
    de = check_like("de", de, x.shape, check_finite)
    # d/dd sin(k d)/d = (x cos x - sin x) / d^2 = k^2 f'(x), f(x) = sin(x)/x:
    # f'(x) = -x/3 + x^3/30 - x^5/840 + x^7/45360 - x^9/3991680
    x2 = x * x
    series = -x / 3.0 * (1.0 - x2 / 10.0 * (1.0 - x2 / 28.0 * (1.0 - x2 / 54.0 * (1.0 - x2 / 88.0))))
    slope = np.where(small, k**2 * series, (x * np.cos(x) - np.sin(x)) / safe_d**2)
    return np.einsum("ek,ek->e", de, slope)
