"""Tests of refimpl.geometry.radius: radius/knn graphs against brute force, input checks, cutoff envelopes."""
import numpy as np
import pytest

from refimpl import geometry as geo
from refimpl.geometry import radius
from refimpl.nn import cutoffs


def _edge_set(edge_index):
    return set(map(tuple, edge_index.T.tolist()))


def _loop_oracle(pos, cutoff, batch, self_loops=False):
    """The plainest possible radius graph: a double loop over atoms (tests only)."""
    n = len(pos)
    return {(j, i) for i in range(n) for j in range(n)
            if batch[i] == batch[j] and (i != j and np.sum((pos[j] - pos[i]) ** 2) < cutoff**2
                                         or (self_loops and i == j))}


def _check_sorted_and_int(ei):
    assert ei.dtype == np.int64 and ei.ndim == 2 and ei.shape[0] == 2
    key = ei[1] * (ei.max() + 1 if ei.size else 1) + ei[0]
    assert np.all(np.diff(key) > 0)          # sorted by target then source, no repeats


# ----------------------------------------------------------------------------- radius graph
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("cutoff", [0.7, 1.5, 4.0])
def test_radius_graph_matches_naive_and_loops(seed, cutoff):
    rng = np.random.default_rng(seed)
    n = 60
    pos = rng.uniform(0, 4, size=(n, 3))
    batch = np.sort(rng.integers(0, 4, size=n))      # graphs overlap in space: no accidental separation
    ei = radius.radius_graph(pos, cutoff, batch)
    np.testing.assert_array_equal(ei, radius.radius_graph_naive(pos, cutoff, batch))
    assert _edge_set(ei) == _loop_oracle(pos, cutoff, batch)
    _check_sorted_and_int(ei)
    assert np.all(batch[ei[0]] == batch[ei[1]])
    assert _edge_set(ei) == _edge_set(ei[::-1])      # both directions


def test_naive_with_small_blocks_agrees():
    rng = np.random.default_rng(11)
    pos = rng.uniform(0, 3, size=(37, 3))
    np.testing.assert_array_equal(radius.radius_graph_naive(pos, 1.2, block=5),
                                  radius.radius_graph_naive(pos, 1.2))


def test_radius_graph_edge_cases():
    empty = np.zeros((0, 3))
    for fn in (radius.radius_graph, radius.radius_graph_naive):
        assert fn(empty, 1.0).shape == (2, 0)
        assert fn(np.ones((1, 3)), 1.0).shape == (2, 0)                       # a single atom
        np.testing.assert_array_equal(fn(np.ones((1, 3)), 1.0, self_loops=True), [[0], [0]])
    rng = np.random.default_rng(12)
    pos = rng.uniform(0, 10, size=(20, 3))
    dmin = np.min(np.linalg.norm(pos[:, None] - pos[None], axis=-1)[~np.eye(20, dtype=bool)])
    for cutoff in (0.5 * dmin, 0.9999 * dmin):                               # below every distance
        ei = radius.radius_graph(pos, cutoff)
        assert ei.shape == (2, 0)
        np.testing.assert_array_equal(ei, radius.radius_graph_naive(pos, cutoff))
    assert radius.radius_graph(pos, 1.0001 * dmin).shape == (2, 2)           # just above: the closest pair
    full = radius.radius_graph(pos, 100.0)
    assert full.shape == (2, 20 * 19)                                        # complete graph
    np.testing.assert_array_equal(full, radius.radius_graph_naive(pos, 100.0))


def test_duplicated_points_and_self_loops():
    rng = np.random.default_rng(13)
    pos = rng.uniform(0, 2, size=(10, 3))
    pos = np.concatenate([pos, pos[:4], pos[:1]])            # 4 duplicates, atom 0 three times
    for self_loops in (False, True):
        ei = radius.radius_graph(pos, 0.8, self_loops=self_loops)
        np.testing.assert_array_equal(ei, radius.radius_graph_naive(pos, 0.8, self_loops=self_loops))
        assert _edge_set(ei) == _loop_oracle(pos, 0.8, np.zeros(len(pos)), self_loops)
    ei = radius.radius_graph(pos, 0.8)
    assert {(10, 0), (0, 10), (14, 0), (10, 14)} <= _edge_set(ei)   # coincident atoms are neighbours
    assert not np.any(ei[0] == ei[1])


def test_radius_graph_on_a_batch_of_identical_molecules():
    """Copies of one molecule at the same place: each copy gets exactly the single-copy edges."""
    rng = np.random.default_rng(14)
    pos = rng.normal(size=(8, 3))
    one = radius.radius_graph(pos, 1.5)
    ei = radius.radius_graph(np.tile(pos, (3, 1)), 1.5, batch=np.repeat([0, 1, 2], 8))
    expected = np.concatenate([one + 8 * g for g in range(3)], axis=1)
    np.testing.assert_array_equal(ei, expected)


