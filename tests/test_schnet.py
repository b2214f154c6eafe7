"""SchNet: symmetry, forces = -dE/dpos, the energy+force loss gradient, robustness, validation."""
import numpy as np
import pytest

from refimpl.geometry import symmetry
from refimpl.data.datasets import load_molecule
from refimpl.core.gradcheck import numerical_gradient, rel_error
from refimpl.data.md17 import Trajectory
from refimpl.geometry.radius import radius_graph
from refimpl.models.schnet import SchNet, fit_atomref
from refimpl.train import evaluate, train


def small_model(seed=1, cutoff=3.0, n_interactions=2, width=8):
    """A small SchNet with non-zero biases and atomref, so every parameter matters."""
    m = SchNet(n_atom_basis=width, n_filters=width - 2, n_interactions=n_interactions, n_rbf=width - 3,
               cutoff=cutoff, max_z=9, seed=seed)
    rng = np.random.default_rng(seed + 100)
    for v in m.params.values():
        v += 0.1 * rng.normal(size=v.shape)
    return m


def two_molecules(rng):
    """Ethanol and a distorted copy as one batch: Z (18,), pos (18, 3), batch (18,)."""
    g = load_molecule("ethanol")
    pos = np.concatenate([g.pos, g.pos + rng.normal(scale=0.1, size=g.pos.shape) + 20.0])
    return np.tile(g.z, 2), pos, np.repeat([0, 1], 9)


# ----------------------------------------------------------------------------- symmetry
def _energies(m):
    return lambda Z, pos, batch: m.energy_and_forces(Z, pos, batch)[0]


def _forces(m):
    return lambda Z, pos, batch: m.energy_and_forces(Z, pos, batch)[1]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_energy_invariant_forces_equivariant(seed):
    """E(g x) = E(x) and F(g x) = g F(x) for rotations, reflections, translations and permutations
    within each molecule (refimpl.geometry.symmetry: the graph is rebuilt from the moved positions)."""
    rng = np.random.default_rng(seed)
    m = small_model(cutoff=5.0, n_interactions=3)
    Z, pos, batch = two_molecules(rng)
    energy = symmetry.symmetry_report(_energies(m), Z, pos, rng, batch=batch, relative=True)
    forces = symmetry.symmetry_report(_forces(m), Z, pos, rng, output="equivariant", batch=batch, relative=True)
    assert set(energy) == set(forces) == set(symmetry.GROUPS)
    assert max(energy.values()) < 1e-12, symmetry.format_report(energy, tol=1e-12)
    assert max(forces.values()) < 1e-10, symmetry.format_report(forces, tol=1e-10)


def test_symmetry_check_would_catch_a_position_dependent_energy():
    """Adding a term that depends on absolute x makes the translation check above fail."""
    rng = np.random.default_rng(0)
    m = small_model()
    Z, pos, batch = two_molecules(rng)
    broken = lambda Z, p, b: _energies(m)(Z, p, b) + 1e-3 * p[:9, 0].sum()
    report = symmetry.symmetry_report(broken, Z, pos, rng, batch=batch, relative=True)
    assert report["translation"] > 1e-6
    assert report["permutation"] < 1e-12                  # the sum over molecule 0's atoms ignores their order


def test_batch_of_molecules_equals_molecules_alone():
    rng = np.random.default_rng(3)
    m = small_model(cutoff=5.0)
    Z, pos, batch = two_molecules(rng)
    E, F = m.energy_and_forces(Z, pos, batch)
    for g in range(2):
        Eg, Fg = m.energy_and_forces(Z[batch == g], pos[batch == g])
        assert rel_error(Eg, E[g:g + 1]) < 1e-13 and rel_error(Fg, F[batch == g]) < 1e-12


# ----------------------------------------------------------------------------- gradients
def test_forces_are_minus_finite_difference_of_energy():
    rng = np.random.default_rng(0)
    m = small_model(cutoff=5.0, n_interactions=3)
    Z, pos, batch = two_molecules(rng)
    _, F = m.energy_and_forces(Z, pos, batch)
    num = numerical_gradient(lambda: m.energy_and_forces(Z, pos, batch)[0].sum(), pos, eps=1e-6)
    assert rel_error(-num, F) < 1e-7


