"""The checks of exercises/05_equivariant.ipynb accept the reference and reject typical wrong answers
(wrong sign, sum instead of mean, swapped edge rows, a missing path in the backward, a test that skips
reflections or translations)."""
import numpy as np
import pytest

from refimpl.geometry import random_orthogonal, random_rotation
from refimpl.models import egnn_layers as egl
from coursework.checks import exercises_for, run_check
from coursework.checks import nb05_equivariant as nb05

CHECKS = {(c.exercise, c.name): c for ex in exercises_for("05_equivariant") for c in ex.checks}


def failing(exercise, namespace):
    """Names of the checks of ``exercise`` that fail on ``namespace`` (a dict of functions)."""
    return {name for (ex, name), c in CHECKS.items() if ex == exercise and not run_check(c, namespace).passed}


def sub(params, prefix):
    return {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}


def layer(h, x, edge_index, params):
    return egl.egnn_layer_forward(h, x, edge_index, params)[0]


def layer_wrong_sign(h, x, edge_index, params):
    h2, x2 = layer(h, x, edge_index, params)
    return h2, 2 * x - x2


def layer_swapped_rows(h, x, edge_index, params):
    return layer(h, x, edge_index[::-1], params)


def layer_sum_not_mean(h, x, edge_index, params):
    """x_i - sum_j r_ij phi_ij: the reference's update times the in-degree."""
    h2, x2 = layer(h, x, edge_index, params)
    deg = np.maximum(np.bincount(edge_index[1], minlength=x.shape[0]), 1)[:, None]
    return h2, x + (x2 - x) * deg


def layer_without_residual(h, x, edge_index, params):
    h2, x2 = layer(h, x, edge_index, params)
    return h2 - h, x2


def _layer_with(h, x, edge_index, params, sq):
    """The layer with ``sq`` (E,) in place of the squared distances."""
    m, _ = egl.edge_mlp_forward(h, sq, edge_index, sub(params, "edge_mlp."))
    phi, _ = egl.coord_mlp_forward(m, sub(params, "coord_mlp."))
    x2, _ = egl.coord_update_forward(x, phi, edge_index)
    return egl.node_mlp_forward(h, m, edge_index, sub(params, "node_mlp."))[0], x2


def layer_distance_not_squared(h, x, edge_index, params):
    return _layer_with(h, x, edge_index, params, np.linalg.norm(x[edge_index[0]] - x[edge_index[1]], axis=1))


def layer_absolute_positions(h, x, edge_index, params):
    """Breaks translations: the squared norm of x_i instead of |x_j - x_i|^2."""
    return _layer_with(h, x, edge_index, params, np.sum(x[edge_index[1]] ** 2, axis=1))


def update_backward_without_r_path(dout, cache):
    dx, dphi = egl.coord_update_backward(dout, cache)
    return dout.copy(), dphi


def update_forward_sum(x, phi, edge_index):
    r = x[edge_index[0]] - x[edge_index[1]]
    agg = np.zeros_like(x)
    np.add.at(agg, edge_index[1], r * phi[:, None])
    return x - agg, None


def update_forward_swapped(x, phi, edge_index):
    return egl.coord_update_forward(x, phi, edge_index[::-1])


def update_backward_wrong_sign(dout, cache):
    dx, dphi = egl.coord_update_backward(dout, cache)
    return dx, -dphi


def _max_error(f, pos, Q, t):
    out = f(pos)
    return np.abs(f(pos @ Q.T + t) - out @ Q.T).max() / (1.0 + np.abs(out).max())


def is_equivariant(f, pos, rng, trials=3, tol=1e-9):
    """A rotation R and the reflection -R in every trial, each with a random translation."""
    Rs = [random_rotation(rng) for _ in range(trials)]
    return all(_max_error(f, pos, Q, rng.normal(scale=3.0, size=3)) < tol for R in Rs for Q in (R, -R))


def rotations_only(f, pos, rng):
    return all(_max_error(f, pos, random_rotation(rng), rng.normal(size=3)) < 1e-9 for _ in range(5))


def no_translation(f, pos, rng):
    return all(_max_error(f, pos, random_orthogonal(rng), np.zeros(3)) < 1e-9 for _ in range(5))


