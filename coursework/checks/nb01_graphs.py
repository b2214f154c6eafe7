"""Checks for exercises/01_graphs.ipynb: one-hot atom features, adjacency to edge list, batching."""
import numpy as np

from refimpl.data.datasets import _one_hot
from refimpl.graphs.graph import Graph, adjacency_to_edge_index, batch_graphs, edge_index_to_adjacency
from coursework.checks.core import CheckFailed, exercise, expect_array, expect_edge_index, expect_tuple, student_function

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


# ----------------------------------------------------------------------------- batching
BATCH = exercise("batch_edges", NOTEBOOK, ("batch_edges",), points=2,
                 title="Batching graphs: shift the edges, build the batch vector",
                 reference=("refimpl.graphs.graph.batch_graphs",))


def _batch_inputs(rng):
    sizes = np.array([3, 5, 1, 4])
    edges = [rng.integers(0, n, size=(2, k)) for n, k in zip(sizes, (4, 7, 0, 5))]
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
