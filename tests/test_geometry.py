"""Tests of refimpl.geometry: group elements, transforms, and pair geometry (incl. coincident atoms)."""
import inspect

import numpy as np
import pytest

from refimpl.core import gradcheck
from refimpl import geometry as geo
from registry import REGISTRY, random_graph


def _is_orthogonal(R):
    return np.allclose(np.swapaxes(R, -1, -2) @ R, np.eye(3), atol=1e-12)


# ----------------------------------------------------------------------------- group elements
def test_random_rotation_is_proper_and_orthogonal():
    rng = np.random.default_rng(0)
    R = geo.random_rotation(rng)
    assert R.shape == (3, 3) and _is_orthogonal(R) and np.isclose(np.linalg.det(R), 1.0)
    Rs = geo.random_rotation(rng, 50)
    assert Rs.shape == (50, 3, 3) and _is_orthogonal(Rs)
    np.testing.assert_allclose(np.linalg.det(Rs), 1.0, atol=1e-12)


def _second_moment(Rs):
    """E[R_ij R_kl] as a 9x9 matrix; for the Haar measure on SO(3) it is I/3."""
    flat = Rs.reshape(len(Rs), 9)
    return flat.T @ flat / len(Rs)


def _naive_euler(rng, n):
    """A wrong sampler: ZYZ Euler angles with beta uniform (not cos beta uniform)."""
    a, b, c = rng.uniform(0, 2 * np.pi, n), rng.uniform(0, np.pi, n), rng.uniform(0, 2 * np.pi, n)

    def rz(t):
        o, z = np.ones_like(t), np.zeros_like(t)
        return np.stack([np.cos(t), -np.sin(t), z, np.sin(t), np.cos(t), z, z, z, o], 1).reshape(-1, 3, 3)

    def ry(t):
        o, z = np.ones_like(t), np.zeros_like(t)
        return np.stack([np.cos(t), z, np.sin(t), z, o, z, -np.sin(t), z, np.cos(t)], 1).reshape(-1, 3, 3)
    return rz(a) @ ry(b) @ rz(c)


def test_random_rotation_is_uniform():
    """Haar: E[R] = 0 and E[R_ij R_kl] = delta_ik delta_jl / 3; a biased sampler fails the same test."""
    rng = np.random.default_rng(1)
    Rs = geo.random_rotation(rng, 40000)
    assert np.abs(Rs.mean(axis=0)).max() < 0.02
    assert np.abs(_second_moment(Rs) - np.eye(9) / 3).max() < 0.02
    biased = _naive_euler(rng, 40000)
    assert np.abs(_second_moment(biased) - np.eye(9) / 3).max() > 0.1


def test_random_orthogonal_has_both_determinants():
    rng = np.random.default_rng(2)
    Q = geo.random_orthogonal(rng, 4000)
    assert _is_orthogonal(Q)
    det = np.linalg.det(Q)
    np.testing.assert_allclose(np.abs(det), 1.0, atol=1e-12)
    assert 0.45 < np.mean(det < 0) < 0.55
    assert np.abs(_second_moment(Q) - np.eye(9) / 3).max() < 0.03
    assert geo.random_orthogonal(rng).shape == (3, 3)


def test_random_improper_and_reflection():
    rng = np.random.default_rng(3)
    P = geo.random_improper(rng, 10)
    assert _is_orthogonal(P)
    np.testing.assert_allclose(np.linalg.det(P), -1.0, atol=1e-12)
    np.testing.assert_array_equal(geo.reflection(), np.diag([-1.0, 1.0, 1.0]))
    n = rng.normal(size=3)
    M = geo.reflection(n)
    assert _is_orthogonal(M) and np.isclose(np.linalg.det(M), -1.0)
    np.testing.assert_allclose(M @ n, -n, atol=1e-12)          # the normal flips
    np.testing.assert_allclose(M @ M, np.eye(3), atol=1e-12)   # a mirror twice is nothing
    with pytest.raises(ValueError, match="normal"):
        geo.reflection([0.0, 0.0, 0.0])


def test_random_translation_and_permutation():
    rng = np.random.default_rng(4)
    assert geo.random_translation(rng).shape == (3,)
    assert geo.random_translation(rng, scale=2.0, n=5).shape == (5, 3)
    with pytest.raises(ValueError, match="scale"):
        geo.random_translation(rng, scale=-1.0)
    perm = geo.random_permutation(rng, 10)
    np.testing.assert_array_equal(np.sort(perm), np.arange(10))
    batch = np.array([0, 0, 0, 1, 1, 3, 3, 3, 3, 3])
    perms = [geo.random_permutation(rng, 10, batch) for _ in range(20)]
    for p in perms:
        np.testing.assert_array_equal(np.sort(p), np.arange(10))
        np.testing.assert_array_equal(batch[p], batch)          # atoms stay in their graph
    assert any(not np.array_equal(p, np.arange(10)) for p in perms)
    with pytest.raises(ValueError, match="batch"):
        geo.random_permutation(rng, 3, [1, 0, 0])
    with pytest.raises(ValueError, match="batch"):
        geo.random_permutation(rng, 3, [0, 0])


