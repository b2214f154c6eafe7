"""Bad input to the public functions of layers, losses, scatter, message_passing, optim and init
(and the flags and scales of radius and augment) raises a ValueError whose message starts with
the name of the offending argument."""
import inspect
import re

import numpy as np
import pytest

from refimpl.symmetrize import augment
from refimpl.core import init, layers, losses, optim, scatter
from refimpl.graphs import message_passing as mp
from refimpl.geometry import radius
from refimpl.models import egnn_layers as egl
from refimpl.models import gvp
from refimpl.nn import radial, spherical, vectors
from refimpl import train as train_mod
from refimpl.data import md17
from refimpl.training import progress, schedules

MODULES = (layers, losses, scatter, mp, optim, init, vectors, radial, spherical, gvp, egl, train_mod, schedules)
RNG = np.random.default_rng(0)
X = RNG.normal(size=(5, 3))
W = RNG.normal(size=(3, 4))
EDGES = np.array([[0, 1, 2, 3], [1, 2, 3, 4]])
NAN = np.array([[0.0, np.nan, 1.0]] * 5)
V = RNG.normal(size=(5, 4, 3))


def _params():
    return {"W": np.ones((3, 4)), "b": np.zeros(4)}


def _adam_step(grads):
    optim.Adam(_params()).step(grads)


_adam_step.covers = optim.Adam.step


def _sgd_step(grads):
    optim.SGD(_params()).step(grads)


_sgd_step.covers = optim.SGD.step

class _NoModel:
    params = {"w": np.zeros(1)}


def _tiny_trajectory():
    return md17.Trajectory(z=np.array([1, 1]), R=np.zeros((3, 2, 3)) + [[0.0, 0, 0], [0.7, 0, 0]], E=np.zeros(3),
                           F=np.zeros((3, 2, 3)))


def _schnet():
    from refimpl.models.schnet import SchNet
    return SchNet(n_atom_basis=4, n_filters=4, n_interactions=1, n_rbf=3, cutoff=3.0, max_z=3)


def _train(**kwargs):
    train_mod.train(_schnet(), _tiny_trajectory(), [0, 1], **({"val_idx": [2], "n_steps": 1, "progress": False}
                                                              | kwargs))


_train.covers = train_mod.train


def _plateau_observe(value):
    schedules.ReduceOnPlateau().observe(value)


_plateau_observe.covers = schedules.ReduceOnPlateau.observe


def _batch(idx):
    _tiny_trajectory().batch(idx)


