"""augment_batch: one random rigid motion per graph, plus jitter."""
import numpy as np
import pytest

from refimpl.symmetrize.augment import augment_batch


def _batch(rng, sizes=(3, 5, 1, 4)):
    batch = np.repeat(np.arange(len(sizes)), sizes)
    return rng.normal(size=(batch.size, 3)) * 2.0, batch


def _distances_within_graphs(pos, batch):
    d = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    return d[batch[:, None] == batch[None]]


def test_output_is_the_reported_group_element_per_graph():
    rng = np.random.default_rng(0)
    pos, batch = _batch(rng)
    out, Q, t = augment_batch(pos, batch, rng, translation_scale=3.0)
    assert out.shape == pos.shape and Q.shape == (4, 3, 3) and t.shape == (4, 3)
    for g in range(4):   # test-side loop: compare with the plain per-graph formula x -> Q x + t
        np.testing.assert_allclose(out[batch == g], pos[batch == g] @ Q[g].T + t[g], atol=1e-12)
    np.testing.assert_allclose(np.einsum("gij,gkj->gik", Q, Q), np.broadcast_to(np.eye(3), Q.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(Q), 1.0, atol=1e-12)
    assert np.abs(Q[0] - Q[1]).max() > 1e-3 and np.abs(t[0] - t[1]).max() > 1e-3   # one element per graph
    np.testing.assert_allclose(_distances_within_graphs(out, batch), _distances_within_graphs(pos, batch), atol=1e-12)


def test_rigid_motion_changes_distances_between_graphs():
    """Graphs move independently, so distances between atoms of different graphs change."""
    rng = np.random.default_rng(1)
    pos, batch = _batch(rng)
    out, _, _ = augment_batch(pos, batch, rng, translation_scale=1.0)
    d0 = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    d1 = np.linalg.norm(out[:, None] - out[None], axis=-1)
    assert np.abs(d1 - d0)[batch[:, None] != batch[None]].max() > 0.1


def test_reflections_give_both_determinants():
    rng = np.random.default_rng(2)
    pos, batch = _batch(rng, sizes=(2,) * 200)
    out, Q, _ = augment_batch(pos, batch, rng, reflections=True)
    det = np.linalg.det(Q)
    np.testing.assert_allclose(np.abs(det), 1.0, atol=1e-12)
    assert 60 < np.sum(det < 0) < 140
    np.testing.assert_allclose(out, np.einsum("aij,aj->ai", Q[batch], pos), atol=1e-12)


def test_rotations_are_uniformly_spread():
    """For a Haar-random rotation, R e_z is uniform on the sphere: mean ~ 0 and mean z^2 ~ 1/3."""
    rng = np.random.default_rng(3)
    _, Q, _ = augment_batch(np.zeros((4000, 3)), np.arange(4000), rng)
    v = Q[:, :, 2]
    assert np.abs(v.mean(axis=0)).max() < 0.05
    assert np.abs((v ** 2).mean(axis=0) - 1 / 3).max() < 0.03


def test_translation_and_jitter_statistics():
    rng = np.random.default_rng(4)
    pos, batch = _batch(rng, sizes=(5,) * 400)
    out, Q, t = augment_batch(pos, batch, rng, rotate=False, translation_scale=2.0, jitter=0.05)
    np.testing.assert_array_equal(Q, np.broadcast_to(np.eye(3), Q.shape))
    assert abs(t.std() - 2.0) < 0.1
    noise = out - pos - t[batch]
    assert abs(noise.std() - 0.05) < 0.003 and abs(noise.mean()) < 0.003


def test_seeded_and_identity_when_nothing_is_asked():
    pos, batch = _batch(np.random.default_rng(5))
    a = augment_batch(pos, batch, np.random.default_rng(9), jitter=0.1)[0]
    b = augment_batch(pos, batch, np.random.default_rng(9), jitter=0.1)[0]
    np.testing.assert_array_equal(a, b)
    same, _, t = augment_batch(pos, batch, np.random.default_rng(9), rotate=False)
    np.testing.assert_array_equal(same, pos)
    assert not np.any(t)


def test_num_graphs_and_empty_graphs():
    rng = np.random.default_rng(6)
    pos, batch = _batch(rng)
    out, Q, t = augment_batch(pos, batch, rng, num_graphs=6)
    assert Q.shape == (6, 3, 3) and t.shape == (6, 3)
    out, Q, t = augment_batch(np.zeros((0, 3)), np.zeros(0, dtype=int), rng)
    assert out.shape == (0, 3) and Q.shape == (0, 3, 3)


@pytest.mark.parametrize("change, name", [
    (dict(pos=np.zeros((13, 2))), "pos"),
    (dict(pos=np.full((13, 3), np.nan)), "pos"),
    (dict(batch=np.arange(13)[::-1]), "batch"),
    (dict(batch=np.zeros(12, dtype=int)), "batch"),
    (dict(rng=0), "rng"),
    (dict(jitter=-0.1), "jitter"),
    (dict(translation_scale=np.inf), "translation_scale"),
    (dict(num_graphs=2), "num_graphs"),
    (dict(rotate=False, reflections=True), "reflections"),
])
def test_bad_input(change, name):
    pos, batch = _batch(np.random.default_rng(7))
    kwargs = dict(pos=pos, batch=batch, rng=np.random.default_rng(0))
    kwargs.update(change)
    with pytest.raises(ValueError, match=name):
        augment_batch(**kwargs)
