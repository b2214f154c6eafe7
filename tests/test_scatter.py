"""The segment sum behind every scatter: both of its paths (cached sparse summation matrix for small
inputs, np.bincount for large ones) against np.add.at, on empty inputs, empty bins and trailing shapes."""
import numpy as np
import pytest

from refimpl.core import scatter


def reference(src, index, dim_size):
    out = np.zeros((dim_size,) + src.shape[1:])
    np.add.at(out, index, src)
    return out


@pytest.mark.parametrize("largest", [2**16, 0], ids=["sparse-matrix", "bincount"])
@pytest.mark.parametrize("n, dim_size, trailing", [(0, 3, (4,)), (0, 0, ()), (7, 3, ()), (50, 9, (5,)),
                                                  (50, 60, (2, 3)), (1, 1, (1,))])
def test_segment_sum_equals_add_at(monkeypatch, largest, n, dim_size, trailing):
    monkeypatch.setattr(scatter, "_LARGEST", largest)
    rng = np.random.default_rng(n + dim_size)
    src = rng.normal(size=(n,) + trailing)
    index = rng.integers(0, max(dim_size, 1), size=n) if dim_size else np.zeros(0, np.int64)
    out = scatter._segment_sum(src, index, dim_size)
    assert out.shape == (dim_size,) + trailing and out.dtype == np.float64
    np.testing.assert_allclose(out, reference(src, index, dim_size), rtol=1e-14, atol=1e-14)


def test_cached_matrices_follow_their_index_and_stay_few(monkeypatch):
    monkeypatch.setattr(scatter, "_MATRICES", type(scatter._MATRICES)())
    rng = np.random.default_rng(0)
    src = rng.normal(size=(6, 2))
    for k in range(3 * scatter._KEEP):                      # many different indices, each used twice
        index = rng.integers(0, 4, size=6)
        for _ in range(2):
            np.testing.assert_allclose(scatter._segment_sum(src, index, 4), reference(src, index, 4), atol=1e-14)
        index[0] = (index[0] + 1) % 4                        # the same array changed in place: a new matrix
        np.testing.assert_allclose(scatter._segment_sum(src, index, 4), reference(src, index, 4), atol=1e-14)
        np.testing.assert_allclose(scatter._segment_sum(src, index, 5), reference(src, index, 5), atol=1e-14)
    assert len(scatter._MATRICES) == scatter._KEEP
