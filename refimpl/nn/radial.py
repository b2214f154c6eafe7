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
    if n_rbf < 2 or not cutoff > 0:
        raise ValueError(f"n_rbf, cutoff: expected n_rbf >= 2 and cutoff > 0, got {n_rbf}, {cutoff}")
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
