"""The E(n)-equivariant graph convolution of EGNN (Satorras, Hoogeboom, Welling 2021) as forward/backward pairs.

Edge convention: row 0 of ``edge_index`` is the source j, row 1 the target i, ``r_ij = x_j - x_i``;
a message travels j -> i. One layer (book: EGNN, `eq-egnn`):

    m_ij  = phi_e([h_i, h_j, |r_ij|^2, a_ij])                phi_e: Linear, SiLU, Linear, SiLU
    x_i' = x_i - (1 / max(deg_i, 1)) sum_{j -> i} r_ij phi_x(m_ij)   phi_x: Linear, SiLU, Linear (no bias) [, tanh]
    h_i' = h_i + phi_h([h_i, sum_{j -> i} m_ij])              phi_h: Linear, SiLU, Linear

deg_i is the number of edges into i. The reference (vgsatorras/egnn, ``egnn_clean.py``) writes
``x_i += mean_j (x_i - x_j) phi_x(m_ij)`` with ``row, col = edge_index`` and aggregation onto ``row``:
its row is our target i (our ``edge_index[1]``), its col our source j, and its ``x_i - x_j`` is our
``-r_ij``. The update is the same; only the written sign moves. Coordinates are averaged, messages
summed, as in the reference. The coordinates enter only through differences and squared lengths:
no square root, so every block here is smooth, also at coincident atoms.

Blocks: ``edge_mlp`` (phi_e), ``coord_mlp`` (phi_x), ``coord_update`` (the mean of r_ij phi_ij),
``node_mlp`` (phi_h with its residual) and ``egnn_layer``, which chains them. Parameters are passed by
name, as dicts with egnn_clean's names (``edge_mlp.0.W`` is ``edge_mlp.0.weight.T``); the reference's
optional edge attributes a_ij (``edge_attr``) are concatenated after the squared distance. Not ported: the
reference's ``attention`` and ``normalize`` options (``normalize`` divides by a detached length, so
autograd there is not the derivative of the function; see the references notes).
"""
import numpy as np

from refimpl.core.layers import linear_backward, linear_forward, silu_backward, silu_forward, tanh_backward, tanh_forward
from refimpl.core.scatter import (gather_backward, gather_forward, scatter_mean_backward, scatter_mean_forward,
                                  scatter_sum_backward, scatter_sum_forward)
from refimpl.core.validate import as_edge_index, as_float_array, check_flag, check_like
from refimpl.geometry import displacement_backward, displacement_forward
from refimpl.models.base import prefixed, subdict


def _two_layer(z, p, act_out):
    """``silu(z W0 + b0) W2 + b2`` with p = {"0.W", "0.b", "2.W", "2.b" (optional)}, then SiLU when act_out."""
    a, c0 = linear_forward(z, p["0.W"], p["0.b"])
    s, cs = silu_forward(a)
    out, c1 = linear_forward(s, p["2.W"], p.get("2.b"))
    c2 = None
    if act_out:
        out, c2 = silu_forward(out)
    return out, (c0, cs, c1, c2)


def _two_layer_grads(dout, cache):
    """Gradients of ``_two_layer``: (dz, dp) with dp named as p (no "2.b" without a bias)."""
    c0, cs, c1, c2 = cache
    if c2 is not None:
        dout = silu_backward(dout, c2, check_finite=False)
    dp = {}
    ds, dp["2.W"], db = linear_backward(dout, c1, check_finite=False)
    if db is not None:
        dp["2.b"] = db
    dz, dp["0.W"], dp["0.b"] = linear_backward(silu_backward(ds, cs, check_finite=False), c0, check_finite=False)
    return dz, dp


