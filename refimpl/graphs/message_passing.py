"""Message passing on graphs: the basic layer, GCN, and pooling for graph-level outputs.

Convention: ``edge_index`` (2, E), row 0 source j, row 1 target i; messages
travel j -> i and are summed at i.

The basic layer (book: Message passing, `eq-mp`; from the lecture):

    h_i' = h_i W_self + (sum_{j in N(i)} h_j) W_neigh + b

followed by a nonlinearity applied separately (``refimpl.core.layers``), so each
piece stays a forward/backward pair that can be tested alone.

GCN (Kipf & Welling; book: Message passing, `eq-gcn`) with symmetric normalization and self-loops:

    h_i' = sum_{j in N(i) + {i}} (1 / sqrt(d_i d_j)) h_j W + b,   d = degree incl. self-loop
"""
import numpy as np

from refimpl.core import scatter
from refimpl.graphs.graph import add_self_loops
from refimpl.core.layers import linear_backward, linear_forward
from refimpl.core.validate import as_edge_index, as_float_array, as_index_array, check_flag, check_like, check_nonnegative_int


# ----------------------------------------------------------------------------- basic layer
def message_passing_forward(h, edge_index, W_self, W_neigh, b):
    """One round of the basic layer, before the nonlinearity (book `eq-mp`).

    h: (N, D_in); edge_index: (2, E); W_self, W_neigh: (D_in, D_out); b: (D_out,).
    Returns out: (N, D_out).
    """
    h = as_float_array("h", h, ndim=2)
    edge_index = as_edge_index(edge_index, num_nodes=h.shape[0])
    W_self = as_float_array("W_self", W_self, shape=(h.shape[1], None))
    W_neigh = as_float_array("W_neigh", W_neigh, shape=W_self.shape)
    src, dst = edge_index
    agg, agg_cache = scatter.scatter_sum_forward(h[src], dst, h.shape[0])  # sum_j h_j at i
    self_part, self_cache = linear_forward(h, W_self, b)
    neigh_part, neigh_cache = linear_forward(agg, W_neigh)
    out = self_part + neigh_part
    return out, (out.shape, (src, h.shape), agg_cache, self_cache, neigh_cache)


def message_passing_backward(dout, cache):
    """Gradients of ``message_passing_forward``. dout: (N, D_out). Returns (dh, dW_self, dW_neigh, db)."""
    out_shape, gather_cache, agg_cache, self_cache, neigh_cache = cache
    dout = check_like("dout", dout, out_shape)
    dh, dW_self, db = linear_backward(dout, self_cache)
    dagg, dW_neigh, _ = linear_backward(dout, neigh_cache)
    dmsg = scatter.scatter_sum_backward(dagg, agg_cache)          # (E, D_in): gradient of h_j on each edge
    dh = dh + scatter.gather_backward(dmsg, gather_cache)         # back to the source nodes
    return dh, dW_self, dW_neigh, db


# ----------------------------------------------------------------------------- GCN
def gcn_norm(edge_index, num_nodes, self_loops=True):
    """Symmetric GCN normalization (book `eq-gcn`).

    Adds self-loops (optionally), then weights edge j -> i by ``1 / sqrt(d_i d_j)``
    with d the in-degree counted on the returned edges.
    Returns (edge_index (2, E'), edge_weight (E',)). Isolated nodes without
    self-loops get no edges, so no division by zero occurs.
    """
    num_nodes = check_nonnegative_int("num_nodes", num_nodes)
    edge_index = as_edge_index(edge_index, num_nodes=num_nodes)
    if check_flag("self_loops", self_loops):
        edge_index = add_self_loops(edge_index, num_nodes)
    deg = np.bincount(edge_index[1], minlength=num_nodes).astype(np.float64)
    inv_sqrt = np.zeros_like(deg)
    inv_sqrt[deg > 0] = deg[deg > 0] ** -0.5
    return edge_index, inv_sqrt[edge_index[0]] * inv_sqrt[edge_index[1]]


