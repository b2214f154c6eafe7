"""The eight Tetris shapes and the randomly moved copies built from them."""
import numpy as np
import pytest

from refimpl.data import tetris


def _pair_distances(p):
    """Sorted pairwise distances of each shape: a rotation/reflection invariant fingerprint. p: (..., n, 3)."""
    d = np.linalg.norm(p[..., :, None, :] - p[..., None, :, :], axis=-1)
    iu = np.triu_indices(p.shape[-2], 1)
    return np.sort(d[..., iu[0], iu[1]], axis=-1)


def _signed_volume(p):
    """(x2 - x1) . ((x3 - x2) x (x4 - x3)): changes sign under a reflection, not under a rotation."""
    a, b, c = p[..., 1, :] - p[..., 0, :], p[..., 2, :] - p[..., 1, :], p[..., 3, :] - p[..., 2, :]
    return np.einsum("...k,...k->...", a, np.cross(b, c))


def test_shapes_are_the_eight_tetracubes():
    pos, labels, names = tetris.tetris_shapes()
    assert pos.shape == (8, 4, 3) and pos.dtype == np.float64
    np.testing.assert_array_equal(labels, np.arange(8))
    assert len(set(names)) == 8 and names == tetris.SHAPE_NAMES
    # every shape: four distinct lattice cubes, face-connected (the unit-distance graph is connected)
    assert np.array_equal(pos, np.round(pos))
    for p in pos:
        d = np.linalg.norm(p[:, None] - p[None], axis=-1)
        assert np.all(d[~np.eye(4, dtype=bool)] > 0.5)
        reach = np.linalg.matrix_power(np.isclose(d, 1.0).astype(int) + np.eye(4, dtype=int), 3)
        assert np.all(reach > 0), "cubes not face-connected"


def test_only_the_chiral_pair_shares_its_distances():
    pos, _, names = tetris.tetris_shapes()
    fp = _pair_distances(pos)
    same = np.all(np.isclose(fp[:, None], fp[None]), axis=-1)
    pairs = {(i, j) for i, j in zip(*np.nonzero(same)) if i < j}
    assert pairs == {tetris.CHIRAL_PAIR}


def test_chiral_pair_is_mirror_but_not_rotation_image():
    pos, _, _ = tetris.tetris_shapes()
    left, right = pos[list(tetris.CHIRAL_PAIR)]
    np.testing.assert_array_equal(right, left * np.array([1.0, 1.0, -1.0]))   # z -> -z, same atom order
    # the signed volume is rotation invariant and opposite for the two: no rotation maps one onto the other
    assert _signed_volume(left) == -_signed_volume(right) != 0


def test_make_dataset_is_rigid_seeded_and_labelled():
    pos, _, _ = tetris.tetris_shapes()
    a, la = tetris.make_dataset(np.random.default_rng(3), 5, translation_scale=2.0)
    b, _ = tetris.make_dataset(np.random.default_rng(3), 5, translation_scale=2.0)
    assert a.shape == (40, 4, 3) and np.array_equal(a, b)
    np.testing.assert_array_equal(la, np.repeat(np.arange(8), 5))
    np.testing.assert_allclose(_pair_distances(a), _pair_distances(pos[la]), atol=1e-12)
    # rotations are proper: the chiral handedness is kept in every copy
    np.testing.assert_allclose(_signed_volume(a), _signed_volume(pos[la]), atol=1e-12)
    assert np.abs(tetris.centre(a) - tetris.centre(pos[la])).max() > 0.5   # they really were rotated
    assert np.abs(a.mean(axis=1) - pos[la].mean(axis=1)).max() > 1.0     # and translated


def test_make_dataset_reflections_flip_handedness_of_some_copies():
    pos, _, _ = tetris.tetris_shapes()
    a, la = tetris.make_dataset(np.random.default_rng(0), 40, reflections=True)
    chiral = la == tetris.CHIRAL_PAIR[0]
    flipped = np.isclose(_signed_volume(a[chiral]), -_signed_volume(pos[tetris.CHIRAL_PAIR[0]]))
    assert 5 < flipped.sum() < 35


def test_make_dataset_without_rotation_and_jitter():
    pos, _, _ = tetris.tetris_shapes()
    a, la = tetris.make_dataset(np.random.default_rng(0), 2, rotate=False)
    np.testing.assert_array_equal(a, pos[la])
    b, lb = tetris.make_dataset(np.random.default_rng(0), 200, rotate=False, jitter=0.1)
    assert abs(np.std(b - pos[lb]) - 0.1) < 0.01


def test_flatten_centred_is_translation_but_not_rotation_invariant():
    pos, _, _ = tetris.tetris_shapes()
    x = tetris.flatten_centred(pos)
    assert x.shape == (8, 12)
    np.testing.assert_allclose(tetris.flatten_centred(pos + np.array([1.0, -2.0, 3.0])), x, atol=1e-12)
    R = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])   # 90 degrees about z
    assert np.abs(tetris.flatten_centred(pos @ R.T) - x).max() > 0.5


def test_to_batch():
    pos, _, _ = tetris.tetris_shapes()
    flat, batch = tetris.to_batch(pos)
    assert flat.shape == (32, 3)
    np.testing.assert_array_equal(batch, np.repeat(np.arange(8), 4))
    np.testing.assert_array_equal(flat[batch == 5], pos[5])


@pytest.mark.parametrize("kwargs, name", [
    (dict(copies=0), "copies"), (dict(copies=2.5), "copies"),
    (dict(copies=2, shapes=np.zeros((2, 4, 2))), "shapes"),
    (dict(copies=2, rotate=False, reflections=True), "reflections"),
    (dict(copies=2, jitter=-1.0), "jitter"), (dict(copies=2, translation_scale=np.nan), "translation_scale"),
])
def test_make_dataset_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        tetris.make_dataset(np.random.default_rng(0), **kwargs)


@pytest.mark.parametrize("fn", [tetris.centre, tetris.flatten_centred, tetris.to_batch])
def test_bad_positions(fn):
    with pytest.raises(ValueError, match="pos"):
        fn(np.zeros((2, 4, 2)))
