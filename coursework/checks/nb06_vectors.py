"""Checks for exercises/06_vectors.ipynb: a geometric vector perceptron forward and backward (ungated and
with the vector gate), and the real spherical harmonics of order 1 and 2 with their backward pass."""
import numpy as np

from refimpl.geometry import random_orthogonal
from refimpl.models import gvp
from refimpl.nn import spherical
from coursework.checks.core import CheckFailed, exercise, expect_array, expect_tuple, student_function

NOTEBOOK = "06_vectors"
WEIGHTS = ("Wh", "Ws", "bs", "Wv", "Wsv", "bsv")
GVP_KEYS = {"Wh": "wh.W", "Ws": "ws.W", "bs": "ws.b", "Wv": "wv.W", "Wsv": "wsv.W", "bsv": "wsv.b"}


# ----------------------------------------------------------------------------- GVP
GVP = exercise(
    "gvp", NOTEBOOK, ("gvp_forward", "gvp_backward"), points=8,
    title="A geometric vector perceptron, forward and backward, with and without the vector gate",
    reference=("refimpl.models.gvp.gvp_forward", "refimpl.models.gvp.gvp_backward"))


def _gvp_inputs(rng, gate=True, zero_node=False):
    n, S, C, So, Co = 6, 4, 3, 5, 2
    h = max(C, Co)
    x = {"s": rng.normal(size=(n, S)), "V": rng.normal(size=(n, C, 3)), "Wh": rng.normal(size=(C, h)),
         "Ws": rng.normal(size=(S + h, So)), "bs": rng.normal(size=So), "Wv": rng.normal(size=(h, Co)),
         "ds": rng.normal(size=(n, So)), "dV": rng.normal(size=(n, Co, 3)), "Q": random_orthogonal(rng)}
    if gate:
        x["Wsv"], x["bsv"] = rng.normal(size=(So, Co)), rng.normal(size=Co)
    if zero_node:
        x["V"][0] = 0.0                              # |W_h V| = 0: the clamp sets the norm to sqrt(1e-8)
    return x


def _weights(x):
    return [x[k] for k in WEIGHTS if k in x]


def _reference(x):
    p = {GVP_KEYS[k]: x[k] for k in WEIGHTS if k in x}
    out, cache = gvp.gvp_forward(x["s"], x["V"], p, vector_gate="Wsv" in x)
    ds, dV, g = gvp.gvp_backward((x["ds"], x["dV"]), cache)
    return out, (ds, dV, *(g[GVP_KEYS[k]] for k in WEIGHTS if k in x))


def _gvp_run(student, x):
    fwd, bwd = student_function(student, "gvp_forward"), student_function(student, "gvp_backward")
    s_out, V_out, cache = expect_tuple("gvp_forward(...)", fwd(x["s"], x["V"], *_weights(x)), 3)
    n_grads = 2 + len(_weights(x))
    grads = expect_tuple("gvp_backward(ds, dV, cache)", bwd(x["ds"], x["dV"], cache), 8)[:n_grads]
    s_rot, V_rot, _ = expect_tuple("gvp_forward(...)", fwd(x["s"], x["V"] @ x["Q"].T, *_weights(x)), 3)
    return {"s_out": s_out, "V_out": V_out, **dict(zip(("d_s", "d_V", *("d" + k for k in WEIGHTS)), grads)),
            "s_rot": s_rot, "V_rot": V_rot}


def _verify_forward(x, got):
    (s_want, V_want), _ = _reference(x)
    gate = "with the vector gate" if "Wsv" in x else "ungated"
    expect_array(f"gvp_forward ({gate}): s_out (6 atoms, 5 scalars; scalars FIRST in the concatenation)",
                 got["s_out"], s_want)
    expect_array(f"gvp_forward ({gate}): V_out (6 atoms, 2 vector channels"
                 + ("; the gate reads the scalars BEFORE the ReLU)" if "Wsv" in x else ")"), got["V_out"], V_want)


def _verify_backward(x, got):
    _, want = _reference(x)
    for name, w in zip(("d_s", "d_V", *("d" + k for k in WEIGHTS)), want):
        expect_array(f"gvp_backward: {name}", got[name], w)


def _verify_equivariance(x, got):
    for k in ("s_out", "V_out", "s_rot", "V_rot"):
        if not isinstance(got[k], np.ndarray) or got[k].dtype != np.float64:
            raise CheckFailed(f"gvp_forward: {k[:5]} must be a float64 numpy array")
    if got["s_rot"].shape != got["s_out"].shape or got["V_rot"].shape != got["V_out"].shape:
        raise CheckFailed("gvp_forward: the output shapes changed when the input vectors were rotated")
    if np.abs(got["s_rot"] - got["s_out"]).max() > 1e-10 * max(np.abs(got["s_out"]).max(), 1.0):
        raise CheckFailed("gvp_forward: the scalar outputs changed when the input vectors were rotated/reflected "
                          "(they must be invariant: use only norms of the vectors)")
    if np.abs(got["V_rot"] - got["V_out"] @ x["Q"].T).max() > 1e-10 * max(np.abs(got["V_out"]).max(), 1.0):
        raise CheckFailed("gvp_forward: rotating/reflecting the input vectors must rotate the output vectors the "
                          "same way (mix channels, scale by invariants; never act on x, y, z separately)")


