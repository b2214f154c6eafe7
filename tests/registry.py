"""The registry of every refimpl function that has a hand-written backward.

One row per layer or op. ``test_gradients.py`` runs a finite-difference check on
every row and ``test_symmetry.py`` a permutation check on every row that says
how a node permutation acts on it. Adding a layer means adding one row here;
``test_registry_is_complete`` fails if a ``*_backward`` in refimpl has no row.
"""
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from refimpl.core import layers, losses, scatter
from refimpl.graphs import message_passing as mp


@dataclass
class Row:
    name: str
    forward: Callable          # forward(**inputs) -> (out, cache)
    backward: Callable         # backward(dout, cache) -> grad or tuple of grads
    make_inputs: Callable      # make_inputs(rng) -> dict of inputs
    wrt: tuple                 # input name for each returned gradient (None: skip)
    # permute(inputs, perm) -> (permuted inputs, function mapping the original output
    # to the output expected on the permuted inputs). None: no node permutation applies.
    permute: Optional[Callable] = None
    # name of the refimpl backward this row tests, when ``backward`` is a wrapper around it
    covers: Optional[str] = None
    # How an element g = (R, t) of E(3) acts on the row, for ``test_symmetry.test_euclidean``:
    # ``kinds`` maps input names to "vector" (last axis rotates: x -> x R^T) or "position"
    # (x -> x R^T + t); other inputs are left alone. ``out_kinds``: the kind of each output
    # ("vector", "position", "pseudovector", or "invariant"). None: the row has no E(3) behaviour.
    kinds: Optional[dict] = None
    out_kinds: Optional[tuple] = None

    @property
    def covered(self):
        return self.covers or self.backward.__name__


def random_graph(rng, n=7, e=15):
    """A random directed multigraph with n nodes and e edges (self-loops and repeats allowed)."""
    return rng.integers(0, n, size=(2, e))


def relabel_edges(edge_index, perm):
    """Edges after moving node ``perm[k]`` to position k (new = old[perm])."""
    inv = np.argsort(perm)
    return inv[edge_index]


# --- helpers for the rows' permutation behaviour ---------------------------------------------
def _perm_nodes_equivariant(keys_nodes, key_edges=None):
    def permute(inputs, perm):
        new = dict(inputs)
        for k in keys_nodes:
            new[k] = inputs[k][perm]
        if key_edges:
            new[key_edges] = relabel_edges(inputs[key_edges], perm)
        return new, lambda out: out[perm]
    return permute


def _scatter_inputs(rng, trailing=(3,)):
    n, e = 5, 12
    return {"src": rng.normal(size=(e,) + trailing), "index": rng.integers(0, n, size=e), "dim_size": n}


def _perm_scatter(inputs, perm):
    # permuting the bins relabels index; the output rows move with them
    new = dict(inputs, index=np.argsort(perm)[inputs["index"]])
    return new, lambda out: out[perm]


def _mp_inputs(rng):
    n, d_in, d_out = 6, 3, 4
    return {"h": rng.normal(size=(n, d_in)), "edge_index": random_graph(rng, n, 14),
            "W_self": rng.normal(size=(d_in, d_out)), "W_neigh": rng.normal(size=(d_in, d_out)),
            "b": rng.normal(size=d_out)}


def _gcn_inputs(rng):
    n, d_in, d_out = 6, 3, 4
    ei, w = mp.gcn_norm(random_graph(rng, n, 10), n)
    return {"h": rng.normal(size=(n, d_in)), "edge_index": ei, "edge_weight": w,
            "W": rng.normal(size=(d_in, d_out)), "b": rng.normal(size=d_out)}


def _pool_inputs(rng):
    return {"h": rng.normal(size=(9, 3)), "batch": np.array([0, 0, 0, 1, 1, 2, 2, 2, 2]), "num_graphs": 4}


def _perm_pool(inputs, perm):
    # permuting nodes *within* each graph leaves every graph's readout unchanged
    within = np.lexsort((np.argsort(perm), inputs["batch"]))  # random order, batch kept sorted
    return dict(inputs, h=inputs["h"][within]), lambda out: out


def _act_inputs(rng):
    return {"x": rng.normal(size=(4, 5)) * 2}


def _act_row(name):
    f, b = layers.ACTIVATIONS[name]
    return Row(name, f, b, _act_inputs, ("x",), _perm_nodes_equivariant(["x"]))


def _scalar_loss_backward(fn):
    # losses return a float and their backward takes the cache first, the scalar dout second
    def backward(dout, cache):
        return fn(cache, dout)
    return backward