def test_radius_graph_is_invariant_under_rigid_motions_and_permutations():
    rng = np.random.default_rng(15)
    pos, batch = rng.uniform(0, 5, size=(80, 3)), np.repeat([0, 1], 40)
    ei = radius.radius_graph(pos, 1.3, batch)
    Q, t = geo.random_orthogonal(rng), geo.random_translation(rng, scale=100.0)
    np.testing.assert_array_equal(radius.radius_graph(geo.apply_transform(pos, Q, t), 1.3, batch), ei)
    perm = geo.random_permutation(rng, 80, batch)
    ei_p = radius.radius_graph(pos[perm], 1.3, batch)
    assert _edge_set(ei_p) == _edge_set(geo.permute_edge_index(ei, perm))


def test_max_num_neighbors_keeps_the_nearest():
    rng = np.random.default_rng(16)
    pos, batch = rng.uniform(0, 3, size=(50, 3)), np.repeat([0, 1], 25)
    full = radius.radius_graph(pos, 1.5, batch)
    for k in (0, 1, 3):
        ei = radius.radius_graph(pos, 1.5, batch, max_num_neighbors=k)
        np.testing.assert_array_equal(ei, radius.radius_graph_naive(pos, 1.5, batch, max_num_neighbors=k))
        _check_sorted_and_int(ei) if ei.size else None
        for i in range(50):                                   # test oracle: one target at a time
            cand = full[0, full[1] == i]
            d = np.linalg.norm(pos[cand] - pos[i], axis=1)
            want = set(cand[np.argsort(d, kind="stable")][:k].tolist())
            assert set(ei[0, ei[1] == i].tolist()) == want
    assert np.any(np.bincount(full[1]) > 3)                   # the limit was actually binding


def test_bad_neighbour_limit_is_rejected_even_without_atoms():
    for fn in (radius.radius_graph, radius.radius_graph_naive):
        with pytest.raises(ValueError, match=r"^max_num_neighbors:"):
            fn(np.zeros((0, 3)), 2.0, max_num_neighbors=-1)


@pytest.mark.parametrize("bad", [
    dict(pos=np.zeros((4, 2))), dict(pos=np.zeros(3)), dict(pos=np.array([[0, 0, np.nan]] * 2)),
    dict(cutoff=0.0), dict(cutoff=-1.0), dict(cutoff=np.inf), dict(cutoff=np.nan), dict(cutoff="far"),
    dict(batch=[0, 0, 0]), dict(batch=[0, 1, 0, 1]), dict(batch=[-1, 0, 0, 0]), dict(batch=[0, 0.5, 1, 1]),
    dict(max_num_neighbors=-2),
])
def test_radius_graph_rejects_bad_input(bad):
    args = dict(pos=np.arange(12.0).reshape(4, 3), cutoff=2.0, batch=None)
    args.update(bad)
    name = next(iter(bad))
    for fn in (radius.radius_graph, radius.radius_graph_naive):
        with pytest.raises(ValueError, match=rf"^{name}:"):
            fn(**args)


# ----------------------------------------------------------------------------- knn graph
def _knn_brute(pos, k, batch, self_loops):
    d = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    d[batch[:, None] != batch[None, :]] = np.inf
    if not self_loops:
        np.fill_diagonal(d, np.inf)
    edges = set()
    for i in range(len(pos)):
        order = np.argsort(d[i])[:k]
        edges |= {(int(j), i) for j in order if np.isfinite(d[i, j])}
    return edges


@pytest.mark.parametrize("self_loops", [False, True])
@pytest.mark.parametrize("k", [1, 4, 9])
def test_knn_graph_matches_brute_force(k, self_loops):
    rng = np.random.default_rng(k)
    pos = rng.normal(size=(40, 3)) * 3
    batch = np.repeat([0, 1, 2, 3], [20, 12, 5, 3])      # graphs 2 and 3 have fewer than k + 1 atoms
    ei = radius.knn_graph(pos, k, batch, self_loops)
    _check_sorted_and_int(ei)
    assert _edge_set(ei) == _knn_brute(pos, k, batch, self_loops)
    sizes = np.bincount(batch)
    expected = np.minimum(k, sizes - (not self_loops))
    np.testing.assert_array_equal(np.bincount(ei[1], minlength=40), np.repeat(expected, sizes))


