"""The shipped molecules are chemically sensible: valences, bond lengths, feature encoding."""
import numpy as np
import pytest

from refimpl.data.datasets import load_molecule

MOLECULES = ["ethanol", "benzene", "glycine_zwitterion"]
BOND_ORDER = np.array([1.0, 2.0, 3.0, 1.5])          # single, double, triple, aromatic
BASE_VALENCE = {1: 1, 6: 4, 7: 3, 8: 2}             # H, C, N, O when neutral
# (lower, upper) bond length in Angstrom by sorted atomic numbers and bond type index
LENGTHS = {((1, 6), 0): (1.05, 1.12), ((1, 7), 0): (0.98, 1.06), ((1, 8), 0): (0.93, 1.00),
           ((6, 6), 0): (1.48, 1.56), ((6, 6), 3): (1.37, 1.41), ((6, 7), 0): (1.45, 1.52),
           ((6, 8), 0): (1.24, 1.45), ((6, 8), 1): (1.19, 1.28)}   # C-O(-) of a carboxylate ~1.26


@pytest.mark.parametrize("name", MOLECULES)
def test_valence_matches_bonds_and_formal_charges(name):
    g = load_molecule(name)
    order = g.edge_attr @ BOND_ORDER                               # (E,) both directions
    valence = np.bincount(g.edge_index[1], weights=order, minlength=g.num_nodes)
    charge = g.x[:, 4:] @ np.array([-1.0, 0.0, 1.0])
    expected = np.array([BASE_VALENCE[z] for z in g.z]) + np.where(np.isin(g.z, [7, 8]), charge, 0.0)
    np.testing.assert_allclose(valence, expected)


@pytest.mark.parametrize("name", MOLECULES)
def test_bond_lengths_and_nonbonded_distances(name):
    g = load_molecule(name)
    src, dst = g.edge_index
    d = np.linalg.norm(g.pos[src] - g.pos[dst], axis=1)
    kinds = np.argmax(g.edge_attr, axis=1)
    for e in range(g.num_edges):
        pair = tuple(sorted((int(g.z[src[e]]), int(g.z[dst[e]]))))
        lo, hi = LENGTHS[(pair, int(kinds[e]))]
        assert lo <= d[e] <= hi, (name, pair, kinds[e], d[e])
    dist = np.linalg.norm(g.pos[:, None] - g.pos[None], axis=-1)
    bonded = np.zeros_like(dist, dtype=bool)
    bonded[dst, src] = True
    np.fill_diagonal(bonded, True)
    assert dist[~bonded].min() > 1.5                              # no clashes between non-bonded atoms


@pytest.mark.parametrize("name", MOLECULES)
def test_encoding(name):
    g = load_molecule(name)
    np.testing.assert_array_equal(g.x[:, :4].sum(1), 1)           # one element per atom
    np.testing.assert_array_equal(g.x[:, 4:].sum(1), 1)           # one formal charge per atom
    np.testing.assert_array_equal(g.edge_attr.sum(1), 1)          # one bond type per edge
    e = g.num_edges // 2                                         # second half reverses the first
    np.testing.assert_array_equal(g.edge_index[:, e:], g.edge_index[::-1, :e])
    assert [{1: "H", 6: "C", 7: "N", 8: "O"}[z] for z in g.z] == g.meta["symbols"]


def test_unknown_molecule_names_the_argument():
    with pytest.raises(ValueError, match="name"):
        load_molecule("water")
