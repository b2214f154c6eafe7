"""The compact DimeNet (refimpl.models.dimenet): what the generic model tests cannot see.
Symmetry, forces, loss gradient and batching are in tests/test_models.py (its row in model_registry.py)."""
import re

import numpy as np
import pytest

from refimpl.models import dimenet
from refimpl.models.dimenet import DimeNet
from refimpl.models.schnet import SchNet


def _small(**kw):
    return DimeNet(**{**dict(hidden_channels=6, num_blocks=2, num_bilinear=3, num_spherical=3, num_radial=3,
                             cutoff=2.0, max_z=10, seed=3), **kw})


def test_bilinear_is_pygs_einsum_with_the_weight_permuted():
    rng = np.random.default_rng(0)
    sbf, x, W_pyg = rng.normal(size=(7, 3)), rng.normal(size=(7, 4)), rng.normal(size=(4, 3, 4))   # PyG: (H, B, H)
    pyg = np.einsum("wj,wl,ijl->wi", sbf, x, W_pyg)
    ours = dimenet.bilinear_forward(sbf, x, W_pyg.transpose(1, 2, 0))[0]
    np.testing.assert_allclose(ours, pyg, rtol=1e-12)


def test_angles_separate_what_distances_cannot():
    """Three atoms, cutoff shorter than the 0-2 distance: bent and straight have the same edges and
    distances, so SchNet gives one energy; the angle at the middle atom differs, and DimeNet sees it."""
    Z = np.array([6, 8, 6])
    bent = np.array([[1.2, 0, 0], [0, 0, 0], [0, 1.2, 0]])
    straight = np.array([[1.2, 0, 0], [0, 0, 0], [-1.2, 0, 0]])
    schnet = SchNet(n_atom_basis=8, n_filters=8, n_interactions=2, n_rbf=6, cutoff=1.5, max_z=10, seed=0)
    assert abs(schnet.energy_and_forces(Z, bent)[0][0] - schnet.energy_and_forces(Z, straight)[0][0]) < 1e-12
    model = _small(cutoff=1.5)
    assert abs(model.energy_and_forces(Z, bent)[0][0] - model.energy_and_forces(Z, straight)[0][0]) > 1e-4


def test_every_parameter_reaches_the_energy():
    rng = np.random.default_rng(1)
    model = _small()
    for v in model.params.values():
        v += 0.1 * rng.normal(size=v.shape)
    Z, pos = np.array([6, 1, 8, 1, 6, 1]), rng.normal(size=(6, 3))
    out, cache = model.forward(Z, pos, np.zeros(6, int), model.graph(pos, None), 1)
    grads, _ = model.backward({"energy": np.ones(1)}, cache)
    dead = [k for k, g in grads.items() if k != "atomref" and not np.any(g)]
    assert set(grads) == set(model.params) and not dead, dead


def test_config_rebuilds_the_same_model_and_names_follow_the_pyg_table():
    model = _small()
    again = type(model)(**model.config())
    assert all(np.array_equal(model.params[k], again.params[k]) for k in model.params)
    table = dimenet.__doc__
    for key in model.params:
        generic = re.sub(r"^(\w+)\.\d+\.", r"\1.t.", key)
        stem = generic.rsplit(".", 1)[0] if generic.endswith((".W", ".b")) else generic
        assert stem in table, f"{key} is missing from the PyG name table"


def test_no_triplets_still_gives_energies_and_forces():
    """Two atoms: one edge each way, no triplet (k != i leaves none)."""
    model = _small()
    E, F = model.energy_and_forces(np.array([6, 8]), np.array([[0.0, 0, 0], [1.1, 0, 0]]))
    assert np.isfinite(E).all() and np.abs(F.sum(axis=0)).max() < 1e-12 and np.abs(F).max() > 0


@pytest.mark.parametrize("kwargs, name", [({"hidden_channels": 0}, "hidden_channels"), ({"num_spherical": 9}, "num_spherical"),
                                          ({"num_radial": 2.5}, "num_radial"), ({"cutoff": -1.0}, "cutoff"),
                                          ({"envelope_p": 0}, "envelope_p"), ({"num_blocks": True}, "num_blocks")])
def test_bad_sizes_are_rejected_by_name(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        _small(**kwargs)


def test_bilinear_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="^W:"):
        dimenet.bilinear_forward(np.ones((4, 3)), np.ones((4, 5)), np.ones((3, 4, 5)))
