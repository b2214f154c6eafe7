"""Small datasets that ship inside the package (no download, works in Colab and offline)."""
import json
from importlib import resources

import numpy as np

from refimpl.graphs.graph import Graph, to_undirected


def data_path(name):
    """Path of a data file shipped in ``refimpl/data``; raises ValueError if it is missing."""
    path = resources.files("refimpl") / "data" / name
    if not path.is_file():
        available = sorted(p.name for p in (resources.files("refimpl") / "data").iterdir() if p.is_file())
        raise ValueError(f"name: no data file {name!r} in refimpl/data; available: {available}")
    return path


def load_karate_club():
    """Zachary's karate club (Zachary 1977): 34 members, 78 friendships, two factions.

    Returns a ``Graph`` with one-hot node features ``x`` (34, 34) (the members have
    no other attributes), both directions of every friendship in ``edge_index``
    (2, 156), and ``y`` (34,) the club each member joined after the split
    (0: Mr. Hi's, 1: the Officer's).
    """
    with data_path("karate_club.npz").open("rb") as fh:
        data = np.load(fh, allow_pickle=False)
        edges, club = data["edges"], data["club"]
    n = club.shape[0]
    return Graph(x=np.eye(n), edge_index=to_undirected(edges), y=club)


ELEMENTS = ("H", "C", "N", "O")                       # one-hot vocabulary of atom types
ATOMIC_NUMBERS = {"H": 1, "C": 6, "N": 7, "O": 8}
FORMAL_CHARGES = (-1, 0, 1)                           # one-hot vocabulary of formal charges
BOND_TYPES = ("single", "double", "triple", "aromatic")


def _one_hot(name, values, vocabulary):
    """One-hot rows of ``values`` over ``vocabulary``; raises on a value outside it. Returns (n, len(vocab))."""
    vocab = list(vocabulary)
    unknown = sorted({v for v in values if v not in vocab}, key=str)
    if unknown:
        raise ValueError(f"{name}: expected values in {vocab}, found {unknown}")
    return np.eye(len(vocab))[[vocab.index(v) for v in values]].reshape(len(values), len(vocab))


def load_molecule(name):
    """A small molecule from ``refimpl/data/molecules.json`` as a ``Graph``.

    name: one of 'ethanol', 'benzene', 'glycine_zwitterion'. With N atoms and B bonds:
    ``x`` (N, 7): one-hot element (H, C, N, O) then one-hot formal charge (-1, 0, +1);
    ``edge_index`` (2, 2B): every bond in both directions (row 0 source j, row 1 target i);
    ``edge_attr`` (2B, 4): one-hot bond type (single, double, triple, aromatic);
    ``pos`` (N, 3) in Angstrom; ``z`` (N,) atomic numbers. ``meta`` holds the name, the
    element symbols, the column names of ``x`` and ``edge_attr`` and how the geometry was made.
    """
    with data_path("molecules.json").open("r") as fh:
        table = json.load(fh)
    if name not in table or name.startswith("_"):
        raise ValueError(f"name: expected one of {sorted(k for k in table if not k.startswith('_'))}, got {name!r}")
    mol = table[name]
    symbols, bonds = mol["symbols"], mol["bonds"]
    x = np.concatenate([_one_hot("symbols", symbols, ELEMENTS),
                        _one_hot("formal_charges", mol["formal_charges"], FORMAL_CHARGES)], axis=1)
    pairs = np.array([b[:2] for b in bonds], dtype=np.int64).T              # (2, B), each bond once
    bond_attr = _one_hot("bonds", [b[2] for b in bonds], BOND_TYPES)        # (B, 4)
    meta = {"name": name, "formula": mol["formula"], "symbols": list(symbols), "method": mol["method"],
            "node_features": [f"is_{e}" for e in ELEMENTS] + [f"charge_{q:+d}" if q else "charge_0" for q in FORMAL_CHARGES],
            "edge_features": list(BOND_TYPES)}
    return Graph(x=x, edge_index=np.concatenate([pairs, pairs[::-1]], axis=1),
                 edge_attr=np.concatenate([bond_attr, bond_attr]), pos=np.array(mol["pos"]),
                 z=np.array([ATOMIC_NUMBERS[s] for s in symbols]), meta=meta)
