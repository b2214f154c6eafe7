"""Checks for exercises/07_painn.ipynb: the sine radial basis with its backward (and the limits at d = 0),
PaiNN's filters and directions from positions, the PaiNN message block forward and backward."""
import numpy as np

from refimpl import geometry as geo
from refimpl.models import painn
from refimpl.nn import cutoffs, radial
from coursework.checks.core import CheckFailed, exercise, expect_array, expect_tuple, scalar, student_function

NOTEBOOK = "07_painn"



# ----------------------------------------------------------------------------- sine basis
SINE = exercise(
    "painn_sine_basis", NOTEBOOK, ("sine_rbf_forward", "sine_rbf_backward"), points=3,
    title="The sine radial basis sin(n pi d / r_c) / d and its backward, with the limits at d = 0",
    reference=("refimpl.nn.radial.sine_rbf_forward", "refimpl.nn.radial.sine_rbf_backward"))


def _sine_inputs(rng):
    d = np.concatenate([[0.0, 1e-3], rng.uniform(0.05, 5.0, size=9), [5.0]])     # 0, near 0, up to r_c
    return {"d": d, "n_rbf": np.array([6]), "cutoff": np.array([5.0]), "de": rng.normal(size=(d.size, 6))}


def _sine_args(x):
    return x["d"], int(scalar(x["n_rbf"])), float(scalar(x["cutoff"]))


def _sine_run(student, x):
    e, cache = expect_tuple("sine_rbf_forward(...)", student_function(student, "sine_rbf_forward")(*_sine_args(x)), 2)
    return {"e": e, "dd": student_function(student, "sine_rbf_backward")(x["de"], cache)}


def _sine_verify_forward(x, got):
    want, _ = radial.sine_rbf_forward(*_sine_args(x))
    e = got["e"]
    if isinstance(e, np.ndarray) and e.shape == want.shape and e.dtype == np.float64 and np.all(np.isfinite(e)):
        expect_array("sine_rbf_forward at d = 0 (first row): the limit n pi / r_c", e[0], want[0])
    expect_array("sine_rbf_forward(d, 6, 5.0)[0] (12 distances)", e, want)


def _sine_verify_backward(x, got):
    _, cache = radial.sine_rbf_forward(*_sine_args(x))
    want = radial.sine_rbf_backward(x["de"], cache)
    dd = got["dd"]
    if isinstance(dd, np.ndarray) and dd.shape == want.shape and np.all(np.isfinite(dd)) and dd[0] != 0:
        raise CheckFailed("sine_rbf_backward: at d = 0 the slope of every e_n is 0 (e_n is even in d)")
    expect_array("sine_rbf_backward(de, cache) (gradient w.r.t. d)", dd, want)


SINE.add("forward matches the reference, with the limit n pi / r_c at d = 0", _sine_inputs, _sine_run,
         _sine_verify_forward)
SINE.add("backward matches the reference, 0 at d = 0, finite everywhere", _sine_inputs, _sine_run,
         _sine_verify_backward)


# ----------------------------------------------------------------------------- filters and directions
FILTERS = exercise(
    "painn_filters", NOTEBOOK, ("painn_filters_and_directions",), points=2,
    title="PaiNN's filters (e(d) W + b) f_cut(d) and unit vectors u_ij from positions",
    reference=("refimpl.models.painn.filters_forward", "refimpl.geometry.unit_vector_forward"))


def _filters_inputs(rng):
    n, K, M, cutoff = 6, 5, 9, 3.0
    pos = rng.uniform(0.0, 2.5, size=(n, 3))
    pos[np.arange(n), np.arange(n) % 3] += 1.1 * np.arange(n)            # some pairs beyond the cutoff ...
    i, j = np.nonzero(~np.eye(n, dtype=bool))                            # ... but every pair is an edge
    return {"pos": pos, "edge_index": np.stack([j, i]), "W": rng.normal(size=(K, M)), "b": rng.normal(size=M),
            "n_rbf": np.array([K]), "cutoff": np.array([cutoff])}


def _filters_args(x):
    return x["pos"], x["edge_index"], x["W"], x["b"], int(scalar(x["n_rbf"])), float(scalar(x["cutoff"]))


def filters_and_directions(pos, edge_index, W, b, n_rbf, cutoff):
    """Reference: W_ij = (e(d_ij) W + b) f_cut(d_ij) (E, M) with the sine basis, u_ij = r_ij / d_ij (E, 3)."""
    r, _ = geo.displacement_forward(pos, edge_index)
    d, _ = geo.distance_forward(r)
    rbf, _ = radial.sine_rbf_forward(d, n_rbf, cutoff)
    fcut, _ = cutoffs.cosine_cutoff_forward(d, cutoff)
    return painn.filters_forward(rbf, fcut, W, b)[0], geo.unit_vector_forward(r)[0]


def _filters_run(student, x):
    fn = student_function(student, "painn_filters_and_directions")
    W_ij, u = expect_tuple("painn_filters_and_directions(...)", fn(*_filters_args(x)), 2)
    return {"W_ij": W_ij, "u": u}


def _filters_verify_filters(x, got):
    want, _ = filters_and_directions(*_filters_args(x))
    expect_array("filters W_ij (30 edges, some beyond the cutoff: zero there)", got["W_ij"], want)


def _filters_verify_directions(x, got):
    _, want = filters_and_directions(*_filters_args(x))
    u = got["u"]
    if isinstance(u, np.ndarray) and u.shape == want.shape and np.allclose(u, -want):
        raise CheckFailed("directions: u_ij points from x_i to x_j, r_ij = x_j - x_i (j = edge_index[0]): "
                          "you have the opposite sign")
    expect_array("unit vectors u_ij = (x_j - x_i) / d_ij", u, want)


