"""The checks of exercises/03_symmetry.ipynb reject typical wrong answers, each with the intended check."""
import numpy as np
import pytest

from refimpl import geometry
from refimpl.core import losses, optim
from refimpl.nn import mlp
from refimpl.data import tetris
from coursework.checks import exercises_for, run_check

CHECKS = {(c.exercise, c.name): c for ex in exercises_for("03_symmetry") for c in ex.checks}


def failing(exercise, namespace):
    """Names of the checks of ``exercise`` that fail on ``namespace`` (a dict of functions)."""
    return {name for (ex, name), c in CHECKS.items() if ex == exercise and not run_check(c, namespace).passed}


def checks_named(exercise, word):
    return {name for ex, name in CHECKS if ex == exercise and word in name}


# ----------------------------------------------------------------------------- random_rotation
def euler_rotation(rng):
    """Uniform Euler angles: orthogonal with det +1, but not uniform on SO(3)."""
    a, b, c = rng.uniform(0, 2 * np.pi, size=3)
    rz = lambda t: np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1.0]])
    ry = lambda t: np.array([[np.cos(t), 0, np.sin(t)], [0, 1.0, 0], [-np.sin(t), 0, np.cos(t)]])
    return rz(a) @ ry(b) @ rz(c)


def qr_without_det_fix(rng):
    Q, Rp = np.linalg.qr(rng.normal(size=(3, 3)))
    return Q * np.sign(np.diag(Rp))                       # uniform on O(3): half are reflections


def global_state_rotation(rng):
    return geometry.random_rotation(np.random.default_rng(np.random.randint(2**31)))


@pytest.mark.parametrize("fn, word", [(euler_rotation, "uniform"), (qr_without_det_fix, "determinant"),
                                      (global_state_rotation, "rng")])
def test_random_rotation_checks_reject(fn, word):
    assert failing("random_rotation", {"random_rotation": fn}) == checks_named("random_rotation", word)


def test_random_rotation_checks_accept_the_reference():
    assert not failing("random_rotation", {"random_rotation": geometry.random_rotation})


# ----------------------------------------------------------------------------- equivariance_error
def test_equivariance_error_checks():
    right = lambda f, pos, R, t: float(np.abs(f(pos @ R.T + t) - f(pos) @ R.T).max())
    unrotated = lambda f, pos, R, t: float(np.abs(f(pos @ R.T + t) - f(pos)).max())
    translated = lambda f, pos, R, t: float(np.abs(f(pos @ R.T + t) - (f(pos) @ R.T + t)).max())
    per_entry = lambda f, pos, R, t: np.abs(f(pos @ R.T + t) - f(pos) @ R.T)
    assert not failing("equivariance_error", {"equivariance_error": right})
    for wrong in (unrotated, translated, per_entry):
        assert failing("equivariance_error", {"equivariance_error": wrong})


# ----------------------------------------------------------------------------- radius_graph
def _pairs(pos, keep, self_loops=False):
    d = np.linalg.norm(pos[None] - pos[:, None], axis=-1)
    i, j = np.nonzero(keep(d) & (self_loops | ~np.eye(len(pos), dtype=bool)))
    return np.stack([j, i]).reshape(2, -1)


def test_radius_graph_checks():
    right = lambda pos, cutoff: _pairs(pos, lambda d: d < cutoff)
    with_self_loops = lambda pos, cutoff: _pairs(pos, lambda d: d < cutoff, self_loops=True)
    closed_ball = lambda pos, cutoff: _pairs(pos, lambda d: d <= cutoff)
    one_direction = lambda pos, cutoff: _pairs(pos, lambda d: np.triu(d < cutoff))
    floats = lambda pos, cutoff: right(pos, cutoff).astype(np.float64)
    drops_coincident = lambda pos, cutoff: _pairs(pos, lambda d: (d < cutoff) & (d > 0))
    assert not failing("radius_graph", {"radius_graph": right})
    assert checks_named("radius_graph", "same edges") <= failing("radius_graph", {"radius_graph": with_self_loops})
    assert failing("radius_graph", {"radius_graph": closed_ball}) == checks_named("radius_graph", "edge cases")
    assert checks_named("radius_graph", "same edges") <= failing("radius_graph", {"radius_graph": one_direction})
    assert failing("radius_graph", {"radius_graph": floats}) == checks_named("radius_graph", "")
    assert failing("radius_graph", {"radius_graph": drops_coincident}) == checks_named("radius_graph", "same position")


# ----------------------------------------------------------------------------- pca_canonicalize
def _pca(pos, sign_rule=True, right_hand=True):
    X = pos - pos.mean(axis=0)
    frame = np.linalg.eigh(X.T @ X / len(X))[1][:, ::-1].copy()
    if sign_rule:
        frame *= np.where(np.sum((X @ frame) ** 3, axis=0) < 0, -1.0, 1.0)
    if right_hand:
        frame[:, 2] = np.cross(frame[:, 0], frame[:, 1])
    return X @ frame, frame


def test_pca_canonicalize_checks():
    assert not failing("pca_canonicalize", {"pca_canonicalize": _pca})
    o3 = lambda pos: _pca(pos, right_hand=False)         # O(3) rule: a mirror image is not told apart
    assert checks_named("pca_canonicalize", "handedness") <= failing("pca_canonicalize", {"pca_canonicalize": o3})
    no_signs = lambda pos: _pca(pos, sign_rule=False)     # eigh's arbitrary signs
    assert failing("pca_canonicalize", {"pca_canonicalize": no_signs})


# ----------------------------------------------------------------------------- train_with_augmentation
def _train(X, y, params, rng, epochs, lr=1e-2, augment=True):
    opt, history = optim.Adam(params, lr=lr), np.zeros(epochs)
    for epoch in range(epochs):
        R = geometry.random_rotation(rng, len(X)) if augment else np.broadcast_to(np.eye(3), (len(X), 3, 3))
        logits, cache = mlp.mlp_forward(tetris.flatten_centred(np.einsum("sij,saj->sai", R, X)), params)
        history[epoch], loss_cache = losses.softmax_cross_entropy_forward(logits, y)
        opt.step(mlp.mlp_backward(losses.softmax_cross_entropy_backward(loss_cache), cache)[1])
    return params, history


def test_train_with_augmentation_checks():
    assert not failing("train_with_augmentation", {"train_with_augmentation": _train})
    no_augmentation = lambda *args, **kw: _train(*args, augment=False, **kw)
    assert failing("train_with_augmentation", {"train_with_augmentation": no_augmentation}) == \
        checks_named("train_with_augmentation", "accuracy")