def minus_identity_only(f, pos, rng):
    return _max_error(f, pos, -np.eye(3), np.zeros(3)) < 1e-9 and _max_error(f, pos, np.eye(3), np.ones(3)) < 1e-9


REFERENCE = {"egnn_layer": layer, "coord_update_forward": egl.coord_update_forward,
             "coord_update_backward": egl.coord_update_backward, "is_equivariant": is_equivariant}


def test_reference_passes_every_check():
    for ex in ("egnn_layer", "coord_update", "equivariance_test"):
        assert failing(ex, REFERENCE) == set(), ex


def test_unsolved_fails_every_check():
    def unsolved(*args, **kwargs):
        raise NotImplementedError("write this")
    ns = {name: unsolved for name in REFERENCE}
    assert failing("egnn_layer", ns) == {n for (e, n) in CHECKS if e == "egnn_layer"}
    assert failing("coord_update", ns) == {n for (e, n) in CHECKS if e == "coord_update"}
    assert failing("equivariance_test", ns) == {n for (e, n) in CHECKS if e == "equivariance_test"}


X_CHECK, H_CHECK = "coordinates x' match the reference", "features h' match the reference"
MOVED = "E(3)-equivariant: x -> Q x + t moves x' as Q x' + t and leaves h' unchanged"


@pytest.mark.parametrize("wrong, expected", [
    (layer_wrong_sign, {X_CHECK, MOVED}),
    (layer_swapped_rows, {X_CHECK, H_CHECK, MOVED}),
    (layer_sum_not_mean, {X_CHECK, MOVED}),
    (layer_without_residual, {H_CHECK, MOVED}),
    (layer_distance_not_squared, {X_CHECK, H_CHECK, MOVED}),
    (layer_absolute_positions, {X_CHECK, H_CHECK, MOVED}),
])
def test_layer_checks_reject(wrong, expected):
    assert failing("egnn_layer", dict(REFERENCE, egnn_layer=wrong)) == expected


def test_wrong_sign_gets_its_own_message():
    check = CHECKS[("egnn_layer", X_CHECK)]
    assert "wrong sign" in run_check(check, dict(REFERENCE, egnn_layer=layer_wrong_sign)).message


@pytest.mark.parametrize("wrong", [
    {"coord_update_backward": update_backward_without_r_path},
    {"coord_update_backward": update_backward_wrong_sign},
    {"coord_update_forward": update_forward_swapped},
    {"coord_update_forward": update_forward_sum},
])
def test_update_checks_reject(wrong):
    assert failing("coord_update", dict(REFERENCE, **wrong))


@pytest.mark.parametrize("wrong, expected", [
    (rotations_only, {"says no to a function that breaks only under reflections"}),
    (no_translation, {"says no to a function that breaks only under translations"}),
    (minus_identity_only, {"says no to functions that break under rotations"}),
    (lambda f, pos, rng: True, {"says no to a function that breaks only under reflections",
                                "says no to a function that breaks only under translations",
                                "says no to functions that break under rotations"}),
    (lambda f, pos, rng: False, {"says yes to equivariant functions"}),
    (lambda f, pos, rng: 1, {n for (e, n) in CHECKS if e == "equivariance_test"}),
])
def test_equivariance_checks_reject(wrong, expected):
    assert failing("equivariance_test", dict(REFERENCE, is_equivariant=wrong)) == expected


@pytest.mark.parametrize("name", sorted(nb05.GRADED))
def test_graded_functions_are_what_they_claim(name):
    """Each graded function is (not) equivariant as labelled, and the non-equivariant ones break where they say."""
    f, equivariant = nb05.GRADED[name]
    rng = np.random.default_rng(0)
    pos = rng.normal(size=(6, 3))
    R, t = random_rotation(rng), rng.normal(size=3)
    errs = {"rotation": _max_error(f, pos, R, np.zeros(3)), "reflection": _max_error(f, pos, -R, np.zeros(3)),
            "translation": _max_error(f, pos, np.eye(3), t)}
    broken = {k for k, e in errs.items() if e > 1e-3}
    assert max(errs.values()) < 1e-12 or broken
    want = {"springs": set(), "from_centroid": set(), "cross_neighbours": {"reflection"}, "positions": {"translation"},
            "componentwise_tanh": {"rotation", "reflection"}, "fixed_axis": {"rotation", "reflection"}}[name]
    assert broken == want and equivariant == (not want)
