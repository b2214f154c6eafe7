"""PaiNN beyond the registry rows: forces and parameter gradients of the whole model, the radial-basis
and filter-sharing options, the epsilon of |V|, the direction sign per edge, the direct force head."""
import numpy as np
import pytest

from refimpl.core.gradcheck import numerical_gradient, rel_error
from refimpl.data.datasets import load_molecule
from refimpl.geometry import random_orthogonal, symmetry
from refimpl.models import painn
from refimpl.models.base import subdict
from refimpl.models.painn import PaiNN, PaiNNDirect, update_forward
from refimpl.nn.cutoffs import cosine_cutoff_forward

MOL = load_molecule("ethanol")


def _small(cls=PaiNN, **kw):
    return cls(**{"n_atom_basis": 6, "n_interactions": 2, "n_rbf": 5, "cutoff": 4.0, "max_z": 10, **kw})


def _perturbed_params(model, rng, scale=0.3):
    for v in model.params.values():
        v += scale * rng.normal(size=v.shape)      # non-zero biases, a generic point
    return model


@pytest.mark.parametrize("radial_basis", ["sine", "gaussian"])
@pytest.mark.parametrize("shared_filters", [False, True])
def test_forces_are_minus_the_gradient_of_the_energy(radial_basis, shared_filters):
    rng = np.random.default_rng(0)
    model = _perturbed_params(_small(radial_basis=radial_basis, shared_filters=shared_filters), rng)
    pos = MOL.pos + rng.normal(scale=0.05, size=MOL.pos.shape)
    _, F = model.energy_and_forces(MOL.z, pos)
    fd = -numerical_gradient(lambda: model.energy_and_forces(MOL.z, pos)[0][0], pos, eps=1e-5)
    assert rel_error(F, fd) < 1e-8


@pytest.mark.parametrize("cls", [PaiNN, PaiNNDirect])
def test_parameter_gradient_of_the_energy_and_of_the_direct_forces(cls):
    rng = np.random.default_rng(1)
    model = _perturbed_params(_small(cls), rng)
    Z, pos, batch = MOL.z, MOL.pos, np.zeros(len(MOL.z), dtype=np.int64)
    edges = model.graph(pos, batch)
    w = {k: rng.normal(size=np.shape(o)) for k, o in model.forward(Z, pos, batch, edges, 1)[0].items()}
    objective = lambda: sum(float(np.sum(w[k] * o)) for k, o in model.forward(Z, pos, batch, edges, 1)[0].items())
    grads, _ = model.backward(w, model.forward(Z, pos, batch, edges, 1)[1])
    assert set(grads) == set(model.params)
    for name in ["embedding", "filter_net.W", "interactions.0.interatomic_context_net.1.b",
                 "mixing.0.mu_channel_mix.W", "mixing.1.intraatomic_context_net.0.W", "readout.0.W", "atomref"] \
            + (["direct_forces.mix.W", "direct_forces.gate.0.W"] if cls is PaiNNDirect else []):
        assert rel_error(grads[name], numerical_gradient(objective, model.params[name])) < 1e-7, name


def _update_params(rng, F):
    return {"mu_channel_mix.W": rng.normal(size=(F, 2 * F)), "intraatomic_context_net.0.W": rng.normal(size=(2 * F, F)),
            "intraatomic_context_net.0.b": rng.normal(size=F), "intraatomic_context_net.1.W": rng.normal(size=(F, 3 * F)),
            "intraatomic_context_net.1.b": rng.normal(size=3 * F)}


def test_epsilon_shows_in_the_first_update():
    """With v = 0, |V| = sqrt(1e-8) = 1e-4 exactly: the epsilon enters the outputs (schnetpack's rule)."""
    rng = np.random.default_rng(2)
    F = 4
    s, v, p = rng.normal(size=(3, F)), np.zeros((3, F, 3)), _update_params(rng, F)
    _, cache = update_forward(s, v, p)
    assert np.all(cache[1][1] == 1e-4)                                         # the norms |V|
    (s1, _), _ = update_forward(s, v, p, eps=1e-8)
    (s2, _), _ = update_forward(s, v, p, eps=1e-6)
    assert np.abs(s1 - s2).max() > 1e-6


