"""The model registry: one row per model class; ``test_models.py`` tests every row the same way.

A row says how to build a small, seeded instance (float64, a few features, random weights large
enough that every term matters) and what symmetry the model has. Adding a model means adding one
row here; ``test_every_registered_model_has_a_row`` fails otherwise.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass
class ModelRow:
    name: str
    make: Callable                 # make() -> a model on refimpl.models.base.Model
    reflections: bool = True       # invariant (energies) / equivariant (vectors) under reflections: E(3)
    tol: float = 1e-10             # relative symmetry tolerance in float64
    loss_tol: float = 1e-6         # relative error of the loss gradient against finite differences


def _perturb(model, rng, scale=0.3):
    """Random nonzero values for parameters initialised at zero (biases), so that every term counts."""
    for v in model.params.values():
        if not v.any():
            v[...] = scale * rng.normal(size=v.shape)
    return model


def _schnet():
    from refimpl.models.schnet import SchNet
    return _perturb(SchNet(n_atom_basis=8, n_filters=6, n_interactions=2, n_rbf=6, cutoff=4.0, max_z=10, seed=1),
                    np.random.default_rng(1))


def _egnn(tanh=False, n_rbf=0):
    from refimpl.models.egnn import EGNN
    model = _perturb(EGNN(n_features=6, n_layers=3, n_rbf=n_rbf, cutoff=4.0, max_z=10, tanh=tanh, seed=1),
                     np.random.default_rng(1))
    for t in range(model.n_layers):            # coordinate updates of ~0.1 A (not 1e-3): every path counts
        model.params[f"gcl_{t}.coord_mlp.2.W"] *= 100.0
    return model


def _gvp():
    from refimpl.models.gvp_energy import GVPModel
    return _perturb(GVPModel(node_dims=(6, 3), edge_dims=(5, 2), n_rbf=6, n_layers=2, cutoff=4.0, max_z=10, seed=2),
                    np.random.default_rng(2))


def _painn(cls_name="PaiNN", **kw):
    from refimpl.models import painn
    cls = getattr(painn, cls_name)
    return _perturb(cls(**{"n_atom_basis": 6, "n_interactions": 2, "n_rbf": 5, "cutoff": 4.0, "max_z": 10,
                           "seed": 2, **kw}), np.random.default_rng(2))


MODEL_ROWS = [
    ModelRow("schnet", _schnet),
    ModelRow("egnn", _egnn),
    ModelRow("egnn_tanh_rbf", lambda: _egnn(tanh=True, n_rbf=5)),
    ModelRow("gvp", _gvp),
    ModelRow("painn", _painn),
    ModelRow("painn_gaussian_shared", lambda: _painn(radial_basis="gaussian", shared_filters=True)),
    ModelRow("painn_direct", lambda: _painn("PaiNNDirect")),
]


def _dimenet():
    from refimpl.models.dimenet import DimeNet
    return _perturb(DimeNet(hidden_channels=6, num_blocks=2, num_bilinear=3, num_spherical=3, num_radial=3, cutoff=4.0,
                            max_z=10, seed=1), np.random.default_rng(2))


MODEL_ROWS += [
    ModelRow("dimenet", _dimenet),
]