# (function, args, kwargs, name of the argument the message must start with)
CASES = [
    # vector features (N, C, 3) and radial bases
    (vectors.vector_linear_forward, (V[..., :2], np.ones((4, 2))), {}, "v"),
    (vectors.vector_linear_forward, (V, np.ones((3, 2))), {}, "W"),
    (vectors.vector_norm_forward, (V,), {"eps": 0.0}, "eps"),
    (vectors.vector_norm_forward, (V * np.nan,), {}, "v"),
    (vectors.vector_dot_forward, (V, V[:, :2]), {}, "v"),
    (vectors.scale_vectors_forward, (np.ones((5, 3)), V), {}, "s"),
    (radial.gaussian_rbf_forward, (np.ones(3), 1, 5.0), {}, "n_rbf"),
    (radial.sine_rbf_forward, (np.ones(3), 0, 5.0), {}, "n_rbf"),
    (radial.sine_rbf_forward, (-np.ones(3), 3, 5.0), {}, "d"),
    (scatter.scatter_sum_forward, (np.ones((3, 2)), [0, 0, 1], 0), {}, "dim_size"),
    # layers
    (layers.linear_forward, (X, RNG.normal(size=(4, 4))), {}, "x"),          # x's last axis != W's rows
    (layers.linear_forward, (X, np.ones(3)), {}, "W"),
    (layers.linear_forward, (X, W, np.ones(3)), {}, "b"),
    (layers.linear_forward, (NAN, W), {}, "x"),
    (layers.relu_forward, (NAN,), {}, "x"),
    (layers.sigmoid_forward, ("a",), {}, "x"),
    (layers.tanh_forward, ([[1.0], [np.inf]],), {}, "x"),
    (layers.silu_forward, (NAN,), {}, "x"),
    (layers.shifted_softplus_forward, (NAN,), {}, "x"),
    (layers.activation, ("swish",), {}, "name"),
    (layers.activation, (None,), {}, "name"),
    # losses
    (losses.mse_forward, (np.zeros(3), np.zeros(4)), {}, "pred"),
    (losses.mse_forward, (np.zeros(0), np.zeros(0)), {}, "pred"),
    (losses.mse_forward, (np.zeros(3), [0.0, np.nan, 0.0]), {}, "target"),
    (losses.softmax_cross_entropy_forward, (np.zeros(4), [0]), {}, "logits"),
    (losses.softmax_cross_entropy_forward, (np.zeros((2, 3)), [0, 3]), {}, "labels"),
    (losses.softmax_cross_entropy_forward, (np.zeros((2, 3)), [0, 1, 2]), {}, "labels"),
    (losses.mse_backward, (np.zeros(3),), {"dout": np.ones(3)}, "dout"),
    (losses.softmax_cross_entropy_backward, ((np.full((2, 3), 1 / 3), np.array([0, 1])),), {"dout": np.nan}, "dout"),
    # scatter
    (scatter.gather_forward, (X, [0, 5]), {}, "index"),
    (scatter.gather_forward, (1.0, [0]), {}, "x"),
    (scatter.scatter_sum_forward, (X, [0, 1, 2, 3, 4], -1), {}, "dim_size"),
    (scatter.scatter_sum_forward, (X, [0, 1, 2], 5), {}, "index"),
    (scatter.scatter_sum_forward, (NAN, [0, 1, 2, 3, 4], 5), {}, "src"),
    (scatter.scatter_mean_forward, (X, [0, 1, 2, 3, 4.5], 5), {}, "index"),
    # message_passing
    (mp.message_passing_forward, (np.ones(5), EDGES, W, W, np.zeros(4)), {}, "h"),
    (mp.message_passing_forward, (X, EDGES[:, :, None], W, W, np.zeros(4)), {}, "edge_index"),
    (mp.message_passing_forward, (X, EDGES + 1, W, W, np.zeros(4)), {}, "edge_index"),
    (mp.message_passing_forward, (X, EDGES, np.ones((4, 4)), W, np.zeros(4)), {}, "W_self"),
    (mp.message_passing_forward, (X, EDGES, W, np.ones((3, 5)), np.zeros(4)), {}, "W_neigh"),
    (mp.message_passing_forward, (X, EDGES, W, W, np.zeros(5)), {}, "b"),
    (mp.gcn_norm, (EDGES, -1), {}, "num_nodes"),
    (mp.gcn_norm, (EDGES, 4), {}, "edge_index"),
    (mp.gcn_norm, (EDGES, 5), {"self_loops": "yes"}, "self_loops"),
    (mp.gcn_conv_forward, (X, EDGES, np.ones(3), W, np.zeros(4)), {}, "edge_weight"),
    (mp.gcn_conv_forward, (X, EDGES, np.ones(4), np.ones((2, 4)), np.zeros(4)), {}, "W"),
    (mp.gcn_conv_forward, (X, EDGES, np.ones(4), W, np.zeros(3)), {}, "b"),
    (mp.global_sum_pool_forward, (X, [0, 0, 1, 1]), {}, "batch"),
    (mp.global_sum_pool_forward, (X, [0, 0, 1, 1, 2], 2), {}, "num_graphs"),
    (mp.global_sum_pool_forward, (NAN, [0, 0, 1, 1, 2]), {}, "h"),
    (mp.global_mean_pool_forward, (X, [0, 0, 1, 1, 1, 1]), {}, "batch"),
    (mp.global_mean_pool_forward, (X, [0, 0, 1, 1, 2], -3), {}, "num_graphs"),
    (mp.global_mean_pool_forward, (X, [0, 0, 1, -1, 2]), {}, "batch"),
    # optim
    (optim.SGD, (_params(),), {"lr": "x"}, "lr"),
    (optim.SGD, (_params(),), {"lr": 0.0}, "lr"),
    (optim.SGD, (_params(),), {"momentum": 1.0}, "momentum"),
    (optim.SGD, ([np.ones(3)],), {}, "params"),
    (optim.SGD, ({"W": np.ones((3, 4), dtype=int)},), {}, "params"),
    (optim.Adam, (_params(),), {"lr": np.nan}, "lr"),
    (optim.Adam, (_params(),), {"lr": True}, "lr"),
    (optim.Adam, (_params(),), {"betas": (0.9,)}, "betas"),
    (optim.Adam, (_params(),), {"betas": (0.9, 1.0)}, "betas"),
    (optim.Adam, (_params(),), {"eps": -1e-8}, "eps"),
    (_adam_step, ({"W": np.ones((3, 4))},), {}, "grads"),
    (_adam_step, ({"W": np.ones((3, 4)), "b": np.full(4, np.nan)},), {}, "grads"),
    (_adam_step, ({"W": np.ones((4, 3)), "b": np.zeros(4)},), {}, "grads"),
    (_sgd_step, ([np.ones((3, 4)), np.zeros(4)],), {}, "grads"),
    (_sgd_step, ({"W": np.full((3, 4), "a"), "b": np.zeros(4)},), {}, "grads"),
    # init
    (init.glorot_uniform, (RNG, 0, 0), {}, "fan_in"),
    (init.glorot_uniform, (RNG, 3, 2.5), {}, "fan_out"),
    (init.glorot_uniform, (0, 3, 3), {}, "rng"),
    (init.he_normal, (RNG, -1, 3), {}, "fan_in"),
    (init.he_normal, (RNG, 3, True), {}, "fan_out"),
    (init.zeros, (3, -1), {}, "shape"),
    # EGNN blocks (parameters by name)
    (egl.edge_mlp_forward, (np.ones(5), np.ones(4), EDGES, {}), {}, "h"),
    (egl.edge_mlp_forward, (X, np.ones(3), EDGES, {}), {}, "sqdist"),
    (egl.edge_mlp_forward, (X, np.ones(4), EDGES + 1, {}), {}, "edge_index"),
    (egl.edge_mlp_forward, (X, np.ones(4), EDGES, {}), {"edge_attr": np.ones((3, 2))}, "edge_attr"),
    (egl.coord_mlp_forward, (np.ones((4, 2)), {"0.W": np.ones((2, 2)), "0.b": np.zeros(2), "2.W": np.ones((2, 1))}),
     {"tanh": "yes"}, "tanh"),
    (egl.coord_mlp_forward, (np.ones((4, 2)), {"0.W": np.ones((2, 2)), "0.b": np.zeros(2), "2.W": np.ones((2, 1)),
                                               "2.b": np.zeros(1)}), {}, "p"),
    (egl.coord_update_forward, (X, np.ones(3), EDGES), {}, "phi"),
    (egl.coord_update_forward, (np.ones((5, 2)), np.ones(4), EDGES), {}, "x"),
    (egl.node_mlp_forward, (X, np.ones((4, 2)), EDGES, {"0.W": np.ones((5, 2)), "0.b": np.zeros(2),
                                                         "2.W": np.ones((2, 4)), "2.b": np.zeros(4)}), {}, "p"),
    (egl.egnn_layer_forward, (X, np.ones((5, 2)), EDGES, {}), {}, "x"),
    # flags and scales of the geometric helpers
    (radius.radius_graph, (X, 1.0), {"self_loops": "yes"}, "self_loops"),
    (radius.radius_graph_naive, (X, 1.0), {"self_loops": None}, "self_loops"),
    (radius.knn_graph, (X, 2), {"self_loops": 1}, "self_loops"),
    (augment.augment_batch, (X, np.zeros(5, dtype=int), RNG), {"jitter": "a"}, "jitter"),
    (augment.augment_batch, (X, np.zeros(5, dtype=int), RNG), {"translation_scale": [1.0]}, "translation_scale"),
    (augment.augment_batch, (X, np.zeros(5, dtype=int), RNG), {"reflections": "no"}, "reflections"),
    # spherical harmonics
    (spherical.spherical_harmonics_forward, (np.ones((3, 2)), 1), {}, "u"),
    (spherical.spherical_harmonics_forward, (np.ones(3), 3), {}, "l"),
    (spherical.spherical_harmonics_forward, (np.ones(3), True), {}, "l"),
    (spherical.sphere_quadrature, (0,), {}, "n"),
    (spherical.wigner_D, (1, 2 * np.eye(3)), {}, "R"),
    (spherical.wigner_D, (1, np.eye(2)), {}, "R"),
    # GVP blocks
    (gvp.init_gvp, (RNG, (3, 0), (2, 2)), {}, "dims_in"),
    (gvp.init_gvp, (RNG, (3, 2), (2,)), {}, "dims_out"),
    (gvp.init_layer_norm, (0,), {}, "n_scalars"),
    (gvp.init_gvp_conv_layer, (RNG, (3, 2), (2, 1)), {"n_message": 0}, "n_message"),
    (gvp.init_gvp_conv_layer, (RNG, (3, 2.0), (2, 1)), {}, "node_dims"),
    (gvp.gvp_forward, (X, np.ones((5, 2, 2)), gvp.init_gvp(RNG, (3, 2), (2, 2))), {}, "V"),
    (gvp.gvp_forward, (X, np.ones((5, 0, 3)), gvp.init_gvp(RNG, (3, 2), (2, 2))), {}, "V"),
    (gvp.gvp_forward, (X[0], np.ones((5, 2, 3)), gvp.init_gvp(RNG, (3, 2), (2, 2))), {}, "s"),
    (gvp.gvp_forward, (X, np.ones((5, 2, 3)), gvp.init_gvp(RNG, (3, 3), (2, 2))), {}, "p"),
    (gvp.gvp_forward, (X, np.ones((5, 2, 3)), gvp.init_gvp(RNG, (3, 2), (2, 2))), {"vector_gate": True}, "p"),
    (gvp.layer_norm_forward, (X, np.ones((4, 2, 3)), gvp.init_layer_norm(3)), {}, "V"),
    (gvp.gvp_stack_forward, (X, np.ones((5, 2, 3)), {}, "ff_func", ("relu", "sigmoid"), True, True), {}, "prefix"),
    (gvp.gvp_conv_forward, (X, np.ones((5, 2, 3)), EDGES, X[:4], np.ones((4, 1, 3)), {}), {"aggr": "max"}, "aggr"),
    (gvp.gvp_conv_forward, (X, np.ones((5, 2, 3)), EDGES + 1, X[:4], np.ones((4, 1, 3)), {}), {}, "edge_index"),
    (gvp.gvp_conv_forward, (X, np.ones((5, 2, 3)), EDGES, X[:3], np.ones((3, 1, 3)), {}), {}, "es"),
    (gvp.gvp_conv_forward, (X, np.ones((5, 2, 3)), EDGES, X[:4], np.ones((3, 1, 3)), {}), {}, "eV"),
    (gvp.gvp_conv_forward, (X, np.ones((5, 2, 3)), EDGES, X[:4], np.ones((4, 1, 3)), {}),
     {"edge_weight": np.ones(3)}, "edge_weight"),
    (gvp.gvp_conv_layer_forward, (X, np.ones((5, 1, 3)), EDGES, X[:4], np.ones((4, 1, 3)),
                                  gvp.init_gvp_conv_layer(RNG, (3, 2), (3, 1))), {}, "p"),
    # training
    (_train, (), {"n_steps": 0}, "n_steps"),
    (_train, (), {"batch_size": 0}, "batch_size"),
    (_train, (), {"lr": -1.0}, "lr"),
    (_train, (), {"w_energy": 0.0, "w_forces": 0.0}, "w_energy"),
    (_train, (), {"w_forces": np.nan}, "w_forces"),
    (_train, (), {"ema_decay": 1.0}, "ema_decay"),
    (_train, (), {"patience": -1}, "patience"),
    (_train, (), {"val_idx": None, "patience": 2}, "patience"),
    (_train, (), {"val_idx": []}, "val_idx"),
    (_train, (), {"val_idx": [3]}, "val_idx"),
    (_train, (), {"eval_every": 0}, "eval_every"),
    (_train, (), {"seed": 1.5}, "seed"),
    (_train, (), {"schedule": "linear"}, "schedule"),
    (_train, (), {"schedule": 0.5}, "schedule"),
    (_train, (), {"keep_best": "yes"}, "keep_best"),
    (_train, (), {"progress": None}, "progress"),
    (_train, (), {"log": "stdout"}, "log"),
    (train_mod.train, (_NoModel(), _tiny_trajectory(), [0]), {}, "model"),
    (train_mod.train, (_schnet(), {"E": np.zeros(3)}, [0]), {}, "data"),
    (train_mod.train, (_schnet(), _tiny_trajectory(), []), {}, "train_idx"),
    (train_mod.evaluate, (_schnet(), _tiny_trajectory(), [0]), {"batch_size": 0}, "batch_size"),
    (train_mod.evaluate, (_schnet(), _tiny_trajectory(), []), {}, "idx"),
    (schedules.check_int, ("warmup", -1), {}, "warmup"),
    (schedules.Constant, (), {"warmup": 2.0}, "warmup"),
    (schedules.WarmupCosine, (), {"final": 1.5}, "final"),
    (schedules.WarmupCosine, (), {"warmup": True}, "warmup"),
    (schedules.ExponentialDecay, (), {"final": 0.0}, "final"),
    (schedules.StepDrop, (), {"at": -0.1}, "at"),
    (schedules.StepDrop, (), {"factor": 0.0}, "factor"),
    (schedules.ReduceOnPlateau, (), {"factor": 1.0}, "factor"),
    (schedules.ReduceOnPlateau, (), {"patience": 0.5}, "patience"),
    (schedules.ReduceOnPlateau, (), {"min_factor": 2.0}, "min_factor"),
    (_plateau_observe, (np.nan,), {}, "val_loss"),
    (schedules.make_schedule, (["cosine", 3],), {}, "schedule"),
    (progress.Progress, (0,), {}, "total"),
    (progress.Progress, (10,), {"enabled": 1}, "enabled"),
    (md17.Trajectory, (np.array([1]), np.zeros((2, 1, 3)), np.zeros((2, 2)), np.zeros((2, 1, 3))), {}, "E"),
    (md17.Trajectory, (np.array([1]), np.zeros((2, 1, 3)), np.zeros(2), np.zeros((2, 1, 3))), {"units": "Ha"},
     "units"),
    (_batch, ([5],), {}, "idx"),
    (md17.load_md17, (__file__,), {}, "path"),
]

