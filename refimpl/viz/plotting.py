"""Drawing graphs with matplotlib: 2D layouts and a node-link plot.

``project_to_plane`` flattens 3D atom positions onto their best-fitting plane;
``mds_layout`` places the nodes of an abstract graph (no positions) so that
Euclidean distances follow hop distances; ``draw_graph`` draws the edges as
segments and the nodes as dots. Edge convention as everywhere: ``edge_index``
(2, E), row 0 source j, row 1 target i.
"""
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path

from refimpl.core.validate import as_edge_index, as_float_array, check_nonnegative_int, check_positive_int


def project_to_plane(pos, tilt=0.0):
    """Coordinates of ``pos`` in the plane of its two largest principal axes, seen at an angle.

    pos: (N, 3); tilt: degrees to turn the view about the first principal axis, which separates
    atoms that lie above and below the plane (tilt = 0 lays them on top of each other).
    Returns (N, 2), centred. With tilt = 0, distances are kept exactly when the points are coplanar.
    """
    pos = as_float_array("pos", pos, shape=(None, 3))
    centred = pos - pos.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    t = np.radians(tilt)
    axes = np.stack([vt[0], np.cos(t) * vt[1] + np.sin(t) * vt[2]])       # (2, 3), orthonormal rows
    return centred @ axes.T


def hop_distances(edge_index, num_nodes):
    """Shortest-path length in edges between every pair of nodes (inf if unreachable). Returns (N, N)."""
    num_nodes = check_nonnegative_int("num_nodes", num_nodes)
    edge_index = as_edge_index(edge_index, num_nodes=num_nodes)
    A = coo_matrix((np.ones(edge_index.shape[1]), (edge_index[1], edge_index[0])), shape=(num_nodes, num_nodes))
    return shortest_path(A.tocsr(), unweighted=True, directed=False)


def mds_layout(edge_index, num_nodes):
    """2D positions whose distances approximate hop distances (classical multidimensional scaling).

    With D the hop-distance matrix (unreachable pairs set to the largest finite distance + 1),
    B = -J D^2 J / 2 with J = I - 11^T / N; positions are the top two eigenvectors of B
    scaled by the square roots of their eigenvalues. Returns (N, 2).
    """
    D = hop_distances(edge_index, num_nodes)
    finite = np.isfinite(D)
    D[~finite] = D[finite].max() + 1.0
    J = np.eye(num_nodes) - 1.0 / num_nodes
    B = -0.5 * J @ (D * D) @ J
    vals, vecs = np.linalg.eigh(B)
    top = np.argsort(vals)[::-1][:2]
    xy = vecs[:, top] * np.sqrt(np.maximum(vals[top], 0.0))
    return xy * np.sign(xy[np.argmax(np.abs(xy), axis=0), [0, 1]])  # fix the eigenvectors' signs


def draw_graph(ax, xy, edge_index, node_color="C0", labels=None, edge_width=1.5, node_size=200):
    """Draw nodes at ``xy`` (N, 2) and every edge of ``edge_index`` (2, E) as a segment on ``ax``.

    node_color: one colour or (N,) values; labels: None or N strings written on the nodes;
    edge_width: a number or (E,) widths. Returns the node ``PathCollection``.
    """
    from matplotlib.collections import LineCollection

    xy = as_float_array("xy", xy, shape=(None, 2))
    edge_index = as_edge_index(edge_index, num_nodes=xy.shape[0])
    segments = np.stack([xy[edge_index[0]], xy[edge_index[1]]], axis=1)      # (E, 2, 2)
    ax.add_collection(LineCollection(segments, colors="0.55", linewidths=edge_width, zorder=1))
    nodes = ax.scatter(xy[:, 0], xy[:, 1], c=node_color, s=node_size, edgecolors="k", zorder=2)
    for k, text in enumerate([] if labels is None else labels):
        ax.annotate(str(text), xy[k], ha="center", va="center", fontsize=8, zorder=3)
    ax.set_aspect("equal")
    ax.autoscale_view()
    return nodes


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng: expected numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")


def layout_stress(xy, D):
    """Stress ``sum_{i<j} (|x_i - x_j| - D_ij)^2 / D_ij^2`` of positions xy (N, 2) against distances D (N, N)."""
    i, j = np.triu_indices(D.shape[0], k=1)
    dist = np.linalg.norm(xy[i] - xy[j], axis=1)
    return float(np.sum((dist - D[i, j]) ** 2 / D[i, j] ** 2))


def stress_layout(edge_index, num_nodes, rng, iterations=300):
    """2D positions that minimize the stress (see ``layout_stress``) against hop distances.

    Starts from ``mds_layout`` plus a small jitter drawn from ``rng`` (it separates nodes with
    identical neighbourhoods, which MDS puts on the same spot), then applies the SMACOF update
    X <- V^+ B(X) X ``iterations`` times, with weights w_ij = D_ij^-2, V the weights' Laplacian and
    B_ij = -w_ij D_ij / |x_i - x_j| off the diagonal (rows summing to zero). Returns (N, 2).
    """
    _check_rng(rng)
    iterations = check_positive_int("iterations", iterations)
    D = hop_distances(edge_index, num_nodes)
    finite = np.isfinite(D)
    D[~finite] = D[finite].max() + 1.0
    np.fill_diagonal(D, 1.0)                                   # placeholder, masked out below
    off = ~np.eye(num_nodes, dtype=bool)
    w = np.where(off, D ** -2.0, 0.0)
    V_pinv = np.linalg.pinv(np.diag(w.sum(axis=1)) - w)
    xy = mds_layout(edge_index, num_nodes) + rng.normal(scale=0.05, size=(num_nodes, 2))
    for _ in range(iterations):                                # iterations of the whole layout
        dist = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
        B = np.where(off & (dist > 0), -w * D / np.where(dist > 0, dist, 1.0), 0.0)
        B[np.diag_indices(num_nodes)] = -B.sum(axis=1)
        xy = V_pinv @ B @ xy
    return xy - xy.mean(axis=0)
