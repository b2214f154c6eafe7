"""Spherical Bessel functions j_l and DimeNet's radial (Bessel) basis, as forward/backward pairs.

- ``spherical_jn_forward(x, l)``: j_l(x) for l = 0..L_MAX, by the closed form (`eq-jl-closed`)
  for large x and by its power series (`eq-jl-series`) for small x, where the closed form
  cancels: j_6(x) ~ x^6 / 135135 near 0 is the small difference of terms ~ 135135 / x^7.
- ``spherical_jn_zeros(num_spherical, num_radial)``: z_ln, the first zeros of j_0..j_{L-1}.
- ``bessel_rbf_forward(d, freq, cutoff, p)``: e_n(d) = (u(x) / x) sin(f_n x), x = d / r_c, the
  radial basis of DimeNet, with u the polynomial envelope (``refimpl.nn.cutoffs``) and frequencies
  f_n initialized at n pi. DimeNet's "envelope exponent 5" is our p = 6 (its code adds one).

Closed form, with a_k = (l + k)! / (2^k k! (l - k)!)                                 (eq-jl-closed)

    j_l(x) = [sin(x - l pi/2) sum_k (-1)^k a_2k / x^2k + cos(x - l pi/2) sum_k (-1)^k a_2k+1 / x^(2k+1)] / x

Series:  j_l(x) = x^l / (2l+1)!! sum_k (-x^2/2)^k / (k! (2l+3)(2l+5)...(2l+2k+1))        (eq-jl-series)
Derivative: j_l' = (l j_{l-1} - (l+1) j_{l+1}) / (2l+1), j_0' = -j_1 (no 1/x: no cancellation).
"""
from functools import lru_cache
from math import factorial

import numpy as np
from scipy.optimize import brentq

from refimpl.core.validate import as_float_array, check_like, check_nonnegative_int, check_positive_int
from refimpl.nn.cutoffs import polynomial_cutoff_backward, polynomial_cutoff_forward

L_MAX = 8           # the closed forms are tested against scipy.special.spherical_jn for l <= L_MAX
_SERIES_TERMS = 30  # the series is used for |x| < l + 1, where 30 terms reach float64 precision


def _check_order(l):
    l = check_nonnegative_int("l", l)
    if l > L_MAX + 1:
        raise ValueError(f"l: expected an order 0 <= l <= {L_MAX + 1}, got {l}")
    return l


