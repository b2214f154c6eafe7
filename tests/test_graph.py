"""refimpl.graphs.graph: adjacency <-> edge list, undirected graphs, self-loops, degrees, batching, atom pairs."""
import numpy as np
import pytest

from refimpl.graphs.graph import (Graph, add_self_loops, adjacency_to_edge_index, batch_graphs, degree,
                           edge_index_to_adjacency, to_undirected, undirected_pairs)


def test_adjacency_round_trip_and_direction():
    rng = np.random.default_rng(0)
    A = (rng.random((6, 6)) < 0.4) * rng.uniform(1.0, 2.0, size=(6, 6))
    edge_index, w = adjacency_to_edge_index(A)
    assert np.array_equal(edge_index_to_adjacency(edge_index, 6, w), A)
    # A[i, j] != 0 is the edge j -> i: row 0 of edge_index is the source j
    j, i = edge_index[:, 0]
    assert A[i, j] == w[0]
    h = rng.normal(size=(6, 2))
    summed = np.zeros_like(h)
    np.add.at(summed, edge_index[1], w[:, None] * h[edge_index[0]])
    assert np.allclose(A @ h, summed)


def test_to_undirected_adds_reverse_edges_once():
    ei = to_undirected(np.array([[0, 1, 1], [1, 0, 2]]))
    assert sorted(map(tuple, ei.T)) == [(0, 1), (1, 0), (1, 2), (2, 1)]
    A = edge_index_to_adjacency(ei, 3)
    assert np.array_equal(A, A.T) and A.max() == 1


def test_self_loops_and_degree():
    ei = add_self_loops(np.array([[0, 2], [1, 1]]), 3)
    assert ei.shape == (2, 5) and np.array_equal(ei[:, 2:], [[0, 1, 2], [0, 1, 2]])
    assert np.array_equal(degree(ei[1], 3), [1.0, 3.0, 1.0])


def test_batch_graphs_shifts_edges_and_records_membership():
    g1 = Graph(x=np.ones((2, 1)), edge_index=[[0, 1], [1, 0]], y=np.array(1.0))
    g2 = Graph(x=np.zeros((3, 1)), edge_index=[[0, 2], [1, 1]], y=np.array(2.0))
    b = batch_graphs([g1, g2])
    assert b.num_nodes == 5 and b.num_edges == 4 and b.num_graphs == 2
    assert np.array_equal(b.edge_index, [[0, 1, 2, 4], [1, 0, 3, 3]])
    assert np.array_equal(b.batch, [0, 0, 1, 1, 1]) and np.array_equal(b.y, [1.0, 2.0])


@pytest.mark.parametrize("call, name", [
    (lambda: adjacency_to_edge_index(np.ones((2, 3))), "A"),
    (lambda: edge_index_to_adjacency([[0, 3], [1, 0]], 3), "edge_index"),
    (lambda: batch_graphs([]), "graphs"),
    (lambda: Graph(x=np.ones((2, 1)), edge_index=[[0], [1]], batch=[1, 0]), "batch"),
    (lambda: undirected_pairs([[0, 1], [1, 5]], 3), "edge_index"),
])
def test_bad_input_raises_value_error_naming_it(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_undirected_pairs_group_both_directions():
    rng = np.random.default_rng(1)
    ei = to_undirected(rng.integers(0, 8, size=(2, 20)))
    ei = ei[:, ei[0] != ei[1]][:, rng.permutation(np.count_nonzero(ei[0] != ei[1]))]
    pair_edges, pair, _ = undirected_pairs(ei, 8)
    assert pair.shape == (ei.shape[1],) and pair_edges.shape == (2, ei.shape[1] // 2)
    # every edge maps to a pair with the same two atoms, and every pair has exactly its two edges
    assert np.array_equal(np.sort(ei, axis=0), np.sort(pair_edges[:, pair], axis=0))
    assert np.array_equal(np.bincount(pair), np.full(pair_edges.shape[1], 2))
    # the representative of a pair is its first edge in edge order
    first = np.array([np.flatnonzero(pair == p)[0] for p in range(pair_edges.shape[1])])
    assert np.array_equal(pair_edges, ei[:, first])


def test_undirected_pairs_of_a_one_way_graph_and_of_no_edges():
    pair_edges, pair, _ = undirected_pairs(np.array([[0, 1, 2], [1, 2, 0]]), 3)
    assert np.array_equal(np.sort(pair), [0, 1, 2]) and np.array_equal(pair_edges[:, pair], [[0, 1, 2], [1, 2, 0]])
    pair_edges, pair, _ = undirected_pairs(np.zeros((2, 0), dtype=int), 3)
    assert pair_edges.shape == (2, 0) and pair.shape == (0,)


def test_undirected_pairs_sign_flips_direction_vectors():
    """Per edge, sign * (vector of the pair's edge) is the edge's own r_ij = x_j - x_i."""
    rng = np.random.default_rng(3)
    pos = rng.normal(size=(6, 3))
    ei = np.array([[0, 1, 2, 3, 1, 5, 4], [1, 0, 3, 2, 2, 4, 5]])[:, rng.permutation(7)]
    pairs = undirected_pairs(ei, 6)
    r_pair = pos[pairs.edges[0]] - pos[pairs.edges[1]]
    np.testing.assert_allclose(pairs.sign[:, None] * r_pair[pairs.pair], pos[ei[0]] - pos[ei[1]], atol=1e-15)
    assert set(pairs.sign.tolist()) == {-1.0, 1.0}
