"""The E(n)-equivariant graph convolution of EGNN (Satorras, Hoogeboom, Welling 2021) as forward/backward pairs.

Edge convention: row 0 of ``edge_index`` is the source j, row 1 the target i, ``r_ij = x_j - x_i``;
a message travels j -> i. One layer (book: EGNN, `eq-egnn`):

    m_ij  = phi_e([h_i, h_j, |r_ij|^2])                      phi_e: Linear, SiLU, Linear, SiLU
    x_i' = x_i - (1 / max(deg_i, 1)) sum_{j -> i} r_ij phi_x(m_ij)   phi_x: Linear, SiLU, Linear (no bias) [, tanh]
    h_i' = h_i + phi_h([h_i, sum_{j -> i} m_ij])              phi_h: Linear, SiLU, Linear

deg_i is the number of edges into i. The reference (vgsatorras/egnn, ``egnn_clean.py``) writes
``x_i += mean_j (x_i - x_j) phi_x(m_ij)`` with ``row, col = edge_index`` and aggregation onto ``row``:
its row is our target i (our ``edge_index[1]``), its col our source j, and its ``x_i - x_j`` is our
``-r_ij``. The update is the same; only the written sign moves. Coordinates are averaged, messages
summed, as in the reference. The coordinates enter only through differences and squared lengths:
no square root, so every block here is smooth, also at coincident atoms.

Blocks: ``edge_mlp`` (phi_e), ``coord_mlp`` (phi_x), ``coord_update`` (the mean of r_ij phi_ij),
``node_mlp`` (phi_h with its residual) and ``egnn_layer``, which chains them. Not ported: the
reference's ``attention`` and ``normalize`` options (``normalize`` divides by a detached length, so
autograd there is not the derivative of the function; see the references notes).
"""
import numpy as np

from refimpl.core.layers import linear_backward, linear_forward, silu_backward, silu_forward, tanh_backward, tanh_forward
from refimpl.core.scatter import (gather_backward, gather_forward, scatter_mean_backward, scatter_mean_forward,
                                  scatter_sum_backward, scatter_sum_forward)
from refimpl.core.validate import as_edge_index, as_float_array, check_flag, check_like
from refimpl.geometry import displacement_backward, displacement_forward


def _two_layer(z, W0, b0, W1, b1, act_out):
    """``silu(z W0 + b0) W1 + b1``, then SiLU when act_out. Returns (out, cache)."""
    a, c0 = linear_forward(z, W0, b0)
    s, cs = silu_forward(a)
    out, c1 = linear_forward(s, W1, b1)
    c2 = None
    if act_out:
        out, c2 = silu_forward(out)
    return out, (c0, cs, c1, c2)


def _two_layer_grads(dout, cache):
    """Gradients of ``_two_layer``: (dz, dW0, db0, dW1, db1); db1 is None without a bias."""
    c0, cs, c1, c2 = cache
    if c2 is not None:
        dout = silu_backward(dout, c2, check_finite=False)
    ds, dW1, db1 = linear_backward(dout, c1, check_finite=False)
    dz, dW0, db0 = linear_backward(silu_backward(ds, cs, check_finite=False), c0, check_finite=False)
    return dz, dW0, db0, dW1, db1


# ----------------------------------------------------------------------------- phi_e: messages
def edge_mlp_forward(h, sqdist, edge_index, W0, b0, W1, b1):
    """Messages ``m_ij = silu(silu([h_i, h_j, d_ij^2] W0 + b0) W1 + b1)`` (book: EGNN, `eq-egnn`).

    h: (N, F); sqdist: (E,) squared lengths |r_ij|^2; edge_index: (2, E); W0: (2F + 1, H); b0: (H,);
    W1: (H, H); b1: (H,). Returns m: (E, H). The concatenation is target first, as in the reference.
    """
    h = as_float_array("h", h, ndim=2)
    edge_index = as_edge_index(edge_index, num_nodes=h.shape[0])
    sqdist = as_float_array("sqdist", sqdist, shape=(edge_index.shape[1],))
    hi, c_i = gather_forward(h, edge_index[1])
    hj, c_j = gather_forward(h, edge_index[0])
    m, c = _two_layer(np.concatenate([hi, hj, sqdist[:, None]], axis=1), W0, b0, W1, b1, act_out=True)
    return m, (c_i, c_j, c, m.shape, h.shape[1])


