"""Triplets and angles (refimpl.geometry.triplets) and DimeNet's bases (refimpl.nn.bessel, angular):
against brute force, scipy and the normalisations DimeNet states; gradients are in tests/registry.py."""
import numpy as np
import pytest
import scipy.special as sp
from scipy.integrate import quad

from refimpl.geometry import displacement_forward, random_orthogonal
from refimpl.geometry.radius import radius_graph
from refimpl.geometry.triplets import triplet_cosine_backward, triplet_cosine_forward, triplets
from refimpl.nn import angular, bessel


def _brute_force_triplets(edge_index):
    src, dst = edge_index
    return sorted((kj, ji) for ji in range(src.size) for kj in range(src.size)
                  if dst[kj] == src[ji] and src[kj] != dst[ji])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_triplets_match_brute_force_on_radius_and_random_graphs(seed):
    rng = np.random.default_rng(seed)
    pos = rng.normal(size=(10, 3)) * 1.5
    for ei in (radius_graph(pos, 3.0), rng.integers(0, 6, size=(2, 25))):   # the second has repeats and loops
        idx_kj, idx_ji = triplets(ei, 10)
        assert sorted(zip(idx_kj.tolist(), idx_ji.tolist())) == _brute_force_triplets(ei)
        assert np.all(np.diff(idx_ji) >= 0)


def test_triplet_count_is_sum_of_in_degree_minus_one_on_a_symmetric_graph():
    pos = np.random.default_rng(3).normal(size=(12, 3))
    ei = radius_graph(pos, 2.0)
    deg = np.bincount(ei[1], minlength=12)
    assert triplets(ei, 12)[0].size == np.sum(deg * (deg - 1))


def test_empty_graph_has_no_triplets():
    kj, ji = triplets(np.zeros((2, 0), dtype=int), 3)
    assert kj.shape == ji.shape == (0,)


def test_cosine_is_the_angle_at_the_shared_atom_j():
    rng = np.random.default_rng(4)
    pos = rng.normal(size=(6, 3))
    ei = np.array([(j, i) for j in range(6) for i in range(6) if j != i]).T
    idx_kj, idx_ji = triplets(ei, 6)
    c, _ = triplet_cosine_forward(displacement_forward(pos, ei)[0], idx_kj, idx_ji)
    k, j, i = ei[0, idx_kj], ei[1, idx_kj], ei[1, idx_ji]
    assert np.all(ei[0, idx_ji] == j)
    a, b = pos[i] - pos[j], pos[k] - pos[j]
    want = np.einsum("tk,tk->t", a, b) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(c, want, atol=1e-14)
    R, t = random_orthogonal(rng), rng.normal(size=3)       # invariant under O(3) and translations
    c2, _ = triplet_cosine_forward(displacement_forward(pos @ R.T + t, ei)[0], idx_kj, idx_ji)
    np.testing.assert_allclose(c2, c, atol=1e-13)


def test_cosine_gradient_is_finite_at_collinear_and_coincident_atoms():
    pos = np.array([[0.0, 0, 0], [1.0, 0, 0], [2.0, 0, 0], [2.0, 0, 0]])   # 0-1-2 collinear, 2 and 3 coincide
    ei = np.array([[0, 1, 1, 2, 3, 2], [1, 0, 2, 1, 2, 3]])
    idx_kj, idx_ji = triplets(ei, 4)
    c, cache = triplet_cosine_forward(displacement_forward(pos, ei)[0], idx_kj, idx_ji)
    dr = triplet_cosine_backward(np.ones_like(c), cache)
    assert np.all(np.isfinite(c)) and np.all(np.isfinite(dr))
    assert np.isclose(c.min(), -1.0)                                       # a straight angle


@pytest.mark.parametrize("l", range(bessel.L_MAX + 1))
def test_spherical_jn_matches_scipy_including_small_arguments(l):
    x = np.concatenate([np.logspace(-10, 1.7, 3000), -np.logspace(-3, 1, 40)])
    j, cache = bessel.spherical_jn_forward(x, l)
    ref = sp.spherical_jn(l, x)
    small = np.abs(x) < l + 1                       # no zeros there: a relative test
    assert np.max(np.abs(j - ref)[small] / np.abs(ref[small])) < 1e-12
    assert np.max(np.abs(j - ref)[~small] * np.abs(x[~small])) < 1e-13  # |j_l| <= 1/|x| there
    dj = bessel.spherical_jn_backward(np.ones_like(x), cache)
    dref = sp.spherical_jn(l, x, derivative=True)
    assert np.max(np.abs(dj - dref) / np.maximum(np.abs(dref), np.abs(x) ** max(l - 1, 0) * 1e-3 + 1e-300)) < 1e-11


