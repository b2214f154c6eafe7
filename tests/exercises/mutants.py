"""Realistic wrong answers (mutants) made from the solutions, and correct rewrites, to measure the checks.

A mutant is one textual edit of a solution notebook's code: a wrong sign, a missing term, swapped
edge rows, a sum for a mean, a size hard-coded to the public check's, an input modified in place, a
training loop cut short... A rewrite is a correct solution written differently (a loop instead of
vectorized code, an equivalent formula): it is appended to the solution's code and redefines the
exercise's functions. The checks kill a mutant when at least one check of its exercise fails.

    python tests/exercises/mutants.py            # table of survivors, kill rates public vs all checks

``tests/exercises/test_mutants.py`` requires the public + hidden checks to kill >= 95 % of the mutants
and every rewrite to pass every check.
"""
import pathlib
import sys
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from coursework.checks import EXERCISES, load_all, read_code_cells, run_check  # noqa: E402


@dataclass
class Mutant:
    notebook: str
    exercise: str
    label: str
    old: str
    new: str


@dataclass
class Rewrite:
    notebook: str
    exercise: str
    label: str
    code: str


def M(notebook, exercise, label, old, new):
    return Mutant(notebook, exercise, label, old, new)


G, MP, SY, SN = "01_graphs", "02_message_passing", "03_symmetry", "04_schnet"
MUTANTS = [
    # ---------------------------------------------------------------- 01: one_hot
    M(G, "one_hot", "error names only the first unknown label", "found unknown {unknown}", "found unknown {unknown[0]}"),
    M(G, "one_hot", "no own check: list.index raises for the first unknown only", "    if unknown:\n", "    if False:\n"),
    M(G, "one_hot", "size hard-coded to 4 columns", "np.eye(len(vocabulary))[columns].reshape(len(values), len(vocabulary))",
      "np.eye(4)[columns].reshape(len(values), 4)"),
    M(G, "one_hot", "labels replaced by their indices in place", "    columns = [vocabulary.index(v) for v in values]\n",
      "    for k, v in enumerate(values):\n        values[k] = vocabulary.index(v)\n    columns = values\n"),
    M(G, "one_hot", "integer dtype", "np.eye(len(vocabulary))[columns]", "np.eye(len(vocabulary), dtype=int)[columns]"),
    M(G, "one_hot", "transposed (C, n)", ".reshape(len(values), len(vocabulary))", ".reshape(len(values), len(vocabulary)).T"),
    # ---------------------------------------------------------------- 01: adjacency_to_edge_index
    M(G, "adjacency_to_edge_index", "swapped edge rows", "np.stack([sources, targets])", "np.stack([targets, sources])"),
    M(G, "adjacency_to_edge_index", "weighted adjacency treated as 0/1 (only entries == 1)", "sources = np.nonzero(A)", "sources = np.nonzero(A == 1)"),
    M(G, "adjacency_to_edge_index", "negative weights dropped", "sources = np.nonzero(A)", "sources = np.nonzero(A > 0)"),
    M(G, "adjacency_to_edge_index", "A binarized in place", "    targets, sources = np.nonzero(A)\n",
      "    A[A != 0] = 1.0\n    targets, sources = np.nonzero(A)\n"),
    M(G, "adjacency_to_edge_index", "size hard-coded to 7 nodes (loops)", "    targets, sources = np.nonzero(A)\n",
      "    pairs = [(i, j) for i in range(7) for j in range(7) if A[i, j] != 0]\n"
      "    targets, sources = np.array(pairs, dtype=np.int64).reshape(-1, 2).T\n"),
    M(G, "adjacency_to_edge_index", "upper triangle only (assumes symmetric A)", "sources = np.nonzero(A)", "sources = np.nonzero(np.triu(A))"),
    M(G, "adjacency_to_edge_index", "self-loops dropped", "sources = np.nonzero(A)", "sources = np.nonzero(A * (1 - np.eye(len(A))))"),
    # ---------------------------------------------------------------- 01: batch_edges
    M(G, "batch_edges", "offsets off by one graph", "np.concatenate([[0], np.cumsum(num_nodes)[:-1]])", "np.cumsum(num_nodes)"),
    M(G, "batch_edges", "offsets from edge counts", "np.concatenate([[0], np.cumsum(num_nodes)[:-1]])",
      "np.concatenate([[0], np.cumsum([np.shape(e)[1] for e in edge_indices])[:-1]])"),
    M(G, "batch_edges", "edge arrays shifted in place",
      "    edge_index = np.concatenate([np.asarray(e) + off for e, off in zip(edge_indices, offsets)], axis=1)\n",
      "    for e, off in zip(edge_indices, offsets):\n        e += off\n    edge_index = np.concatenate(edge_indices, axis=1)\n"),
    M(G, "batch_edges", "number of graphs hard-coded to 4", "np.repeat(np.arange(len(num_nodes)), num_nodes)",
      "np.repeat(np.arange(4), num_nodes)"),
    M(G, "batch_edges", "offsets hard-coded to the public sizes", "np.concatenate([[0], np.cumsum(num_nodes)[:-1]])",
      "[0, 3, 8, 9][:len(num_nodes)]"),
    M(G, "batch_edges", "graph sizes read from the edges", "np.repeat(np.arange(len(num_nodes)), num_nodes)",
      "np.repeat(np.arange(len(num_nodes)), [np.max(e, initial=-1) + 1 for e in edge_indices])"),
    M(G, "batch_edges", "no shift at all", "np.asarray(e) + off for", "np.asarray(e) + 0 * off for"),
    # ---------------------------------------------------------------- 02: scatter_sum
    M(MP, "scatter_sum", "number of nodes read from the index", "    width = int(np.prod(src.shape[1:]))\n",
      "    dim_size = int(index.max()) + 1\n    width = int(np.prod(src.shape[1:]))\n"),
    M(MP, "scatter_sum", "number of features hard-coded to 4", "width = int(np.prod(src.shape[1:]))",
      "width = 4 if src.ndim > 1 else 1"),
    M(MP, "scatter_sum", "a mean for a sum in the backward", "    dsrc = dout[index]\n",
      "    dsrc = dout[index] / np.bincount(index)[index].reshape((-1,) + (1,) * (dout.ndim - 1))\n"),
    M(MP, "scatter_sum", "integer result when there are no edges (np.bincount of nothing)",
      ".astype(np.float64)  # also for E = 0", ""),
    M(MP, "scatter_sum", "gradient summed over edges", "    dsrc = dout[index]\n", "    dsrc = dout[index] * np.bincount(index, minlength=len(dout))[index].reshape((-1,) + (1,) * (dout.ndim - 1))\n"),
    # ---------------------------------------------------------------- 02: gcn_norm
    M(MP, "gcn_norm", "no self-loops", "np.concatenate([edge_index, np.stack([loops, loops])], axis=1)", "edge_index"),
    M(MP, "gcn_norm", "degree counted without the self-loops",
      "    deg = np.bincount(edge_index[1], minlength=num_nodes).astype(np.float64)\n",
      "    deg = np.bincount(edge_index[1], minlength=num_nodes).astype(np.float64) - 1.0\n"),
    M(MP, "gcn_norm", "1/d_i instead of 1/sqrt(d_i d_j)", "1.0 / np.sqrt(deg[edge_index[0]] * deg[edge_index[1]])", "1.0 / deg[edge_index[1]]"),
    M(MP, "gcn_norm", "number of nodes hard-coded to 7", "loops = np.arange(num_nodes)", "loops = np.arange(7)"),
    M(MP, "gcn_norm", "square root missing", "1.0 / np.sqrt(deg[edge_index[0]] * deg[edge_index[1]])",
      "1.0 / (deg[edge_index[0]] * deg[edge_index[1]])"),
    # ---------------------------------------------------------------- 02: message_passing
    M(MP, "message_passing", "swapped edge rows in the forward", "scatter_sum_forward(h[src], dst, h.shape[0])",
      "scatter_sum_forward(h[dst], src, h.shape[0])"),
    M(MP, "message_passing", "a mean for a sum", "    out = h @ W_self + agg @ W_neigh + b\n",
      "    agg = agg / np.maximum(np.bincount(dst, minlength=h.shape[0]), 1)[:, None]\n    out = h @ W_self + agg @ W_neigh + b\n"),
    M(MP, "message_passing", "bias missing", "agg @ W_neigh + b\n", "agg @ W_neigh\n"),
    M(MP, "message_passing", "swapped edge rows in the backward", "scatter_sum_forward(dagg[dst], src, h.shape[0])[0]",
      "scatter_sum_forward(dagg[src], dst, h.shape[0])[0]"),
    M(MP, "message_passing", "self term missing from dh", "dh = dout @ W_self.T + ", "dh = "),
    M(MP, "message_passing", "wrong sign of the neighbour term in dh", "dh = dout @ W_self.T + scatter", "dh = dout @ W_self.T - scatter"),
    M(MP, "message_passing", "number of nodes hard-coded to 8 (forward)", "scatter_sum_forward(h[src], dst, h.shape[0])",
      "scatter_sum_forward(h[src], dst, 8)"),
    M(MP, "message_passing", "number of nodes hard-coded to 8 (backward)", "scatter_sum_forward(dagg[dst], src, h.shape[0])[0]",
      "scatter_sum_forward(dagg[dst], src, 8)[0]"),
    M(MP, "message_passing", "db as a mean", "db = dout.sum(axis=0)", "db = dout.mean(axis=0)"),
    M(MP, "message_passing", "dW_neigh from h instead of the aggregate", "dW_neigh = agg.T @ dout", "dW_neigh = h.T @ dout"),
    # ---------------------------------------------------------------- 03: random_rotation
    M(SY, "random_rotation", "determinant not fixed", "    if np.linalg.det(Q) < 0:\n        Q[:, 0] = -Q[:, 0]\n", ""),
    M(SY, "random_rotation", "global numpy random state", "np.linalg.qr(rng.normal(size=(3, 3)))", "np.linalg.qr(np.random.normal(size=(3, 3)))"),
    M(SY, "random_rotation", "uniform Euler angles", "    Q, Rp = np.linalg.qr(rng.normal(size=(3, 3)))\n",
      "    a, b, c = rng.uniform(0, 2 * np.pi, size=3)\n"
      "    Rz = lambda t: np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1.0]])\n"
      "    Rx = lambda t: np.array([[1.0, 0, 0], [0, np.cos(t), -np.sin(t)], [0, np.sin(t), np.cos(t)]])\n"
      "    return Rz(a) @ Rx(b) @ Rz(c)\n    Q, Rp = np.linalg.qr(rng.normal(size=(3, 3)))\n"),
    M(SY, "random_rotation", "generator re-seeded on every call", "np.linalg.qr(rng.normal(size=(3, 3)))",
      "np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))"),
    M(SY, "random_rotation", "uniform entries instead of Gaussian", "rng.normal(size=(3, 3))", "rng.uniform(size=(3, 3))"),
    # ---------------------------------------------------------------- 03: equivariance_error
    M(SY, "equivariance_error", "R instead of R.T on the positions", "moved = pos @ R.T + t", "moved = pos @ R + t"),
    M(SY, "equivariance_error", "output translated too", "f(pos) @ R.T)))", "(f(pos) @ R.T + t))))"),
    M(SY, "equivariance_error", "a mean for a max", "float(np.max(np.abs(", "float(np.mean(np.abs("),
    M(SY, "equivariance_error", "no translation", "moved = pos @ R.T + t", "moved = pos @ R.T"),
    M(SY, "equivariance_error", "pos moved in place", "    moved = pos @ R.T + t\n    return float(np.max(np.abs(f(moved) - f(pos) @ R.T)))\n",
      "    before = f(pos) @ R.T\n    pos[:] = pos @ R.T + t\n    return float(np.max(np.abs(f(pos) - before)))\n"),
    M(SY, "equivariance_error", "largest per-atom norm", "float(np.max(np.abs(f(moved) - f(pos) @ R.T)))",
      "float(np.max(np.linalg.norm(f(moved) - f(pos) @ R.T, axis=1)))"),
    # ---------------------------------------------------------------- 03: radius_graph
    M(SY, "radius_graph", "distinct atoms at distance 0 dropped", "    np.fill_diagonal(close, False)\n",
      "    close &= np.einsum(\"ijk,ijk->ij\", diff, diff) > 0\n"),
    M(SY, "radius_graph", "<= cutoff", "< cutoff * cutoff", "<= cutoff * cutoff"),
    M(SY, "radius_graph", "self-loops kept", "    np.fill_diagonal(close, False)\n", ""),
    M(SY, "radius_graph", "cutoff not squared", "< cutoff * cutoff", "< cutoff"),
    M(SY, "radius_graph", "one direction per pair", "    i, j = np.nonzero(close)\n", "    i, j = np.nonzero(np.triu(close))\n"),
    M(SY, "radius_graph", "pos centred in place", "    diff = pos[None, :, :] - pos[:, None, :]",
      "    pos -= pos.mean(axis=0)\n    diff = pos[None, :, :] - pos[:, None, :]"),
    # ---------------------------------------------------------------- 03: pca_canonicalize
    M(SY, "pca_canonicalize", "third moment before centring", "m = np.sum((X @ frame) ** 3", "m = np.sum((pos @ frame) ** 3"),
    M(SY, "pca_canonicalize", "ascending eigenvalues", "frame = V[:, ::-1].copy()", "frame = V.copy()"),
    M(SY, "pca_canonicalize", "no right-hand rule", "    frame[:, 2] = np.cross(frame[:, 0], frame[:, 1])\n", ""),
    M(SY, "pca_canonicalize", "pos centred in place", "    X = pos - pos.mean(axis=0)\n", "    pos -= pos.mean(axis=0)\n    X = pos\n"),
    M(SY, "pca_canonicalize", "sign rule reversed", "np.where(m[:2] < 0, -1.0, 1.0)", "np.where(m[:2] > 0, -1.0, 1.0)"),
    M(SY, "pca_canonicalize", "uncentred canonical positions", "return X @ frame, frame", "return pos @ frame, frame"),
    M(SY, "pca_canonicalize", "e3 = e2 x e1", "np.cross(frame[:, 0], frame[:, 1])", "np.cross(frame[:, 1], frame[:, 0])"),
    M(SY, "pca_canonicalize", "eigenvector rows for columns", "frame = V[:, ::-1].copy()", "frame = V[:, ::-1].T.copy()"),
    # ---------------------------------------------------------------- 03: train_with_augmentation
    M(SY, "train_with_augmentation", "Adam re-created every epoch", "        opt.step(grads)\n", "        optim.Adam(params, lr=lr).step(grads)\n"),
    M(SY, "train_with_augmentation", "learning rate hard-coded", "opt = optim.Adam(params, lr=lr)", "opt = optim.Adam(params, lr=1e-2)"),
    M(SY, "train_with_augmentation", "half the epochs", "for epoch in range(epochs):", "for epoch in range(epochs // 2):"),
    M(SY, "train_with_augmentation", "training cut at 150 epochs", "for epoch in range(epochs):", "for epoch in range(min(epochs, 150)):"),
    M(SY, "train_with_augmentation", "number of shapes hard-coded", "geometry.random_rotation(rng, len(X))", "geometry.random_rotation(rng, 64)"),
    M(SY, "train_with_augmentation", "one rotation set for all epochs", "    for epoch in range(epochs):\n        R = geometry.random_rotation(rng, len(X))\n",
      "    R = geometry.random_rotation(rng, len(X))\n    for epoch in range(epochs):\n"),
    M(SY, "train_with_augmentation", "no augmentation", "np.einsum(\"sij,saj->sai\", R, X)", "X"),
    M(SY, "train_with_augmentation", "two Adam steps per epoch", "        opt.step(grads)\n", "        opt.step(grads)\n        opt.step(grads)\n"),
    # ---------------------------------------------------------------- 04: radial_basis
    M(SN, "radial_basis", "width cutoff / K", "sigma = mu[1] - mu[0]", "sigma = cutoff / n_rbf"),
    M(SN, "radial_basis", "sizes hard-coded to 7 Gaussians over 4 A", "mu = np.linspace(0.0, cutoff, n_rbf)", "mu = np.linspace(0.0, 4.0, 7)"),
    M(SN, "radial_basis", "wrong sign in the RBF backward", "* (-1.0 / sigma**2)", "* (1.0 / sigma**2)"),
    M(SN, "radial_basis", "upstream gradient de modified in place", "    dd = np.sum(de * e * diff, axis=1) * (-1.0 / sigma**2)\n",
      "    de *= e * diff\n    dd = np.sum(de, axis=1) * (-1.0 / sigma**2)\n"),
    M(SN, "radial_basis", "factor 1/2 missing in the exponent", "np.exp(-0.5 * (diff / sigma) ** 2)", "np.exp(-(diff / sigma) ** 2)"),
    M(SN, "radial_basis", "pi / r_c missing in the cutoff backward", "-0.5 * np.pi / cutoff * np.sin", "-0.5 * np.sin"),
    M(SN, "radial_basis", "cutoff backward not zero beyond r_c", "np.where(inside, -0.5 * np.pi / cutoff * np.sin(np.pi * d / cutoff), 0.0)",
      "-0.5 * np.pi / cutoff * np.sin(np.pi * d / cutoff)"),
    M(SN, "radial_basis", "distances clipped in place", "    inside = d < cutoff\n    f = np.where",
      "    inside = d < cutoff\n    d[~inside] = cutoff\n    f = np.where"),
    M(SN, "radial_basis", "a mean for a sum over the Gaussians in the backward", "dd = np.sum(de * e * diff, axis=1)", "dd = np.mean(de * e * diff, axis=1)"),
    # ---------------------------------------------------------------- 04: cfconv
    M(SN, "cfconv", "swapped edge rows", "    src, dst = edge_index\n    u = x @ W_in2f", "    dst, src = edge_index\n    u = x @ W_in2f"),
    M(SN, "cfconv", "backward gathers from the sources", "dm = dy[dst]", "dm = dy[src]"),
    M(SN, "cfconv", "number of atoms hard-coded (forward)", "scatter_sum_forward(uj * W_ij, dst, x.shape[0])", "scatter_sum_forward(uj * W_ij, dst, 7)"),
    M(SN, "cfconv", "dW_in2f transposed", "dW_in2f = x.T @ du", "dW_in2f = (du.T @ x).reshape(W_in2f.shape)"),
    M(SN, "cfconv", "dx from dy directly", "dx = du @ W_in2f.T", "dx = scatter_sum_forward(dm, src, x.shape[0])[0] @ W_in2f.T"),
    M(SN, "cfconv", "W_ij missing from du", "scatter_sum_forward(dm * W_ij, src, x.shape[0])", "scatter_sum_forward(dm, src, x.shape[0])"),
    # ---------------------------------------------------------------- 04: schnet_forces
    M(SN, "schnet_forces", "cutoff derivative term missing", " + cosine_cutoff_backward(\n        np.sum(dW_ij * a, axis=1), c_f)", ""),
    M(SN, "schnet_forces", "forces = +dE/dpos", "forces = -displacement_backward", "forces = displacement_backward"),
    M(SN, "schnet_forces", "number of atoms hard-coded to 6", "np.tile(w_out, (pos.shape[0], 1))", "np.tile(w_out, (6, 1))"),
    M(SN, "schnet_forces", "filter without the cutoff", "cfconv_forward(h0, a * fc[:, None], edge_index, W_in2f)", "cfconv_forward(h0, a, edge_index, W_in2f)"),
    M(SN, "schnet_forces", "fc missing in the filter gradient", "(dW_ij * fc[:, None]) @ W_filter.T", "dW_ij @ W_filter.T"),
    M(SN, "schnet_forces", "energy as a mean over atoms", "energy = float(np.sum(y @ w_out))", "energy = float(np.mean(y @ w_out))"),
    # ---------------------------------------------------------------- 04: velocity_verlet
    M(SN, "velocity_verlet", "unit factor missing", "inv_m = EV_PER_AMU_A_TO_A_PER_FS2 / masses[:, None]", "inv_m = 1.0 / masses[:, None]"),
    M(SN, "velocity_verlet", "second half kick with the old forces", "vel_half + 0.5 * dt * new_forces * inv_m", "vel_half + 0.5 * dt * forces * inv_m"),
    M(SN, "velocity_verlet", "positions updated in place", "    new_pos = pos + dt * vel_half\n", "    pos += dt * vel_half\n    new_pos = pos\n"),
    M(SN, "velocity_verlet", "number of atoms hard-coded to 4", "masses[:, None]", "masses.reshape(4, 1)"),
    M(SN, "velocity_verlet", "time step hard-coded to 0.5 fs in the drift", "new_pos = pos + dt * vel_half", "new_pos = pos + 0.5 * vel_half"),
    M(SN, "velocity_verlet", "forces computed twice", "    new_forces = force_fn(new_pos)\n", "    new_forces = force_fn(new_pos)\n    force_fn(pos)\n"),
    M(SN, "velocity_verlet", "a full kick before the drift", "vel_half = vel + 0.5 * dt * forces * inv_m", "vel_half = vel + dt * forces * inv_m"),
]

