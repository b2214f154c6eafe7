"""Checks for exercises/08_angles.ipynb: the triplets k -> j -> i of a graph with the cosine of their
angle at j, and the Legendre polynomials with their backward pass."""
import numpy as np

from refimpl.geometry import displacement_forward
from refimpl.geometry.radius import radius_graph
from refimpl.geometry.triplets import triplet_cosine_forward, triplets
from refimpl.nn.angular import legendre_backward, legendre_forward
from coursework.checks.core import CheckFailed, exercise, expect_array, expect_tuple, scalar, student_function

NOTEBOOK = "08_angles"



# ----------------------------------------------------------------------------- triplets and angles
TRIPLETS = exercise(
    "triplets", NOTEBOOK, ("triplets", "triplet_cosines"), points=4,
    title="Triplets k -> j -> i (k != i) without a loop over edges, and cos of their angle at j",
    reference=("refimpl.geometry.triplets.triplets", "refimpl.geometry.triplets.triplet_cosine_forward"))


def _radius_inputs(rng):
    pos = rng.normal(size=(11, 3)) * 1.4
    return {"pos": pos, "edge_index": radius_graph(pos, 2.6), "num_nodes": np.array([11])}


def _directed_inputs(rng):
    # a directed graph (no edge has its reverse except 0 <-> 1), so swapping the rows changes the answer
    ei = np.array([[0, 1, 2, 3, 4, 1, 5, 2, 6], [1, 0, 1, 2, 2, 3, 3, 4, 4]])
    return {"edge_index": ei[:, rng.permutation(ei.shape[1])], "num_nodes": np.array([7])}


def _triplets_run(student, x):
    out = expect_tuple("triplets(edge_index, num_nodes)",
                       student_function(student, "triplets")(x["edge_index"], int(scalar(x["num_nodes"]))), 2)
    return {"idx_kj": out[0], "idx_ji": out[1]}


def _as_pairs(what, got, n_edges):
    for name in ("idx_kj", "idx_ji"):
        a = got[name]
        if not (isinstance(a, np.ndarray) and a.ndim == 1 and np.issubdtype(a.dtype, np.integer)):
            raise CheckFailed(f"{what}: {name} must be a 1-d integer numpy array, got {type(a).__name__} "
                              f"{getattr(a, 'shape', '')} {getattr(a, 'dtype', '')}")
        if a.size and (a.min() < 0 or a.max() >= n_edges):
            raise CheckFailed(f"{what}: {name} holds edge numbers, which lie in [0, {n_edges})")
    if got["idx_kj"].shape != got["idx_ji"].shape:
        raise CheckFailed(f"{what}: idx_kj and idx_ji must have the same length")
    return sorted(zip(got["idx_kj"].tolist(), got["idx_ji"].tolist()))


def _verify_triplets(what):
    def verify(x, got):
        ei = x["edge_index"]
        have = _as_pairs(what, got, ei.shape[1])
        kj, ji = got["idx_kj"], got["idx_ji"]
        if np.any(ei[1, kj] != ei[0, ji]):
            raise CheckFailed(f"{what}: some pairs are not chained: the edge idx_kj must arrive at the source "
                              f"j of idx_ji (edge_index[1][idx_kj] == edge_index[0][idx_ji]); row 0 is the source")
        if np.any(ei[0, kj] == ei[1, ji]):
            raise CheckFailed(f"{what}: some triplets have k == i (going back along the same bond); drop them")
        want = sorted(zip(*(a.tolist() for a in triplets(ei, int(scalar(x["num_nodes"]))))))
        if have != want:
            raise CheckFailed(f"{what}: expected {len(want)} triplets, got {len(have)} "
                              f"({len(set(want) - set(have))} missing, {len(set(have) - set(want))} extra)")
    return verify


def _cos_inputs(rng):
    x = _radius_inputs(rng)
    idx_kj, idx_ji = triplets(x["edge_index"], 11)
    return {**x, "idx_kj": idx_kj, "idx_ji": idx_ji}


def _cos_run(student, x):
    return {"c": student_function(student, "triplet_cosines")(x["pos"], x["edge_index"], x["idx_kj"], x["idx_ji"])}


def _cos_verify(x, got):
    r, _ = displacement_forward(x["pos"], x["edge_index"])
    want, _ = triplet_cosine_forward(r, x["idx_kj"], x["idx_ji"])
    c = got["c"]
    if isinstance(c, np.ndarray) and c.shape == want.shape and np.allclose(c, -want, atol=1e-8):
        raise CheckFailed("triplet_cosines: every cosine has the wrong sign: the angle at j is between "
                          "x_i - x_j and x_k - x_j (both bonds pointing away from j)")
    expect_array("triplet_cosines(pos, edge_index, idx_kj, idx_ji) (cos of the angle at j)", c, want)


TRIPLETS.add("radius graph: the triplets match the reference", _radius_inputs, _triplets_run,
             _verify_triplets("triplets on a radius graph"))
TRIPLETS.add("directed graph: row 0 is the source j, row 1 the target i", _directed_inputs, _triplets_run,
             _verify_triplets("triplets on a directed graph"))
TRIPLETS.add("cosines of the angle at j match the reference", _cos_inputs, _cos_run, _cos_verify)


# ----------------------------------------------------------------------------- Legendre polynomials
LEGENDRE = exercise(
    "legendre", NOTEBOOK, ("legendre_forward", "legendre_backward"), points=3,
    title="Legendre polynomials P_0..P_(L-1) of cos(alpha), forward and backward",
    reference=("refimpl.nn.angular.legendre_forward", "refimpl.nn.angular.legendre_backward"))


def _legendre_inputs(rng):
    c = np.concatenate([rng.uniform(-1, 1, size=12), [-1.0, 0.0, 1.0]])     # the ends included
    return {"c": c, "L": np.array([7]), "dP": rng.normal(size=(c.size, 7))}


def _legendre_run(student, x):
    out, cache = expect_tuple("legendre_forward(c, num_spherical)",
                              student_function(student, "legendre_forward")(x["c"], int(scalar(x["L"]))), 2)
    return {"P": out, "dc": student_function(student, "legendre_backward")(x["dP"], cache)}


def _legendre_verify_forward(x, got):
    expect_array("legendre_forward(c, 7)[0] (P_0..P_6 at 15 cosines, -1 and 1 included)", got["P"],
                 legendre_forward(x["c"], 7)[0])


def _legendre_verify_backward(x, got):
    _, cache = legendre_forward(x["c"], 7)
    expect_array("legendre_backward(dP, cache) (dL/dc = sum_l dP_l P_l'(c))", got["dc"],
                 legendre_backward(x["dP"], cache))


LEGENDRE.add("forward matches the reference", _legendre_inputs, _legendre_run, _legendre_verify_forward)
LEGENDRE.add("backward matches the reference (finite at c = +-1)", _legendre_inputs, _legendre_run,
             _legendre_verify_backward)
