"""Checks for exercises/02_message_passing.ipynb: scatter-sum, GCN normalization, message passing."""
import numpy as np

from refimpl.graphs import message_passing as mp
from refimpl.core import scatter
from refimpl.graphs.graph import edge_index_to_adjacency
from coursework.checks.core import CheckFailed, exercise, expect_array, expect_edge_index, expect_tuple, student_function
from coursework.checks.hidden import after, expect_unchanged

NOTEBOOK = "02_message_passing"


def _call_pair(student, fwd_name, args, dout=None, bwd_name=None):
    """Call a student's forward (and backward with ``dout``); return plain outputs."""
    fwd = student_function(student, fwd_name)
    out, cache = expect_tuple(f"{fwd_name}(...)", fwd(*args), 2)
    if bwd_name is None:
        return {"out": out}
    grads = student_function(student, bwd_name)(dout, cache)
    return {"out": out, "grads": grads}


# ----------------------------------------------------------------------------- scatter_sum
SCATTER = exercise(
    "scatter_sum", NOTEBOOK, ("scatter_sum_forward", "scatter_sum_backward"), points=3,
    title="Scatter-sum from edges to nodes, and its backward",
    reference=("refimpl.core.scatter.scatter_sum_forward", "refimpl.core.scatter.scatter_sum_backward"))


def _scatter_inputs(rng):
    n, e = 6, 20
    index = rng.integers(0, n - 1, size=e)  # node n-1 receives nothing: its row must be zero
    return {"src": rng.normal(size=(e, 4)), "index": index, "dim_size": np.array(n),
            "dout": rng.normal(size=(n, 4))}


def _scatter_run_forward(student, x):
    return _call_pair(student, "scatter_sum_forward", (x["src"], x["index"], int(x["dim_size"])))


def _scatter_run_backward(student, x):
    res = _call_pair(student, "scatter_sum_forward", (x["src"], x["index"], int(x["dim_size"])),
                     x["dout"], "scatter_sum_backward")
    return {"dsrc": res["grads"]}


def _scatter_verify_forward(x, got):
    want, _ = scatter.scatter_sum_forward(x["src"], x["index"], int(x["dim_size"]))
    expect_array("scatter_sum_forward(src, index, dim_size)[0] (src of shape (20, 4), 6 nodes)", got["out"], want)


def _scatter_verify_backward(x, got):
    _, cache = scatter.scatter_sum_forward(x["src"], x["index"], int(x["dim_size"]))
    want = scatter.scatter_sum_backward(x["dout"], cache)
    expect_array("scatter_sum_backward(dout, cache) (gradient w.r.t. src)", got["dsrc"], want)


def _scatter_1d_inputs(rng):
    return {"src": rng.normal(size=9), "index": rng.integers(0, 4, size=9), "dim_size": np.array(4)}


def _scatter_1d_verify(x, got):
    want, _ = scatter.scatter_sum_forward(x["src"], x["index"], int(x["dim_size"]))
    expect_array("scatter_sum_forward on a 1-D src of shape (9,)", got["out"], want)


SCATTER.add("forward matches the reference (2-D src, a node with no edges)", _scatter_inputs,
            _scatter_run_forward, _scatter_verify_forward)
SCATTER.add("forward works for 1-D src", _scatter_1d_inputs, _scatter_run_forward, _scatter_1d_verify)
SCATTER.add("backward matches the reference", _scatter_inputs, _scatter_run_backward, _scatter_verify_backward)


# hidden checks (the grader's): other sizes, more nodes than indices reach, no edges at all; inputs untouched
def _scatter_other_inputs(rng):
    n, e = 9, 13
    return {"src": rng.normal(size=(e, 5)), "index": rng.integers(0, 5, size=e), "dim_size": np.array(n),
            "dout": rng.normal(size=(n, 5)), "src_empty": np.zeros((0, 3)), "index_empty": np.zeros(0, dtype=np.int64)}


def _scatter_other_run(student, x):
    res = _call_pair(student, "scatter_sum_forward", (x["src"], x["index"], int(x["dim_size"])), x["dout"],
                     "scatter_sum_backward")
    empty = _call_pair(student, "scatter_sum_forward", (x["src_empty"], x["index_empty"], 4))
    return {"out": res["out"], "dsrc": res["grads"], "out_empty": empty["out"],
            **after(x, "src", "index", "dout")}


