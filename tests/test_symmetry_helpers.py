"""Tests of refimpl.geometry.symmetry: ~0 for symmetric functions, large for each kind of broken symmetry."""
import numpy as np
import pytest

from refimpl.geometry import radius, symmetry as sym
from refimpl.nn import cutoffs

TOL = 1e-10     # relative: float64 round-off of a truly symmetric function is ~1e-14
BIG = 1e-2      # relative: a broken symmetry changes the output by about its own size


@pytest.fixture
def molecule():
    rng = np.random.default_rng(0)
    return rng.integers(1, 10, size=12), rng.normal(size=(12, 3)) * 1.5


def _pair_distances(pos):
    diff = pos[:, None] - pos[None]
    return np.sqrt(np.sum(diff**2, axis=-1))


def _centered(pos):
    return pos - pos.mean(axis=0)


# --- scalar functions, each with the set of groups it breaks -----------------------------------
INVARIANT_CASES = {
    "sum of pair distances": (lambda Z, pos: np.sum(_pair_distances(pos)), set()),
    "Z-weighted pair energy": (lambda Z, pos: np.sum(np.outer(Z, Z) * np.exp(-_pair_distances(pos))), set()),
    "sum of x coordinates": (lambda Z, pos: np.sum(pos[:, 0]), {"rotation", "reflection", "translation"}),
    "index-weighted spread": (lambda Z, pos: np.sum(np.arange(len(pos)) * np.sum(_centered(pos)**2, 1)),
                              {"permutation"}),
    "sum of |x|^2 (about the origin)": (lambda Z, pos: np.sum(pos**2), {"translation"}),
    "z-spread": (lambda Z, pos: np.sum(_centered(pos)[:, 2] ** 2), {"rotation", "reflection"}),
    "chirality of atoms 0-3": (lambda Z, pos: np.linalg.det(pos[1:4] - pos[0]), {"reflection", "permutation"}),
}


@pytest.mark.parametrize("name", INVARIANT_CASES)
def test_invariance_error_finds_exactly_the_broken_groups(name, molecule):
    fn, broken = INVARIANT_CASES[name]
    Z, pos = molecule
    rng = np.random.default_rng(1)
    for group in sym.GROUPS:
        err = sym.invariance_error(fn, Z, pos, group, rng, relative=True)
        if group in broken:
            assert err > BIG, f"{name}: {group} error {err:.1e} should be large"
        else:
            assert err < TOL, f"{name}: {group} error {err:.1e} should be ~0"


# --- per-atom vector functions -------------------------------------------------------------------
def pair_forces(Z, pos):
    """Forces of E = sum_{i<j} Z_i Z_j exp(-d_ij): F_i = -dE/dx_i, an equivariant (N, 3) output."""
    d = _pair_distances(pos)
    w = np.outer(Z, Z) * np.exp(-d)
    np.fill_diagonal(w, 0.0)
    r = pos[None, :] - pos[:, None]                 # r[i, j] = x_j - x_i
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d > 0)
    return -np.sum((w * inv)[:, :, None] * r, axis=1)   # -dE/dx_i = -sum_j w_ij r_ij / d_ij


def torque_like(Z, pos):
    """(x_a - c) x m with m a polar vector: a per-atom pseudovector."""
    c = _centered(pos)
    m = np.sum(np.sum(c**2, axis=1, keepdims=True) * c * Z[:, None], axis=0)
    return np.cross(c, m)


EQUIVARIANT_CASES = {
    "pair forces": (pair_forces, {}, set()),
    "pair forces (C=2 channels)": (lambda Z, pos: np.stack([pair_forces(Z, pos), 2 * pair_forces(Z, pos)], 1),
                                   {}, set()),
    "positions themselves": (lambda Z, pos: pos, {}, {"translation"}),
    "centered positions": (lambda Z, pos: _centered(pos), {}, set()),
    "anisotropic scaling": (lambda Z, pos: _centered(pos) * [1.0, 2.0, 3.0], {}, {"rotation", "reflection"}),
    "index-weighted vectors": (lambda Z, pos: np.arange(len(pos))[:, None] * _centered(pos), {},
                               {"permutation"}),
    "pseudovector as a vector": (torque_like, {}, {"reflection"}),
    "pseudovector as a pseudovector": (torque_like, {"pseudo": True}, set()),
    "dipole (per molecule)": (lambda Z, pos: Z @ _centered(pos), {"per_atom": False}, set()),
}


@pytest.mark.parametrize("name", EQUIVARIANT_CASES)
def test_equivariance_error_finds_exactly_the_broken_groups(name, molecule):
    fn, kwargs, broken = EQUIVARIANT_CASES[name]
    Z, pos = molecule
    rng = np.random.default_rng(2)
    for group in sym.GROUPS:
        err = sym.equivariance_error(fn, Z, pos, group, rng, relative=True, **kwargs)
        if group in broken:
            assert err > BIG, f"{name}: {group} error {err:.1e} should be large"
        else:
            assert err < TOL, f"{name}: {group} error {err:.1e} should be ~0"


