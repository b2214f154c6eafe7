"""Layouts used to draw graphs in the book."""
import numpy as np
import pytest

from refimpl.data.datasets import load_karate_club, load_molecule
from refimpl.viz.plotting import hop_distances, mds_layout, project_to_plane


def pairwise(p):
    return np.linalg.norm(p[:, None] - p[None], axis=-1)


def test_projection_keeps_distances_of_a_planar_molecule():
    g = load_molecule("benzene")
    rot, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))
    np.testing.assert_allclose(pairwise(project_to_plane(g.pos @ rot.T)), pairwise(g.pos), atol=1e-10)


def test_hop_distances_on_a_path():
    edges = np.array([[0, 1, 2], [1, 2, 3]])
    D = hop_distances(edges, 5)                        # node 4 is isolated
    np.testing.assert_array_equal(D[0, :4], [0, 1, 2, 3])
    assert np.isinf(D[0, 4])


def test_mds_layout_follows_hop_distances_on_a_path():
    edges = np.array([[0, 1, 2, 3], [1, 2, 3, 4]])
    xy = mds_layout(edges, 5)                          # a path embeds exactly on a line
    np.testing.assert_allclose(pairwise(xy), np.abs(np.subtract.outer(range(5), range(5))), atol=1e-8)


def test_mds_layout_shape_and_bad_input():
    g = load_karate_club()
    assert mds_layout(g.edge_index, g.num_nodes).shape == (34, 2)
    with pytest.raises(ValueError, match="edge_index"):
        mds_layout(np.array([[0, 1], [1, 9]]), 3)


def test_tilted_projection_separates_atoms_above_and_below_the_plane():
    g = load_molecule("ethanol")                      # H4 and H6 are mirror images through the C-C-O plane
    flat, tilted = project_to_plane(g.pos), project_to_plane(g.pos, tilt=30.0)
    assert np.linalg.norm(flat[4] - flat[6]) < 1e-3
    assert np.linalg.norm(tilted[4] - tilted[6]) > 0.5


def test_stress_layout_separates_nodes_and_lowers_the_stress():
    from refimpl.viz.plotting import layout_stress, stress_layout
    g = load_karate_club()
    D = hop_distances(g.edge_index, g.num_nodes)
    xy_mds = mds_layout(g.edge_index, g.num_nodes)
    xy = stress_layout(g.edge_index, g.num_nodes, np.random.default_rng(0))
    gaps = pairwise(xy) + np.eye(g.num_nodes) * 1e9
    assert pairwise(xy_mds)[17, 21] < 1e-9            # same neighbours (0 and 1): MDS stacks them
    assert gaps.min() > 0.15                           # the stress layout pulls every pair apart
    assert layout_stress(xy, D) < layout_stress(xy_mds, D)
    with pytest.raises(ValueError, match="rng"):
        stress_layout(g.edge_index, g.num_nodes, rng=0)