def _scatter_other_verify(x, got):
    expect_unchanged("scatter_sum_forward / scatter_sum_backward", x, got, "src", "index", "dout")
    want, cache = scatter.scatter_sum_forward(x["src"], x["index"], int(x["dim_size"]))
    expect_array("scatter_sum_forward on a src of shape (13, 5) into 9 nodes", got["out"], want)
    expect_array("scatter_sum_backward for a src of shape (13, 5)", got["dsrc"],
                 scatter.scatter_sum_backward(x["dout"], cache))
    expect_array("scatter_sum_forward(np.zeros((0, 3)), no indices, 4) (no edges: zero rows)", got["out_empty"],
                 np.zeros((4, 3)))


SCATTER.add("other sizes, nodes no index reaches, no edges at all; inputs left unchanged", _scatter_other_inputs,
            _scatter_other_run, _scatter_other_verify, public=False)


# ----------------------------------------------------------------------------- gcn_norm
GCN_NORM = exercise(
    "gcn_norm", NOTEBOOK, ("gcn_norm",), points=2,
    title="Symmetric GCN normalization with self-loops",
    reference=("refimpl.graphs.message_passing.gcn_norm",))


def _norm_inputs(rng, n=7, e=12):
    e = rng.integers(0, n, size=(2, e))
    e = e[:, e[0] != e[1]]
    both = np.unique(np.concatenate([e, e[::-1]], axis=1).T, axis=0).T  # undirected, no self-loops
    return {"edge_index": both, "num_nodes": np.array(n)}


def _norm_run(student, x):
    ei, w = expect_tuple("gcn_norm(edge_index, num_nodes)",
                         student_function(student, "gcn_norm")(x["edge_index"], int(x["num_nodes"])), 2)
    return {"edge_index": ei, "edge_weight": w}


def _norm_verify(x, got):
    n = int(x["num_nodes"])
    ei, w = got["edge_index"], got["edge_weight"]
    expect_edge_index("gcn_norm(...)[0]", ei, n)
    if not (isinstance(w, np.ndarray) and w.shape == (ei.shape[1],) and w.dtype == np.float64
            and np.all(np.isfinite(w))):
        raise CheckFailed(f"gcn_norm(...)[1]: expected finite float64 edge weights of shape ({ei.shape[1]},), "
                          f"got {type(w).__name__} {getattr(w, 'shape', '')} {getattr(w, 'dtype', '')}")
    ref_ei, ref_w = mp.gcn_norm(x["edge_index"], n)
    # compare as matrices, so that any edge order is accepted
    expect_array("the normalized adjacency D^-1/2 (A + I) D^-1/2 built from your edges and weights",
                 edge_index_to_adjacency(ei, n, w), edge_index_to_adjacency(ref_ei, n, ref_w))


GCN_NORM.add("normalized adjacency matches the reference", _norm_inputs, _norm_run, _norm_verify)


def _norm_other_inputs(rng):
    x = _norm_inputs(rng, n=12, e=9)      # 12 nodes, few edges: some nodes have only their self-loop
    return {**x, "edge_index": x["edge_index"][:, rng.permutation(x["edge_index"].shape[1])]}


def _norm_other_run(student, x):
    ei, w = expect_tuple("gcn_norm(edge_index, num_nodes)",
                         student_function(student, "gcn_norm")(x["edge_index"], int(x["num_nodes"])), 2)
    return {"edge_index": ei, "edge_weight": w, **after(x, "edge_index")}


def _norm_other_verify(x, got):
    expect_unchanged("gcn_norm(edge_index, num_nodes)", x, got, "edge_index")
    _norm_verify(x, got)


GCN_NORM.add("another size (12 nodes, isolated ones, shuffled edges); edge_index left unchanged",
             _norm_other_inputs, _norm_other_run, _norm_other_verify, public=False)