def edge_mlp_backward(dm, cache, *, check_finite=True):
    """dm: (E, H). Returns (dh (N, F), dsqdist (E,), dW0, db0, dW1, db1)."""
    c_i, c_j, c, m_shape, F = cache
    dz, dW0, db0, dW1, db1 = _two_layer_grads(check_like("dm", dm, m_shape, check_finite), c)
    dh = gather_backward(dz[:, :F], c_i, check_finite=False) + gather_backward(dz[:, F:2 * F], c_j, check_finite=False)
    return dh, dz[:, 2 * F], dW0, db0, dW1, db1


# ----------------------------------------------------------------------------- phi_x: one weight per edge
def coord_mlp_forward(m, W0, b0, W1, tanh=False):
    """Edge weights ``phi_ij = silu(m_ij W0 + b0) W1`` (no bias on the last layer), optionally tanh'd.

    m: (E, H); W0: (H, H); b0: (H,); W1: (H, 1); tanh: bound phi to (-1, 1). Returns phi: (E,).
    """
    tanh = check_flag("tanh", tanh)
    m = as_float_array("m", m, ndim=2)
    out, c = _two_layer(m, W0, b0, W1, None, act_out=False)
    c_t = None
    if tanh:
        out, c_t = tanh_forward(out)
    return out[:, 0], (c, c_t, out.shape)


def coord_mlp_backward(dphi, cache, *, check_finite=True):
    """dphi: (E,). Returns (dm (E, H), dW0, db0, dW1)."""
    c, c_t, shape = cache
    dout = check_like("dphi", dphi, shape[:1], check_finite)[:, None]
    if c_t is not None:
        dout = tanh_backward(dout, c_t, check_finite=False)
    dm, dW0, db0, dW1, _ = _two_layer_grads(dout, c)
    return dm, dW0, db0, dW1


# ----------------------------------------------------------------------------- the coordinate update
def coord_update_forward(x, phi, edge_index):
    """``x_i' = x_i - (1 / max(deg_i, 1)) sum_{j -> i} r_ij phi_ij``, r_ij = x_j - x_i (book: EGNN, `eq-egnn`).

    x: (N, 3); phi: (E,) one weight per edge; edge_index: (2, E). Returns x': (N, 3).
    """
    r, c_r = displacement_forward(x, edge_index)
    phi = as_float_array("phi", phi, shape=(r.shape[0],))
    agg, c_m = scatter_mean_forward(r * phi[:, None], c_r[0][1], x.shape[0])
    return x - agg, (c_r, c_m, r, phi)


def coord_update_backward(dout, cache, *, check_finite=True):
    """dout: (N, 3). Returns (dx (N, 3), dphi (E,)): dx = dout + d(-agg)/dx through r."""
    c_r, c_m, r, phi = cache
    dout = check_like("dout", dout, (c_r[1], 3), check_finite)
    dt = scatter_mean_backward(-dout, c_m, check_finite=False)                   # (E, 3): gradient of r_ij phi_ij
    dx = dout + displacement_backward(dt * phi[:, None], c_r, check_finite=False)
    return dx, np.einsum("ek,ek->e", dt, r)


