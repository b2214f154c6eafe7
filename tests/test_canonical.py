"""PCA canonicalization: invariance for generic clouds, honest reports for degenerate ones."""
import numpy as np
import pytest

from refimpl import geometry
from refimpl.symmetrize.canonical import canonicalize


def _generic(rng, n=9):
    """An anisotropic random cloud, redrawn until its eigen-gaps and skewnesses are clearly non-zero."""
    for _ in range(50):
        pos = rng.normal(size=(n, 3)) * np.array([3.0, 2.0, 1.0]) + rng.normal(size=3)
        _, _, rep = canonicalize(pos, group="O(3)", gap_tol=0.05, sign_tol=0.05)
        if rep.reliable and not rep.undecidable_sign.any():
            return pos
    raise AssertionError("no generic cloud found")


def _with_eigenvalues(pos, target):
    """Stretch a cloud along its principal axes so that its covariance has eigenvalues ``target``."""
    can, _, rep = canonicalize(pos, group="O(3)")
    return can * np.sqrt(np.asarray(target) / rep.eigenvalues)


@pytest.mark.parametrize("seed", range(5))
def test_so3_canonical_form_is_rotation_and_translation_invariant(seed):
    rng = np.random.default_rng(seed)
    pos = _generic(rng)
    can, frame, rep = canonicalize(pos)
    assert rep.reliable
    for _ in range(5):
        R, t = geometry.random_rotation(rng), rng.normal(size=3) * 10
        can2, frame2, _ = canonicalize(geometry.apply_transform(pos, R, t))
        np.testing.assert_allclose(can2, can, atol=1e-10)
        np.testing.assert_allclose(frame2, R @ frame, atol=1e-10)     # the frame rotates with the shape
    np.testing.assert_allclose(frame.T @ frame, np.eye(3), atol=1e-12)
    assert np.linalg.det(frame) == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(5))
def test_o3_canonical_form_is_invariant_to_reflections_too(seed):
    rng = np.random.default_rng(seed)
    pos = _generic(rng)
    can, _, _ = canonicalize(pos, group="O(3)")
    Q = -geometry.random_rotation(rng)                                  # improper
    np.testing.assert_allclose(canonicalize(pos @ Q.T, group="O(3)")[0], can, atol=1e-10)


def test_so3_keeps_handedness_a_mirror_image_comes_out_mirrored():
    pos = _generic(np.random.default_rng(10))
    can, _, _ = canonicalize(pos)
    mirror = geometry.apply_transform(pos, geometry.reflection((1.0, 2.0, -0.5)))
    can_m, frame_m, _ = canonicalize(mirror)
    np.testing.assert_allclose(can_m, can * np.array([1.0, 1.0, -1.0]), atol=1e-10)
    assert np.linalg.det(frame_m) == pytest.approx(1.0)


def test_canonical_coordinates_are_principal_and_signed():
    pos = _generic(np.random.default_rng(11))
    can, _, rep = canonicalize(pos, group="O(3)")
    cov = can.T @ can / can.shape[0]
    np.testing.assert_allclose(cov, np.diag(rep.eigenvalues), atol=1e-10)
    assert np.all(np.diff(rep.eigenvalues) <= 0)
    assert np.all(np.mean(can ** 3, axis=0) > 0)                       # the sign rule (7.2)


def test_batched_equals_one_by_one():
    rng = np.random.default_rng(12)
    pos = rng.normal(size=(4, 6, 3))
    can, frame, rep = canonicalize(pos)
    assert rep.eigenvalues.shape == (4, 3) and rep.reliable.shape == (4,)
    for s in range(4):
        np.testing.assert_allclose(canonicalize(pos[s])[0], can[s], atol=1e-12)


SQUARE = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], dtype=float)
LINE = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0]], dtype=float)
TETRAHEDRON = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=float)
TRIANGLE = np.array([[1, 0, 0], [-0.5, np.sqrt(3) / 2, 0], [-0.5, -np.sqrt(3) / 2, 0]])


def test_square_is_flagged():
    _, _, rep = canonicalize(SQUARE)
    assert rep.planar and not rep.collinear and rep.degenerate[0] and not rep.reliable
    assert rep.rel_gaps[0] < 1e-12 and np.all(rep.undecidable_sign[:2])


def test_line_is_flagged():
    _, _, rep = canonicalize(LINE)
    assert rep.collinear and rep.planar and rep.degenerate[1]
    assert rep.undecidable_sign[0] and not rep.reliable              # symmetric spacing: no sign along the line


