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
    n = next(v.shape[0] for k, v in inputs.items() if k in ("x", "h", "src"))
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
