"""The checks of exercises/06_vectors.ipynb accept the solution and reject typical wrong answers: the
concatenation [|Vh|, s] of the paper instead of the reference's [s, |Vh|], a gate from the post-ReLU
scalars, a norm without the clamp, a backward that forgets a path, a component-wise nonlinearity, a Y^2
without its sqrt(15), the z-polar textbook order."""
import pathlib

import numpy as np
import pytest

from coursework.checks import exercises_for, load_namespace, run_check

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHECKS = {(c.exercise, c.name): c for ex in exercises_for("06_vectors") for c in ex.checks}
SOLUTION, ERRORS = load_namespace(ROOT / "solutions" / "06_vectors.ipynb")


def failing(exercise, **replace):
    """Names of the checks of ``exercise`` that fail when the solution's functions are replaced."""
    ns = dict(SOLUTION, **replace)
    return {name for (ex, name), c in CHECKS.items() if ex == exercise and not run_check(c, ns).passed}


def test_solution_passes_every_check():
    assert not ERRORS
    assert failing("gvp") == set() and failing("spherical_harmonics") == set()


def _sig(x):
    return 1 / (1 + np.exp(-x))


def gvp_paper_order(s, V, Wh, Ws, bs, Wv, Wsv=None, bsv=None):
    """The paper's concatenation [|Vh|, s]: the same weights read the wrong inputs."""
    h = Wh.shape[1]
    return SOLUTION["gvp_forward"](s, V, Wh, np.concatenate([Ws[-h:], Ws[:-h]]), bs, Wv, Wsv, bsv)


def gvp_gate_after_relu(s, V, Wh, Ws, bs, Wv, Wsv=None, bsv=None):
    s_out, V_out, cache = SOLUTION["gvp_forward"](s, V, Wh, Ws, bs, Wv, Wsv, bsv)
    if Wsv is not None:
        Vv, g = cache[11], _sig(_sig(s_out) @ Wsv + bsv)
        V_out = g[:, :, None] * Vv
    return s_out, V_out, cache


def gvp_no_clamp(s, V, Wh, Ws, bs, Wv, Wsv=None, bsv=None):
    s_out, V_out, cache = SOLUTION["gvp_forward"](s, V, Wh, Ws, bs, Wv, Wsv, bsv)
    n = np.linalg.norm(np.einsum("nck,ch->nhk", V, Wh), axis=2)
    z = np.concatenate([s, n], axis=1) @ Ws + bs
    return np.maximum(z, 0), V_out, cache


def gvp_componentwise_relu(s, V, Wh, Ws, bs, Wv, Wsv=None, bsv=None):
    s_out, V_out, cache = SOLUTION["gvp_forward"](s, V, Wh, Ws, bs, Wv, Wsv, bsv)
    return s_out, np.maximum(V_out, 0.0), cache


def gvp_backward_without_norm_path(ds, dV, cache):
    """Ungated: forgets that Vv also reaches the loss through its own norm (the gate)."""
    s, V, Wh, Ws, Wv, Wsv, Vh, sq_h, n, x, z, Vv, sq_v, nv, a, g = cache
    fake = (s, V, Wh, Ws, Wv, Wsv, Vh, sq_h, n, x, z, Vv, np.zeros_like(sq_v) if sq_v is not None else None,
            nv, a, g)
    return SOLUTION["gvp_backward"](ds, dV, fake)


def gvp_backward_wrong_bias(ds, dV, cache):
    grads = list(SOLUTION["gvp_backward"](ds, dV, cache))
    grads[4] = grads[4] * 0.5
    return tuple(grads)


@pytest.mark.parametrize("forward, must_fail", [
    (gvp_paper_order, {"ungated forward matches the reference", "vector-gated forward matches the reference"}),
    (gvp_gate_after_relu, {"vector-gated forward matches the reference"}),
    (gvp_no_clamp, {"zero input vectors: the norm is clamped at sqrt(1e-8)"}),
    (gvp_componentwise_relu, {"O(3): scalars invariant, vectors rotate with the input"}),
])
def test_gvp_forward_mistakes_are_caught(forward, must_fail):
    assert must_fail <= failing("gvp", gvp_forward=forward)


def test_gvp_backward_mistakes_are_caught():
    assert "ungated backward matches the reference" in failing("gvp", gvp_backward=gvp_backward_without_norm_path)
    assert "vector-gated backward matches the reference" not in failing(
        "gvp", gvp_backward=gvp_backward_without_norm_path)       # the gated GVP has no such path
    assert {"ungated backward matches the reference", "vector-gated backward matches the reference"} <= failing(
        "gvp", gvp_backward=gvp_backward_wrong_bias)


def sh_without_sqrt15(u, l):
    Y, cache = SOLUTION["spherical_harmonics_forward"](u, l)
    if l == 2:
        Y = Y.copy()
        Y[:, [0, 1, 3]] /= np.sqrt(15)
    return Y, cache


def sh_textbook_order(u, l):
    """The z-polar textbook order (m = -l..l): a valid basis, but not the course's convention."""
    return SOLUTION["spherical_harmonics_forward"](u[:, [2, 0, 1]], l)[0], (u, l)


def sh_l1_unnormalized(u, l):
    Y, cache = SOLUTION["spherical_harmonics_forward"](u, l)
    return (u.copy() if l == 1 else Y), cache


def sh_backward_missing_factor(dY, cache):
    du = SOLUTION["spherical_harmonics_backward"](dY, cache)
    u, l = cache
    if l == 2:
        du = du.copy()
        du[:, 1] -= np.sqrt(5) * dY[:, 2] * u[:, 1]        # d/dy of sqrt5 y^2 taken as sqrt5 y
    return du


def test_spherical_harmonics_mistakes_are_caught():
    assert {"l = 2 matches eq-sh (order and normalization)", "normalized, and Y(Q u) = D(Q) Y(u)"} <= failing(
        "spherical_harmonics", spherical_harmonics_forward=sh_without_sqrt15)
    textbook = failing("spherical_harmonics", spherical_harmonics_forward=sh_textbook_order)
    assert "l = 2 matches eq-sh (order and normalization)" in textbook and "l = 1 matches sqrt(3) u" in textbook
    assert {"l = 1 matches sqrt(3) u", "normalized, and Y(Q u) = D(Q) Y(u)"} <= failing(
        "spherical_harmonics", spherical_harmonics_forward=sh_l1_unnormalized)
    assert failing("spherical_harmonics", spherical_harmonics_backward=sh_backward_missing_factor) == {
        "backward matches the reference (l = 1, 2)"}