# ----------------------------------------------------------------------------- phi_e: messages
def edge_mlp_forward(h, sqdist, edge_index, p, edge_attr=None):
    """Messages ``m_ij = silu(silu([h_i, h_j, d_ij^2, a_ij] W0 + b0) W2 + b2)`` (book: EGNN, `eq-egnn`).

    h: (N, F); sqdist: (E,) squared lengths |r_ij|^2; edge_index: (2, E); p: {"0.W": (2F + 1 + K, H),
    "0.b": (H,), "2.W": (H, H), "2.b": (H,)}; edge_attr: (E, K) edge features a_ij (the reference's
    ``edge_attr``) or None (K = 0). Returns m: (E, H). The concatenation is target first, as in the reference.
    """
    h = as_float_array("h", h, ndim=2)
    edge_index = as_edge_index(edge_index, num_nodes=h.shape[0])
    sqdist = as_float_array("sqdist", sqdist, shape=(edge_index.shape[1],))
    hi, c_i = gather_forward(h, edge_index[1])
    hj, c_j = gather_forward(h, edge_index[0])
    parts = [hi, hj, sqdist[:, None]]
    if edge_attr is not None:
        parts.append(as_float_array("edge_attr", edge_attr, shape=(edge_index.shape[1], None)))
    m, c = _two_layer(np.concatenate(parts, axis=1), p, act_out=True)
    return m, (c_i, c_j, c, m.shape, h.shape[1], edge_attr is not None)


def edge_mlp_backward(dm, cache, *, check_finite=True):
    """dm: (E, H). Returns (dh (N, F), dsqdist (E,), dedge_attr (E, K) or None, dp named as p)."""
    c_i, c_j, c, m_shape, F, has_attr = cache
    dz, dp = _two_layer_grads(check_like("dm", dm, m_shape, check_finite), c)
    dh = gather_backward(dz[:, :F], c_i, check_finite=False) + gather_backward(dz[:, F:2 * F], c_j, check_finite=False)
    return dh, dz[:, 2 * F], (dz[:, 2 * F + 1:] if has_attr else None), dp


# ----------------------------------------------------------------------------- phi_x: one weight per edge
def coord_mlp_forward(m, p, tanh=False):
    """Edge weights ``phi_ij = silu(m_ij W0 + b0) W2`` (no bias on the last layer), optionally tanh'd.

    m: (E, H); p: {"0.W": (H, H), "0.b": (H,), "2.W": (H, 1)}; tanh: bound phi to (-1, 1). Returns phi: (E,).
    """
    tanh = check_flag("tanh", tanh)
    m = as_float_array("m", m, ndim=2)
    if "2.b" in p:
        raise ValueError("p: the last layer of phi_x has no bias (expected keys 0.W, 0.b, 2.W)")
    out, c = _two_layer(m, p, act_out=False)
    c_t = None
    if tanh:
        out, c_t = tanh_forward(out)
    return out[:, 0], (c, c_t, out.shape)


def coord_mlp_backward(dphi, cache, *, check_finite=True):
    """dphi: (E,). Returns (dm (E, H), dp named as p)."""
    c, c_t, shape = cache
    dout = check_like("dphi", dphi, shape[:1], check_finite)[:, None]
    if c_t is not None:
        dout = tanh_backward(dout, c_t, check_finite=False)
    return _two_layer_grads(dout, c)


# ----------------------------------------------------------------------------- the coordinate update
def coord_update_forward(x, phi, edge_index):
    """``x_i' = x_i - (1 / max(deg_i, 1)) sum_{j -> i} r_ij phi_ij``, r_ij = x_j - x_i (book: EGNN, `eq-egnn`).

    x: (N, 3); phi: (E,) one weight per edge; edge_index: (2, E). Returns x': (N, 3).
    """
    x = as_float_array("x", x, shape=(None, 3))
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
def node_mlp_forward(h, m, edge_index, p):
    """``h_i' = h_i + silu([h_i, sum_{j -> i} m_ij] W0 + b0) W2 + b2`` (residual; messages summed).

    h: (N, F); m: (E, H); edge_index: (2, E); p: {"0.W": (F + H, H), "0.b": (H,), "2.W": (H, F), "2.b": (F,)}.
    Returns h': (N, F).
    """
    h = as_float_array("h", h, ndim=2)
    edge_index = as_edge_index(edge_index, num_nodes=h.shape[0])
    agg, c_s = scatter_sum_forward(m, edge_index[1], h.shape[0])
    v, c = _two_layer(np.concatenate([h, agg], axis=1), p, act_out=False)
    if v.shape != h.shape:
        raise ValueError(f"p: expected '2.W' with {h.shape[1]} output columns (the residual adds h), got {v.shape[1]}")
    return h + v, (c_s, c, h.shape)