def _jl_closed(x, l):
    """j_l(x) by `eq-jl-closed` (x != 0)."""
    a = [factorial(l + k) / (2**k * factorial(k) * factorial(l - k)) for k in range(l + 1)]
    inv = 1.0 / x
    s = sum((-1) ** k * a[2 * k] * inv ** (2 * k) for k in range(l // 2 + 1))
    c = sum((-1) ** k * a[2 * k + 1] * inv ** (2 * k + 1) for k in range((l + 1) // 2))
    phase = x - l * np.pi / 2
    return (np.sin(phase) * s + np.cos(phase) * c) * inv


def _jl_series(x, l):
    """j_l(x) by `eq-jl-series` (accurate for |x| < l + 1)."""
    double_factorial = np.prod(np.arange(2 * l + 1, 0, -2, dtype=np.float64))
    y = -0.5 * x * x
    term, total = np.ones_like(x), np.ones_like(x)
    for k in range(1, _SERIES_TERMS):
        term = term * y / (k * (2 * l + 2 * k + 1))
        total = total + term
    return x**l / double_factorial * total


def _jl(x, l):
    """j_l(x) for any float array x (no validation)."""
    small = np.abs(x) < l + 1.0
    out = np.empty_like(x)
    out[small] = _jl_series(x[small], l)
    out[~small] = _jl_closed(x[~small], l)
    return out


def _jl_prime(x, l):
    """dj_l/dx."""
    if l == 0:
        return -_jl(x, 1)
    return (l * _jl(x, l - 1) - (l + 1) * _jl(x, l + 1)) / (2 * l + 1)


def spherical_jn_forward(x, l):
    """Spherical Bessel function of the first kind j_l(x) (`eq-jl-closed`, `eq-jl-series`).

    x: any shape; l: order 0 <= l <= L_MAX + 1. Returns j shaped like x.
    """
    x = as_float_array("x", x)
    l = _check_order(l)
    if l > L_MAX:
        raise ValueError(f"l: expected an order 0 <= l <= {L_MAX} (the derivative needs j_(l+1)), got {l}")
    return _jl(x, l), (x, l)


def spherical_jn_backward(dj, cache, *, check_finite=True):
    """``dx = dj * j_l'(x)``, j_l' = (l j_{l-1} - (l+1) j_{l+1}) / (2l+1). dj: like x. Returns dx."""
    x, l = cache
    return check_like("dj", dj, x.shape, check_finite) * _jl_prime(x, l)


@lru_cache(maxsize=None)
def _zeros(num_spherical, num_radial):
    # zeros of j_0 are n pi; those of j_l interlace those of j_(l-1), so each lies in a bracket
    z = np.zeros((num_spherical, num_radial + num_spherical))
    z[0] = np.arange(1, z.shape[1] + 1) * np.pi
    for l in range(1, num_spherical):
        f = lambda t, l=l: float(_jl(np.array([t]), l)[0])
        for n in range(z.shape[1] - l):
            z[l, n] = brentq(f, z[l - 1, n], z[l - 1, n + 1], xtol=1e-15)
    return z[:, :num_radial]


def spherical_jn_zeros(num_spherical, num_radial):
    """z_ln: the first ``num_radial`` positive zeros of j_l for l = 0..num_spherical-1.

    Returns a read-only (num_spherical, num_radial) array (computed once by bisection, Brent's method).
    """
    L, K = check_positive_int("num_spherical", num_spherical), check_positive_int("num_radial", num_radial)
    if not 1 <= L <= L_MAX:
        raise ValueError(f"num_spherical: expected an integer in [1, {L_MAX}], got {num_spherical}")
    if K < 1:
        raise ValueError(f"num_radial: expected an integer >= 1, got {num_radial}")
    z = _zeros(L, K)
    z.flags.writeable = False
    return z


# ----------------------------------------------------------------------------- DimeNet's radial basis
def bessel_rbf_forward(d, freq, cutoff, p=6):
    """DimeNet radial basis ``e_n(d) = (u(x) / x) sin(f_n x) = u(x) f_n j_0(f_n x)``, x = d / r_c.

    d: (E,) distances; freq: (K,) frequencies f_n (DimeNet: n pi, trained); cutoff: r_c;
    p: envelope power (DimeNet's envelope exponent 5 is p = 6). Returns e: (E, K), 0 for d >= r_c.
    Written with j_0, the value is finite at d = 0 (the limit f_n), where u(x)/x alone diverges.
    """
    d = as_float_array("d", d, ndim=1)
    freq = as_float_array("freq", freq, ndim=1)
    u, c_u = polynomial_cutoff_forward(d, cutoff, p)
    x = d / c_u[1]
    fx = x[:, None] * freq
    g = freq * _jl(fx, 0)                                        # sin(f x) / x
    return u[:, None] * g, (c_u, u, x, fx, g, freq)


def bessel_rbf_backward(de, cache, *, check_finite=True):
    """de: (E, K). Returns (dd (E,), dfreq (K,)).

    de/dx = u'(x) g + u (-f^2 j_1(f x)) (since d/dx [f j_0(f x)] = f^2 j_0'(f x)); de/df = u cos(f x).
    """
    c_u, u, x, fx, g, freq = cache
    de = check_like("de", de, g.shape, check_finite)
    du_dd = polynomial_cutoff_backward(np.ones_like(u), c_u)      # the envelope's slope (linear in its dout)
    dd = np.einsum("ek,ek->e", de, g) * du_dd + np.einsum("ek,ek->e", de, -(freq**2) * _jl(fx, 1)) * u / c_u[1]
    dfreq = np.einsum("ek,e->k", de * np.cos(fx), u)
    return dd, dfreq
