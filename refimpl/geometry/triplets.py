"""Triplets of a directed graph and the angle of each, for angle-aware message passing.

A triplet k -> j -> i pairs the edge j -> i (index ``idx_ji``) with an edge k -> j arriving at its
source (index ``idx_kj``), k != i: the message m_ji of DimeNet reads every m_kj so formed
(book: Angles and directional message passing, `eq-triplets`). With n_j edges arriving at j,
the edge j -> i has n_j - 1 triplets (n_j when i is not a neighbour of j), so a graph with
E edges has about E * (mean in-degree - 1) of them.

The angle of a triplet is the angle at the shared vertex j between the bonds to i and to k:

    cos(alpha_kji) = (x_i - x_j) . (x_k - x_j) / (|x_i - x_j| |x_k - x_j|) = -u_ji . u_kj    (eq-cos-angle)

with our edge vectors r_ji = x_j - x_i (row 0 = source j, row 1 = target i) and u = r / |r|.
We return cos(alpha), not alpha: alpha = arccos(c) has an infinite slope at collinear triplets
(c = +-1), and alpha = atan2(|a x b|, a . b) is not differentiable there either (|a x b| is a cone
at a x b = 0), while c is smooth everywhere except at coincident atoms, and Legendre polynomials
P_l(c) need nothing else.
"""
import numpy as np

from refimpl.core.scatter import _segment_sum
from refimpl.core.validate import as_edge_index, as_float_array, as_index_array, check_like
from refimpl.geometry.displacement import unit_vector_forward


def triplets(edge_index, num_nodes):
    """All triplets k -> j -> i with k != i: pairs of edges (k -> j, j -> i) sharing the atom j.

    edge_index: (2, E), row 0 source j, row 1 target i; num_nodes: N.
    Returns (idx_kj, idx_ji), each (T,) int64 edge indices, grouped by idx_ji in increasing order.
    Vectorized: edges sorted by target give, for every atom j, the contiguous block of edges
    arriving at j; each edge j -> i is repeated once per edge of j's block (np.repeat) and its
    position inside the block is a running count (arange minus the block's first position).
    """
    edge_index = as_edge_index(edge_index, num_nodes=num_nodes)
    src, dst = edge_index
    by_target = np.argsort(dst, kind="stable")                   # edges grouped by the atom they arrive at
    in_degree = np.bincount(dst, minlength=num_nodes)
    block_start = np.concatenate([[0], np.cumsum(in_degree)[:-1]])
    per_edge = in_degree[src]                                     # candidates k -> j for edge j -> i
    idx_ji = np.repeat(np.arange(src.shape[0]), per_edge)
    first = np.cumsum(per_edge) - per_edge                        # where each edge's run begins
    within = np.arange(idx_ji.shape[0]) - np.repeat(first, per_edge)
    idx_kj = by_target[block_start[src[idx_ji]] + within]
    keep = src[idx_kj] != dst[idx_ji]                             # k != i: no going back along the same bond
    return idx_kj[keep], idx_ji[keep]


def triplet_cosine_forward(r, idx_kj, idx_ji):
    """Cosine of the angle at j of each triplet k -> j -> i, ``c = -u_ji . u_kj`` (`eq-cos-angle`).

    r: (E, 3) edge vectors r = x_source - x_target; idx_kj, idx_ji: (T,) edge indices.
    Returns c: (T,) in [-1, 1]; c = 0 when either edge has zero length (u(0) = 0).
    """
    r = as_float_array("r", r, shape=(None, 3))
    idx_kj = as_index_array("idx_kj", idx_kj, size=r.shape[0])
    idx_ji = as_index_array("idx_ji", idx_ji, size=r.shape[0])
    if idx_kj.shape != idx_ji.shape:
        raise ValueError(f"idx_kj and idx_ji: expected equal lengths, got {idx_kj.shape} and {idx_ji.shape}")
    u, c_u = unit_vector_forward(r)
    u_kj, u_ji = u[idx_kj], u[idx_ji]
    c = -np.einsum("tk,tk->t", u_ji, u_kj)
    return c, (c_u, u_kj, u_ji, idx_kj, idx_ji, r.shape[0])


def triplet_cosine_backward(dc, cache, *, check_finite=True):
    """``dL/du_ji = -dc u_kj``, ``dL/du_kj = -dc u_ji``, summed per edge, then through u = r / |r|.

    dc: (T,). Returns dr: (E, 3). Finite at collinear triplets (the gradient of c there is 0,
    c being at its extreme) and 0 for zero-length edges.
    """
    c_u, u_kj, u_ji, idx_kj, idx_ji, n_edges = cache
    dc = check_like("dc", dc, idx_ji.shape, check_finite)[:, None]
    du = _segment_sum(np.concatenate([-dc * u_kj, -dc * u_ji]), np.concatenate([idx_ji, idx_kj]), n_edges)
    u, inv_d = c_u                                                # as unit_vector_backward: (du - u (u . du)) / |r|
    return (du - u * np.einsum("ek,ek->e", u, du)[:, None]) * inv_d[:, None]
