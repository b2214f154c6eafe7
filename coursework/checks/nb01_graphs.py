"""Checks for exercises/01_graphs.ipynb: one-hot atom features, adjacency to edge list, batching."""
import numpy as np

from refimpl.data.datasets import _one_hot
from refimpl.graphs.graph import Graph, adjacency_to_edge_index, batch_graphs, edge_index_to_adjacency
from coursework.checks.core import CheckFailed, exercise, expect_array, expect_edge_index, expect_tuple, student_function
from coursework.checks.hidden import after, expect_unchanged
from coursework.checks.questions import question

NOTEBOOK = "01_graphs"


# ----------------------------------------------------------------------------- one_hot
ONE_HOT = exercise("one_hot", NOTEBOOK, ("one_hot",), points=2,
                   title="One-hot node features from atom types",
                   reference=("refimpl.data.datasets._one_hot",))
VOCAB = np.array(["H", "C", "N", "O"])


def _one_hot_inputs(rng):
    return {"values": VOCAB[rng.integers(0, 4, size=11)], "vocabulary": VOCAB}


def _one_hot_run(student, x):
    return {"out": student_function(student, "one_hot")(list(x["values"]), list(x["vocabulary"]))}


def _one_hot_verify(x, got):
    expect_array("one_hot(values, vocabulary) for 11 atoms over ['H', 'C', 'N', 'O']", got["out"],
                 _one_hot("values", list(x["values"]), list(x["vocabulary"])))


def _unknown_inputs(rng):
    return {"values": np.array(["C", "H", "Xx", "O"]), "vocabulary": VOCAB}


def _unknown_run(student, x):
    try:
        student_function(student, "one_hot")(list(x["values"]), list(x["vocabulary"]))
    except ValueError as exc:
        return {"raised": np.array("ValueError"), "message": np.array(str(exc))}
    return {"raised": np.array("nothing")}


def _unknown_verify(x, got):
    if str(got["raised"]) != "ValueError":
        raise CheckFailed("one_hot(['C', 'H', 'Xx', 'O'], ['H', 'C', 'N', 'O']) must raise ValueError for the "
                          "unknown element 'Xx' (a silent wrong feature is worse than an error)")
    if "Xx" not in str(got["message"]):
        raise CheckFailed("the ValueError's message should name the unknown value ('Xx')")


ONE_HOT.add("rows are one-hot over the vocabulary", _one_hot_inputs, _one_hot_run, _one_hot_verify)
ONE_HOT.add("an unknown element raises ValueError naming it", _unknown_inputs, _unknown_run, _unknown_verify)

# hidden checks (the grader's): another vocabulary and size, inputs untouched, every unknown label named
OTHER_VOCAB = np.array(["sp3", "sp2", "ring", "H", "halogen", "metal"])


def _other_vocab_inputs(rng):
    return {"values": OTHER_VOCAB[rng.integers(0, len(OTHER_VOCAB), size=9)], "vocabulary": OTHER_VOCAB}


def _other_vocab_run(student, x):
    values, vocabulary = list(x["values"]), list(x["vocabulary"])
    out = student_function(student, "one_hot")(values, vocabulary)
    return {"out": out, "after_values": np.array(values), "after_vocabulary": np.array(vocabulary)}


def _other_vocab_verify(x, got):
    expect_array(f"one_hot(values, vocabulary) for 9 labels over a vocabulary of {len(OTHER_VOCAB)}", got["out"],
                 _one_hot("values", list(x["values"]), list(x["vocabulary"])))
    expect_unchanged("one_hot(values, vocabulary)", x, got, "values", "vocabulary")


def _two_unknown_inputs(rng):
    return {"values": np.array(["C", "Qq", "H", "Xx", "Qq"]), "vocabulary": VOCAB}


def _two_unknown_verify(x, got):
    if str(got["raised"]) != "ValueError":
        raise CheckFailed("one_hot with two unknown labels must raise ValueError")
    missing = [v for v in ("Qq", "Xx") if v not in str(got["message"])]
    if missing:
        raise CheckFailed(f"with two unknown labels ('Qq' and 'Xx') the ValueError's message should name both; "
                          f"it does not name {missing}")


ONE_HOT.add("another vocabulary and size; values and vocabulary left unchanged", _other_vocab_inputs,
            _other_vocab_run, _other_vocab_verify, public=False)
ONE_HOT.add("every unknown label is named, not only the first", _two_unknown_inputs, _unknown_run,
            _two_unknown_verify, public=False)


# ----------------------------------------------------------------------------- adjacency -> edge list
ADJ = exercise("adjacency_to_edge_index", NOTEBOOK, ("adjacency_to_edge_index",), points=2,
               title="From an adjacency matrix to an edge list",
               reference=("refimpl.graphs.graph.adjacency_to_edge_index",))


def _adj_inputs(rng):
    A = (rng.random((7, 7)) < 0.3).astype(np.float64)   # directed: A[i, j] = 1 means an edge j -> i
    A[6, :] = 0.0                                        # node 6 receives nothing
    return {"A": A}


def _adj_run(student, x):
    return {"edge_index": student_function(student, "adjacency_to_edge_index")(x["A"].copy())}


def _adj_verify(x, got):
    n = x["A"].shape[0]
    expect_edge_index("adjacency_to_edge_index(A)", got["edge_index"], n)
    ref, _ = adjacency_to_edge_index(x["A"])
    if got["edge_index"].shape != ref.shape:
        raise CheckFailed(f"adjacency_to_edge_index(A): expected {ref.shape[1]} edges (one per nonzero entry), "
                          f"got {got['edge_index'].shape[1]}")
    expect_array("the adjacency rebuilt from your edges (A[i, j] = 1 for an edge j -> i; check the direction)",
                 edge_index_to_adjacency(got["edge_index"], n), x["A"])