REWRITES = [
    Rewrite(G, "one_hot", "a loop, one row at a time", '''
def one_hot(values, vocabulary):
    bad = [v for v in values if v not in vocabulary]
    if bad:
        raise ValueError(f"values: unknown labels {bad}")
    out = np.zeros((len(values), len(vocabulary)))
    for a, v in enumerate(values):
        out[a, list(vocabulary).index(v)] = 1.0
    return out
'''),
    Rewrite(G, "adjacency_to_edge_index", "a double loop", '''
def adjacency_to_edge_index(A):
    cols = [(j, i) for i in range(A.shape[0]) for j in range(A.shape[1]) if A[i, j] != 0]
    return np.array(cols, dtype=np.int64).reshape(-1, 2).T
'''),
    Rewrite(G, "adjacency_to_edge_index", "np.argwhere, columns in another order", '''
def adjacency_to_edge_index(A):
    return np.argwhere(A.T)[::-1].T.copy()
'''),
    Rewrite(G, "batch_edges", "a loop with a running offset", '''
def batch_edges(edge_indices, num_nodes):
    parts, batch, offset = [], [], 0
    for g, (e, n) in enumerate(zip(edge_indices, num_nodes)):
        parts.append(np.asarray(e) + offset)
        batch += [g] * n
        offset += n
    return np.concatenate(parts, axis=1), np.array(batch, dtype=np.int64)
'''),
    Rewrite(MP, "scatter_sum", "np.add.at", '''
def scatter_sum_forward(src, index, dim_size):
    out = np.zeros((dim_size,) + np.shape(src)[1:])
    np.add.at(out, index, src)
    return out, index

def scatter_sum_backward(dout, cache):
    return np.take(dout, cache, axis=0)
'''),
    Rewrite(MP, "gcn_norm", "degrees from the sources (the same for an undirected graph), loops first", '''
def gcn_norm(edge_index, num_nodes):
    loops = np.tile(np.arange(num_nodes), (2, 1))
    ei = np.concatenate([loops, edge_index], axis=1)
    deg = np.zeros(num_nodes)
    for j in ei[0]:
        deg[j] += 1
    return ei, deg[ei[0]] ** -0.5 * deg[ei[1]] ** -0.5
'''),
    Rewrite(MP, "message_passing", "a dense adjacency matrix", '''
def message_passing_forward(h, edge_index, W_self, W_neigh, b):
    A = np.zeros((len(h), len(h)))
    np.add.at(A, (edge_index[1], edge_index[0]), 1.0)
    return h @ W_self + A @ h @ W_neigh + b, (h, A, W_self, W_neigh)

def message_passing_backward(dout, cache):
    h, A, W_self, W_neigh = cache
    dagg = dout @ W_neigh.T
    return dout @ W_self.T + A.T @ dagg, h.T @ dout, (A @ h).T @ dout, dout.sum(axis=0)
'''),
    Rewrite(SY, "random_rotation", "a normalized Gaussian quaternion", '''
def random_rotation(rng):
    q = rng.normal(size=4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
'''),
    Rewrite(SY, "equivariance_error", "einsum for the rotations", '''
def equivariance_error(f, pos, R, t):
    moved = np.einsum("ij,aj->ai", R, pos) + t
    return float(np.abs(f(moved) - np.einsum("ij,aj->ai", R, f(pos))).max())
'''),
    Rewrite(SY, "radius_graph", "a double loop over pairs", '''
def radius_graph(pos, cutoff):
    cols = [(j, i) for i in range(len(pos)) for j in range(len(pos))
            if i != j and np.linalg.norm(pos[j] - pos[i]) < cutoff]
    return np.array(cols, dtype=np.int64).reshape(-1, 2).T
'''),
    Rewrite(SY, "pca_canonicalize", "SVD of the centred cloud", '''
def pca_canonicalize(pos):
    X = pos - pos.mean(axis=0)
    _, _, Vt = np.linalg.svd(X, full_matrices=False)
    e1, e2 = Vt[0], Vt[1]
    e1 = -e1 if np.sum((X @ e1) ** 3) < 0 else e1
    e2 = -e2 if np.sum((X @ e2) ** 3) < 0 else e2
    frame = np.stack([e1, e2, np.cross(e1, e2)], axis=1)
    return X @ frame, frame
'''),
    Rewrite(SY, "train_with_augmentation", "own QR rotations, a loop over shapes, R transposed", '''
def train_with_augmentation(X, y, params, rng, epochs, lr=1e-2):
    opt = optim.Adam(params, lr=lr)
    history = []
    for _ in range(epochs):
        turned = []
        for shape in X:
            Q, Rp = np.linalg.qr(rng.normal(size=(3, 3)))
            Q = Q * np.sign(np.diag(Rp))
            Q = Q if np.linalg.det(Q) > 0 else -Q
            turned.append(shape @ Q)
        logits, cache = mlp.mlp_forward(tetris.flatten_centred(np.array(turned)), params)
        loss, lc = losses.softmax_cross_entropy_forward(logits, y)
        history.append(loss)
        opt.step(mlp.mlp_backward(losses.softmax_cross_entropy_backward(lc), cache)[1])
    return params, np.array(history)
'''),
    Rewrite(SN, "radial_basis", "cos^2 form of the cutoff, derivative written from e", '''
def gaussian_rbf_forward(d, n_rbf, cutoff):
    mu = cutoff * np.arange(n_rbf) / (n_rbf - 1)
    sigma = cutoff / (n_rbf - 1)
    e = np.exp(-((d[:, None] - mu) ** 2) / (2 * sigma * sigma))
    return e, (d, mu, sigma, e)

def gaussian_rbf_backward(de, cache):
    d, mu, sigma, e = cache
    return (de * e * (mu - d[:, None]) / sigma**2).sum(axis=1)

def cosine_cutoff_forward(d, cutoff):
    return np.where(d < cutoff, np.cos(0.5 * np.pi * d / cutoff) ** 2, 0.0), (d, cutoff)

def cosine_cutoff_backward(df, cache):
    d, rc = cache
    c = 0.5 * np.pi * d / rc
    return np.where(d < rc, -df * np.pi / rc * np.sin(c) * np.cos(c), 0.0)
'''),
    Rewrite(SN, "cfconv", "np.add.at instead of scatter_sum_forward", '''
def cfconv_forward(x, W_ij, edge_index, W_in2f):
    u = x @ W_in2f
    y = np.zeros((len(x), W_ij.shape[1]))
    np.add.at(y, edge_index[1], u[edge_index[0]] * W_ij)
    return y, (x, u, W_ij, edge_index, W_in2f)

def cfconv_backward(dy, cache):
    x, u, W_ij, (src, dst), W_in2f = cache
    du = np.zeros_like(u)
    np.add.at(du, src, dy[dst] * W_ij)
    return du @ W_in2f.T, dy[dst] * u[src], x.T @ du
'''),
    Rewrite(SN, "velocity_verlet", "positions from the Taylor form", '''
def velocity_verlet_step(pos, vel, forces, masses, dt, force_fn):
    acc = forces / masses[:, None] * EV_PER_AMU_A_TO_A_PER_FS2
    new_pos = pos + vel * dt + 0.5 * acc * dt * dt
    new_forces = force_fn(new_pos)
    new_vel = vel + 0.5 * dt * (acc + new_forces / masses[:, None] * EV_PER_AMU_A_TO_A_PER_FS2)
    return new_pos, new_vel, new_forces
'''),
]