def node_mlp_backward(dout, cache, *, check_finite=True):
    """dout: (N, F). Returns (dh (N, F), dm (E, H), dp named as p)."""
    c_s, c, h_shape = cache
    dout = check_like("dout", dout, h_shape, check_finite)
    dz, dp = _two_layer_grads(dout, c)
    F = h_shape[1]
    return dout + dz[:, :F], scatter_sum_backward(dz[:, F:], c_s, check_finite=False), dp


# ----------------------------------------------------------------------------- one EGNN layer
def egnn_layer_forward(h, x, edge_index, p, tanh=False, edge_attr=None):
    """One EGNN layer (book: EGNN, `eq-egnn`): messages, coordinate update, feature update.

    h: (N, F); x: (N, 3); edge_index: (2, E); p: the parameters by egnn_clean's names,
    "edge_mlp.0.W" (2F + 1 + K, H), "edge_mlp.0.b" (H,), "edge_mlp.2.W" (H, H), "edge_mlp.2.b" (H,),
    "coord_mlp.0.W" (H, H), "coord_mlp.0.b" (H,), "coord_mlp.2.W" (H, 1),
    "node_mlp.0.W" (F + H, H), "node_mlp.0.b" (H,), "node_mlp.2.W" (H, F), "node_mlp.2.b" (F,);
    tanh: bound phi_x; edge_attr: (E, K) invariant edge features or None.
    Returns ((h' (N, F), x' (N, 3)), cache). h' is invariant, x' moves as Q x + t with the input.
    """
    x = as_float_array("x", x, shape=(None, 3))
    r, c_r = displacement_forward(x, edge_index)
    m, c_e = edge_mlp_forward(h, np.einsum("ek,ek->e", r, r), edge_index, subdict(p, "edge_mlp."), edge_attr)
    phi, c_x = coord_mlp_forward(m, subdict(p, "coord_mlp."), tanh)
    x_new, c_u = coord_update_forward(x, phi, edge_index)
    h_new, c_h = node_mlp_forward(h, m, edge_index, subdict(p, "node_mlp."))
    return (h_new, x_new), (c_r, r, c_e, c_x, c_u, c_h)


def egnn_layer_backward(dout, cache, *, check_finite=True):
    """dout: (dh' (N, F), dx' (N, 3)). Returns (dh, dx, dedge_attr (or None), dp named as p): dx collects
    the coordinate update's path and the squared distances' path."""
    c_r, r, c_e, c_x, c_u, c_h = cache
    if not isinstance(dout, (tuple, list)) or len(dout) != 2:
        raise ValueError("dout: expected a pair (dh', dx') of gradients of the layer's two outputs")
    dh, dm, g_h = node_mlp_backward(dout[0], c_h, check_finite=check_finite)
    dx, dphi = coord_update_backward(dout[1], c_u, check_finite=check_finite)
    dm_x, g_x = coord_mlp_backward(dphi, c_x, check_finite=False)
    dh_e, dsq, dattr, g_e = edge_mlp_backward(dm + dm_x, c_e, check_finite=False)
    dx = dx + displacement_backward(2.0 * dsq[:, None] * r, c_r, check_finite=False)
    dp = {**prefixed("edge_mlp.", g_e), **prefixed("coord_mlp.", g_x), **prefixed("node_mlp.", g_h)}
    return dh + dh_e, dx, dattr, dp