def test_the_naive_closed_form_cancels_at_small_argument():
    """The reason for the series: the closed form of j_6 at x = 1e-2 is wrong in its first digit."""
    x = np.array([1e-2])
    assert abs(bessel._jl_closed(x, 6)[0] / sp.spherical_jn(6, x)[0] - 1) > 1
    assert abs(bessel.spherical_jn_forward(x, 6)[0][0] / sp.spherical_jn(6, x)[0] - 1) < 1e-14


def test_zeros_are_zeros_and_ordered():
    z = bessel.spherical_jn_zeros(7, 6)
    assert z.shape == (7, 6)
    for l in range(7):
        assert np.max(np.abs(sp.spherical_jn(l, z[l]))) < 1e-14
    assert np.all(np.diff(z, axis=1) > 0) and np.all(z[1:] > z[:-1])      # interlacing
    np.testing.assert_allclose(z[0], np.arange(1, 7) * np.pi, rtol=1e-15)


def test_legendre_matches_scipy():
    c = np.linspace(-1, 1, 101)
    P, cache = angular.legendre_forward(c, 7)
    dP = angular.legendre_backward(np.eye(7)[3][None].repeat(101, 0), cache)
    for l in range(7):
        np.testing.assert_allclose(P[:, l], sp.eval_legendre(l, c), atol=1e-14)
    np.testing.assert_allclose(dP, sp.legendre(3).deriv()(c), atol=1e-12)


def test_spherical_basis_is_orthonormal_as_dimenet_normalises_it():
    """N_ln j_l(z_ln x) is orthonormal on [0, 1] with weight x^2, Y_l^0 on the sphere."""
    z = bessel.spherical_jn_zeros(4, 3)
    for l in range(4):
        n = np.sqrt(2) / abs(sp.spherical_jn(l + 1, z[l]))
        gram = [[quad(lambda x: x * x * n[a] * n[b] * sp.spherical_jn(l, z[l, a] * x) * sp.spherical_jn(l, z[l, b] * x),
                      0, 1)[0] for b in range(3)] for a in range(3)]
        np.testing.assert_allclose(gram, np.eye(3), atol=1e-10)
        y = np.sqrt((2 * l + 1) / (4 * np.pi))
        assert abs(2 * np.pi * quad(lambda c: (y * sp.eval_legendre(l, c)) ** 2, -1, 1)[0] - 1) < 1e-12


def test_spherical_basis_columns_and_cutoff():
    d = np.array([1.0, 2.5, 5.5])
    c = np.array([0.3, -0.7])
    a, _ = angular.spherical_basis_forward(d, c, np.array([1, 2]), 5.0, 3, 2)
    z = bessel.spherical_jn_zeros(3, 2)
    x, u = 0.5, 1 - 28 * 0.5**6 + 48 * 0.5**7 - 21 * 0.5**8
    l, n = 2, 1                                                            # column l * K + n
    want = u / x * np.sqrt(2) / abs(sp.spherical_jn(l + 1, z[l, n])) * sp.spherical_jn(l, z[l, n] * x) \
        * np.sqrt(5 / (4 * np.pi)) * sp.eval_legendre(l, 0.3)
    assert np.isclose(a[0, l * 2 + n], want, rtol=1e-12)
    assert np.all(a[1] == 0)                                               # d_kj beyond the cutoff


def test_bessel_rbf_is_dimenets_and_finite_at_zero():
    d = np.array([0.0, 1.0, 3.0, 6.0])
    e, _ = bessel.bessel_rbf_forward(d, np.arange(1, 4) * np.pi, 5.0)
    x = d[1:3] / 5
    u = 1 - 28 * x**6 + 48 * x**7 - 21 * x**8                              # "exponent 5" = p = 6
    np.testing.assert_allclose(e[1:3], (u / x)[:, None] * np.sin(np.outer(x, np.arange(1, 4) * np.pi)), rtol=1e-13)
    np.testing.assert_allclose(e[0], np.arange(1, 4) * np.pi)              # the limit n pi at d = 0
    assert np.all(e[3] == 0)