def test_uneven_line_is_collinear_but_reliable():
    """Axes 2 and 3 are arbitrary, but the points have no extent there, so the output is still determined."""
    pos = np.array([[0, 0, 0], [1, 0, 0], [3, 0, 0]], dtype=float)
    can, _, rep = canonicalize(pos)
    assert rep.collinear and rep.degenerate[1] and rep.reliable
    R = geometry.random_rotation(np.random.default_rng(0))
    np.testing.assert_allclose(canonicalize(pos @ R.T)[0], can, atol=1e-10)


def test_regular_tetrahedron_is_flagged():
    _, _, rep = canonicalize(TETRAHEDRON)
    assert np.all(rep.degenerate) and not rep.planar and not rep.reliable
    np.testing.assert_allclose(rep.eigenvalues, 1.0, atol=1e-12)


def test_equilateral_triangle_is_flagged():
    _, _, rep = canonicalize(TRIANGLE)
    assert rep.planar and rep.degenerate[0] and not rep.degenerate[1] and not rep.reliable


def test_centrosymmetric_cloud_has_undecidable_signs():
    half = np.random.default_rng(13).normal(size=(4, 3)) * np.array([3.0, 2.0, 1.0])
    _, _, rep = canonicalize(np.concatenate([half, -half]), group="O(3)")
    assert not rep.degenerate.any() and rep.undecidable_sign.all() and not rep.reliable
    np.testing.assert_allclose(rep.third_moments, 0.0, atol=1e-12)


def test_flag_is_meaningful_unreliable_output_does_depend_on_orientation():
    """The square is flagged because its canonical form really changes with the rotation."""
    rng = np.random.default_rng(14)
    can, _, _ = canonicalize(SQUARE)
    worst = max(np.abs(canonicalize(geometry.apply_transform(SQUARE, geometry.random_rotation(rng)))[0] - can).max()
                for _ in range(10))
    assert worst > 0.1


def test_near_degenerate_is_flagged_and_noise_swaps_axes():
    pos = _with_eigenvalues(_generic(np.random.default_rng(15)), [1.0, 0.999, 0.3])   # gap 1e-3
    _, frame, rep = canonicalize(pos)
    assert rep.degenerate[0] and not rep.degenerate[1] and not rep.reliable
    turned = [abs(canonicalize(pos + 1e-2 * g.normal(size=pos.shape))[1][:, 0] @ frame[:, 0])
              for g in map(np.random.default_rng, range(20))]
    assert min(turned) < 0.5                                         # noise of 1e-2 turned axis 1 by > 60 deg
    # the same noise on a well-separated cloud leaves the axis where it was
    wide = _with_eigenvalues(pos, [1.0, 0.5, 0.3])
    frame_w = canonicalize(wide)[1]
    assert min(abs(canonicalize(wide + 1e-2 * g.normal(size=pos.shape))[1][:, 0] @ frame_w[:, 0])
               for g in map(np.random.default_rng, range(20))) > 0.99


def test_report_describe():
    lines = canonicalize(SQUARE)[2].describe()
    assert any("degenerate" in s for s in lines) and lines[-1] == "NOT reliable"
    assert canonicalize(_generic(np.random.default_rng(0)))[2].describe() == ["reliable"]


@pytest.mark.parametrize("pos, kwargs, name", [
    (np.zeros((4, 2)), {}, "pos"), (np.zeros((1, 3)), {}, "pos"), (np.ones((5, 3)), {}, "pos"),
    (np.full((4, 3), np.nan), {}, "pos"), ("abc", {}, "pos"),
    (SQUARE, {"group": "SO(2)"}, "group"), (SQUARE, {"gap_tol": -1.0}, "gap_tol"),
    (SQUARE, {"sign_tol": np.nan}, "sign_tol"), (SQUARE, {"flat_tol": -0.1}, "flat_tol"),
    (SQUARE, {"gap_tol": "small"}, "gap_tol"),
])
def test_bad_input(pos, kwargs, name):
    with pytest.raises(ValueError, match=name):
        canonicalize(pos, **kwargs)


def test_generic_planar_cloud():
    """A planar cloud: the O(3) sign of the normal is undecidable (skewness 0) but harmless; SO(3) fixes it."""
    rng = np.random.default_rng(16)
    flat = _generic(rng) * np.array([1.0, 1.0, 0.0])
    _, _, rep_o3 = canonicalize(flat, group="O(3)")
    assert rep_o3.planar and rep_o3.undecidable_sign[2] and rep_o3.reliable
    can, _, rep = canonicalize(flat)
    assert rep.planar and not rep.undecidable_sign.any() and rep.reliable
    R = geometry.random_rotation(rng)
    np.testing.assert_allclose(canonicalize(flat @ R.T)[0], can, atol=1e-10)
    np.testing.assert_allclose(canonicalize(flat @ R.T, group="O(3)")[0], canonicalize(flat, group="O(3)")[0],
                               atol=1e-10)
