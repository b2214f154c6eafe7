"""Cutoff envelopes (forward/backward pairs). Each f(d) goes smoothly from 1 at d = 0 to 0 at d = r_c and stay 0 beyond,
so an atom crossing the cutoff changes the energy continuously:

- ``cosine_cutoff_forward``: f(d) = (cos(pi d / r_c) + 1) / 2 (SchNet, Behler);
- ``polynomial_cutoff_forward``: the DimeNet envelope, with u = d / r_c,
  f(u) = 1 - (p+1)(p+2)/2 u^p + p(p+2) u^(p+1) - p(p+1)/2 u^(p+2);
  f(0) = 1 with its first p - 1 derivatives zero, and f, f', f'' all vanish at u = 1.
  DimeNet's code and PyG call this "envelope exponent 5": their exponent is p - 1, so the default
  p = 6 here is the reference's default. (Their envelope is u(x)/x, which diverges at d = 0; ours is
  u(x) itself, and a model that wants the 1/x multiplies it in.)
"""
import numpy as np

from refimpl.core.validate import as_float_array, check_like, check_positive_int
from refimpl.geometry.radius import _check_cutoff


# ----------------------------------------------------------------------------- cutoff envelopes
def _check_distances(d):
    d = as_float_array("d", d)
    if d.size and d.min() < 0:
        raise ValueError(f"d: expected distances >= 0, found {d.min()}")
    return d


def cosine_cutoff_forward(d, cutoff):
    """Cosine envelope ``f(d) = (cos(pi d / r_c) + 1) / 2`` for d < r_c, else 0.

    d: distances (any shape, >= 0); cutoff: r_c > 0. Returns f shaped like d.
    """
    d, rc = _check_distances(d), _check_cutoff(cutoff)
    inside = d < rc
    f = np.where(inside, 0.5 * (np.cos(np.pi * d / rc) + 1.0), 0.0)
    return f, (d, rc, inside)


def cosine_cutoff_backward(df, cache, *, check_finite=True):
    """``f'(d) = -(pi / 2 r_c) sin(pi d / r_c)`` inside, 0 outside. Returns dd shaped like d.

    df: shaped like d (check_finite=False: test its shape only).
    """
    d, rc, inside = cache
    slope = np.where(inside, -0.5 * np.pi / rc * np.sin(np.pi * d / rc), 0.0)
    return check_like("df", df, d.shape, check_finite) * slope


def polynomial_cutoff_forward(d, cutoff, p=6):
    """DimeNet envelope: with u = d / r_c, for u < 1,
    ``f = 1 - (p+1)(p+2)/2 u^p + p(p+2) u^(p+1) - p(p+1)/2 u^(p+2)``, else 0.

    d: distances (any shape, >= 0); cutoff: r_c > 0; p: int >= 1 (DimeNet's "exponent 5" is p = 6).
    Returns f shaped like d.
    """
    d, rc = _check_distances(d), _check_cutoff(cutoff)
    p = check_positive_int("p", p)
    u = d / rc
    inside = u < 1.0
    f = 1.0 - (p + 1) * (p + 2) / 2 * u**p + p * (p + 2) * u**(p + 1) - p * (p + 1) / 2 * u**(p + 2)
    return np.where(inside, f, 0.0), (u, rc, p, inside)


def polynomial_cutoff_backward(df, cache):
    """``df/dd = -p(p+1)(p+2)/(2 r_c) u^(p-1) (1 - u)^2`` inside, 0 outside. Returns dd shaped like d."""
    u, rc, p, inside = cache
    slope = -p * (p + 1) * (p + 2) / (2.0 * rc) * u**(p - 1) * (1.0 - u) ** 2
    return check_like("df", df, u.shape) * np.where(inside, slope, 0.0)