@pytest.mark.parametrize("w_energy, w_forces", [(1.0, 0.0), (0.0, 10.0), (1.0, 10.0)])
def test_energy_force_loss_gradient_matches_finite_differences(w_energy, w_forces):
    """Every parameter's gradient of the combined loss, including d(forces)/d(params).

    Tolerance 1e-6 (the registry's): the force term is a Hessian-vector product by central
    differences with step h = 1e-5 A, whose truncation error is O(h^2) ~ 1e-10 relative and
    rounding error ~ 1e-16 / h ~ 1e-11; the reference is itself a central difference
    (eps = 1e-6, error ~ 1e-9). A wrong second-order term (e.g. a missing sign) is O(1).
    """
    rng = np.random.default_rng(0)
    m = small_model(width=5)
    Z, pos, batch = two_molecules(rng)
    data = {"Z": Z, "pos": pos, "batch": batch, "E": rng.normal(size=2), "F": rng.normal(size=(18, 3))}
    _, grads = m.loss_and_grads(data, w_energy, w_forces)
    assert set(grads) == set(m.params)
    for key, p in m.params.items():
        num = numerical_gradient(lambda: m.loss_and_grads(data, w_energy, w_forces)[0], p)
        assert grads[key].shape == p.shape
        assert rel_error(grads[key], num) < 1e-6, key


def test_loss_gradient_check_catches_missing_force_term():
    """Dropping the Hessian-vector product changes the gradient far beyond the tolerance."""
    rng = np.random.default_rng(0)
    m = small_model()
    Z, pos, batch = two_molecules(rng)
    data = {"Z": Z, "pos": pos, "batch": batch, "E": rng.normal(size=2), "F": rng.normal(size=(18, 3))}
    with_forces = m.loss_and_grads(data, 1.0, 10.0)[1]
    energy_only = m.loss_and_grads(data, 1.0, 0.0)[1]
    assert rel_error(with_forces["interactions.0.filter.0.W"], energy_only["interactions.0.filter.0.W"]) > 1e-2


# ----------------------------------------------------------------------------- robustness
def test_isolated_atoms_have_zero_force_and_embedding_energy():
    """Atoms farther apart than the cutoff do not interact: E = sum of one-atom energies, F = 0."""
    m = small_model(cutoff=3.0)
    Z, pos = np.array([1, 6, 8]), np.array([[0.0, 0, 0], [10.0, 0, 0], [0, 0, 10.0]])
    E, F = m.energy_and_forces(Z, pos)
    alone = sum(m.energy_and_forces([z], [[0.0, 0, 0]])[0][0] for z in Z)
    assert np.all(F == 0.0) and np.isclose(E[0], alone, rtol=1e-13)


def test_single_atom_molecule():
    m = small_model()
    E, F = m.energy_and_forces([8], [[1.0, 2.0, 3.0]])
    assert E.shape == (1,) and F.shape == (1, 3) and np.all(np.isfinite(E)) and np.all(F == 0.0)
    E2, _ = m.energy_and_forces([8], [[-5.0, 0.0, 7.0]])
    assert E2[0] == E[0]


def test_coincident_atoms_are_finite_and_continuous():
    """Two atoms at the same point: finite E and F; E is the limit of nearby separations."""
    m = small_model(cutoff=5.0)
    Z = np.array([6, 1, 8])
    pos = np.array([[0.0, 0, 0], [0.0, 0, 0], [1.2, 0.3, 0]])
    E, F = m.energy_and_forces(Z, pos)
    near = pos.copy()
    near[1, 0] = 1e-7
    E_near, _ = m.energy_and_forces(Z, near)
    assert np.all(np.isfinite(E)) and np.all(np.isfinite(F))
    assert abs(E[0] - E_near[0]) < 1e-5
    # Newton's third law: internal forces cancel, also with the subgradient 0 at r = 0
    assert np.abs(F.sum(axis=0)).max() < 1e-12 * max(1.0, np.abs(F).max())
    assert np.any(F != 0.0)                               # atom 2 is within the cutoff: a real test


