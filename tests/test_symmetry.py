"""Permutation checks for every registry row that says how a node permutation acts on it."""
import numpy as np
import pytest

from registry import REGISTRY

ROWS = [r for r in REGISTRY if r.permute is not None]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_node_permutation(row, seed):
    rng = np.random.default_rng(seed)
    inputs = row.make_inputs(rng)
    n = next(v.shape[0] for k, v in inputs.items() if k in ("x", "h", "src", "v", "u", "s"))
    n = inputs.get("dim_size", n)
    perm = rng.permutation(n)
    out, _ = row.forward(**inputs)
    new_inputs, expected = row.permute(inputs, perm)
    out_perm, _ = row.forward(**new_inputs)
    np.testing.assert_allclose(out_perm, expected(out), rtol=1e-12, atol=1e-12)


def test_permutation_check_can_fail():
    """A layer that mixes nodes by position (not by edges) must be caught by the same check."""
    from registry import _perm_nodes_equivariant
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3))
    forward = lambda x: (np.cumsum(x, axis=0), None)  # depends on node order
    perm = rng.permutation(5)
    new, expected = _perm_nodes_equivariant(["x"])({"x": x}, perm)
    assert not np.allclose(forward(**new)[0], expected(forward(x)[0]))


# ----------------------------------------------------------------------------- E(3), from the rows' kinds
E3_ROWS = [r for r in REGISTRY if r.kinds is not None]


def act(kind, x, R, t):
    """The action of x -> R x + t on an array whose last axis is xyz (rows: x R^T)."""
    if kind == "invariant":
        return x
    y = x @ R.T
    if kind == "pseudovector":
        return np.linalg.det(R) * y
    return y + t if kind == "position" else y


@pytest.mark.parametrize("row", E3_ROWS, ids=lambda r: r.name)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_euclidean(row, seed):
    """Rotations and reflections (random O(3) elements, det -1 half the time) and translations."""
    from refimpl.geometry import random_orthogonal
    rng = np.random.default_rng(seed)
    inputs = row.make_inputs(rng)
    R, t = random_orthogonal(rng), rng.normal(size=3) * 10
    if seed == 0:
        R = -np.eye(3)                                   # the inversion: polar vectors flip
    moved = {k: act(row.kinds[k], v, R, t) if k in row.kinds else v for k, v in inputs.items()}
    outs, outs_moved = row.forward(**inputs)[0], row.forward(**moved)[0]
    outs, outs_moved = (outs,) if len(row.out_kinds) == 1 else outs, (outs_moved,) if len(row.out_kinds) == 1 else outs_moved
    for kind, o, om in zip(row.out_kinds, outs, outs_moved):
        scale = max(np.abs(o).max(), 1.0)
        np.testing.assert_allclose(om, act(kind, o, R, t), rtol=0, atol=1e-12 * scale * (1 + 10 * (kind == "position")))


def test_euclidean_check_can_fail():
    """Acting on vector components one by one (tanh of each component) is caught by the same check."""
    from registry import Row
    bad = Row("bad", lambda v: (np.tanh(v), None), None, lambda rng: {"v": rng.normal(size=(4, 2, 3))}, ("v",),
              kinds={"v": "vector"}, out_kinds=("vector",))
    with pytest.raises(AssertionError):
        test_euclidean(bad, 1)
