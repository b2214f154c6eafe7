"""Checks for exercises/05_equivariant.ipynb: an EGNN layer forward, the backward of its coordinate
update, and an equivariance test written by the student (graded on functions that are and are not
equivariant)."""
import numpy as np

from refimpl.geometry import random_improper, random_rotation
from refimpl.models import egnn_layers as egl
from coursework.checks.core import CheckFailed, exercise, expect_array, expect_tuple, student_function

NOTEBOOK = "05_equivariant"
F, H = 3, 4
#: the parameters of the exercise's layer, by egnn_clean's E_GCL names (weights stored (in, out)), and their shapes
SHAPES = {"edge_mlp.0.W": (2 * F + 1, H), "edge_mlp.0.b": (H,), "edge_mlp.2.W": (H, H), "edge_mlp.2.b": (H,),
          "coord_mlp.0.W": (H, H), "coord_mlp.0.b": (H,), "coord_mlp.2.W": (H, 1),
          "node_mlp.0.W": (F + H, H), "node_mlp.0.b": (H,), "node_mlp.2.W": (H, F), "node_mlp.2.b": (F,)}


def _graph(rng, n=7, e=20):
    """Directed edges (not symmetric, so swapping the rows matters); atom n-1 receives nothing; a repeated edge."""
    ei = rng.integers(0, n, size=(2, e))
    ei = ei[:, ei[0] != ei[1]]
    ei[1, ei[1] == n - 1] = 0
    return np.concatenate([ei, ei[:, :1]], axis=1)


# ----------------------------------------------------------------------------- (a) the EGNN layer
LAYER = exercise(
    "egnn_layer", NOTEBOOK, ("egnn_layer",), points=5,
    title="One EGNN layer: messages, coordinate update (mean), feature update (residual)",
    reference=tuple(f"refimpl.models.egnn_layers.{name}" for name in (
        "egnn_layer_forward", "edge_mlp_forward", "coord_mlp_forward", "coord_update_forward", "node_mlp_forward")))


def _layer_inputs(rng):
    n = 7
    params = {name: 0.6 * rng.normal(size=shape) for name, shape in SHAPES.items()}
    Q = random_rotation(rng) if rng.random() < 0.5 else random_improper(rng)
    return {"h": rng.normal(size=(n, F)), "x": 1.2 * rng.normal(size=(n, 3)), "edge_index": _graph(rng, n),
            "Q": Q, "t": rng.normal(scale=5.0, size=3), **params}


def reference_layer(x):
    """The reference (h', x') of the exercise's inputs ``x`` (refimpl's egnn_layer_forward)."""
    (h, pos), _ = egl.egnn_layer_forward(x["h"], x["x"], x["edge_index"], {name: x[name] for name in SHAPES})
    return h, pos


def _layer_call(student, x, pos):
    fn = student_function(student, "egnn_layer")
    params = {name: x[name] for name in SHAPES}
    return expect_tuple("egnn_layer(h, x, edge_index, params)", fn(x["h"], pos, x["edge_index"], params), 2)


def _layer_run(student, x):
    h, pos = _layer_call(student, x, x["x"])
    return {"h": h, "x": pos}


def _layer_verify_h(x, got):
    expect_array("egnn_layer(...)[0] (the new features h', 7 atoms; atom 6 receives no message)", got["h"],
                 reference_layer(x)[0])


def _layer_verify_x(x, got):
    want = reference_layer(x)[1]
    pos = got["x"]
    if isinstance(pos, np.ndarray) and pos.shape == want.shape:
        flipped = 2 * x["x"] - want                     # the update with the opposite sign
        if np.allclose(pos, flipped, rtol=1e-6, atol=1e-8):
            raise CheckFailed("egnn_layer: the coordinate update has the wrong sign; with r_ij = x_j - x_i it is "
                              "x_i' = x_i - mean_j r_ij phi_x(m_ij) (the reference's x_i + mean_j (x_i - x_j) phi_x)")
    expect_array("egnn_layer(...)[1] (the new coordinates x')", pos, want)


def _layer_run_moved(student, x):
    h, pos = _layer_call(student, x, x["x"] @ x["Q"].T + x["t"])
    return {"h": h, "x": pos}


def _layer_verify_moved(x, got):
    h, pos = reference_layer(x)
    expect_array("egnn_layer on the input moved by x -> Q x + t: the features must not change", got["h"], h)
    expect_array("egnn_layer on the input moved by x -> Q x + t: the coordinates must move as Q x' + t",
                 got["x"], pos @ x["Q"].T + x["t"])


LAYER.add("features h' match the reference", _layer_inputs, _layer_run, _layer_verify_h)
LAYER.add("coordinates x' match the reference", _layer_inputs, _layer_run, _layer_verify_x)
LAYER.add("E(3)-equivariant: x -> Q x + t moves x' as Q x' + t and leaves h' unchanged", _layer_inputs,
          _layer_run_moved, _layer_verify_moved)


# ----------------------------------------------------------------------------- (b) the coordinate update's backward
UPDATE = exercise(
    "coord_update", NOTEBOOK, ("coord_update_forward", "coord_update_backward"), points=4,
    title="The coordinate update x_i - mean_j r_ij phi_ij, forward and backward",
    reference=("refimpl.models.egnn_layers.coord_update_forward", "refimpl.models.egnn_layers.coord_update_backward",
               "refimpl.core.scatter.scatter_mean_forward", "refimpl.core.scatter.scatter_mean_backward"))