def test_inverse_permutation():
    perm = np.array([2, 0, 3, 1])
    inv = geo.inverse_permutation(perm)
    np.testing.assert_array_equal(perm[inv], np.arange(4))
    np.testing.assert_array_equal(inv[perm], np.arange(4))
    with pytest.raises(ValueError, match="perm"):
        geo.inverse_permutation([0, 0, 1])


# ----------------------------------------------------------------------------- transforms
def test_apply_transform_and_rotate_vectors():
    rng = np.random.default_rng(5)
    pos, R, t = rng.normal(size=(6, 3)), geo.random_rotation(rng), rng.normal(size=3)
    out = geo.apply_transform(pos, R, t)
    np.testing.assert_allclose(out, np.einsum("ij,aj->ai", R, pos) + t, atol=1e-12)
    np.testing.assert_array_equal(geo.apply_transform(pos), pos)
    v = rng.normal(size=(6, 4, 3))
    np.testing.assert_allclose(geo.rotate_vectors(v, R), np.einsum("ij,acj->aci", R, v), atol=1e-12)
    with pytest.raises(ValueError, match="R"):
        geo.apply_transform(pos, np.diag([1.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="pos"):
        geo.apply_transform(rng.normal(size=(6, 2)))
    with pytest.raises(ValueError, match="v"):
        geo.rotate_vectors(rng.normal(size=(6, 2)), R)


def test_cross_product_is_a_pseudovector():
    """(Qa) x (Qb) = det(Q) Q (a x b): rotate_vectors(pseudo=True) says so, pseudo=False does not."""
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    for Q in (geo.random_rotation(rng), geo.random_improper(rng)):
        lhs = np.cross(geo.rotate_vectors(a, Q), geo.rotate_vectors(b, Q))
        np.testing.assert_allclose(lhs, geo.rotate_vectors(np.cross(a, b), Q, pseudo=True), atol=1e-12)
    assert not np.allclose(lhs, geo.rotate_vectors(np.cross(a, b), Q))   # Q improper here


# ----------------------------------------------------------------------------- pair geometry
def test_displacement_convention_and_symmetries():
    """r_ij = x_j - x_i; rotates with R, ignores t; unchanged by relabeling atoms consistently."""
    rng = np.random.default_rng(7)
    pos, ei = rng.normal(size=(6, 3)), random_graph(rng, 6, 14)
    r, _ = geo.displacement_forward(pos, ei)
    np.testing.assert_array_equal(r, pos[ei[0]] - pos[ei[1]])
    Q, t = geo.random_orthogonal(rng), geo.random_translation(rng)
    r2, _ = geo.displacement_forward(geo.apply_transform(pos, Q, t), ei)
    np.testing.assert_allclose(r2, geo.rotate_vectors(r, Q), atol=1e-12)
    perm = geo.random_permutation(rng, 6)
    r3, _ = geo.displacement_forward(pos[perm], geo.permute_edge_index(ei, perm))
    np.testing.assert_array_equal(r3, r)
    with pytest.raises(ValueError, match="edge_index"):
        geo.displacement_forward(pos, np.array([[0, 6], [1, 2]]))


def test_distance_and_unit_vector_symmetries():
    rng = np.random.default_rng(8)
    r = rng.normal(size=(10, 3))
    d, _ = geo.distance_forward(r)
    u, _ = geo.unit_vector_forward(r)
    np.testing.assert_allclose(d, np.linalg.norm(r, axis=1), rtol=1e-14)
    np.testing.assert_allclose(np.linalg.norm(u, axis=1), 1.0, rtol=1e-14)
    for Q in (geo.random_rotation(rng), geo.random_improper(rng)):
        rQ = geo.rotate_vectors(r, Q)
        np.testing.assert_allclose(geo.distance_forward(rQ)[0], d, rtol=1e-13)          # invariant
        np.testing.assert_allclose(geo.unit_vector_forward(rQ)[0], geo.rotate_vectors(u, Q), atol=1e-13)


def _energy_and_grad(pos, ei, dout_d, dout_u):
    """E = sum(dout_d * d) + sum(dout_u * u) through the whole chain; returns (E, dE/dpos)."""
    r, c_r = geo.displacement_forward(pos, ei)
    d, c_d = geo.distance_forward(r)
    u, c_u = geo.unit_vector_forward(r)
    dr = geo.distance_backward(dout_d, c_d) + geo.unit_vector_backward(dout_u, c_u)
    return float(np.sum(dout_d * d) + np.sum(dout_u * u)), geo.displacement_backward(dr, c_r)


def test_chain_gradient_matches_finite_differences():
    rng = np.random.default_rng(9)
    pos, ei = rng.normal(size=(5, 3)) * 2, random_graph(rng, 5, 12)
    ei = ei[:, ei[0] != ei[1]]                    # self-loops have r = 0: not differentiable
    dd, du = rng.normal(size=ei.shape[1]), rng.normal(size=(ei.shape[1], 3))
    _, g = _energy_and_grad(pos, ei, dd, du)
    num = gradcheck.numerical_gradient(lambda: _energy_and_grad(pos, ei, dd, du)[0], pos)
    assert gradcheck.rel_error(g, num) < 1e-6


def test_coincident_atoms_never_give_nan():
    """Two atoms at the same place, plus self-loops: values and gradients are finite; d = 0, u = 0."""
    rng = np.random.default_rng(10)
    pos = rng.normal(size=(4, 3))
    pos[2] = pos[0]                                # atoms 0 and 2 coincide
    ei = np.array([[0, 2, 1, 1, 3, 0], [2, 0, 1, 0, 3, 1]])   # 0<->2, self-loops 1->1 and 3->3
    zero = np.array([True, True, True, False, True, False])
    with np.errstate(all="raise"):                 # no division by zero, no invalid value
        r, _ = geo.displacement_forward(pos, ei)
        d, cd = geo.distance_forward(r)
        u, cu = geo.unit_vector_forward(r)
        dd, du = rng.normal(size=6), rng.normal(size=(6, 3))
        dr_d, dr_u = geo.distance_backward(dd, cd), geo.unit_vector_backward(du, cu)
        E, g = _energy_and_grad(pos, ei, dd, du)
    for arr in (r, d, u, dr_d, dr_u, g):
        assert np.all(np.isfinite(arr))
    np.testing.assert_array_equal(d[zero], 0.0)
    np.testing.assert_array_equal(u[zero], 0.0)
    np.testing.assert_array_equal(dr_d[zero], 0.0)   # the documented choice: subgradient 0
    np.testing.assert_array_equal(dr_u[zero], 0.0)
    assert np.all(dr_d[~zero] != 0.0)
    # the nonzero edges still get the exact gradient: compare with the same chain without the zero edges
    _, g_ref = _energy_and_grad(pos, ei[:, ~zero], dd[~zero], du[~zero])
    np.testing.assert_allclose(g, g_ref, atol=1e-14)


def test_tiny_but_nonzero_distance_is_finite():
    """r . r underflows to 0 below ~1e-154 (then r counts as 0); just above, 1/d is still finite."""
    r = np.array([[5e-324, 0.0, 0.0], [1e-300, -1e-300, 0.0], [1e-150, -1e-150, 0.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        d, cd = geo.distance_forward(r)
        u, cu = geo.unit_vector_forward(r)
        grads = geo.distance_backward(np.ones(3), cd), geo.unit_vector_backward(np.ones((3, 3)), cu)
    assert all(np.all(np.isfinite(a)) for a in (d, u, *grads))
    np.testing.assert_array_equal(u[:2], 0.0)
    np.testing.assert_allclose(np.linalg.norm(u[2]), 1.0)


def test_empty_edge_list():
    pos = np.zeros((3, 3))
    r, c = geo.displacement_forward(pos, np.zeros((2, 0), dtype=int))
    assert r.shape == (0, 3)
    assert geo.distance_forward(r)[0].shape == (0,)
    np.testing.assert_array_equal(geo.displacement_backward(np.zeros((0, 3)), c), np.zeros((3, 3)))


def test_geometry_and_radius_backwards_have_registry_rows():
    """Repeats, for these two modules, what test_gradients.py::test_registry_is_complete checks for every
    refimpl module, so that a missing geometry or radius row is reported here too."""
    from refimpl.geometry import radius
    covered = {row.covered for row in REGISTRY}
    missing = [f"{m.__name__}.{name}" for m in (geo, radius)
               for name, fn in inspect.getmembers(m, inspect.isfunction)
               if name.endswith("_backward") and fn.__module__ == m.__name__ and name not in covered]
    assert not missing, f"add a registry row for: {missing}"