# triplets and angles, DimeNet's bases
from refimpl.geometry import triplets as trip  # noqa: E402
from refimpl.nn import angular, bessel  # noqa: E402

MODULES += (trip, angular, bessel)
CASES += [
    (trip.triplets, (EDGES, 3), {}, "edge_index"),
    (trip.triplet_cosine_forward, (np.ones((4, 2)), [0], [1]), {}, "r"),
    (trip.triplet_cosine_forward, (np.ones((4, 3)), [0, 1], [1]), {}, "idx_kj"),
    (trip.triplet_cosine_forward, (np.ones((4, 3)), [0], [4]), {}, "idx_ji"),
    (bessel.spherical_jn_forward, (X, 9), {}, "l"),
    (bessel.spherical_jn_forward, ("a", 0), {}, "x"),
    (bessel.spherical_jn_zeros, (0, 3), {}, "num_spherical"),
    (bessel.spherical_jn_zeros, (3, -1), {}, "num_radial"),
    (bessel.bessel_rbf_forward, (X, np.ones(3), 5.0), {}, "d"),
    (bessel.bessel_rbf_forward, (np.ones(3), np.ones((2, 2)), 5.0), {}, "freq"),
    (bessel.bessel_rbf_forward, (np.ones(3), np.ones(2), -5.0), {}, "cutoff"),
    (angular.legendre_forward, ([2.0], 3), {}, "c"),
    (angular.legendre_forward, ([0.5], 0), {}, "num_spherical"),
    (angular.spherical_basis_forward, (np.ones(3), np.full(2, 0.5), [0, 5], 5.0, 3, 2), {}, "idx_kj"),
    (angular.spherical_basis_forward, (np.ones(3), np.full(3, 0.5), [0, 1], 5.0, 3, 2), {}, "c"),
]