def _update_inputs(rng):
    n = 7
    ei = _graph(rng, n)
    return {"x": rng.normal(size=(n, 3)), "phi": rng.normal(size=ei.shape[1]), "edge_index": ei,
            "dout": rng.normal(size=(n, 3))}


def _update_run(student, x):
    out, cache = expect_tuple("coord_update_forward(...)",
                              student_function(student, "coord_update_forward")(x["x"], x["phi"], x["edge_index"]), 2)
    grads = expect_tuple("coord_update_backward(dout, cache)",
                         student_function(student, "coord_update_backward")(x["dout"], cache), 2)
    return {"out": out, "dx": grads[0], "dphi": grads[1]}


def _update_verify_forward(x, got):
    want, _ = egl.coord_update_forward(x["x"], x["phi"], x["edge_index"])
    expect_array("coord_update_forward(x, phi, edge_index)[0] (7 atoms; atom 6 receives no edge)", got["out"], want)


def _update_verify_backward(x, got):
    _, cache = egl.coord_update_forward(x["x"], x["phi"], x["edge_index"])
    dx, dphi = egl.coord_update_backward(x["dout"], cache)
    expect_array("coord_update_backward: dphi (one number per edge)", got["dphi"], dphi)
    expect_array("coord_update_backward: dx (both the x_i term and the path through r_ij = x_j - x_i)", got["dx"], dx)


UPDATE.add("forward matches the reference", _update_inputs, _update_run, _update_verify_forward)
UPDATE.add("backward matches the reference (dx, dphi)", _update_inputs, _update_run, _update_verify_backward)


# ----------------------------------------------------------------------------- (c) an equivariance test
EQUIV = exercise(
    "equivariance_test", NOTEBOOK, ("is_equivariant",), points=4,
    title="A numerical test of E(3)-equivariance for per-atom vector outputs",
    reference=("refimpl.geometry.symmetry.equivariance_error", "refimpl.geometry.symmetry.symmetry_report",
               "refimpl.geometry.symmetry.invariance_error"))


def springs(pos):
    """Equivariant: F_i = sum_j (x_j - x_i) exp(-|x_j - x_i|^2) (pairwise springs)."""
    r = pos[None, :, :] - pos[:, None, :]
    return np.sum(r * np.exp(-np.sum(r * r, axis=-1))[..., None], axis=1)


def from_centroid(pos):
    """Equivariant: x_i minus the centroid, scaled by its length squared."""
    c = pos - pos.mean(axis=0)
    return c * np.sum(c * c, axis=1, keepdims=True)


def cross_neighbours(pos):
    """Breaks only under reflections: (x_i - c) x (x_{i+1} - c) is an axial vector (rotates, but a mirror flips it)."""
    c = pos - pos.mean(axis=0)
    return np.cross(c, np.roll(c, -1, axis=0))


def positions(pos):
    """Breaks only under translations: x_i itself rotates and reflects with the input, but moves with t."""
    return pos.copy()


def componentwise_tanh(pos):
    """Breaks under rotations: tanh of each coordinate of x_i - c (odd, so x -> -x alone does not show it)."""
    return np.tanh(pos - pos.mean(axis=0))


def fixed_axis(pos):
    """Breaks under rotations: an invariant length times a fixed direction."""
    c = pos - pos.mean(axis=0)
    return np.linalg.norm(c, axis=1, keepdims=True) * np.array([0.0, 0.0, 1.0])


GRADED = {"springs": (springs, True), "from_centroid": (from_centroid, True),
          "cross_neighbours": (cross_neighbours, False), "positions": (positions, False),
          "componentwise_tanh": (componentwise_tanh, False), "fixed_axis": (fixed_axis, False)}


def _equiv_inputs(rng):
    return {"pos": rng.normal(size=(6, 3)), "seed": rng.integers(0, 2**31, size=1)}


def _equiv_run(student, x):
    fn = student_function(student, "is_equivariant")
    verdicts = {}
    for name, (f, _) in GRADED.items():
        v = fn(f, x["pos"].copy(), np.random.default_rng(int(x["seed"][0])))
        if not isinstance(v, (bool, np.bool_)):
            raise CheckFailed(f"is_equivariant(f, pos, rng): expected True or False, got {type(v).__name__}")
        verdicts[name] = np.array([bool(v)])
    return verdicts


def _verdict(got, name):
    return bool(np.asarray(got[name]).reshape(-1)[0])


def _equiv_verify(names, hint):
    def verify(x, got):
        for name in names:
            want = GRADED[name][1]
            if _verdict(got, name) != want:
                said = "equivariant" if not want else "not equivariant"
                raise CheckFailed(f"is_equivariant said {name}(pos) is {said}: {GRADED[name][0].__doc__} {hint}")
    return verify


EQUIV.add("says yes to equivariant functions", _equiv_inputs, _equiv_run,
          _equiv_verify(("springs", "from_centroid"), "Compare f(pos Q^T + t) with f(pos) Q^T up to a small "
                        "tolerance relative to the size of the output."))
EQUIV.add("says no to a function that breaks only under reflections", _equiv_inputs, _equiv_run,
          _equiv_verify(("cross_neighbours",), "Draw Q from O(3), reflections included (det Q = -1), not only rotations."))
EQUIV.add("says no to a function that breaks only under translations", _equiv_inputs, _equiv_run,
          _equiv_verify(("positions",), "Translate the input too (pos Q^T + t): the vectors must not move with t."))
EQUIV.add("says no to functions that break under rotations", _equiv_inputs, _equiv_run,
          _equiv_verify(("componentwise_tanh", "fixed_axis"), "Use random rotations, not only -I or axis flips."))
