"""Angular pieces of DimeNet as forward/backward pairs: Legendre polynomials of cos(alpha) and the
spherical (Fourier-Bessel) basis of a triplet.

- ``legendre_forward(c, num_spherical)``: P_l(c), l = 0..L-1, by Bonnet's recursion
  (l+1) P_{l+1} = (2l+1) c P_l - l P_{l-1}, and P'_{l+1} = P'_{l-1} + (2l+1) P_l.
- ``spherical_basis_forward(d, c, idx_kj, cutoff, L, K, p)``: DimeNet's 2D basis of a
  triplet k -> j -> i, from the distance d_kj and the angle alpha_kji (book: Angles and
  directional message passing, `eq-sbf`):

      a_ln(d_kj, alpha) = (u(x)/x) * j_l(z_ln x) / sqrt(j_{l+1}(z_ln)^2 / 2) * Y_l^0(alpha),   x = d_kj / r_c

  with Y_l^0(alpha) = sqrt((2l+1) / (4 pi)) P_l(cos alpha) (m = 0 only: the angle about the bond
  j -> k is all a triplet has), z_ln the n-th zero of j_l and u the polynomial envelope
  (DimeNet's envelope exponent 5 is p = 6). Output column l * K + n (PyG's order).
  u(x)/x diverges at x = 0; we take 1/x = 0 there (coincident atoms are not in a radius graph).
"""
import numpy as np

from refimpl.core.scatter import _segment_sum
from refimpl.core.validate import as_float_array, as_index_array, check_like, check_positive_int
from refimpl.geometry.displacement import _safe_inverse
from refimpl.nn.bessel import _jl, _jl_prime, spherical_jn_zeros
from refimpl.nn.cutoffs import polynomial_cutoff_backward, polynomial_cutoff_forward


# ----------------------------------------------------------------------------- Legendre polynomials
def legendre_forward(c, num_spherical):
    """Legendre polynomials ``P_l(c)`` for l = 0..L-1 (Bonnet's recursion).

    c: (T,) cosines in [-1, 1]; num_spherical: L >= 1. Returns P: (T, L).
    """
    c = as_float_array("c", c, ndim=1)
    if c.size and np.abs(c).max() > 1.0 + 1e-12:
        raise ValueError(f"c: expected cosines in [-1, 1], found {np.abs(c).max()}")
    L = check_positive_int("num_spherical", num_spherical)
    if L < 1:
        raise ValueError(f"num_spherical: expected an integer >= 1, got {num_spherical}")
    P, dP = np.zeros((c.shape[0], L)), np.zeros((c.shape[0], L))
    P[:, 0] = 1.0
    if L > 1:
        P[:, 1], dP[:, 1] = c, 1.0
    for l in range(1, L - 1):
        P[:, l + 1] = ((2 * l + 1) * c * P[:, l] - l * P[:, l - 1]) / (l + 1)
        dP[:, l + 1] = dP[:, l - 1] + (2 * l + 1) * P[:, l]
    return P, (dP,)


def legendre_backward(dP, cache, *, check_finite=True):
    """``dc = sum_l dP_l P_l'(c)``. dP: (T, L). Returns dc: (T,)."""
    (dPdc,) = cache
    return np.einsum("tl,tl->t", check_like("dP", dP, dPdc.shape, check_finite), dPdc)


# ----------------------------------------------------------------------------- spherical basis
def _radial_part(x, z, norm):
    """(u/x-free) N_ln j_l(z_ln x) and its x-derivative, each (E, L, K)."""
    zx = x[:, None, None] * z
    j = np.stack([_jl(zx[:, l], l) for l in range(z.shape[0])], axis=1)
    dj = np.stack([_jl_prime(zx[:, l], l) for l in range(z.shape[0])], axis=1) * z
    return norm * j, norm * dj


def spherical_basis_forward(d, c, idx_kj, cutoff, num_spherical, num_radial, p=6):
    """DimeNet's spherical basis of each triplet (`eq-sbf`).

    d: (E,) edge lengths; c: (T,) cos(alpha_kji) (``triplet_cosine_forward``); idx_kj: (T,) the
    edge k -> j of each triplet; cutoff: r_c; num_spherical: L orders; num_radial: K; p: envelope
    power. Returns a: (T, L * K), column l * K + n.
    """
    d = as_float_array("d", d, ndim=1)
    idx_kj = as_index_array("idx_kj", idx_kj, size=d.shape[0])
    z = spherical_jn_zeros(num_spherical, num_radial)
    norm = np.sqrt(2.0) / np.abs(np.stack([_jl(z[l], l + 1) for l in range(z.shape[0])]))
    P, c_P = legendre_forward(c, num_spherical)
    if P.shape[0] != idx_kj.shape[0]:
        raise ValueError(f"c and idx_kj: expected one cosine per triplet, got {P.shape[0]} and {idx_kj.shape[0]}")
    Y = P * np.sqrt((2 * np.arange(num_spherical) + 1) / (4 * np.pi))
    u, c_u = polynomial_cutoff_forward(d, cutoff, p)
    x = d / c_u[1]
    inv_x = _safe_inverse(x)
    w = u * inv_x                                                 # u(x) / x, 0 at x = 0
    R, dR = _radial_part(x, z, norm)
    rad = w[:, None, None] * R                                    # (E, L, K) per edge
    a = rad[idx_kj] * Y[:, :, None]
    cache = (c_P, c_u, u, x, inv_x, w, R, dR, rad, Y, idx_kj, d.shape[0])
    return a.reshape(a.shape[0], num_spherical * num_radial), cache


def spherical_basis_backward(da, cache, *, check_finite=True):
    """da: (T, L*K). Returns (dd (E,), dc (T,)).

    The radial factor's gradient is summed over the triplets that share an edge k -> j, then
    d/dx [w R] = w' R + w R' with w = u/x, w' = (u' - u/x) / x.
    """
    c_P, c_u, u, x, inv_x, w, R, dR, rad, Y, idx_kj, n_edges = cache
    T, L, K = idx_kj.shape[0], R.shape[1], R.shape[2]
    da = check_like("da", da, (T, L * K), check_finite).reshape(T, L, K)
    dY = np.einsum("tlk,tlk->tl", da, rad[idx_kj])
    dc = legendre_backward(dY * np.sqrt((2 * np.arange(L) + 1) / (4 * np.pi)), c_P, check_finite=False)
    drad = _segment_sum(da * Y[:, :, None], idx_kj, n_edges)      # (E, L, K)
    dw = np.einsum("elk,elk->e", drad, R)
    dx = np.einsum("elk,elk->e", drad, dR) * w
    # w = u * inv_x: through u (the envelope's own backward, in d) and through 1/x
    du_dd = polynomial_cutoff_backward(np.ones_like(u), c_u)      # the envelope's slope (linear in its dout)
    dd = dw * inv_x * du_dd + (dx - dw * u * inv_x**2) / c_u[1]
    return dd, dc