def _case_id(k, case):
    fn, _, _, name = case
    return f"{k:02d}-{fn.__name__}-{name}"


@pytest.mark.parametrize("fn, args, kwargs, name", CASES, ids=[_case_id(k, c) for k, c in enumerate(CASES)])
def test_bad_input_raises_value_error_naming_the_argument(fn, args, kwargs, name):
    # the name, then ":" (or "[" for an entry of a dict, or " and" for a pair of arguments)
    with pytest.raises(ValueError, match=rf"^{re.escape(name)}(:|\[| and )"):
        fn(*args, **kwargs)


def test_every_public_function_has_a_bad_input_case():
    """Each public function and method of the six modules appears above (backward passes are
    covered by test_backward_validation.py, which feeds every one a bad dout)."""
    covered = {getattr(fn, "covers", fn) for fn, *_ in CASES}
    missing = []
    for module in MODULES:
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj) and not name.endswith("_backward") and obj not in covered:
                missing.append(f"{module.__name__}.{name}")
            if inspect.isclass(obj):
                if obj not in covered:
                    missing.append(f"{module.__name__}.{name}")
                missing += [f"{module.__name__}.{name}.{m}" for m, f in vars(obj).items()
                            if inspect.isfunction(f) and not m.startswith("_") and f not in covered]
    assert not missing, f"add a bad-input case for: {missing}"
