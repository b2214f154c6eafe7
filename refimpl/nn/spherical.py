"""Real spherical harmonics of order l = 0, 1, 2 as polynomials, and Wigner-D matrices built from them.

Convention (stated once, used everywhere in the book): **the same as e3nn's** ``o3.spherical_harmonics``
with ``normalization="component"``: the y axis is the polar axis and the components are, in this order,

    Y^0(u) = 1
    Y^1(u) = sqrt(3) (x, y, z)                                                         (book: `eq-sh`)
    Y^2(u) = (sqrt(15) x z, sqrt(15) x y, sqrt(5) (y^2 - (x^2 + z^2) / 2), sqrt(15) y z, sqrt(15)/2 (z^2 - x^2))

for a unit vector u = (x, y, z). "Component" normalization means |Y^l(u)|^2 = 2l + 1 for every unit u and
the components are orthonormal under the *mean* over the sphere, <Y^l_m Y^l'_m'> = delta_ll' delta_mm'
(e3nn's "integral" normalization divides by sqrt(4 pi), "norm" by sqrt(2l + 1)). So Y^1 is sqrt(3) times the
vector itself and its Wigner-D matrix is the rotation: D^1(R) = R. The textbook (Wikipedia) table is z-polar
with components m = -l..l; ours is that table evaluated at the cyclically relabelled point (z, x, y), times
sqrt(4 pi): Y_ours(x, y, z) = sqrt(4 pi) Y_table(z, x, y).

The polynomials are homogeneous of degree l and harmonic, so at a vector r that is not unit they give the
solid harmonics |r|^l Y^l(r/|r|), smooth at r = 0. Pass unit vectors (``refimpl.geometry.unit_vector_forward``)
for spherical harmonics.
"""
import numpy as np

from refimpl.core.validate import as_float_array, check_like

S3, S5, S15 = np.sqrt(3.0), np.sqrt(5.0), np.sqrt(15.0)
ORDERS = (0, 1, 2)


def _check_l(l):
    if isinstance(l, (bool, np.bool_)) or l not in ORDERS:
        raise ValueError(f"l: expected an order in {ORDERS}, got {l!r}")
    return int(l)


def _check_u(u):
    u = as_float_array("u", u)
    if u.ndim == 0 or u.shape[-1] != 3:
        raise ValueError(f"u: expected last dimension 3 (x, y, z), got shape {u.shape}")
    return u


# ----------------------------------------------------------------------------- harmonics
def spherical_harmonics_forward(u, l):
    """Real spherical harmonics ``Y^l(u)``, component-normalized, e3nn's order (book: `eq-sh`).

    u: (..., 3) unit vectors (other vectors give the solid harmonics |u|^l Y^l(u/|u|)); l: 0, 1 or 2.
    Returns Y: (..., 2l + 1).
    """
    u, l = _check_u(u), _check_l(l)
    x, y, z = u[..., 0], u[..., 1], u[..., 2]
    if l == 0:
        Y = np.ones(u.shape[:-1] + (1,))
    elif l == 1:
        Y = S3 * u
    else:
        Y = np.stack([S15 * x * z, S15 * x * y, S5 * (y * y - 0.5 * (x * x + z * z)), S15 * y * z,
                      0.5 * S15 * (z * z - x * x)], axis=-1)
    return Y, (u, l)


def spherical_harmonics_backward(dY, cache):
    """``du = dY @ J`` with the Jacobian J = dY/du of the polynomials. dY: (..., 2l + 1). Returns du: (..., 3)."""
    u, l = cache
    dY = check_like("dY", dY, u.shape[:-1] + (2 * l + 1,))
    if l == 0:
        return np.zeros_like(u)
    if l == 1:
        return S3 * dY
    x, y, z = u[..., 0], u[..., 1], u[..., 2]
    a, b, c, d, e = (dY[..., m] for m in range(5))
    dx = S15 * (a * z + b * y) - S5 * c * x - S15 * e * x
    dy = S15 * (b * x + d * z) + 2.0 * S5 * c * y
    dz = S15 * (a * x + d * y) - S5 * c * z + S15 * e * z
    return np.stack([dx, dy, dz], axis=-1)


# ----------------------------------------------------------------------------- the sphere
def sphere_quadrature(n=6):
    """Points and weights that average any polynomial of degree < 2n exactly over the unit sphere.

    Gauss-Legendre in cos(theta) (n nodes) times 2n equally spaced azimuths. Returns points (2 n^2, 3)
    and weights (2 n^2,) summing to 1: ``mean over the sphere of f = sum_k w_k f(points_k)``.
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: expected a positive integer, got {n!r}")
    t, wt = np.polynomial.legendre.leggauss(int(n))
    phi = np.arange(2 * n) * (np.pi / n)
    ct, p = np.meshgrid(t, phi, indexing="ij")
    st = np.sqrt(1.0 - ct**2)
    points = np.stack([st * np.cos(p), st * np.sin(p), ct], axis=-1).reshape(-1, 3)
    weights = np.repeat(wt / 2.0, 2 * n) / (2 * n)
    return points, weights


def wigner_D(l, R):
    """The matrix D^l(R) with ``Y^l(R u) = D^l(R) Y^l(u)`` for all u, found by least squares on samples.

    Stacking the samples as rows, Y(u R^T) = Y(u) D^T; 50 quadrature points over-determine the
    (2l + 1)^2 unknowns. l: 0, 1 or 2; R: (3, 3) orthogonal. Returns D: (2l + 1, 2l + 1)
    (orthogonal; D^1(R) = R in our convention).
    """
    l = _check_l(l)
    R = as_float_array("R", R, shape=(3, 3))
    if not np.allclose(R @ R.T, np.eye(3), atol=1e-8):
        raise ValueError("R: expected an orthogonal 3 x 3 matrix (R R^T = I)")
    points, _ = sphere_quadrature(5)
    Y0, _ = spherical_harmonics_forward(points, l)
    Y1, _ = spherical_harmonics_forward(points @ R.T, l)
    DT, *_ = np.linalg.lstsq(Y0, Y1, rcond=None)
    return DT.T
