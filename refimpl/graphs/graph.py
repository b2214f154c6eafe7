"""Graphs and batches of graphs.

A ``Graph`` holds node features ``x`` (N, F), an ``edge_index`` (2, E) whose row 0
is the source j and row 1 the target i (a message travels j -> i), optional
edge features ``edge_attr`` (E, F_e), optional 3D positions ``pos`` (N, 3),
atomic numbers ``z`` (N,), a target ``y`` and, for a batch, the ``batch``
vector (N,) with ``batch[a]`` the graph of atom a.

``batch_graphs`` concatenates graphs into one disconnected graph: the node
indices of graph g are shifted by the number of nodes before it.
"""
from dataclasses import dataclass, field
from typing import Optional

from collections import namedtuple

import numpy as np

from refimpl.core.validate import as_edge_index, as_float_array, as_index_array


@dataclass
class Graph:
    """One graph, or a batch of graphs flattened into one (see module docstring)."""

    x: np.ndarray
    edge_index: np.ndarray
    edge_attr: Optional[np.ndarray] = None
    pos: Optional[np.ndarray] = None
    z: Optional[np.ndarray] = None
    y: Optional[np.ndarray] = None
    batch: Optional[np.ndarray] = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.x = as_float_array("x", self.x, ndim=2)
        n = self.x.shape[0]
        self.edge_index = as_edge_index(self.edge_index, num_nodes=n)
        e = self.edge_index.shape[1]
        if self.edge_attr is not None:
            self.edge_attr = as_float_array("edge_attr", self.edge_attr, ndim=2)
            if self.edge_attr.shape[0] != e:
                raise ValueError(f"edge_attr: expected {e} rows (one per edge), got {self.edge_attr.shape[0]}")
        if self.pos is not None:
            self.pos = as_float_array("pos", self.pos, shape=(n, 3))
        if self.z is not None:
            self.z = as_index_array("z", self.z)
            if self.z.shape[0] != n:
                raise ValueError(f"z: expected {n} atomic numbers (one per node), got {self.z.shape[0]}")
        if self.batch is None:
            self.batch = np.zeros(n, dtype=np.int64)
        else:
            self.batch = as_index_array("batch", self.batch)
            if self.batch.shape[0] != n:
                raise ValueError(f"batch: expected length {n} (one entry per node), got {self.batch.shape[0]}")
            if n and np.any(np.diff(self.batch) < 0):
                raise ValueError("batch: expected a sorted vector (nodes of graph g before those of graph g+1)")

    @property
    def num_nodes(self):
        return self.x.shape[0]

    @property
    def num_edges(self):
        return self.edge_index.shape[1]

    @property
    def num_graphs(self):
        return int(self.batch.max()) + 1 if self.num_nodes else 0


def adjacency_to_edge_index(A):
    """Edge list of a dense adjacency matrix.

    ``A[i, j] != 0`` means an edge j -> i (so ``h_new = A @ h`` sums messages at i).
    A: (N, N). Returns (edge_index (2, E), weights (E,)), edges sorted by target i, then source j.
    An undirected graph has a symmetric A and so each edge appears once per direction.
    """
    A = as_float_array("A", A, ndim=2)
    if A.shape[0] != A.shape[1]:
        raise ValueError(f"A: expected a square matrix, got shape {A.shape}")
    tgt, src = np.nonzero(A)
    return np.stack([src, tgt]).astype(np.int64), A[tgt, src]


def edge_index_to_adjacency(edge_index, num_nodes, weights=None):
    """Dense adjacency of an edge list: ``A[i, j] = sum of weights of edges j -> i``.

    edge_index: (2, E); weights: (E,) or None (ones). Returns A: (N, N).
    """
    edge_index = as_edge_index(edge_index, num_nodes=num_nodes)
    e = edge_index.shape[1]
    w = np.ones(e) if weights is None else as_float_array("weights", weights, shape=(e,))
    flat = edge_index[1] * num_nodes + edge_index[0]
    return np.bincount(flat, weights=w, minlength=num_nodes * num_nodes).reshape(num_nodes, num_nodes)