def gcn_conv_forward(h, edge_index, edge_weight, W, b):
    """GCN layer: ``out_i = sum_{j->i} w_ji (h_j W) + b`` with weights from ``gcn_norm``.

    h: (N, D_in); edge_index: (2, E); edge_weight: (E,); W: (D_in, D_out); b: (D_out,).
    Returns out: (N, D_out).
    """
    h = as_float_array("h", h, ndim=2)
    edge_index = as_edge_index(edge_index, num_nodes=h.shape[0])
    edge_weight = as_float_array("edge_weight", edge_weight, shape=(edge_index.shape[1],))
    W = as_float_array("W", W, shape=(h.shape[1], None))
    b = as_float_array("b", b, shape=(W.shape[1],))
    hw, lin_cache = linear_forward(h, W)
    src, dst = edge_index
    out, sc_cache = scatter.scatter_sum_forward(edge_weight[:, None] * hw[src], dst, h.shape[0])
    return out + b, (src, edge_weight, hw, lin_cache, sc_cache)


def gcn_conv_backward(dout, cache):
    """Gradients of ``gcn_conv_forward`` w.r.t. h, W, b. Returns (dh, dW, db).

    The normalization weights are constants of the graph, so no gradient flows to them.
    """
    src, edge_weight, hw, lin_cache, sc_cache = cache
    dout = check_like("dout", dout, hw.shape)                      # out has the shape of h W
    db = dout.sum(axis=0)
    dmsg = scatter.scatter_sum_backward(dout, sc_cache) * edge_weight[:, None]
    dhw = scatter.gather_backward(dmsg, (src, hw.shape))
    dh, dW, _ = linear_backward(dhw, lin_cache)
    return dh, dW, db


# ----------------------------------------------------------------------------- pooling
def _check_pool(h, batch, num_graphs):
    """Validate pooling inputs with their own names (the scatter would blame ``src``/``index``)."""
    h = as_float_array("h", h, ndim=2)
    batch = as_index_array("batch", batch)
    if batch.shape[0] != h.shape[0]:
        raise ValueError(f"batch: expected length {h.shape[0]} (one graph id per row of h), got {batch.shape[0]}")
    need = int(batch.max()) + 1 if batch.size else 0
    if num_graphs is None:
        return h, batch, need
    num_graphs = check_nonnegative_int("num_graphs", num_graphs)
    if num_graphs < need:
        raise ValueError(f"num_graphs: expected at least {need} (max(batch) + 1), got {num_graphs}")
    return h, batch, num_graphs


def global_sum_pool_forward(h, batch, num_graphs=None):
    """Graph readout by summation: ``out[g] = sum_{a : batch[a] = g} h[a]``.

    h: (N, D); batch: (N,) graph ids; num_graphs: G (default max(batch) + 1). Returns (G, D).
    """
    h, batch, num_graphs = _check_pool(h, batch, num_graphs)
    return scatter.scatter_sum_forward(h, batch, num_graphs)      # one scatter over the batch vector


def global_sum_pool_backward(dout, cache):
    """Every node receives its graph's gradient. dout: (G, D). Returns dh: (N, D)."""
    return scatter.scatter_sum_backward(dout, cache)      # checks dout against the (G, D) output


def global_mean_pool_forward(h, batch, num_graphs=None):
    """Graph readout by averaging over each graph's nodes. h: (N, D); batch: (N,). Returns (G, D)."""
    h, batch, num_graphs = _check_pool(h, batch, num_graphs)
    return scatter.scatter_mean_forward(h, batch, num_graphs)      # one scatter over the batch vector


def global_mean_pool_backward(dout, cache):
    """Every node receives its graph's gradient divided by the graph's size. dout: (G, D). Returns dh: (N, D)."""
    return scatter.scatter_mean_backward(dout, cache)     # checks dout against the (G, D) output