def test_blocks_rotate_vectors_and_keep_scalars():
    """Message and update under x -> Q x (Q in O(3), reflections included): s unchanged, v -> v Q^T."""
    rng = np.random.default_rng(5)
    n, e, F = 5, 12, 3
    s, v = rng.normal(size=(n, F)), rng.normal(size=(n, F, 3))
    u = rng.normal(size=(e, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    W_ij, edges = rng.normal(size=(e, 3 * F)), rng.integers(0, n, size=(2, e))
    p_msg = {"0.W": rng.normal(size=(F, F)), "0.b": rng.normal(size=F), "1.W": rng.normal(size=(F, 3 * F)),
             "1.b": rng.normal(size=3 * F)}
    blocks = [lambda s, v, u: painn.message_forward(s, v, W_ij, u, edges, p_msg)[0],
              lambda s, v, u: painn.update_forward(s, v, _update_params(np.random.default_rng(6), F))[0]]
    for Q in (random_orthogonal(rng), -np.eye(3)):
        for block in blocks:
            (s1, v1), (s2, v2) = block(s, v, u), block(s, v @ Q.T, u @ Q.T)
            assert np.abs(s2 - s1).max() < 1e-12 and np.abs(v2 - v1 @ Q.T).max() < 1e-12
            assert np.abs(v1).max() > 0.1


def test_energy_is_invariant_and_direct_forces_are_equivariant():
    """Under permutations, rotations, reflections (direct forces flip as polar vectors) and translations."""
    rng = np.random.default_rng(3)
    model = _perturbed_params(_small(PaiNNDirect), rng)
    energy = lambda Z, pos: model.energy_and_forces(Z, pos)[0]
    forces = lambda Z, pos: model.energy_and_forces(Z, pos)[1]
    inv = symmetry.symmetry_report(energy, MOL.z, MOL.pos, rng, "invariant", relative=True)
    eqv = symmetry.symmetry_report(forces, MOL.z, MOL.pos, rng, "equivariant", relative=True)
    assert max(inv.values()) < 1e-12 and max(eqv.values()) < 1e-10


def _energy_per_edge(model, Z, pos, edges, same_direction_both_ways=False):
    """The model's energy with distances, filters and directions computed on every edge (no pairs)."""
    p, F = model.params, model.n_atom_basis
    r = pos[edges[0]] - pos[edges[1]]
    if same_direction_both_ways:                    # the bug: u_ji taken equal to u_ij
        r = r * np.where(edges[0] < edges[1], 1.0, -1.0)[:, None]
    d = np.linalg.norm(r, axis=1)
    rbf = painn.RADIAL_BASES[model.radial_basis][0](d, model.n_rbf, model.cutoff)[0]
    filt = painn.filters_forward(rbf, cosine_cutoff_forward(d, model.cutoff)[0], p["filter_net.W"],
                                 p["filter_net.b"])[0]
    s, v = p["embedding"][Z], np.zeros((len(Z), F, 3))
    for t in range(model.n_interactions):
        (s, v), _ = painn.message_forward(s, v, filt[:, 3 * F * t:3 * F * (t + 1)], r / d[:, None], edges,
                                          subdict(p, f"interactions.{t}.interatomic_context_net."))
        (s, v), _ = painn.update_forward(s, v, subdict(p, f"mixing.{t}."))
    batch = np.zeros(len(Z), dtype=np.int64)
    return painn.readout_forward(s, batch, 1, subdict(p, "readout."))[0][0] + p["atomref"][Z].sum()


def test_pairs_with_the_direction_sign_equal_the_per_edge_computation():
    """Filters once per atom pair, u_ji = -u_ij per edge: the same energy as everything per edge, and
    a different one if the reverse edge kept the pair's direction."""
    rng = np.random.default_rng(4)
    model = _perturbed_params(_small(), rng)
    Z, pos = MOL.z, MOL.pos
    edges = model.graph(pos, np.zeros(len(Z), dtype=np.int64))
    E = model.energy_and_forces(Z, pos)[0][0]
    assert abs(E - _energy_per_edge(model, Z, pos, edges)) < 1e-10 * abs(E)
    assert abs(E - _energy_per_edge(model, Z, pos, edges, same_direction_both_ways=True)) > 1e-4


def test_bad_arguments():
    for kw, match in [({"radial_basis": "bessel"}, "radial_basis"), ({"shared_filters": 1}, "shared_filters"),
                      ({"epsilon": 0.0}, "epsilon"), ({"n_atom_basis": 1}, "n_atom_basis")]:
        with pytest.raises(ValueError, match=match):
            _small(**kw)


def test_config_rebuilds_the_architecture():
    model = _small(PaiNNDirect, radial_basis="gaussian", shared_filters=True)
    again = type(model)(**model.config())
    assert {k: v.shape for k, v in again.params.items()} == {k: v.shape for k, v in model.params.items()}
    assert again.params["filter_net.W"].shape == (5, 3 * 6)                    # one shared set