FILTERS.add("filters match the reference (cutoff included)", _filters_inputs, _filters_run, _filters_verify_filters)
FILTERS.add("unit vectors match the reference (their sign too)", _filters_inputs, _filters_run,
            _filters_verify_directions)


# ----------------------------------------------------------------------------- message block
MESSAGE = exercise(
    "painn_message", NOTEBOOK, ("message_forward", "message_backward"), points=5,
    title="The PaiNN message block, forward and backward",
    reference=("refimpl.models.painn.message_forward", "refimpl.models.painn.message_backward"))

P_KEYS = ("0.W", "0.b", "1.W", "1.b")


def _message_inputs(rng):
    n, e, F = 6, 16, 3
    edge_index = rng.integers(0, n - 1, size=(2, e))                      # atom n-1 sends and receives nothing
    edge_index[:, :2] = [[0, 0], [1, 1]]                                  # a repeated edge: messages add up
    u = rng.normal(size=(e, 3))
    sizes = {"0.W": (F, F), "0.b": (F,), "1.W": (F, 3 * F), "1.b": (3 * F,)}
    return {"s": rng.normal(size=(n, F)), "v": rng.normal(size=(n, F, 3)), "W_ij": rng.normal(size=(e, 3 * F)),
            "dir_ij": u / np.linalg.norm(u, axis=1, keepdims=True), "edge_index": edge_index,
            **{f"p.{k}": 0.5 * rng.normal(size=shape) for k, shape in sizes.items()},
            "ds_new": rng.normal(size=(n, F)), "dv_new": rng.normal(size=(n, F, 3))}


def _message_args(x, v=None, dir_ij=None):
    return (x["s"], x["v"] if v is None else v, x["W_ij"], x["dir_ij"] if dir_ij is None else dir_ij,
            x["edge_index"], {k: x[f"p.{k}"] for k in P_KEYS})


def _message_forward(student, args):
    out, cache = expect_tuple("message_forward(...)", student_function(student, "message_forward")(*args), 2)
    s_new, v_new = expect_tuple("message_forward(...)[0], the new (s, v)", out, 2)
    return s_new, v_new, cache


def _message_run(student, x):
    s_new, v_new, cache = _message_forward(student, _message_args(x))
    grads = student_function(student, "message_backward")((x["ds_new"], x["dv_new"]), cache)
    ds, dv, dW_ij, ddir, dp = expect_tuple("message_backward(dout, cache)", grads, 5)
    if not isinstance(dp, dict) or set(dp) != set(P_KEYS):
        raise CheckFailed(f"message_backward: the last entry must be a dict with keys {list(P_KEYS)} (like p)")
    return {"s_new": s_new, "v_new": v_new, "ds": ds, "dv": dv, "dW_ij": dW_ij, "ddir_ij": ddir,
            **{f"dp.{k}": dp[k] for k in P_KEYS}}


def _message_verify_forward(x, got):
    (s_new, v_new), _ = painn.message_forward(*_message_args(x))
    expect_array("message_forward: new scalars s (6 atoms, atom 5 without edges)", got["s_new"], s_new)
    v = got["v_new"]
    if isinstance(v, np.ndarray) and v.shape == v_new.shape:
        F = x["s"].shape[1]
        swapped = dict(x, W_ij=np.concatenate([x["W_ij"][:, :F], x["W_ij"][:, 2 * F:], x["W_ij"][:, F:2 * F]], 1))
        (_, v_swapped), _ = painn.message_forward(*_message_args(swapped))
        if np.allclose(v, v_swapped):
            raise CheckFailed("message_forward: split W_ij * phi_j into (m_s, m_vR, m_vv) in that order: "
                              "m_vR multiplies u_ij, m_vv multiplies v_j")
    expect_array("message_forward: new vectors v (6 atoms, F = 3, xyz)", v, v_new)


def _message_verify_backward(x, got):
    _, cache = painn.message_forward(*_message_args(x))
    ds, dv, dW_ij, ddir, dp = painn.message_backward((x["ds_new"], x["dv_new"]), cache)
    for name, want in [("ds", ds), ("dv", dv), ("dW_ij", dW_ij), ("ddir_ij", ddir),
                       *((f"dp.{k}", dp[k]) for k in P_KEYS)]:
        expect_array(f"message_backward: {name}", got[name], want)


def _message_rot_inputs(rng):
    Q = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    return {**_message_inputs(rng), "Q": -Q if np.linalg.det(Q) > 0 else Q}           # a reflection


def _message_run_rot(student, x):
    Q = x["Q"]
    s1, v1, _ = _message_forward(student, _message_args(x))
    s2, v2, _ = _message_forward(student, _message_args(x, v=x["v"] @ Q.T, dir_ij=x["dir_ij"] @ Q.T))
    return {"s1": s1, "v1": v1, "s2": s2, "v2": v2}


def _message_verify_rot(x, got):
    expect_array("message_forward: s after rotating and reflecting v and u_ij (must not change)", got["s2"], got["s1"])
    expect_array("message_forward: v after rotating and reflecting v and u_ij (must be v Q^T)", got["v2"],
                 got["v1"] @ x["Q"].T if isinstance(got["v1"], np.ndarray) else got["v1"])


MESSAGE.add("forward matches the reference", _message_inputs, _message_run, _message_verify_forward)
MESSAGE.add("backward matches the reference (ds, dv, dW_ij, ddir_ij, dp)", _message_inputs, _message_run,
            _message_verify_backward)
MESSAGE.add("scalars invariant, vectors equivariant under a reflection", _message_rot_inputs, _message_run_rot,
            _message_verify_rot)
