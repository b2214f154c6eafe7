"""The plain MLP classifier: training works, and nothing makes it rotation invariant."""
import numpy as np
import pytest

from refimpl.nn import mlp
from refimpl.data import tetris


def test_init_shapes_and_seed():
    p = mlp.init_mlp(np.random.default_rng(0), [12, 5, 8])
    assert {k: v.shape for k, v in p.items()} == {"W1": (12, 5), "b1": (5,), "W2": (5, 8), "b2": (8,)}
    q = mlp.init_mlp(np.random.default_rng(0), [12, 5, 8])
    assert all(np.array_equal(p[k], q[k]) for k in p)


def test_training_fits_the_eight_shapes_and_is_seeded():
    pos, y, _ = tetris.tetris_shapes()
    x = tetris.flatten_centred(pos)
    runs = []
    for _ in range(2):
        rng = np.random.default_rng(1)
        params = mlp.init_mlp(rng, [12, 32, 32, 8])
        runs.append(mlp.train_mlp(params, x, y, rng, epochs=150, lr=1e-2, batch_size=8))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert runs[0][-1] < 0.05 * runs[0][0]
    assert mlp.accuracy(params, x, y) == 1.0


def test_the_trained_mlp_is_not_rotation_invariant():
    pos, y, _ = tetris.tetris_shapes()
    rng = np.random.default_rng(2)
    params = mlp.init_mlp(rng, [12, 32, 32, 8])
    mlp.train_mlp(params, tetris.flatten_centred(pos), y, rng, epochs=150, lr=1e-2, batch_size=8)
    rotated, labels = tetris.make_dataset(rng, 50)
    assert mlp.accuracy(params, tetris.flatten_centred(rotated), labels) < 0.5


@pytest.mark.parametrize("call, name", [
    (lambda: mlp.init_mlp(np.random.default_rng(0), [12]), "sizes"),
    (lambda: mlp.init_mlp(np.random.default_rng(0), [12, 0]), "sizes"),
    (lambda: mlp.mlp_forward(np.zeros((2, 12)), {"W1": np.zeros((12, 3))}), "params"),
    (lambda: mlp.mlp_forward(np.zeros((2, 11)), mlp.init_mlp(np.random.default_rng(0), [12, 3])), "x"),
    (lambda: mlp.train_mlp(mlp.init_mlp(np.random.default_rng(0), [12, 3]), np.zeros((2, 12)), [0],
                           np.random.default_rng(0)), "labels"),
    (lambda: mlp.train_mlp(mlp.init_mlp(np.random.default_rng(0), [12, 3]), np.zeros((2, 12)), [0, 1],
                           np.random.default_rng(0), batch_size=0), "batch_size"),
])
def test_bad_input(call, name):
    with pytest.raises(ValueError, match=name):
        call()