def test_very_large_translation():
    """A molecule moved by 1e6 A: relative rounding of positions is ~1e-16, of r_ij ~ 1e-10 A."""
    m = small_model(cutoff=5.0)
    g = load_molecule("ethanol")
    E, F = m.energy_and_forces(g.z, g.pos)
    E2, F2 = m.energy_and_forces(g.z, g.pos + np.array([1e6, -1e6, 1e6]))
    assert np.all(np.isfinite(F2))
    assert abs(E2[0] - E[0]) < 1e-8 * (1 + abs(E[0])) and rel_error(F2, F) < 1e-7


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize("Z, pos, batch, name", [
    ([0, 1], [[0.0, 0, 0], [1, 0, 0]], None, "Z"),                 # Z = 0 is no element
    ([1, 9], [[0.0, 0, 0], [1, 0, 0]], None, "Z"),                 # >= max_z
    ([1.5, 1], [[0.0, 0, 0], [1, 0, 0]], None, "Z"),               # not an integer
    ([1, 1, 1], [[0.0, 0, 0], [1, 0, 0]], None, "Z"),              # length differs
    ([1, 1], [[0.0, 0], [1, 0]], None, "pos"),                     # not (N, 3)
    ([1, 1], [[0.0, 0, np.nan], [1, 0, 0]], None, "pos"),          # not finite
    ([], np.zeros((0, 3)), None, "pos"),                           # no atoms
    ([1, 1, 1], np.eye(3), [1, 0, 0], "batch"),                    # unsorted
])
def test_bad_input_raises_value_error_naming_it(Z, pos, batch, name):
    m = small_model()
    with pytest.raises(ValueError, match=name):
        m.energy_and_forces(Z, pos, batch)


@pytest.mark.parametrize("kwargs, name", [({"cutoff": -1.0}, "cutoff"), ({"n_rbf": 1}, "n_rbf"),
                                          ({"n_interactions": 0}, "n_interactions"), ({"max_z": 1.5}, "max_z")])
