"""3D geometry: random group elements, applying them, and differentiable pair geometry.

Group elements (all drawn from an ``rng = np.random.default_rng(seed)`` passed in):

- ``random_rotation``: a uniformly random (Haar) rotation R in SO(3), det R = +1;
- ``random_orthogonal``: a uniformly random element of O(3); improper (det -1) with probability 1/2;
- ``reflection``: the mirror ``I - 2 n n^T`` through the plane with normal n (det -1);
- ``random_translation`` and ``random_permutation`` (optionally within each graph of a batch).

A transform acts on positions as ``x -> R x + t``; with positions stored as rows
(N, 3) that is ``pos @ R.T + t`` (``apply_transform``). Vector features rotate as
``v @ R.T`` and ignore t (``rotate_vectors``). Permutations follow the registry's
convention: after permuting, new atom k is old atom ``perm[k]`` (``new = old[perm]``).
"""
import numpy as np

from refimpl.core.validate import as_edge_index, as_float_array, as_index_array, check_nonnegative_int, check_positive_int



# ----------------------------------------------------------------------------- group elements
def _check_count(n):
    return None if n is None else check_positive_int("n", n)


def random_rotation(rng, n=None):
    """A uniformly random rotation matrix R in SO(3) (R^T R = I, det R = +1).

    A unit quaternion q = (w, x, y, z) drawn uniformly on the 3-sphere (a normalized
    4D Gaussian) gives a Haar-uniform rotation; q and -q give the same R.
    rng: a numpy Generator; n: None or an int. Returns (3, 3), or (n, 3, 3) if n is given.
    """
    count = _check_count(n)
    q = rng.normal(size=(1 if count is None else count, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    R = np.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ], axis=1).reshape(-1, 3, 3)
    return R[0] if count is None else R


def random_orthogonal(rng, n=None):
    """A uniformly random element Q of O(3): a random rotation times +I or -I.

    -I commutes with everything and has det -1, so Q = s R with s = +-1 (probability 1/2
    each) is Haar-uniform on O(3); det Q = s. Returns (3, 3), or (n, 3, 3) if n is given.
    """
    count = _check_count(n)
    R = random_rotation(rng, 1 if count is None else count)
    s = rng.choice([-1.0, 1.0], size=R.shape[0])
    Q = R * s[:, None, None]
    return Q[0] if count is None else Q


def random_improper(rng, n=None):
    """A uniformly random improper rotation (det -1): ``-R`` for a random rotation R.

    Every improper element of O(3) is a rotation times the inversion -I. Returns (3, 3) or (n, 3, 3).
    """
    return -random_rotation(rng, n)


def reflection(normal=(1.0, 0.0, 0.0)):
    """The mirror through the plane (containing the origin) with normal n: ``I - 2 n n^T / |n|^2``.

    The default n = e_x gives diag(-1, 1, 1) (x -> -x). normal: (3,), nonzero. Returns (3, 3), det -1.
    """
    n = as_float_array("normal", normal, shape=(3,))
    nn = float(n @ n)
    if nn == 0.0:
        raise ValueError("normal: expected a nonzero vector")
    return np.eye(3) - 2.0 * np.outer(n, n) / nn


def random_translation(rng, scale=10.0, n=None):
    """A random translation t ~ Normal(0, scale^2 I) in Angstrom.

    scale: > 0. Returns (3,), or (n, 3) if n is given.
    """
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale: expected a finite number > 0, got {scale!r}")
    count = _check_count(n)
    return scale * rng.normal(size=(3,) if count is None else (count, 3))


def random_permutation(rng, n, batch=None):
    """A random permutation ``perm`` of n atoms (new atom k is old atom ``perm[k]``).

    With ``batch`` (n,) sorted, atoms are shuffled only within their own graph, so the
    permuted batch vector ``batch[perm]`` equals ``batch`` and stays sorted. Returns (n,) int64.
    """
    n = check_nonnegative_int("n", n)
    if batch is None:
        return rng.permutation(n).astype(np.int64)
    batch = check_batch(batch, n)
    return np.lexsort((rng.random(n), batch)).astype(np.int64)


def inverse_permutation(perm):
    """``inv`` with ``inv[perm[k]] = k``: the old index -> new index map. perm: (n,). Returns (n,)."""
    perm = as_index_array("perm", perm)
    if not np.array_equal(np.sort(perm), np.arange(perm.size)):
        raise ValueError("perm: expected a permutation of 0..n-1")
    inv = np.empty_like(perm)
    inv[perm] = np.arange(perm.size)
    return inv


def check_batch(batch, n):
    """Validate a batch vector: (n,) non-negative ints, sorted (graph g before graph g+1)."""
    batch = as_index_array("batch", batch)
    if batch.shape[0] != n:
        raise ValueError(f"batch: expected length {n} (one entry per atom), got {batch.shape[0]}")
    if n and np.any(np.diff(batch) < 0):
        raise ValueError("batch: expected a sorted vector (atoms of graph g before those of graph g+1)")
    return batch


# ----------------------------------------------------------------------------- applying them
def _check_R(R):
    R = as_float_array("R", R, shape=(3, 3))
    if not np.allclose(R.T @ R, np.eye(3), atol=1e-8):
        raise ValueError("R: expected an orthogonal 3x3 matrix (R^T R = I)")
    return R


def apply_transform(pos, R=None, t=None):
    """Move positions: ``x_a -> R x_a + t``, i.e. ``pos @ R.T + t``.

    pos: (N, 3); R: (3, 3) orthogonal or None (identity); t: (3,) or None (zero). Returns (N, 3).
    """
    pos = as_float_array("pos", pos, shape=(None, 3))
    out = pos if R is None else pos @ _check_R(R).T
    if t is not None:
        out = out + as_float_array("t", t, shape=(3,))
    return out


def rotate_vectors(v, R, pseudo=False):
    """Rotate vector features: ``v -> R v`` on the last axis, i.e. ``v @ R.T``.

    A pseudovector (e.g. a cross product, an angular momentum) picks up det R under a
    reflection: ``v -> det(R) R v``. v: (..., 3), e.g. (N, 3) or (N, C, 3); R: (3, 3).
    Returns an array shaped like v. Translations do not act on vectors.
    """
    v = as_float_array("v", v)
    if v.ndim == 0 or v.shape[-1] != 3:
        raise ValueError(f"v: expected last dimension 3 (x, y, z), got shape {v.shape}")
    R = _check_R(R)
    out = v @ R.T
    return out * np.sign(np.linalg.det(R)) if pseudo else out


def permute_atoms(perm, *arrays):
    """Reorder per-atom arrays: ``new = old[perm]`` for each. Returns one array or a tuple."""
    out = tuple(np.asarray(a)[perm] for a in arrays)
    return out[0] if len(out) == 1 else out


def permute_edge_index(edge_index, perm):
    """Relabel the edges for atoms reordered by ``perm``: old atom a becomes new atom inv[a].

    edge_index: (2, E); perm: (N,). Returns (2, E) (same edge order, new labels).
    """
    inv = inverse_permutation(perm)
    return inv[as_edge_index(edge_index, num_nodes=inv.size)]