def solution_cells(notebook):
    """The code the mutants edit: the untagged code cells of solutions/NOTEBOOK.ipynb (imports and the
    exercise functions; self-check, install and 'putting it together' cells are tagged), without the
    ``# HINT:`` comment lines (so that an edit matches code, not the hint that describes it)."""
    cells = [src for src, tags in read_code_cells(ROOT / "solutions" / f"{notebook}.ipynb") if not tags]
    return ["".join(line for line in src.splitlines(keepends=True) if not line.lstrip().startswith("# HINT:"))
            for src in cells]


def apply(mutant):
    """The solution's cells with the mutant's edit; the edit must match exactly once."""
    cells = solution_cells(mutant.notebook)
    hits = [(k, c.count(mutant.old)) for k, c in enumerate(cells) if mutant.old in c]
    if len(hits) != 1 or hits[0][1] != 1:
        raise ValueError(f"mutant {mutant.label!r}: {mutant.old!r} must occur exactly once in the solution "
                         f"code of {mutant.notebook} (found {sum(n for _, n in hits)}): update the mutant")
    k = hits[0][0]
    cells[k] = cells[k].replace(mutant.old, mutant.new)
    return cells


def namespace_of(cells):
    namespace = {"__name__": "__mutant__"}
    for k, src in enumerate(cells):
        exec(compile(src, f"<cell {k}>", "exec"), namespace)
    return namespace


