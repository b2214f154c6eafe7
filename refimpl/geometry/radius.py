"""Neighbour graphs from 3D positions (radius and k-nearest-neighbour graphs).

``radius_graph`` joins every ordered pair of distinct atoms of the same graph closer
than the cutoff, ``|x_j - x_i| < r_c``; ``knn_graph`` joins each atom i to its k
nearest atoms j. Both return ``edge_index`` (2, E) with row 0 the source j and row 1
the target i, sorted by target, then source, so the output is deterministic.

Speed: a k-d tree (``scipy.spatial.cKDTree``) finds the pairs in about O(N log N + E)
instead of comparing all N^2 pairs (``radius_graph_naive`` does that; it is the
teaching version and the tests' oracle). Graphs of a batch are kept apart without a
loop over graphs: we give every atom a fourth coordinate ``batch[a] * gap`` with
``gap`` larger than any distance we look for, so atoms of different graphs are never
neighbours, while within a graph the fourth coordinates are equal and distances are
exactly the 3D ones. Every candidate pair is then re-measured with the same formula as
``radius_graph_naive`` (``sum((x_j - x_i)^2) < r_c^2``), so both agree bit for bit.
"""
import numpy as np
from scipy.spatial import cKDTree

from refimpl.geometry import check_batch
from refimpl.core.validate import as_float_array, check_flag, check_nonnegative_int, check_positive_int

EMPTY_EDGES = np.zeros((2, 0), dtype=np.int64)


# ----------------------------------------------------------------------------- validation
def _check_pos(pos):
    return as_float_array("pos", pos, shape=(None, 3))