# ----------------------------------------------------------------------------- message passing layer
MP = exercise(
    "message_passing", NOTEBOOK, ("message_passing_forward", "message_passing_backward"), points=5,
    title="The basic message-passing layer, forward and backward",
    reference=("refimpl.graphs.message_passing.message_passing_forward",
               "refimpl.graphs.message_passing.message_passing_backward"))


def _mp_inputs(rng, n=8, d_in=3, d_out=5, e=20):
    return {"h": rng.normal(size=(n, d_in)), "edge_index": rng.integers(0, n, size=(2, e)),
            "W_self": rng.normal(size=(d_in, d_out)), "W_neigh": rng.normal(size=(d_in, d_out)),
            "b": rng.normal(size=d_out), "dout": rng.normal(size=(n, d_out)), "perm": rng.permutation(n)}


def _mp_args(x, h=None, edge_index=None):
    return (x["h"] if h is None else h, x["edge_index"] if edge_index is None else edge_index,
            x["W_self"], x["W_neigh"], x["b"])


def _mp_run_forward(student, x):
    return _call_pair(student, "message_passing_forward", _mp_args(x))


def _mp_run_backward(student, x):
    res = _call_pair(student, "message_passing_forward", _mp_args(x), x["dout"], "message_passing_backward")
    grads = expect_tuple("message_passing_backward(dout, cache)", res["grads"], 4)
    return dict(zip(("dh", "dW_self", "dW_neigh", "db"), grads))


def _mp_run_permuted(student, x):
    inv = np.argsort(x["perm"])
    permuted = _call_pair(student, "message_passing_forward",
                          _mp_args(x, h=x["h"][x["perm"]], edge_index=inv[x["edge_index"]]))
    return {"out_permuted": permuted["out"]}


def _mp_verify_forward(x, got):
    want, _ = mp.message_passing_forward(*_mp_args(x))
    expect_array("message_passing_forward(...)[0]", got["out"], want)


def _mp_verify_backward(x, got):
    _, cache = mp.message_passing_forward(*_mp_args(x))
    for name, want in zip(("dh", "dW_self", "dW_neigh", "db"), mp.message_passing_backward(x["dout"], cache)):
        expect_array(f"message_passing_backward: {name}", got[name], want)


def _mp_verify_permutation(x, got):
    want, _ = mp.message_passing_forward(*_mp_args(x))
    expect_array("message_passing_forward on permuted nodes (must equal the permuted output)",
                 got["out_permuted"], want[x["perm"]])


MP.add("forward matches the reference", _mp_inputs, _mp_run_forward, _mp_verify_forward)
MP.add("backward matches the reference (dh, dW_self, dW_neigh, db)", _mp_inputs, _mp_run_backward,
       _mp_verify_backward)
MP.add("permutation equivariance: permuting nodes permutes the output", _mp_inputs, _mp_run_permuted,
       _mp_verify_permutation)



# hidden checks (the grader's): other sizes, a one-feature input, a self-loop, a repeated edge, a node with
# no edges; inputs untouched
def _mp_other_inputs(rng):
    x = _mp_inputs(rng, n=11, d_in=1, d_out=2, e=15)
    x["edge_index"] = x["edge_index"] % 10                 # node 10 sends and receives nothing
    x["edge_index"][:, :3] = [[4, 2, 2], [4, 7, 7]]        # a self-loop 4 -> 4 and the edge 2 -> 7 twice
    return x


def _mp_other_run(student, x):
    res = _call_pair(student, "message_passing_forward", _mp_args(x), x["dout"], "message_passing_backward")
    grads = expect_tuple("message_passing_backward(dout, cache)", res["grads"], 4)
    return {"out": res["out"], **dict(zip(("dh", "dW_self", "dW_neigh", "db"), grads)),
            **after(x, "h", "edge_index", "W_self", "W_neigh", "b", "dout")}


def _mp_other_verify(x, got):
    expect_unchanged("message_passing_forward / message_passing_backward", x, got,
                     "h", "edge_index", "W_self", "W_neigh", "b", "dout")
    _mp_verify_forward(x, got)
    _mp_verify_backward(x, got)


MP.add("other sizes (11 nodes, 1 input feature), a self-loop and a repeated edge; inputs left unchanged",
       _mp_other_inputs, _mp_other_run, _mp_other_verify, public=False)