def failures(exercise, namespace, public_only=False):
    """Names of the checks of ``exercise`` that fail on ``namespace`` (all of them, or only the public)."""
    load_all()
    checks = [c for c in EXERCISES[exercise].checks if c.public or not public_only]
    return [c.name for c in checks if not run_check(c, namespace).passed]


def evaluate(mutant):
    """(killed by the public checks, killed by all checks) for one mutant."""
    cells = apply(mutant)
    try:
        ns = namespace_of(cells)
    except Exception:            # the edit broke the cell itself: every check would fail
        return True, True
    public = bool(failures(mutant.exercise, ns, public_only=True))
    return public, public or bool(failures(mutant.exercise, ns))


def rewrite_failures(rewrite):
    return failures(rewrite.exercise, namespace_of(solution_cells(rewrite.notebook) + [rewrite.code]))


def main():
    results = [(m, *evaluate(m)) for m in MUTANTS]
    for m, public, everything in results:
        if not everything:
            print(f"SURVIVES  {m.notebook}/{m.exercise}: {m.label}")
        elif not public:
            print(f"hidden    {m.notebook}/{m.exercise}: {m.label}")
    n = len(results)
    n_pub, n_all = sum(r[1] for r in results), sum(r[2] for r in results)
    print(f"public checks kill {n_pub} of {n} mutants ({100 * n_pub / n:.1f} %); "
          f"public + hidden kill {n_all} of {n} ({100 * n_all / n:.1f} %)")
    bad = {r.label: f for r in REWRITES if (f := rewrite_failures(r))}
    print(f"correct rewrites passing every check: {len(REWRITES) - len(bad)} of {len(REWRITES)}"
          + "".join(f"\n  FAILS {k}: {v}" for k, v in bad.items()))
    return 0 if n_all >= 0.95 * n and not bad else 1


if __name__ == "__main__":
    raise SystemExit(main())