ADJ.add("edges match a directed adjacency matrix (row 0 source j, row 1 target i)", _adj_inputs, _adj_run,
        _adj_verify)


def _weighted_inputs(rng):
    A = np.where(rng.random((10, 10)) < 0.25, rng.choice([0.5, -1.0, 2.0, -0.25], size=(10, 10)), 0.0)
    A[3, 3] = 1.5                                         # a weighted self-loop is an edge 3 -> 3
    A[0, 9], A[9, 0] = -1.0, 0.0                          # a signed edge, one direction only
    return {"A": A, "empty": np.zeros((1, 1))}


def _weighted_run(student, x):
    fn = student_function(student, "adjacency_to_edge_index")
    return {"edge_index": fn(x["A"]), "edge_index_empty": fn(x["empty"]), **after(x, "A")}


def _weighted_verify(x, got):
    A = x["A"]
    expect_unchanged("adjacency_to_edge_index(A)", x, got, "A")
    ei = got["edge_index"]
    expect_edge_index("adjacency_to_edge_index(A) with weighted and signed entries", ei, len(A))
    have = np.zeros(A.shape, dtype=bool)
    have[ei[1], ei[0]] = True
    if ei.shape[1] != np.count_nonzero(A) or not np.array_equal(have, A != 0):
        raise CheckFailed(f"adjacency_to_edge_index(A) for a weighted, signed 10 x 10 matrix: expected one edge per "
                          f"nonzero entry ({np.count_nonzero(A)}, whatever its value or sign), got {ei.shape[1]} "
                          f"edges of which {int(np.sum(have & (A != 0)))} are right")
    empty = got["edge_index_empty"]
    expect_edge_index("adjacency_to_edge_index(np.zeros((1, 1)))", empty, 1)
    if empty.shape != (2, 0):
        raise CheckFailed(f"adjacency_to_edge_index(np.zeros((1, 1))): expected shape (2, 0), got {empty.shape}")


ADJ.add("weighted and signed entries are edges too; an empty graph; A left unchanged", _weighted_inputs,
        _weighted_run, _weighted_verify, public=False)


# ----------------------------------------------------------------------------- batching
BATCH = exercise("batch_edges", NOTEBOOK, ("batch_edges",), points=2,
                 title="Batching graphs: shift the edges, build the batch vector",
                 reference=("refimpl.graphs.graph.batch_graphs",))


def _batch_inputs(rng, sizes=(3, 5, 1, 4), counts=(4, 7, 0, 5)):
    sizes = np.array(sizes)
    edges = [rng.integers(0, n, size=(2, k)) for n, k in zip(sizes, counts)]
    return {"sizes": sizes, "edges": np.concatenate(edges, axis=1), "counts": np.array([e.shape[1] for e in edges])}


def _split_edges(x):
    return np.split(x["edges"], np.cumsum(x["counts"])[:-1], axis=1)


def _batch_run(student, x):
    fn = student_function(student, "batch_edges")
    ei, batch = expect_tuple("batch_edges(edge_indices, num_nodes)", fn(_split_edges(x), list(x["sizes"])), 2)
    return {"edge_index": ei, "batch": batch}


def _batch_verify(x, got):
    graphs = [Graph(x=np.zeros((n, 1)), edge_index=e) for n, e in zip(x["sizes"], _split_edges(x))]
    ref = batch_graphs(graphs)
    expect_array("batch_edges(...)[0] (edges shifted by each graph's node offset, in input order)",
                 got["edge_index"], ref.edge_index, kind="i")
    expect_array("batch_edges(...)[1] (the batch vector: graph id of every node)", got["batch"], ref.batch, kind="i")


BATCH.add("edges are shifted and the batch vector is right (graphs of 3, 5, 1, 4 nodes)", _batch_inputs,
          _batch_run, _batch_verify)


def _batch_other_inputs(rng):
    return {**_batch_inputs(rng, sizes=(6, 2, 7), counts=(9, 3, 11)), **{
            f"single_{k}": v for k, v in _batch_inputs(rng, sizes=(5,), counts=(6,)).items()}}


def _batch_other_run(student, x):
    fn = student_function(student, "batch_edges")
    edges = _split_edges(x)
    ei, batch = expect_tuple("batch_edges(edge_indices, num_nodes)", fn(edges, list(x["sizes"])), 2)
    single = {k[len("single_"):]: v for k, v in x.items() if k.startswith("single_")}
    ei1, batch1 = expect_tuple("batch_edges([edge_index], [5])", fn(_split_edges(single), list(single["sizes"])), 2)
    return {"edge_index": ei, "batch": batch, "single_edge_index": ei1, "single_batch": batch1,
            "after_edges": np.concatenate(edges, axis=1)}


def _batch_other_verify(x, got):
    expect_unchanged("batch_edges(edge_indices, num_nodes)", x, got, "edges")
    _batch_verify(x, got)
    single = {k[len("single_"):]: v for k, v in x.items() if k.startswith("single_")}
    _batch_verify(single, {"edge_index": got["single_edge_index"], "batch": got["single_batch"]})


BATCH.add("other sizes (graphs of 6, 2, 7 nodes; one graph alone); edge arrays left unchanged", _batch_other_inputs,
          _batch_other_run, _batch_other_verify, public=False)


# ----------------------------------------------------------------------------- predict, then run
question("q_batch_edges", NOTEBOOK, "prediction_batch_edges", "abcd", "8b34486c917de07a",
         title="Predict, then run: the edges of a batch of three ethanol molecules")
