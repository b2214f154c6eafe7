"""Spherical harmonics (refimpl.nn.spherical): equivariance Y(R u) = D(R) Y(u), parity, normalization,
orthonormality on the sphere, the stated component order, and the Wigner-D builder."""
import numpy as np
import pytest

from refimpl.geometry import random_improper, random_rotation
from refimpl.nn import spherical as sh


def _units(rng, n=20):
    u = rng.normal(size=(n, 3))
    return u / np.linalg.norm(u, axis=1, keepdims=True)


def Y(u, l):
    return sh.spherical_harmonics_forward(u, l)[0]


@pytest.mark.parametrize("l", sh.ORDERS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rotation_equivariance_with_numerical_D(l, seed):
    rng = np.random.default_rng(seed)
    u, R = _units(rng), random_rotation(rng)
    D = sh.wigner_D(l, R)
    np.testing.assert_allclose(Y(u @ R.T, l), Y(u, l) @ D.T, atol=1e-12)
    np.testing.assert_allclose(D @ D.T, np.eye(2 * l + 1), atol=1e-12)      # D is orthogonal
    R2 = random_rotation(rng)                                               # and a representation
    np.testing.assert_allclose(sh.wigner_D(l, R2 @ R), sh.wigner_D(l, R2) @ D, atol=1e-12)


@pytest.mark.parametrize("l", sh.ORDERS)
def test_parity_and_reflections(l):
    rng = np.random.default_rng(3)
    u = _units(rng)
    np.testing.assert_allclose(Y(-u, l), (-1) ** l * Y(u, l), atol=1e-14)
    P = random_improper(rng)                       # an improper rotation = -1 times a proper one
    np.testing.assert_allclose(sh.wigner_D(l, P), (-1) ** l * sh.wigner_D(l, -P), atol=1e-12)


def test_l1_is_sqrt3_times_the_vector_and_D1_is_R():
    rng = np.random.default_rng(4)
    u, R = _units(rng), random_rotation(rng)
    np.testing.assert_allclose(Y(u, 1), np.sqrt(3) * u, atol=1e-15)
    np.testing.assert_allclose(sh.wigner_D(1, R), R, atol=1e-12)


def test_component_order_matches_e3nn_values():
    """e3nn's component-normalized values (y polar) at u = (1, 2, 3)/sqrt(14), written out by hand."""
    x, y, z = np.array([1.0, 2.0, 3.0]) / np.sqrt(14)
    s15, s5 = np.sqrt(15), np.sqrt(5)
    want = [s15 * x * z, s15 * x * y, s5 * (y * y - (x * x + z * z) / 2), s15 * y * z, s15 / 2 * (z * z - x * x)]
    np.testing.assert_allclose(Y(np.array([x, y, z]), 2), want, atol=1e-15)
    # the polar axis is y: on it only the m = 0 (middle) component is non-zero
    np.testing.assert_allclose(Y(np.array([0.0, 1.0, 0.0]), 2), [0, 0, s5, 0, 0], atol=1e-15)


@pytest.mark.parametrize("l", sh.ORDERS)
def test_component_normalization(l):
    u = _units(np.random.default_rng(5))
    np.testing.assert_allclose(np.sum(Y(u, l) ** 2, axis=1), 2 * l + 1, atol=1e-12)


def test_orthonormal_under_the_mean_over_the_sphere():
    points, w = sh.sphere_quadrature(6)
    all_Y = np.concatenate([Y(points, l) for l in sh.ORDERS], axis=1)        # (M, 9)
    np.testing.assert_allclose(all_Y.T @ (w[:, None] * all_Y), np.eye(9), atol=1e-13)
    # Monte Carlo agrees within its statistical error (about 1/sqrt(M))
    u = _units(np.random.default_rng(6), 40000)
    mc = np.concatenate([Y(u, l) for l in sh.ORDERS], axis=1)
    assert np.abs(mc.T @ mc / len(u) - np.eye(9)).max() < 0.05


def test_quadrature_is_exact_and_can_fail():
    points, w = sh.sphere_quadrature(3)                 # exact below degree 6
    assert abs(np.sum(w * points[:, 2] ** 4) - 1 / 5) < 1e-14
    points, w = sh.sphere_quadrature(1)                 # exact below degree 2 only: z^4 is wrong
    assert abs(np.sum(w * points[:, 2] ** 4) - 1 / 5) > 0.1


def test_solid_harmonics_off_the_sphere():
    rng = np.random.default_rng(7)
    u, r = _units(rng), rng.uniform(0.1, 3.0, size=(20, 1))
    for l in sh.ORDERS:
        np.testing.assert_allclose(Y(r * u, l), r ** l * Y(u, l), atol=1e-12)


def test_an_unnormalized_table_fails_the_checks():
    """A Y^2 missing its sqrt(15) on the first component is not normalized, and its D (still a
    representation, S D S^-1 for the scaling S) is no longer orthogonal."""
    rng = np.random.default_rng(8)
    u, R = _units(rng), random_rotation(rng)

    def wrong(v):
        out = Y(v, 2).copy()
        out[:, 0] /= np.sqrt(15)
        return out

    assert np.abs(np.sum(wrong(u) ** 2, axis=1) - 5).max() > 0.1
    DT, *_ = np.linalg.lstsq(wrong(u), wrong(u @ R.T), rcond=None)
    assert np.abs(DT @ DT.T - np.eye(5)).max() > 1e-3


@pytest.mark.parametrize("bad, name", [(dict(u=np.ones((3, 2)), l=1), "u"), (dict(u=np.ones(3), l=3), "l"),
                                       (dict(u=np.ones(3), l=True), "l")])
def test_bad_input(bad, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        sh.spherical_harmonics_forward(**bad)


def test_bad_input_wigner_and_quadrature():
    with pytest.raises(ValueError, match="^R:"):
        sh.wigner_D(1, 2 * np.eye(3))
    with pytest.raises(ValueError, match="^n:"):
        sh.sphere_quadrature(0)