def _check_cutoff(cutoff):
    try:
        value = float(cutoff)
    except (TypeError, ValueError):
        raise ValueError(f"cutoff: expected a finite number > 0 (Angstrom), got {cutoff!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"cutoff: expected a finite number > 0 (Angstrom), got {cutoff!r}")
    return value


def _check_batch(batch, n):
    return np.zeros(n, dtype=np.int64) if batch is None else check_batch(batch, n)


def _sort_edges(src, tgt, n):
    """Edges sorted by target, then source, as a (2, E) int64 array (one integer-key sort)."""
    key = np.sort(tgt.astype(np.int64) * max(n, 1) + src)
    return np.stack([key % max(n, 1), key // max(n, 1)])


def _limit_neighbors(src, tgt, d2, max_num_neighbors):
    """Keep, for each target, its ``max_num_neighbors`` nearest sources (ties: smaller index)."""
    order = np.lexsort((src, d2, tgt))
    src, tgt = src[order], tgt[order]
    starts = np.flatnonzero(np.r_[True, tgt[1:] != tgt[:-1]]) if tgt.size else np.zeros(0, int)
    rank = np.arange(tgt.size) - np.repeat(starts, np.diff(np.r_[starts, tgt.size]))
    keep = rank < max_num_neighbors
    return src[keep], tgt[keep]


def _add_self_loops(src, tgt, n):
    loop = np.arange(n, dtype=np.int64)
    return np.concatenate([src, loop]), np.concatenate([tgt, loop])


def _squared_distances(pos, j, i):
    """``|x_j - x_i|^2`` summed over x, y, z in this fixed order, so both radius graphs get
    bit-identical values. j, i: index arrays that broadcast together (one column at a time
    keeps the memory at one float per pair)."""
    d2 = np.zeros(np.broadcast_shapes(np.shape(j), np.shape(i)))
    for column in np.ascontiguousarray(pos.T):   # x, y, z
        diff = column[j] - column[i]
        d2 += diff * diff
    return d2


def _check_max_neighbors(max_num_neighbors):
    return None if max_num_neighbors is None else check_nonnegative_int("max_num_neighbors", max_num_neighbors)


def _finish(src, tgt, d2, n, self_loops, max_num_neighbors):
    """Shared tail of both radius graphs: neighbour limit, self-loops, sort."""
    if max_num_neighbors is not None:
        src, tgt = _limit_neighbors(src, tgt, d2, max_num_neighbors)
    if self_loops:
        src, tgt = _add_self_loops(src, tgt, n)
    return _sort_edges(src, tgt, n)


# ----------------------------------------------------------------------------- radius graph
def radius_graph(pos, cutoff, batch=None, self_loops=False, max_num_neighbors=None):
    """All edges j -> i between distinct atoms of the same graph with ``|x_j - x_i| < cutoff``.

    pos: (N, 3) Angstrom; cutoff: > 0; batch: (N,) sorted graph ids or None (one graph);
    self_loops: also add i -> i for every atom; max_num_neighbors: None (no limit) or keep
    only each target's that-many nearest sources (the graph may then be asymmetric).
    Returns edge_index (2, E) int64, both directions of every pair, sorted by target then source.
    """
    pos, cutoff, self_loops = _check_pos(pos), _check_cutoff(cutoff), check_flag("self_loops", self_loops)
    max_num_neighbors = _check_max_neighbors(max_num_neighbors)
    n = pos.shape[0]
    batch = _check_batch(batch, n)
    if n == 0:
        return EMPTY_EDGES.copy()
    gap = 4.0 * cutoff                       # atoms of different graphs end up >= gap apart
    points = np.column_stack([pos, batch * gap])
    pairs = cKDTree(points).query_pairs(cutoff * (1 + 1e-9), output_type="ndarray")   # a < b, once
    a, b = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    d2 = _squared_distances(pos, a, b)       # re-measure exactly as the naive version does
    inside = d2 < cutoff * cutoff
    a, b, d2 = a[inside], b[inside], d2[inside]
    src, tgt = np.concatenate([a, b]), np.concatenate([b, a])
    return _finish(src, tgt, np.concatenate([d2, d2]), n, self_loops, max_num_neighbors)


def radius_graph_naive(pos, cutoff, batch=None, self_loops=False, max_num_neighbors=None, block=None):
    """The O(N^2) radius graph: measure every pair, keep those closer than ``cutoff``.

    Same arguments and result as ``radius_graph``. The targets are taken ``block`` at a
    time (default: about 4 million pairs per block) only to bound memory to (block, N)
    arrays; the work is still N^2 distance tests.
    """
    pos, cutoff, self_loops = _check_pos(pos), _check_cutoff(cutoff), check_flag("self_loops", self_loops)
    max_num_neighbors = _check_max_neighbors(max_num_neighbors)
    n = pos.shape[0]
    batch = _check_batch(batch, n)
    block = max(2**22 // max(n, 1), 1) if block is None else check_positive_int("block", block)
    src, tgt, dist2 = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
    for start in range(0, n, block):         # a loop over blocks of targets, for memory only
        i = np.arange(start, min(start + block, n))
        d2 = _squared_distances(pos, np.arange(n)[None, :], i[:, None])   # (block, N): |x_j - x_i|^2
        close = (d2 < cutoff * cutoff) & (batch[None, :] == batch[i, None]) & (i[:, None] != np.arange(n))
        ti, sj = np.nonzero(close)
        src.append(sj)
        tgt.append(i[ti])
        dist2.append(d2[ti, sj])
    src, tgt = np.concatenate(src).astype(np.int64), np.concatenate(tgt).astype(np.int64)
    return _finish(src, tgt, np.concatenate(dist2), n, self_loops, max_num_neighbors)


# ----------------------------------------------------------------------------- k nearest neighbours
def knn_graph(pos, k, batch=None, self_loops=False):
    """Edges j -> i from each atom i's k nearest atoms j of the same graph (fewer if the graph is small).

    pos: (N, 3); k: int >= 0; batch: (N,) sorted or None; self_loops: count i as its own
    neighbour (at distance 0). Ties at the k-th distance are broken by the tree (arbitrarily).
    Returns edge_index (2, E) int64 sorted by target then source; E = N k when every graph has > k atoms.
    """
    pos = _check_pos(pos)
    k, self_loops = check_nonnegative_int("k", k), check_flag("self_loops", self_loops)
    n = pos.shape[0]
    batch = _check_batch(batch, n)
    if n == 0 or k == 0:
        return EMPTY_EDGES.copy()
    span = float(np.linalg.norm(pos.max(axis=0) - pos.min(axis=0)))   # >= every distance in a graph
    gap = 2.0 * span + 1.0                   # cross-graph pairs are >= gap apart
    points = np.column_stack([pos, batch * gap])
    kq = min(k + (not self_loops), n)
    dist, nbr = cKDTree(points).query(points, k=kq, distance_upper_bound=1.5 * span + 0.5)
    nbr = nbr.reshape(n, kq)
    tgt = np.repeat(np.arange(n, dtype=np.int64), kq).reshape(n, kq)
    valid = nbr < n                          # the tree marks "no neighbour" with index n
    if not self_loops:
        valid &= nbr != tgt
    valid &= np.cumsum(valid, axis=1) <= k   # at most k per target (the query asked for k + 1)
    return _sort_edges(nbr[valid].astype(np.int64), tgt[valid], n)