# ----------------------------------------------------------------------------- phi_h: the feature update
def node_mlp_forward(h, m, edge_index, W0, b0, W1, b1):
    """``h_i' = h_i + silu([h_i, sum_{j -> i} m_ij] W0 + b0) W1 + b1`` (residual; messages summed).

    h: (N, F); m: (E, H); edge_index: (2, E); W0: (F + H, H); b0: (H,); W1: (H, F); b1: (F,).
    Returns h': (N, F).
    """
    h = as_float_array("h", h, ndim=2)
    edge_index = as_edge_index(edge_index, num_nodes=h.shape[0])
    agg, c_s = scatter_sum_forward(m, edge_index[1], h.shape[0])
    v, c = _two_layer(np.concatenate([h, agg], axis=1), W0, b0, W1, b1, act_out=False)
    if v.shape != h.shape:
        raise ValueError(f"W1: expected {h.shape[1]} output columns (the residual adds h), got {v.shape[1]}")
    return h + v, (c_s, c, h.shape)


def node_mlp_backward(dout, cache, *, check_finite=True):
    """dout: (N, F). Returns (dh (N, F), dm (E, H), dW0, db0, dW1, db1)."""
    c_s, c, h_shape = cache
    dout = check_like("dout", dout, h_shape, check_finite)
    dz, dW0, db0, dW1, db1 = _two_layer_grads(dout, c)
    F = h_shape[1]
    return dout + dz[:, :F], scatter_sum_backward(dz[:, F:], c_s, check_finite=False), dW0, db0, dW1, db1


# ----------------------------------------------------------------------------- one EGNN layer
LAYER_WEIGHTS = ("W_e0", "b_e0", "W_e1", "b_e1", "W_x0", "b_x0", "W_x1", "W_h0", "b_h0", "W_h1", "b_h1")


def egnn_layer_forward(h, x, edge_index, W_e0, b_e0, W_e1, b_e1, W_x0, b_x0, W_x1, W_h0, b_h0, W_h1, b_h1,
                       tanh=False):
    """One EGNN layer (book: EGNN, `eq-egnn`): messages, coordinate update, feature update.

    h: (N, F); x: (N, 3); edge_index: (2, E); phi_e: W_e0 (2F + 1, H), b_e0 (H,), W_e1 (H, H), b_e1 (H,);
    phi_x: W_x0 (H, H), b_x0 (H,), W_x1 (H, 1); phi_h: W_h0 (F + H, H), b_h0 (H,), W_h1 (H, F), b_h1 (F,).
    Returns ((h' (N, F), x' (N, 3)), cache). h' is invariant, x' moves as R x + t with the input.
    """
    r, c_r = displacement_forward(x, edge_index)
    m, c_e = edge_mlp_forward(h, np.einsum("ek,ek->e", r, r), edge_index, W_e0, b_e0, W_e1, b_e1)
    phi, c_x = coord_mlp_forward(m, W_x0, b_x0, W_x1, tanh)
    x_new, c_u = coord_update_forward(x, phi, edge_index)
    h_new, c_h = node_mlp_forward(h, m, edge_index, W_h0, b_h0, W_h1, b_h1)
    return (h_new, x_new), (c_r, r, c_e, c_x, c_u, c_h)


def egnn_layer_backward(dout, cache, *, check_finite=True):
    """dout: (dh' (N, F), dx' (N, 3)). Returns (dh, dx, dW_e0, db_e0, dW_e1, db_e1, dW_x0, db_x0, dW_x1,
    dW_h0, db_h0, dW_h1, db_h1): dx collects the coordinate update's path and the distances' path."""
    c_r, r, c_e, c_x, c_u, c_h = cache
    if not isinstance(dout, (tuple, list)) or len(dout) != 2:
        raise ValueError("dout: expected a pair (dh', dx') of gradients of the layer's two outputs")
    dh, dm, *g_h = node_mlp_backward(dout[0], c_h, check_finite=check_finite)
    dx, dphi = coord_update_backward(dout[1], c_u, check_finite=check_finite)
    dm_x, *g_x = coord_mlp_backward(dphi, c_x, check_finite=False)
    dh_e, dsq, *g_e = edge_mlp_backward(dm + dm_x, c_e, check_finite=False)
    dx = dx + displacement_backward(2.0 * dsq[:, None] * r, c_r, check_finite=False)
    return (dh + dh_e, dx, *g_e, *g_x, *g_h)
