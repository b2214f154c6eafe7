"""Differentiable pair geometry as forward/backward pairs (edge convention: row 0 of ``edge_index`` is
the source j, row 1 the target i, and ``r_ij = x_j - x_i``):

- ``displacement_forward(pos, edge_index)``: r_ij, (E, 3)
- ``distance_forward(r)``: d_ij = |r_ij|, (E,)
- ``unit_vector_forward(r)``: u_ij = r_ij / |r_ij|, (E, 3)

Coincident atoms (r_ij = 0) never produce NaN or inf. The length |r| has no
derivative at r = 0 (it is a cone); we return the gradient 0 there, which is the
smallest of its subgradients, and we define u(0) = 0 with gradient 0. Away from
r = 0 both functions and their gradients are exact (no epsilon is added; lengths below
~1e-154 Angstrom underflow to 0 and count as coincident).
"""
import numpy as np

from refimpl.core.scatter import _segment_sum
from refimpl.core.validate import as_edge_index, as_float_array, check_like

# a length below TINY counts as zero. Lengths are sqrt(r . r): r . r underflows to 0 when
# |r| < ~1e-154 (such r counts as coincident), and a nonzero d is >= ~2e-162, so 1/d is finite.
TINY = np.finfo(np.float64).tiny


# ----------------------------------------------------------------------------- displacement
def displacement_forward(pos, edge_index):
    """Edge vectors ``r_ij = x_j - x_i``, j = edge_index[0] (source), i = edge_index[1] (target).

    pos: (N, 3); edge_index: (2, E). Returns r: (E, 3).
    """
    pos = as_float_array("pos", pos, shape=(None, 3))
    edge_index = as_edge_index(edge_index, num_nodes=pos.shape[0])
    j, i = edge_index
    return pos[j] - pos[i], (edge_index, pos.shape[0])


def displacement_backward(dr, cache, *, check_finite=True):
    """``dpos_a = sum_{edges with j = a} dr - sum_{edges with i = a} dr``: one segment sum.

    dr: (E, 3) (check_finite=False: test its shape only). Returns dpos: (N, 3).
    """
    edge_index, n = cache
    dr = check_like("dr", dr, (edge_index.shape[1], 3), check_finite)
    j, i = edge_index
    return _segment_sum(np.concatenate([dr, -dr]), np.concatenate([j, i]), n)


# ----------------------------------------------------------------------------- distance
def _safe_inverse(d):
    """1/d where d >= TINY, else 0 (so coincident atoms give finite, zero gradients)."""
    inv = np.zeros_like(d)
    np.divide(1.0, d, out=inv, where=d >= TINY)
    return inv


def distance_forward(r):
    """Lengths ``d_ij = |r_ij| = sqrt(r . r)``. r: (E, 3). Returns d: (E,).

    Exact for every r; d = 0 for coincident atoms (r = 0).
    """
    r = as_float_array("r", r, shape=(None, 3))
    d = np.sqrt(np.einsum("ek,ek->e", r, r))
    return d, (r, _safe_inverse(d))


def distance_backward(dd, cache, *, check_finite=True):
    """``dr = dd * r / |r|``; at r = 0 we use the subgradient 0 (never NaN). dd: (E,). Returns (E, 3).

    check_finite=False tests only the shape of dd.
    """
    r, inv_d = cache
    dd = check_like("dd", dd, inv_d.shape, check_finite)
    return (dd * inv_d)[:, None] * r


# ----------------------------------------------------------------------------- unit vector
def unit_vector_forward(r):
    """Directions ``u_ij = r_ij / |r_ij|``; u = 0 where r = 0. r: (E, 3). Returns u: (E, 3)."""
    r = as_float_array("r", r, shape=(None, 3))
    inv_d = _safe_inverse(np.sqrt(np.einsum("ek,ek->e", r, r)))
    u = r * inv_d[:, None]
    return u, (u, inv_d)


def unit_vector_backward(du, cache):
    """``dr = (du - u (u . du)) / |r|``: only the part of du orthogonal to u moves u; 0 at r = 0.

    du: (E, 3). Returns dr: (E, 3).
    """
    u, inv_d = cache
    du = check_like("du", du, u.shape)
    along = np.einsum("ek,ek->e", u, du)
    return (du - u * along[:, None]) * inv_d[:, None]