def test_forces_are_not_invariant(molecule):
    """An invariance test on an equivariant output must fail: the two checks differ."""
    Z, pos = molecule
    assert sym.invariance_error(pair_forces, Z, pos, "rotation", np.random.default_rng(3), relative=True) > BIG


# --- per-atom scalars, batches, graphs ----------------------------------------------------------
def atomwise_energy(Z, pos):
    return Z * np.sum(np.exp(-_pair_distances(pos)), axis=1)


def test_per_atom_scalars_reorder_with_atoms(molecule):
    Z, pos = molecule
    rng = np.random.default_rng(4)
    assert sym.invariance_error(atomwise_energy, Z, pos, "permutation", rng, per_atom=True) < TOL
    assert sym.invariance_error(atomwise_energy, Z, pos, "permutation", rng, per_atom=False) > BIG


def _energy_per_graph(Z, pos, batch):
    """Per-graph energies of a radius-graph model: edges are rebuilt from the moved positions."""
    ei = radius.radius_graph(pos, 2.5, batch)
    d = np.linalg.norm(pos[ei[0]] - pos[ei[1]], axis=1)
    e_atom = np.bincount(ei[1], weights=Z[ei[0]] * cutoffs.cosine_cutoff_forward(d, 2.5)[0], minlength=len(Z))
    return np.bincount(batch, weights=e_atom, minlength=batch.max() + 1)


def test_batched_function_permutes_within_graphs():
    rng = np.random.default_rng(5)
    Z, pos, batch = rng.integers(1, 9, size=20), rng.normal(size=(20, 3)), np.repeat([0, 1, 2], [6, 9, 5])
    report = sym.symmetry_report(_energy_per_graph, Z, pos, rng, batch=batch, relative=True)
    assert set(report) == set(sym.GROUPS)
    assert max(report.values()) < TOL
    # the same model sees a different molecule if atoms were moved between graphs
    perm = rng.permutation(20)
    assert not np.allclose(_energy_per_graph(Z[perm], pos[perm], batch), _energy_per_graph(Z, pos, batch))


def test_symmetry_report_and_format(molecule):
    Z, pos = molecule
    rng = np.random.default_rng(6)
    inv = sym.symmetry_report(lambda Z, pos: np.sum(pos[:, 0]), Z, pos, rng)
    assert inv["permutation"] < TOL and min(inv["rotation"], inv["reflection"], inv["translation"]) > BIG
    eq = sym.symmetry_report(pair_forces, Z, pos, rng, output="equivariant", relative=True)
    assert max(eq.values()) < TOL
    text = sym.format_report(inv)
    assert "BROKEN" in text and "translation" in text and "ok" in text
    only = sym.symmetry_report(pair_forces, Z, pos, rng, output="equivariant", groups=("rotation",))
    assert list(only) == ["rotation"]


def test_group_elements_are_what_they_claim():
    rng = np.random.default_rng(7)
    perm, R, t = sym.random_group_element("reflection", rng, 5)
    assert perm is None and t is None and np.isclose(np.linalg.det(R), -1)
    perm, R, t = sym.random_group_element("rotation", rng, 5)
    assert np.isclose(np.linalg.det(R), 1)
    perm, R, t = sym.random_group_element("permutation", rng, 5, batch=[0, 0, 1, 1, 1])
    assert set(perm[:2]) == {0, 1} and set(perm[2:]) == {2, 3, 4}
    _, _, t = sym.random_group_element("translation", rng, 5)
    assert t.shape == (3,)


def test_pos_only_functions_and_empty_input():
    rng = np.random.default_rng(8)
    pos = rng.normal(size=(4, 3))
    assert sym.invariance_error(lambda Z, pos: np.sum(_pair_distances(pos)), None, pos, "rotation", rng) < 1e-12
    assert sym.invariance_error(lambda Z, pos: np.sum(pos), None, np.zeros((0, 3)), "translation", rng) == 0.0


def test_bad_arguments(molecule):
    Z, pos = molecule
    rng = np.random.default_rng(9)
    fn = lambda Z, pos: np.sum(pos)
    with pytest.raises(ValueError, match="group"):
        sym.invariance_error(fn, Z, pos, "scaling", rng)
    with pytest.raises(ValueError, match="trials"):
        sym.invariance_error(fn, Z, pos, "rotation", rng, trials=0)
    with pytest.raises(ValueError, match="Z"):
        sym.invariance_error(fn, Z[:3], pos, "rotation", rng)
    with pytest.raises(ValueError, match="pos"):
        sym.invariance_error(fn, Z, pos[:, :2], "rotation", rng)
    with pytest.raises(ValueError, match="fn"):
        sym.equivariance_error(lambda Z, pos: pos[:, :2], Z, pos, "rotation", rng)   # not 3-vectors
    with pytest.raises(ValueError, match="fn"):
        sym.invariance_error(fn, Z, pos, "rotation", rng, per_atom=True)             # not per atom
    with pytest.raises(ValueError, match="output"):
        sym.symmetry_report(fn, Z, pos, rng, output="covariant")
    with pytest.raises(ValueError, match="batch"):
        sym.invariance_error(lambda Z, pos, b: 0.0, Z, pos, "rotation", rng, batch=np.zeros(3, int))