def test_knn_graph_is_invariant_under_rigid_motions_and_permutations():
    """Rotating, reflecting or translating a batch keeps every atom's k nearest neighbours; renumbering
    the atoms (within their graphs) renumbers the edges. Random positions have no ties at the k-th
    distance, so the neighbour sets are unique and rounding cannot swap them."""
    rng = np.random.default_rng(21)
    pos, batch = rng.normal(size=(60, 3)) * 2, np.repeat([0, 1, 2], [25, 25, 10])
    for k, self_loops in ((1, False), (5, False), (5, True)):
        ei = radius.knn_graph(pos, k, batch, self_loops)
        for Q in (geo.random_rotation(rng), geo.reflection(rng.normal(size=3)), geo.random_orthogonal(rng)):
            moved = geo.apply_transform(pos, Q, geo.random_translation(rng, scale=50.0))
            np.testing.assert_array_equal(radius.knn_graph(moved, k, batch, self_loops), ei)
        perm = geo.random_permutation(rng, 60, batch)
        ei_p = radius.knn_graph(pos[perm], k, batch, self_loops)
        assert _edge_set(ei_p) == _edge_set(geo.permute_edge_index(ei, perm))
        _check_sorted_and_int(ei_p)


def test_knn_graph_edge_cases_and_errors():
    rng = np.random.default_rng(20)
    assert radius.knn_graph(np.zeros((0, 3)), 3).shape == (2, 0)
    assert radius.knn_graph(rng.normal(size=(5, 3)), 0).shape == (2, 0)
    assert radius.knn_graph(np.ones((1, 3)), 2).shape == (2, 0)
    pos = np.zeros((4, 3))                                # all coincident: every atom is a neighbour
    ei = radius.knn_graph(pos, 3)
    assert _edge_set(ei) == {(j, i) for i in range(4) for j in range(4) if i != j}
    for bad, name in ((dict(k=-1), "k"), (dict(k=1.5), "k"), (dict(batch=[1, 0, 0, 0]), "batch"),
                      (dict(pos=np.zeros((4, 4))), "pos")):
        args = dict(pos=pos, k=2)
        args.update(bad)
        with pytest.raises(ValueError, match=rf"^{name}:"):
            radius.knn_graph(**args)


# ----------------------------------------------------------------------------- cutoff envelopes
ENVELOPES = [
    ("cosine", lambda d, rc: cutoffs.cosine_cutoff_forward(d, rc)),
    ("poly6", lambda d, rc: cutoffs.polynomial_cutoff_forward(d, rc)),
    ("poly3", lambda d, rc: cutoffs.polynomial_cutoff_forward(d, rc, p=3)),
]


@pytest.mark.parametrize("name,env", ENVELOPES)
def test_envelope_shape(name, env):
    """1 at d = 0, 0 at and beyond r_c, decreasing in between, and continuous at r_c."""
    rc = 5.0
    d = np.linspace(0, 7, 701)
    f, _ = env(d, rc)
    assert f[0] == 1.0 and np.all(f[d >= rc] == 0.0)
    assert np.all(np.diff(f[d <= rc]) < 0)
    assert env(np.array([rc * (1 - 1e-6)]), rc)[0][0] < 1e-9


def test_envelope_values():
    rc, d = 4.0, np.array([0.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(cutoffs.cosine_cutoff_forward(d, rc)[0], 0.5 * (np.cos(np.pi * d / rc) + 1))
    np.testing.assert_allclose(cutoffs.cosine_cutoff_forward(np.array([2.0]), rc)[0], [0.5])
    u = d / rc
    np.testing.assert_allclose(cutoffs.polynomial_cutoff_forward(d, rc)[0],
                               1 - 28 * u**6 + 48 * u**7 - 21 * u**8)   # p = 6 written out


@pytest.mark.parametrize("p", [1, 2, 6])
def test_polynomial_envelope_slope_vanishes_at_cutoff(p):
    rc = 3.0
    _, cache = cutoffs.polynomial_cutoff_forward(np.array([rc * (1 - 1e-4), 0.5 * rc]), rc, p=p)
    slope = cutoffs.polynomial_cutoff_backward(np.ones(2), cache)
    assert abs(slope[0]) < 1e-6 and slope[1] < -0.1


def test_envelopes_reject_bad_input():
    for fwd in (cutoffs.cosine_cutoff_forward, cutoffs.polynomial_cutoff_forward):
        with pytest.raises(ValueError, match=r"^d: expected distances >= 0"):
            fwd(np.array([-0.1, 1.0]), 5.0)
        with pytest.raises(ValueError, match=r"^cutoff:"):
            fwd(np.array([1.0]), 0.0)
        with pytest.raises(ValueError, match=r"^d: expected finite values"):
            fwd(np.array([np.nan]), 5.0)
    for p in (0, -1, 2.5):
        with pytest.raises(ValueError, match=r"^p:"):
            cutoffs.polynomial_cutoff_forward(np.array([1.0]), 5.0, p=p)