def to_undirected(edge_index):
    """Add the reverse of every edge and drop duplicates. Returns (2, E') sorted by (target, source)."""
    edge_index = as_edge_index(edge_index)
    both = np.concatenate([edge_index, edge_index[::-1]], axis=1)
    both = np.unique(both[::-1].T, axis=0).T[::-1]  # unique over (target, source) pairs
    return np.ascontiguousarray(both)


Pairs = namedtuple("Pairs", ["edges", "pair", "sign"])


def undirected_pairs(edge_index, num_nodes):
    """Group edges by unordered atom pair: j -> i and i -> j belong to the pair {i, j}.

    edge_index: (2, E); num_nodes: N. Returns ``Pairs(edges, pair, sign)``: edges (2, P) holds one
    edge of each pair (its first in edge order), pair (E,) gives, for each edge, the column of its pair
    in edges, and sign (E,) is +1.0 where the edge runs as its pair's edge and -1.0 where it runs the
    other way. Whatever depends only on the distance (SchNet's and PaiNN's filters) can then be
    computed once per pair, P ~ E / 2 rows, and read back for every edge as ``values[pair]``; a
    direction vector flips with the edge, u_ji = -u_ij, so per edge it is ``sign[:, None] * u[pair]``.
    """
    edge_index = as_edge_index(edge_index, num_nodes=num_nodes)
    j, i = edge_index
    key = np.minimum(i, j) * num_nodes + np.maximum(i, j)
    _, first, pair = np.unique(key, return_index=True, return_inverse=True)
    pair = pair.reshape(-1)
    edges = np.ascontiguousarray(edge_index[:, first])
    sign = np.where(edges[0, pair] == j, 1.0, -1.0)
    return Pairs(edges, pair, sign)


def add_self_loops(edge_index, num_nodes):
    """Append the edge i -> i for every node. Returns (2, E + N)."""
    edge_index = as_edge_index(edge_index, num_nodes=num_nodes)
    loops = np.arange(num_nodes, dtype=np.int64)
    return np.concatenate([edge_index, np.stack([loops, loops])], axis=1)


def degree(index, num_nodes):
    """Number of entries of ``index`` per node (in-degree when index = edge_index[1]). Returns (N,) float."""
    index = as_index_array("index", index, size=num_nodes)
    return np.bincount(index, minlength=num_nodes).astype(np.float64)


def batch_graphs(graphs):
    """Concatenate a list of ``Graph`` into one batched ``Graph``.

    Node arrays are stacked, edge indices shifted by each graph's node offset,
    and ``batch[a]`` records which input graph node a came from. ``y`` values are
    stacked along a new first axis (one row per graph).
    """
    graphs = list(graphs)
    if not graphs:
        raise ValueError("graphs: expected at least one Graph, got an empty list")
    for k, g in enumerate(graphs):
        if not isinstance(g, Graph):
            raise ValueError(f"graphs[{k}]: expected a Graph, got {type(g).__name__}")
    sizes = np.array([g.num_nodes for g in graphs])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    def cat(attr):
        vals = [getattr(g, attr) for g in graphs]
        if all(v is None for v in vals):
            return None
        if any(v is None for v in vals):
            raise ValueError(f"graphs: '{attr}' is set on some graphs and missing on others")
        return np.concatenate(vals, axis=0)

    edge_index = np.concatenate([g.edge_index + off for g, off in zip(graphs, offsets)], axis=1)
    ys = [g.y for g in graphs]
    y = None if all(v is None for v in ys) else np.stack([np.asarray(v) for v in ys])
    return Graph(x=cat("x"), edge_index=edge_index, edge_attr=cat("edge_attr"), pos=cat("pos"),
                 z=cat("z"), y=y, batch=np.repeat(np.arange(len(graphs)), sizes))