GVP.add("ungated forward matches the reference", lambda rng: _gvp_inputs(rng, gate=False), _gvp_run, _verify_forward)
GVP.add("vector-gated forward matches the reference", _gvp_inputs, _gvp_run, _verify_forward)
GVP.add("zero input vectors: the norm is clamped at sqrt(1e-8)", lambda rng: _gvp_inputs(rng, zero_node=True),
        _gvp_run, _verify_forward)
GVP.add("ungated backward matches the reference", lambda rng: _gvp_inputs(rng, gate=False), _gvp_run,
        _verify_backward)
GVP.add("vector-gated backward matches the reference", _gvp_inputs, _gvp_run, _verify_backward)
GVP.add("O(3): scalars invariant, vectors rotate with the input", _gvp_inputs, _gvp_run, _verify_equivariance)


# ----------------------------------------------------------------------------- spherical harmonics
SH = exercise(
    "spherical_harmonics", NOTEBOOK, ("spherical_harmonics_forward", "spherical_harmonics_backward"), points=4,
    title="Real spherical harmonics of order 1 and 2 (e3nn's convention) and their backward pass",
    reference=("refimpl.nn.spherical.spherical_harmonics_forward", "refimpl.nn.spherical.spherical_harmonics_backward"))


def _sh_inputs(rng):
    u = rng.normal(size=(10, 3))
    return {"u": u / np.linalg.norm(u, axis=1, keepdims=True), "r": rng.normal(size=(7, 3)),
            "dY1": rng.normal(size=(7, 3)), "dY2": rng.normal(size=(7, 5)), "Q": random_orthogonal(rng)}


def _sh_run(student, x):
    fwd, bwd = student_function(student, "spherical_harmonics_forward"), student_function(
        student, "spherical_harmonics_backward")
    got = {}
    for l in (1, 2):
        got[f"Y{l}"], _ = expect_tuple(f"spherical_harmonics_forward(u, {l})", fwd(x["u"], l), 2)
        got[f"Y{l}_rot"], _ = expect_tuple(f"spherical_harmonics_forward(u, {l})", fwd(x["u"] @ x["Q"].T, l), 2)
        _, cache = expect_tuple(f"spherical_harmonics_forward(r, {l})", fwd(x["r"], l), 2)
        got[f"du{l}"] = bwd(x[f"dY{l}"], cache)
    return got


def _verify_sh(l):
    def verify(x, got):
        want, _ = spherical.spherical_harmonics_forward(x["u"], l)
        what = "sqrt(3) (x, y, z)" if l == 1 else "the five components of eq-sh, in that order"
        expect_array(f"spherical_harmonics_forward(u, {l})[0] for 10 unit vectors ({what})", got[f"Y{l}"], want)
    return verify


def _verify_sh_backward(x, got):
    for l in (1, 2):
        _, cache = spherical.spherical_harmonics_forward(x["r"], l)
        expect_array(f"spherical_harmonics_backward(dY, cache) for l = {l} (7 vectors, not of unit length)",
                     got[f"du{l}"], spherical.spherical_harmonics_backward(x[f"dY{l}"], cache))


def _verify_sh_rotation(x, got):
    for l in (1, 2):
        Y, Y_rot = got[f"Y{l}"], got[f"Y{l}_rot"]
        if not (isinstance(Y, np.ndarray) and Y.shape == (10, 2 * l + 1) and isinstance(Y_rot, np.ndarray)
                and Y_rot.shape == Y.shape):
            raise CheckFailed(f"spherical_harmonics_forward(u, {l}): expected an array of shape (10, {2 * l + 1})")
        norm = np.abs(np.sum(Y**2, axis=1) - (2 * l + 1)).max()
        if norm > 1e-10:
            raise CheckFailed(f"l = {l}: |Y^{l}(u)|^2 must be {2 * l + 1} for every unit vector (component "
                              f"normalization), but it is off by up to {norm:.3g}")
        expect_array(f"l = {l}: Y(Q u) must equal D^{l}(Q) Y(u) for a random rotation/reflection Q", Y_rot,
                     Y @ spherical.wigner_D(l, x["Q"]).T)


SH.add("l = 1 matches sqrt(3) u", _sh_inputs, _sh_run, _verify_sh(1))
SH.add("l = 2 matches eq-sh (order and normalization)", _sh_inputs, _sh_run, _verify_sh(2))
SH.add("backward matches the reference (l = 1, 2)", _sh_inputs, _sh_run, _verify_sh_backward)
SH.add("normalized, and Y(Q u) = D(Q) Y(u)", _sh_inputs, _sh_run, _verify_sh_rotation)