def test_bad_hyperparameters_raise(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SchNet(**kwargs)


def test_backward_rejects_a_dE_that_does_not_fit_the_energies():
    m = small_model()
    Z, pos, batch = two_molecules(np.random.default_rng(0))
    _, cache = m.forward(Z, pos, batch, radius_graph(pos, m.cutoff, batch), 2)
    with pytest.raises(ValueError, match=r"^doutputs\['energy'\]: expected shape \(2,\) \(the forward output's\), got \(3,\)"):
        m.backward({"energy": np.ones(3)}, cache)
    with pytest.raises(ValueError, match=r"^doutputs\['energy'\]: expected finite values"):
        m.backward({"energy": np.array([1.0, np.nan])}, cache)
    with pytest.raises(ValueError, match=r"^doutputs: SchNet has no output\(s\) \['forces'\]"):
        m.backward({"energy": np.ones(2), "forces": np.ones((18, 3))}, cache)


def test_loss_rejects_mismatched_targets():
    m = small_model()
    Z, pos, batch = two_molecules(np.random.default_rng(0))
    with pytest.raises(ValueError, match="F"):
        m.loss_and_grads({"Z": Z, "pos": pos, "batch": batch, "E": np.zeros(2), "F": np.zeros((17, 3))})
    with pytest.raises(ValueError, match="E"):
        m.loss_and_grads({"Z": Z, "pos": pos, "batch": batch, "E": np.zeros(3), "F": np.zeros((18, 3))})
    with pytest.raises(ValueError, match="missing"):
        m.loss_and_grads({"Z": Z, "pos": pos, "batch": batch, "F": np.zeros((18, 3))})


# ----------------------------------------------------------------------------- parameters
def test_parameter_names_and_shapes_follow_the_references():
    m = SchNet(n_atom_basis=16, n_filters=12, n_interactions=2, n_rbf=7, max_z=10)
    p = m.params
    assert p["embedding"].shape == (10, 16) and p["atomref"].shape == (10,)
    assert p["interactions.1.filter.0.W"].shape == (7, 12)       # PyG mlp.0.weight is (12, 7)
    assert p["interactions.1.in2f.W"].shape == (16, 12) and "interactions.1.in2f.b" not in p
    assert p["interactions.0.f2out.0.W"].shape == (12, 16) and p["interactions.0.f2out.1.W"].shape == (16, 16)
    assert p["readout.0.W"].shape == (16, 8) and p["readout.1.W"].shape == (8, 1)
    assert len(p) == 2 + 2 * 9 + 4


def test_seed_makes_initialization_reproducible():
    a, b, c = SchNet(seed=3), SchNet(seed=3), SchNet(seed=4)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert not np.array_equal(a.params["readout.0.W"], c.params["readout.0.W"])


def test_fit_atomref_recovers_per_element_energies():
    Z = np.array([1, 1, 6, 1, 8, 8, 6, 6, 1])
    batch = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    true = np.zeros(9)
    true[[1, 6, 8]] = [-13.6, -1029.0, -2040.0]
    E = np.bincount(batch, weights=true[Z])
    m = small_model()
    fit_atomref(m, Z, E, batch)
    assert np.allclose(m.params["atomref"], true, atol=1e-9)


# ----------------------------------------------------------------------------- training
def _morse_trajectory(rng, n=60):
    """Ethanol geometries with a Morse pair energy between all atoms (exact forces), in eV."""
    g = load_molecule("ethanol")
    R = g.pos + rng.normal(scale=0.05, size=(n, 9, 3))
    diff = R[:, None, :, :] - R[:, :, None, :]                       # (n, i, j, 3): x_j - x_i
    d = np.linalg.norm(diff, axis=-1) + np.eye(9)
    x = np.exp(-1.5 * (d - 1.3))
    pair = (x * x - 2 * x) * (1 - np.eye(9))
    E = 0.5 * pair.sum(axis=(1, 2))
    dpair = (-3.0 * x * x + 3.0 * x) * (1 - np.eye(9))             # d pair / d d
    F = np.einsum("nij,nijk->nik", dpair / d, diff)                  # -dE/dx_i = sum_j pair'(d) (x_j - x_i)/d
    return Trajectory(z=g.z, R=R, E=E, F=F)


def test_morse_reference_forces_are_consistent():
    rng = np.random.default_rng(0)
    data = _morse_trajectory(rng, n=1)
    R = data.R[0].copy()

    def energy():
        d = np.linalg.norm(R[None] - R[:, None], axis=-1) + np.eye(9)
        x = np.exp(-1.5 * (d - 1.3))
        return 0.5 * ((x * x - 2 * x) * (1 - np.eye(9))).sum()
    assert rel_error(-numerical_gradient(energy, R), data.F[0]) < 1e-8


def test_training_reduces_force_error():
    rng = np.random.default_rng(0)
    data = _morse_trajectory(rng)
    m = SchNet(n_atom_basis=16, n_filters=16, n_interactions=2, n_rbf=10, cutoff=4.0, max_z=9, seed=0)
    b = data.batch(np.arange(40))
    fit_atomref(m, b["Z"], b["E"], b["batch"])
    val = np.arange(40, 60)
    before = evaluate(m, data, val)
    lines = []
    train(m, data, np.arange(40), val, n_steps=60, batch_size=5, lr=3e-3, w_forces=10.0, eval_every=30,
          log=lines.append)
    after = evaluate(m, data, val)
    assert len(lines) == 2 and lines[0].startswith("step    30")
    assert after[1] < 0.6 * before[1], (before, after)


def _train_twice_and_once_more(seed_a, seed_b):
    """Train three copies of one model on one data set: with seed_a, seed_a again, then seed_b."""
    data = _morse_trajectory(np.random.default_rng(1), n=16)
    runs = []
    for seed in (seed_a, seed_a, seed_b):
        m = SchNet(n_atom_basis=8, n_filters=8, n_interactions=1, n_rbf=6, cutoff=4.0, max_z=9, seed=0)
        history = train(m, data, np.arange(12), np.arange(12, 16), n_steps=6, batch_size=4, lr=1e-2, seed=seed,
                         eval_every=3, log=lambda line: None, progress=False)
        runs.append((m.params, history))
    return runs


def test_training_is_reproducible_with_a_seed():
    """The seed fixes the mini-batches: the same seed gives bitwise-equal parameters and history,
    another seed other batches, so other parameters (12 configurations, batches of 4: the order matters)."""
    (p1, h1), (p2, h2), (p3, h3) = _train_twice_and_once_more(3, 4)
    assert set(p1) == set(p2) and all(np.array_equal(p1[k], p2[k]) for k in p1)
    assert h1 == h2 and h1["step"] == [3, 6]
    assert not all(np.array_equal(p1[k], p3[k]) for k in p1)
    assert h3["loss"] != h1["loss"]


# ----------------------------------------------------------------------------- independent reference
def _dense_schnet_energy(params, Z, pos, n_interactions, cutoff, n_rbf):
    """SchNet written as dense (N, N) pair arrays, straight from the equations (one molecule)."""
    ssp = lambda x: np.log1p(np.exp(x)) - np.log(2.0)
    d = np.linalg.norm(pos[None, :, :] - pos[:, None, :], axis=-1)          # d[i, j]
    mask = (d < cutoff) & ~np.eye(len(Z), dtype=bool)
    mu = np.linspace(0.0, cutoff, n_rbf)
    e = np.exp(-((d[..., None] - mu) ** 2) / (2 * (mu[1] - mu[0]) ** 2))     # (N, N, K)
    fcut = 0.5 * (np.cos(np.pi * d / cutoff) + 1.0) * mask
    h = params["embedding"][Z]
    for t in range(n_interactions):
        p = {k.split(f"interactions.{t}.")[1]: v for k, v in params.items() if k.startswith(f"interactions.{t}.")}
        W = (ssp(e @ p["filter.0.W"] + p["filter.0.b"]) @ p["filter.1.W"] + p["filter.1.b"]) * fcut[..., None]
        y = np.einsum("jf,ijf->if", h @ p["in2f.W"], W)                       # sum over neighbours j of i
        h = h + ssp(y @ p["f2out.0.W"] + p["f2out.0.b"]) @ p["f2out.1.W"] + p["f2out.1.b"]
    atom = ssp(h @ params["readout.0.W"] + params["readout.0.b"]) @ params["readout.1.W"] + params["readout.1.b"]
    return atom.sum() + params["atomref"][Z].sum()


def test_filters_per_pair_equal_filters_per_edge():
    from refimpl.graphs.graph import undirected_pairs
    from refimpl.models.base import subdict
    from refimpl.models.schnet import interaction_backward, interaction_forward
    rng = np.random.default_rng(6)
    m = small_model(cutoff=2.5)
    pos = load_molecule("ethanol").pos + rng.normal(scale=0.1, size=(9, 3))
    ei = radius_graph(pos, 2.5)
    pair_edges, pair, _ = undirected_pairs(ei, 9)
    assert pair_edges.shape[1] == ei.shape[1] // 2                 # a radius graph has both directions
    rbf_p, fcut_p = rng.normal(size=(pair_edges.shape[1], m.n_rbf)), rng.uniform(size=pair_edges.shape[1])
    h, dv = rng.normal(size=(9, m.n_atom_basis)), rng.normal(size=(9, m.n_atom_basis))
    W = subdict(m.params, "interactions.0.")
    v_p, c_p = interaction_forward(h, rbf_p, fcut_p, ei, W, pair=pair)
    v_e, c_e = interaction_forward(h, rbf_p[pair], fcut_p[pair], ei, W)
    assert np.allclose(v_p, v_e, rtol=0, atol=1e-13)
    g_p, g_e = interaction_backward(dv, c_p), interaction_backward(dv, c_e)
    # per-pair input gradients are the per-edge ones summed over each pair's two edges
    assert np.allclose(g_p[1], np.stack([np.bincount(pair, g_e[1][:, k]) for k in range(m.n_rbf)], 1), atol=1e-13)
    assert np.allclose(g_p[2], np.bincount(pair, g_e[2]), atol=1e-13)
    assert np.allclose(g_p[0], g_e[0], atol=1e-13) and set(g_p[3]) == set(W)
    assert all(np.allclose(g_p[3][k], g_e[3][k], atol=1e-13) for k in W)


def test_energy_matches_dense_reference_implementation():
    rng = np.random.default_rng(5)
    m = small_model(cutoff=2.5, n_interactions=3)        # 2.5 A: some ethanol pairs are outside the cutoff
    g = load_molecule("ethanol")
    pos = g.pos + rng.normal(scale=0.1, size=g.pos.shape)
    E, _ = m.energy_and_forces(g.z, pos)
    ref = _dense_schnet_energy(m.params, g.z, pos, 3, 2.5, m.n_rbf)
    assert abs(E[0] - ref) < 1e-12 * max(1.0, abs(ref))
