"""Small datasets that ship inside the package (no download, works in Colab and offline)."""
from importlib import resources

import numpy as np

from .graph import Graph, to_undirected


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