REGISTRY = [
    Row("linear", layers.linear_forward, layers.linear_backward,
        lambda rng: {"x": rng.normal(size=(5, 3)), "W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)},
        ("x", "W", "b"), _perm_nodes_equivariant(["x"])),
    Row("linear_no_bias", layers.linear_forward, layers.linear_backward,
        lambda rng: {"x": rng.normal(size=(2, 5, 3)), "W": rng.normal(size=(3, 4))},
        ("x", "W", None)),
    *[_act_row(name) for name in layers.ACTIVATIONS],
    Row("mse", losses.mse_forward, _scalar_loss_backward(losses.mse_backward),
        lambda rng: {"pred": rng.normal(size=(6, 2)), "target": rng.normal(size=(6, 2))},
        ("pred",), covers="mse_backward"),
    Row("softmax_cross_entropy", losses.softmax_cross_entropy_forward,
        _scalar_loss_backward(losses.softmax_cross_entropy_backward),
        lambda rng: {"logits": rng.normal(size=(6, 4)) * 3, "labels": rng.integers(0, 4, size=6)},
        ("logits",), covers="softmax_cross_entropy_backward"),
    Row("gather", scatter.gather_forward, scatter.gather_backward,
        lambda rng: {"x": rng.normal(size=(5, 3)), "index": rng.integers(0, 5, size=11)}, ("x",)),
    Row("scatter_sum", scatter.scatter_sum_forward, scatter.scatter_sum_backward,
        _scatter_inputs, ("src",), _perm_scatter),
    Row("scatter_sum_1d", scatter.scatter_sum_forward, scatter.scatter_sum_backward,
        lambda rng: _scatter_inputs(rng, ()), ("src",), _perm_scatter),
    Row("scatter_mean", scatter.scatter_mean_forward, scatter.scatter_mean_backward,
        _scatter_inputs, ("src",), _perm_scatter),
    Row("scatter_mean_3d", scatter.scatter_mean_forward, scatter.scatter_mean_backward,
        lambda rng: _scatter_inputs(rng, (2, 3)), ("src",), _perm_scatter),
    Row("message_passing", mp.message_passing_forward, mp.message_passing_backward, _mp_inputs,
        ("h", "W_self", "W_neigh", "b"), _perm_nodes_equivariant(["h"], "edge_index")),
    Row("gcn_conv", mp.gcn_conv_forward, mp.gcn_conv_backward, _gcn_inputs,
        ("h", "W", "b"), _perm_nodes_equivariant(["h"], "edge_index")),
    Row("global_sum_pool", mp.global_sum_pool_forward, mp.global_sum_pool_backward, _pool_inputs,
        ("h",), _perm_pool),
    Row("global_mean_pool", mp.global_mean_pool_forward, mp.global_mean_pool_backward, _pool_inputs,
        ("h",), _perm_pool),
]


# --- pair geometry (refimpl.geometry): r_ij = x_j - x_i, |r_ij|, r_ij / |r_ij| ------------------
# Rotation, reflection, translation and permutation behaviour of these rows is tested in
# tests/test_geometry.py (the permute field above only knows node features x/h/src).
from refimpl import geometry  # noqa: E402


def _displacement_inputs(rng):
    return {"pos": rng.normal(size=(6, 3)) * 2, "edge_index": random_graph(rng, 6, 14)}


def _edge_vectors(rng):
    # lengths kept away from 0, where |r| and r/|r| are not differentiable
    r = rng.normal(size=(9, 3))
    return {"r": r * (0.5 + rng.random((9, 1))) / np.linalg.norm(r, axis=1, keepdims=True)}


REGISTRY += [
    Row("displacement", geometry.displacement_forward, geometry.displacement_backward,
        _displacement_inputs, ("pos",), kinds={"pos": "position"}, out_kinds=("vector",)),
    Row("distance", geometry.distance_forward, geometry.distance_backward, _edge_vectors, ("r",),
        kinds={"r": "vector"}, out_kinds=("invariant",)),
    Row("unit_vector", geometry.unit_vector_forward, geometry.unit_vector_backward, _edge_vectors, ("r",),
        kinds={"r": "vector"}, out_kinds=("vector",)),
]


# --- smooth cutoff envelopes (refimpl.geometry.radius) --------------------------------------------------
from refimpl.nn import cutoffs, radial  # noqa: E402


def _cutoff_inputs(rng):
    # distances on both sides of r_c = 5 (the envelopes are smooth there, so the check holds)
    return {"d": rng.uniform(0.05, 6.5, size=(4, 6)), "cutoff": 5.0}


REGISTRY += [
    Row("cosine_cutoff", cutoffs.cosine_cutoff_forward, cutoffs.cosine_cutoff_backward, _cutoff_inputs, ("d",)),
    Row("polynomial_cutoff", cutoffs.polynomial_cutoff_forward, cutoffs.polynomial_cutoff_backward,
        _cutoff_inputs, ("d",)),
    Row("polynomial_cutoff_p3", cutoffs.polynomial_cutoff_forward, cutoffs.polynomial_cutoff_backward,
        lambda rng: dict(_cutoff_inputs(rng), p=3), ("d",)),
]


# --- the plain MLP classifier (refimpl.nn.mlp): params dict unpacked into named arrays ----------------
from refimpl.nn import mlp  # noqa: E402

_MLP_KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")


def _mlp_inputs(rng):
    params = mlp.init_mlp(rng, [12, 7, 5, 8])
    params = {k: v + 0.1 * rng.normal(size=v.shape) for k, v in params.items()}   # non-zero biases
    return {"x": rng.normal(size=(6, 12)), **params}


def _mlp_forward(x, **params):
    return mlp.mlp_forward(x, params)


def _mlp_backward(dout, cache):
    dx, grads = mlp.mlp_backward(dout, cache)
    return (dx, *(grads[k] for k in _MLP_KEYS))


REGISTRY += [
    # rows of x are independent samples: permuting them permutes the logits
    Row("mlp", _mlp_forward, _mlp_backward, _mlp_inputs, ("x", *_MLP_KEYS),
        _perm_nodes_equivariant(["x"]), covers="mlp_backward"),
]


# --- SchNet sub-blocks (refimpl.models.schnet) -------------------------------------------------------------
from refimpl.models import schnet  # noqa: E402


def _schnet_edges(rng, n=5, e=12, k=4):
    return {"rbf": rng.normal(size=(e, k)), "fcut": rng.uniform(0.0, 1.0, size=e),
            "edge_index": random_graph(rng, n, e)}


def _weights(rng, **shapes):
    return {name: 0.5 * rng.normal(size=shape) for name, shape in shapes.items()}


def _filter_inputs(rng):
    edges = _schnet_edges(rng)
    return {"rbf": edges["rbf"], "fcut": edges["fcut"],
            **_weights(rng, W0=(4, 3), b0=(3,), W1=(3, 3), b1=(3,))}


def _cfconv_inputs(rng):
    return {"x": rng.normal(size=(5, 4)), "W_ij": rng.normal(size=(12, 3)),
            "edge_index": random_graph(rng, 5, 12), "W_in2f": rng.normal(size=(4, 3))}


def _interaction_inputs(rng):
    p = {"filter.0.W": (4, 3), "filter.0.b": (3,), "filter.1.W": (3, 3), "filter.1.b": (3,), "in2f.W": (4, 3),
         "f2out.0.W": (3, 4), "f2out.0.b": (4,), "f2out.1.W": (4, 4), "f2out.1.b": (4,)}
    return {"h": rng.normal(size=(5, 4)), **_schnet_edges(rng), "p": _weights(rng, **p)}


def _interaction_pair_inputs(rng):
    """Filters per atom pair: a symmetric graph (both directions of 6 pairs) in shuffled edge order."""
    ei = np.array([[0, 1, 1, 2, 3, 4], [1, 2, 3, 3, 4, 0]])
    ei = np.concatenate([ei, ei[::-1]], axis=1)[:, rng.permutation(12)]
    pair = np.unique(np.sort(ei, axis=0), axis=1, return_inverse=True)[1].reshape(-1)
    return {**_interaction_inputs(rng), "rbf": rng.normal(size=(6, 4)), "fcut": rng.uniform(0.0, 1.0, size=6),
            "edge_index": ei, "pair": pair}


def _readout_inputs(rng):
    return {"h": rng.normal(size=(9, 4)), "batch": np.array([0, 0, 0, 1, 1, 2, 2, 2, 2]), "num_graphs": 4,
            "p": _weights(rng, **{"0.W": (4, 2), "0.b": (2,), "1.W": (2, 1), "1.b": (1,)})}


REGISTRY += [
    Row("gaussian_rbf", radial.gaussian_rbf_forward, radial.gaussian_rbf_backward,
        lambda rng: {"d": rng.uniform(0.0, 6.0, size=10), "n_rbf": 6, "cutoff": 5.0}, ("d",)),
    # filters are per edge: permuting atoms does not touch them (edge order is kept)
    Row("schnet_filter_network", schnet.filter_network_forward, schnet.filter_network_backward,
        _filter_inputs, ("rbf", "fcut", "W0", "b0", "W1", "b1")),
    Row("schnet_cfconv", schnet.cfconv_forward, schnet.cfconv_backward, _cfconv_inputs,
        ("x", "W_ij", "W_in2f"), _perm_nodes_equivariant(["x"], "edge_index")),
    Row("schnet_interaction", schnet.interaction_forward, schnet.interaction_backward, _interaction_inputs,
        ("h", "rbf", "fcut", "p"), _perm_nodes_equivariant(["h"], "edge_index")),
    Row("schnet_interaction_pairs", schnet.interaction_forward, schnet.interaction_backward, _interaction_pair_inputs,
        ("h", "rbf", "fcut", "p"), _perm_nodes_equivariant(["h"], "edge_index")),
    Row("schnet_readout", schnet.readout_forward, schnet.readout_backward, _readout_inputs,
        ("h", "p"), _perm_pool),
]


# --- vector features (N, C, 3) and the sine basis ------------------------------------------------
from refimpl.nn import vectors  # noqa: E402


def _vec(rng, n=5, c=4):
    return rng.normal(size=(n, c, 3))


REGISTRY += [
    Row("vector_linear", vectors.vector_linear_forward, vectors.vector_linear_backward,
        lambda rng: {"v": _vec(rng), "W": rng.normal(size=(4, 3))}, ("v", "W"),
        _perm_nodes_equivariant(["v"]), kinds={"v": "vector"}, out_kinds=("vector",)),
    Row("vector_norm", vectors.vector_norm_forward, vectors.vector_norm_backward,
        lambda rng: {"v": _vec(rng), "eps": 1e-8}, ("v",), _perm_nodes_equivariant(["v"]),
        kinds={"v": "vector"}, out_kinds=("invariant",)),
    # GVP's clamp: one channel exactly zero sits below the clamp (gradient 0 there, as finite differences see)
    Row("vector_norm_clamp", vectors.vector_norm_forward, vectors.vector_norm_backward,
        lambda rng: {"v": np.concatenate([_vec(rng, c=3), np.zeros((5, 1, 3))], axis=1), "eps": 1e-8,
                     "clamp": True}, ("v",), kinds={"v": "vector"}, out_kinds=("invariant",)),
    Row("vector_dot", vectors.vector_dot_forward, vectors.vector_dot_backward,
        lambda rng: {"u": _vec(rng), "v": _vec(rng)}, ("u", "v"), _perm_nodes_equivariant(["u", "v"]),
        kinds={"u": "vector", "v": "vector"}, out_kinds=("invariant",)),
    Row("scale_vectors", vectors.scale_vectors_forward, vectors.scale_vectors_backward,
        lambda rng: {"s": rng.normal(size=(5, 4)), "v": _vec(rng)}, ("s", "v"), _perm_nodes_equivariant(["s", "v"]),
        kinds={"v": "vector"}, out_kinds=("vector",)),
    # distances up to 6 with one inside the series region (x < 1e-3); d = 0 itself: tests/test_radial.py
    Row("sine_rbf", radial.sine_rbf_forward, radial.sine_rbf_backward,
        lambda rng: {"d": np.concatenate([[1e-4], rng.uniform(0.01, 6.0, size=8)]), "n_rbf": 6,
                     "cutoff": 5.0}, ("d",)),
]

from refimpl.models import base  # noqa: E402

REGISTRY += [
    Row("atomref", base.atomref_forward, base.atomref_backward,
        lambda rng: {"atomref": rng.normal(size=9), "Z": rng.integers(1, 9, size=7),
                     "batch": np.array([0, 0, 0, 1, 1, 1, 1]), "num_graphs": 2}, ("atomref",)),
]


# --- angles and DimeNet's bases (refimpl.geometry.triplets, refimpl.nn.bessel, refimpl.nn.angular) ---------
from refimpl.geometry import triplets as trip  # noqa: E402
from refimpl.nn import angular, bessel  # noqa: E402


def _triplet_inputs(rng):
    # a radius graph of 7 atoms (lengths away from 0) and its triplets, plus one collinear triplet
    pos = rng.normal(size=(7, 3))
    pos[6] = 2.0 * pos[5] - pos[4]                     # 4, 5, 6 on a line: alpha_456 = pi
    ei = np.array([(j, i) for j in range(7) for i in range(7) if j != i]).T
    idx_kj, idx_ji = trip.triplets(ei, 7)
    return {"r": pos[ei[0]] - pos[ei[1]], "idx_kj": idx_kj, "idx_ji": idx_ji}


def _sbf_inputs(rng):
    t = _triplet_inputs(rng)
    d = rng.uniform(0.3, 6.0, size=t["r"].shape[0])   # some beyond r_c = 5
    return {"d": d, "c": rng.uniform(-1, 1, size=t["idx_kj"].shape[0]), "idx_kj": t["idx_kj"], "cutoff": 5.0,
            "num_spherical": 4, "num_radial": 3}


REGISTRY += [
    Row("triplet_cosine", trip.triplet_cosine_forward, trip.triplet_cosine_backward, _triplet_inputs, ("r",)),
    *[Row(f"spherical_jn_{l}", bessel.spherical_jn_forward, bessel.spherical_jn_backward,
          lambda rng, l=l: {"x": np.concatenate([rng.uniform(1e-3, 2.0, 5), rng.uniform(2.0, 25.0, 5)]), "l": l},
          ("x",)) for l in (0, 1, 3, 6)],
    Row("bessel_rbf", bessel.bessel_rbf_forward, bessel.bessel_rbf_backward,
        lambda rng: {"d": rng.uniform(0.01, 6.0, size=9), "freq": np.arange(1, 5) * np.pi + rng.normal(size=4) * 0.1,
                     "cutoff": 5.0}, ("d", "freq")),
    Row("legendre", angular.legendre_forward, angular.legendre_backward,
        lambda rng: {"c": rng.uniform(-0.999, 0.999, size=8), "num_spherical": 7}, ("c",)),
    Row("spherical_basis", angular.spherical_basis_forward, angular.spherical_basis_backward, _sbf_inputs,
        ("d", "c")),
]


# --- DimeNet's blocks (refimpl.models.dimenet) ---------------------------------------------------------------
from refimpl.models import dimenet  # noqa: E402


def _dimenet_graph(rng, n=6):
    ei = np.array([(j, i) for j in range(n) for i in range(n) if j != i and (i + j) % 4]).T
    idx_kj, idx_ji = trip.triplets(ei, n)
    return ei, idx_kj, idx_ji


def _interaction_block_inputs(rng, H=4, K=3, LK=6, B=2):
    ei, idx_kj, idx_ji = _dimenet_graph(rng)
    E, T = ei.shape[1], idx_kj.shape[0]
    return {"m": rng.normal(size=(E, H)), "rbf": rng.normal(size=(E, K)), "sbf": rng.normal(size=(T, LK)),
            "idx_kj": idx_kj, "idx_ji": idx_ji,
            **_weights(rng, W_rbf=(K, H), W_sbf=(LK, B), W_kj=(H, H), b_kj=(H,), W_ji=(H, H), b_ji=(H,),
                       W_bil=(B, H, H), W_lin=(H, H), b_lin=(H,))}


def _embedding_block_inputs(rng, H=4, K=3):
    ei, _, _ = _dimenet_graph(rng)
    return {"h": rng.normal(size=(6, H)), "rbf": rng.normal(size=(ei.shape[1], K)), "edge_index": ei,
            **_weights(rng, W_rbf=(K, H), b_rbf=(H,), W=(3 * H, H), b=(H,))}


def _output_block_inputs(rng, H=4, K=3):
    ei, _, _ = _dimenet_graph(rng)
    return {"m": rng.normal(size=(ei.shape[1], H)), "rbf": rng.normal(size=(ei.shape[1], K)), "edge_index": ei,
            "num_nodes": 6, **_weights(rng, W_rbf=(K, H), W0=(H, H), b0=(H,), W1=(H, 1))}


REGISTRY += [
    Row("dimenet_bilinear", dimenet.bilinear_forward, dimenet.bilinear_backward,
        lambda rng: {"sbf": rng.normal(size=(7, 3)), "x": rng.normal(size=(7, 4)), "W": rng.normal(size=(3, 4, 5))},
        ("sbf", "x", "W")),
    Row("dimenet_embedding_block", dimenet.embedding_block_forward, dimenet.embedding_block_backward,
        _embedding_block_inputs, ("h", "rbf", "W_rbf", "b_rbf", "W", "b")),
    Row("dimenet_interaction_block", dimenet.interaction_block_forward, dimenet.interaction_block_backward,
        _interaction_block_inputs, ("m", "rbf", "sbf", "W_rbf", "W_sbf", "W_kj", "b_kj", "W_ji", "b_ji", "W_bil",
                                    "W_lin", "b_lin")),
    Row("dimenet_output_block", dimenet.output_block_forward, dimenet.output_block_backward, _output_block_inputs,
        ("m", "rbf", "W_rbf", "W0", "b0", "W1")),
]


# --- EGNN blocks (refimpl.models.egnn_layers): parameters by egnn_clean's names -------------------------
from refimpl.core.validate import check_like  # noqa: E402
from refimpl.models import egnn_layers as egl  # noqa: E402


def _egnn_edge_inputs(rng, n=5, e=12, F=3, H=4, K=0):
    inputs = {"h": rng.normal(size=(n, F)), "sqdist": rng.uniform(0.0, 4.0, size=e),
              "edge_index": random_graph(rng, n, e), "p": _weights(rng, **{"0.W": (2 * F + 1 + K, H), "0.b": (H,),
                                                                          "2.W": (H, H), "2.b": (H,)})}
    if K:
        inputs["edge_attr"] = rng.normal(size=(e, K))
    return inputs


def _egnn_coord_mlp_inputs(rng, tanh=False):
    return {"m": rng.normal(size=(12, 4)), "p": _weights(rng, **{"0.W": (4, 4), "0.b": (4,), "2.W": (4, 1)}),
            "tanh": tanh}


def _egnn_update_inputs(rng):
    ei = random_graph(rng, 6, 14)
    ei[1, ei[1] == 5] = 0                                      # atom 5 receives nothing: its degree clamps to 1
    return {"x": rng.normal(size=(6, 3)), "phi": rng.normal(size=14), "edge_index": ei}


def _egnn_node_inputs(rng, n=5, e=12, F=3, H=4):
    return {"h": rng.normal(size=(n, F)), "m": rng.normal(size=(e, H)), "edge_index": random_graph(rng, n, e),
            "p": _weights(rng, **{"0.W": (F + H, H), "0.b": (H,), "2.W": (H, F), "2.b": (F,)})}


def egnn_layer_params(rng, F=3, H=4, K=0, scale=0.5):
    """Random parameters of one EGNN layer, by name (also used by tests/test_egnn.py)."""
    shapes = {"edge_mlp.0.W": (2 * F + 1 + K, H), "edge_mlp.0.b": (H,), "edge_mlp.2.W": (H, H), "edge_mlp.2.b": (H,),
              "coord_mlp.0.W": (H, H), "coord_mlp.0.b": (H,), "coord_mlp.2.W": (H, 1),
              "node_mlp.0.W": (F + H, H), "node_mlp.0.b": (H,), "node_mlp.2.W": (H, F), "node_mlp.2.b": (F,)}
    return {k: scale * rng.normal(size=s) for k, s in shapes.items()}


def _egnn_layer_inputs(rng, tanh=False, K=0, n=6, e=16, F=3):
    inputs = {"h": rng.normal(size=(n, F)), "x": rng.normal(size=(n, 3)), "edge_index": random_graph(rng, n, e),
              "p": egnn_layer_params(rng, F, K=K), "tanh": tanh}
    if K:
        inputs["edge_attr"] = rng.normal(size=(e, K))
    return inputs


def _egnn_layer_forward(**inputs):
    """The layer's two outputs side by side, (N, F + 3), so that one dout tests both."""
    (h, x), cache = egl.egnn_layer_forward(**inputs)
    out = np.concatenate([h, x], axis=1)
    return out, (cache, h.shape[1], out.shape)


def _egnn_layer_backward(dout, cache, *, check_finite=True):
    cache, F, shape = cache
    dout = check_like("dout", dout, shape, check_finite)
    dh, dx, dattr, dp = egl.egnn_layer_backward((dout[:, :F], dout[:, F:]), cache, check_finite=check_finite)
    return (dh, dx, dp) if dattr is None else (dh, dx, dattr, dp)


_EGNN_PERM = _perm_nodes_equivariant(["h", "x"], "edge_index")
REGISTRY += [
    Row("egnn_edge_mlp", egl.edge_mlp_forward, egl.edge_mlp_backward, _egnn_edge_inputs, ("h", "sqdist", None, "p")),
    Row("egnn_edge_mlp_attr", egl.edge_mlp_forward, egl.edge_mlp_backward, lambda rng: _egnn_edge_inputs(rng, K=3),
        ("h", "sqdist", "edge_attr", "p")),
    Row("egnn_coord_mlp", egl.coord_mlp_forward, egl.coord_mlp_backward, _egnn_coord_mlp_inputs, ("m", "p")),
    Row("egnn_coord_mlp_tanh", egl.coord_mlp_forward, egl.coord_mlp_backward,
        lambda rng: _egnn_coord_mlp_inputs(rng, tanh=True), ("m", "p")),
    Row("egnn_coord_update", egl.coord_update_forward, egl.coord_update_backward, _egnn_update_inputs,
        ("x", "phi"), _perm_nodes_equivariant(["x"], "edge_index"), kinds={"x": "position"}, out_kinds=("position",)),
    Row("egnn_node_mlp", egl.node_mlp_forward, egl.node_mlp_backward, _egnn_node_inputs,
        ("h", "m", "p"), _perm_nodes_equivariant(["h"], "edge_index")),
    Row("egnn_layer", _egnn_layer_forward, _egnn_layer_backward, _egnn_layer_inputs,
        ("h", "x", "p"), _EGNN_PERM, covers="egnn_layer_backward"),
    Row("egnn_layer_tanh_attr", _egnn_layer_forward, _egnn_layer_backward,
        lambda rng: _egnn_layer_inputs(rng, tanh=True, K=2), ("h", "x", "edge_attr", "p"), covers="egnn_layer_backward"),
]


# --- spherical harmonics (refimpl.nn.spherical); their rotation behaviour: tests/test_spherical.py ----------
from refimpl.nn import spherical  # noqa: E402

REGISTRY += [
    Row(f"spherical_harmonics_l{l}", spherical.spherical_harmonics_forward, spherical.spherical_harmonics_backward,
        lambda rng, l=l: {"u": rng.normal(size=(6, 3)), "l": l}, ("u",), _perm_nodes_equivariant(["u"]),
        # Y^0 is invariant and Y^1 = sqrt(3) u a vector; Y^2 rotates by D^2(R) (tests/test_spherical.py)
        **({"kinds": {"u": "vector"}, "out_kinds": (("invariant",), ("vector",))[l]} if l < 2 else {}))
    for l in spherical.ORDERS
]


# --- GVP blocks (refimpl.models.gvp): (s, V) in and out. Each block gets two rows, one per output: its
# scalars s' (invariant) and its vectors V' (rotating); together they check the whole backward.
from refimpl.models import gvp  # noqa: E402
from refimpl.models.base import subdict  # noqa: E402


def _gvp_block_rows(name, block_f, block_b, make_inputs, arg_names, grad_names, kwargs, permute=None, kw_names=()):
    """Rows for a block ``block_f(*args, p, **kwargs) -> ((s, V), cache)`` whose backward returns
    ``(*dargs, grads)``; its params enter the rows as inputs named ``p.<name>``, the arrays named in
    ``kw_names`` as keyword arguments."""
    sample = make_inputs(np.random.default_rng(0))
    pkeys = sorted(k for k in sample if k.startswith("p."))
    kinds = {k: "vector" for k in ("V", "eV") if k in sample}

    def row(part):
        def forward(**inputs):
            p = {k[2:]: v for k, v in inputs.items() if k.startswith("p.")}
            (s, V), cache = block_f(*(inputs[a] for a in arg_names), p, **{k: inputs[k] for k in kw_names}, **kwargs)
            return (V if part else s), (cache, s, V)

        def backward(dout, cache):
            c, s, V = cache
            dout = check_like("dout", dout, (V if part else s).shape)
            *dargs, g = block_b((np.zeros_like(s), dout) if part else (dout, np.zeros_like(V)), c)
            return (*dargs, *(g[k[2:]] for k in pkeys))

        return Row(f"{name}_{'vectors' if part else 'scalars'}", forward, backward, make_inputs,
                   (*grad_names, *pkeys), permute, covers=block_b.__name__, kinds=kinds,
                   out_kinds=("vector" if part else "invariant",))

    return [row(0), row(1)]


def _noisy(rng, params):
    """Initial parameters plus noise, so that biases and layer-norm gains are not 0 and 1."""
    return {f"p.{k}": v + 0.3 * rng.normal(size=v.shape) for k, v in params.items()}


def _gvp_inputs(rng, dims_in=(4, 3), dims_out=(5, 2), gate=True, n=6):
    return {"s": rng.normal(size=(n, dims_in[0])), "V": rng.normal(size=(n, dims_in[1], 3)),
            **_noisy(rng, gvp.init_gvp(rng, dims_in, dims_out, gate))}


def _ln_inputs(rng):
    return {"s": rng.normal(size=(6, 4)), "V": rng.normal(size=(6, 3, 3)), **_noisy(rng, gvp.init_layer_norm(4))}


def _conv_inputs(rng, layer=False):
    n, e, dims, edims = 5, 12, (3, 2), (4, 1)
    p = gvp.init_gvp_conv_layer(rng, dims, edims)
    return {"s": rng.normal(size=(n, 3)), "V": rng.normal(size=(n, 2, 3)), "edge_index": random_graph(rng, n, e),
            "es": rng.normal(size=(e, 4)), "eV": rng.normal(size=(e, 1, 3)),
            "edge_weight": rng.uniform(0.2, 1.0, size=e), **_noisy(rng, p if layer else subdict(p, "conv."))}


def _no_weight(make):
    return lambda rng: {k: v for k, v in make(rng).items() if k != "edge_weight"}


_NODES = _perm_nodes_equivariant(["s", "V"])
_NODES_EDGES = _perm_nodes_equivariant(["s", "V"], "edge_index")
_CONV_ARGS = ("s", "V", "edge_index", "es", "eV")
_CONV_GRADS = ("s", "V", "es", "eV", None)
_SMOOTH = {"clamp": False, "acts": ("silu", "sigmoid")}
REGISTRY += [
    *_gvp_block_rows("gvp_gated", gvp.gvp_forward, gvp.gvp_backward, _gvp_inputs, ("s", "V"), ("s", "V"),
                     {"vector_gate": True}, _NODES),
    *_gvp_block_rows("gvp_ungated", gvp.gvp_forward, gvp.gvp_backward, lambda rng: _gvp_inputs(rng, gate=False),
                     ("s", "V"), ("s", "V"), {}, _NODES),
    *_gvp_block_rows("gvp_no_activations", gvp.gvp_forward, gvp.gvp_backward, _gvp_inputs, ("s", "V"), ("s", "V"),
                     {"vector_gate": True, "scalar_act": None, "vector_act": None}, _NODES),
    *_gvp_block_rows("gvp_smooth_scalars_out", gvp.gvp_forward, gvp.gvp_backward,
                     lambda rng: _gvp_inputs(rng, dims_out=(3, 0)), ("s", "V"), ("s", "V"),
                     {"vector_gate": True, "scalar_act": "silu", "clamp": False}, _NODES)[:1],
    *_gvp_block_rows("gvp_stack", gvp.gvp_stack_forward, gvp.gvp_stack_backward,
                     lambda rng: {k: v for k, v in _conv_inputs(rng, True).items()
                                  if k in ("s", "V") or "ff_func" in k},
                     ("s", "V"), ("s", "V"), {"prefix": "ff_func", "acts": ("relu", "sigmoid"), "vector_gate": True,
                                              "clamp": True}, _NODES),
    *_gvp_block_rows("gvp_layer_norm", gvp.layer_norm_forward, gvp.layer_norm_backward, _ln_inputs, ("s", "V"),
                     ("s", "V"), {}, _NODES),
    *_gvp_block_rows("gvp_layer_norm_smooth", gvp.layer_norm_forward, gvp.layer_norm_backward, _ln_inputs,
                     ("s", "V"), ("s", "V"), {"clamp": False}, _NODES),
    *_gvp_block_rows("gvp_conv_mean", gvp.gvp_conv_forward, gvp.gvp_conv_backward, _no_weight(_conv_inputs),
                     _CONV_ARGS, _CONV_GRADS, {}, _NODES_EDGES),
    *_gvp_block_rows("gvp_conv_weighted_sum", gvp.gvp_conv_forward, gvp.gvp_conv_backward, _conv_inputs,
                     _CONV_ARGS, ("s", "V", "es", "eV", "edge_weight"), dict(_SMOOTH, aggr="sum"), _NODES_EDGES,
                     kw_names=("edge_weight",)),
    *_gvp_block_rows("gvp_conv_layer", gvp.gvp_conv_layer_forward, gvp.gvp_conv_layer_backward,
                     _no_weight(lambda rng: _conv_inputs(rng, True)), _CONV_ARGS, _CONV_GRADS, {}, _NODES_EDGES),
]


# --- PaiNN sub-blocks (refimpl.models.painn): scalars s (N, F), vectors v (N, F, 3) --------------------
# The message and update blocks return (s, v); the rows flatten them into one array (s's entries, then
# v's) for the finite-difference and permutation checks. Their rotation behaviour: tests/test_painn.py.
from refimpl.models import painn  # noqa: E402


def _painn_state(rng, n=5, f=3):
    return {"s": rng.normal(size=(n, f)), "v": rng.normal(size=(n, f, 3))}


def _dense2(rng, d_in, d_hidden, d_out, prefix=""):
    return {prefix + k: v for k, v in _weights(rng, **{"0.W": (d_in, d_hidden), "0.b": (d_hidden,),
                                                      "1.W": (d_hidden, d_out), "1.b": (d_out,)}).items()}


def _painn_message_inputs(rng, n=5, e=12, f=3):
    u = rng.normal(size=(e, 3))
    return {**_painn_state(rng, n, f), "W_ij": rng.normal(size=(e, 3 * f)),
            "dir_ij": u / np.linalg.norm(u, axis=1, keepdims=True), "edge_index": random_graph(rng, n, e),
            "p": _dense2(rng, f, f, 3 * f)}


def _painn_update_inputs(rng, n=5, f=3):
    return {**_painn_state(rng, n, f),
            "p": {"mu_channel_mix.W": 0.5 * rng.normal(size=(f, 2 * f)),
                  **_dense2(rng, 2 * f, f, 3 * f, "intraatomic_context_net.")}}


def _pair_out(forward):
    def wrapped(**inputs):
        (s, v), cache = forward(**inputs)
        return np.concatenate([s.ravel(), v.ravel()]), (cache, s.shape, v.shape)
    return wrapped


def _pair_in(backward):
    def wrapped(dout, cache):
        inner, s_shape, v_shape = cache
        n_s = int(np.prod(s_shape))
        dout = check_like("dout", dout, (n_s + int(np.prod(v_shape)),))   # the flat (s, v) of the row
        return backward((dout[:n_s].reshape(s_shape), dout[n_s:].reshape(v_shape)), inner)
    return wrapped


def _perm_painn(inputs, perm):
    # node rows of s and v move with the atoms; so do the rows of both parts of the output
    new = dict(inputs, s=inputs["s"][perm], v=inputs["v"][perm])
    if "edge_index" in inputs:
        new["edge_index"] = relabel_edges(inputs["edge_index"], perm)
    n_s = inputs["s"].size

    def expected(out):
        s, v = out[:n_s].reshape(inputs["s"].shape), out[n_s:].reshape(inputs["v"].shape)
        return np.concatenate([s[perm].ravel(), v[perm].ravel()])
    return new, expected


def _painn_readout_inputs(rng):
    inputs = _readout_inputs(rng)
    inputs["s"] = inputs.pop("h")
    return inputs


def _perm_painn_pool(inputs, perm):
    new, expected = _perm_pool(dict(inputs, h=inputs["s"]), perm)
    new["s"] = new.pop("h")
    return new, expected


REGISTRY += [
    Row("painn_dense2", painn.dense2_forward, painn.dense2_backward,
        lambda rng: {"x": rng.normal(size=(5, 4)), "p": _dense2(rng, 4, 3, 2)}, ("x", "p"),
        _perm_nodes_equivariant(["x"])),
    Row("painn_filters", painn.filters_forward, painn.filters_backward,
        lambda rng: {"rbf": rng.normal(size=(12, 4)), "fcut": rng.uniform(0.0, 1.0, size=12),
                     **_weights(rng, W=(4, 9), b=(9,))}, ("rbf", "fcut", "W", "b")),
    Row("painn_message", _pair_out(painn.message_forward), _pair_in(painn.message_backward), _painn_message_inputs,
        ("s", "v", "W_ij", "dir_ij", "p"), _perm_painn, covers="message_backward"),
    Row("painn_update", _pair_out(painn.update_forward), _pair_in(painn.update_backward), _painn_update_inputs,
        ("s", "v", "p"), _perm_painn, covers="update_backward"),
    # v = 0 (as PaiNN starts): |V| = sqrt(eps), smooth there thanks to eps inside the root
    Row("painn_update_at_zero_vectors", _pair_out(painn.update_forward), _pair_in(painn.update_backward),
        lambda rng: dict(_painn_update_inputs(rng), v=np.zeros((5, 3, 3))), ("s", "v", "p"),
        covers="update_backward"),
    Row("painn_readout", painn.readout_forward, painn.readout_backward, _painn_readout_inputs, ("s", "p"),
        _perm_painn_pool),
    Row("painn_vector_head", painn.vector_head_forward, painn.vector_head_backward,
        lambda rng: {**_painn_state(rng), "p": {"mix.W": rng.normal(size=(3, 1)), **_dense2(rng, 3, 2, 1, "gate.")}},
        ("s", "v", "p"), _perm_nodes_equivariant(["s", "v"]), kinds={"v": "vector"}, out_kinds=("vector",)),
]
