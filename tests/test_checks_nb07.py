"""The checks of exercises/07_painn.ipynb accept the reference and reject typical wrong answers."""
import numpy as np
import pytest

from coursework.checks import exercises_for, run_check
from coursework.checks import nb07_painn as nb07
from refimpl.models import painn
from refimpl.nn import radial

CHECKS = {(c.exercise, c.name): c for ex in exercises_for("07_painn") for c in ex.checks}


def failing(exercise, namespace):
    return {name for (ex, name), c in CHECKS.items() if ex == exercise and not run_check(c, namespace).passed}


REFERENCE = {
    "sine_rbf_forward": radial.sine_rbf_forward, "sine_rbf_backward": radial.sine_rbf_backward,
    "painn_filters_and_directions": nb07.filters_and_directions,
    "message_forward": painn.message_forward, "message_backward": painn.message_backward,
}


def sine_zero_at_zero(d, n_rbf, cutoff):
    """schnetpack's BesselRBF: 1 in the denominator at d = 0, so the value 0 there."""
    k = np.arange(1, n_rbf + 1) * np.pi / cutoff
    safe = np.where(d > 0, d, 1.0)[:, None]
    e = np.sin(d[:, None] * k) / safe
    return e, radial.sine_rbf_forward(d, n_rbf, cutoff)[1]


def sine_backward_without_limit(de, cache):
    dd = radial.sine_rbf_backward(de, cache)
    d = cache[0]
    return np.where(d > 0, dd, np.sum(de, axis=1))          # a nonzero slope at d = 0


def filters_without_cutoff(pos, edge_index, W, b, n_rbf, cutoff):
    _, u = nb07.filters_and_directions(pos, edge_index, W, b, n_rbf, cutoff)
    r = pos[edge_index[0]] - pos[edge_index[1]]
    d = np.linalg.norm(r, axis=1)
    return radial.sine_rbf_forward(d, n_rbf, cutoff)[0] @ W + b, u


def directions_reversed(pos, edge_index, W, b, n_rbf, cutoff):
    W_ij, u = nb07.filters_and_directions(pos, edge_index, W, b, n_rbf, cutoff)
    return W_ij, -u                                          # r_ij = x_i - x_j


def message_split_swapped(s, v, W_ij, dir_ij, edge_index, p):
    F = s.shape[1]
    swapped = np.concatenate([W_ij[:, :F], W_ij[:, 2 * F:], W_ij[:, F:2 * F]], axis=1)
    return painn.message_forward(s, v, swapped, dir_ij, edge_index, p)


def message_gathers_v_from_target(s, v, W_ij, dir_ij, edge_index, p):
    (s_new, _), cache = painn.message_forward(s, v, W_ij, dir_ij, edge_index, p)
    F = s.shape[1]
    phi = painn.dense2_forward(s, p)[0]
    j, i = edge_index
    m = W_ij * phi[j]
    dv = m[:, F:2 * F, None] * dir_ij[:, None, :] + m[:, 2 * F:, None] * v[i]
    return (s_new, v + np.stack([np.bincount(i, weights=dv[:, f, k], minlength=len(s))
                                 for f in range(F) for k in range(3)], axis=1).reshape(v.shape)), cache


def message_backward_without_residual(dout, cache):
    ds, dv, dW_ij, ddir, dp = painn.message_backward(dout, cache)
    return ds - dout[0], dv - dout[1], dW_ij, ddir, dp


def message_backward_without_direction_gradient(dout, cache):
    ds, dv, dW_ij, ddir, dp = painn.message_backward(dout, cache)
    return ds, dv, dW_ij, np.zeros_like(ddir), dp


def test_reference_passes_every_check():
    for ex in ("painn_sine_basis", "painn_filters", "painn_message"):
        assert failing(ex, REFERENCE) == set(), ex


@pytest.mark.parametrize("exercise, wrong, expected", [
    ("painn_sine_basis", {"sine_rbf_forward": sine_zero_at_zero},
     {"forward matches the reference, with the limit n pi / r_c at d = 0"}),
    ("painn_sine_basis", {"sine_rbf_backward": sine_backward_without_limit},
     {"backward matches the reference, 0 at d = 0, finite everywhere"}),
    ("painn_filters", {"painn_filters_and_directions": filters_without_cutoff},
     {"filters match the reference (cutoff included)"}),
    ("painn_filters", {"painn_filters_and_directions": directions_reversed},
     {"unit vectors match the reference (their sign too)"}),
    ("painn_message", {"message_forward": message_split_swapped},        # its cache feeds the backward too
     {"forward matches the reference", "backward matches the reference (ds, dv, dW_ij, ddir_ij, dp)"}),
    ("painn_message", {"message_forward": message_gathers_v_from_target},
     {"forward matches the reference"}),
    ("painn_message", {"message_backward": message_backward_without_residual},
     {"backward matches the reference (ds, dv, dW_ij, ddir_ij, dp)"}),
    ("painn_message", {"message_backward": message_backward_without_direction_gradient},
     {"backward matches the reference (ds, dv, dW_ij, ddir_ij, dp)"}),
])
def test_checks_reject_wrong_answers(exercise, wrong, expected):
    assert failing(exercise, {**REFERENCE, **wrong}) == expected


def test_wrong_split_order_and_sign_are_named():
    c = CHECKS[("painn_message", "forward matches the reference")]
    result = run_check(c, dict(REFERENCE, message_forward=message_split_swapped))
    assert "in that order" in result.message
    c = CHECKS[("painn_filters", "unit vectors match the reference (their sign too)")]
    assert "opposite sign" in run_check(c, dict(REFERENCE, painn_filters_and_directions=directions_reversed)).message


def test_a_model_that_breaks_equivariance_is_caught():
    """Vectors built from a fixed axis instead of u_ij: the reflection check fails."""
    def fixed_axis(s, v, W_ij, dir_ij, edge_index, p):
        return painn.message_forward(s, v, W_ij, np.tile([1.0, 0.0, 0.0], (len(dir_ij), 1)), edge_index, p)
    assert "scalars invariant, vectors equivariant under a reflection" in failing(
        "painn_message", dict(REFERENCE, message_forward=fixed_axis))
