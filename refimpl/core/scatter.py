"""Gather and scatter: moving values between nodes, edges and graphs.

Convention: ``edge_index`` is (2, E); row 0 is the source j, row 1 the target i;
a message travels j -> i and is summed at i. ``gather`` reads node values onto
edges (``x[index]``); ``scatter_sum``/``scatter_mean`` add edge values into nodes,
or node values into graphs when ``index`` is the ``batch`` vector.

All three are vectorized, with no Python loop over edges or nodes: a scatter is one product
with a sparse 0/1 "summation matrix" S (S[i, e] = 1 when index[e] = i), or, for large inputs, one
``np.bincount`` over flattened (row, feature) positions.
"""
from collections import OrderedDict

import numpy as np
import scipy.sparse

from refimpl.core.validate import as_float_array, as_index_array, check_like, check_nonnegative_int


_MATRICES = OrderedDict()    # the most recently used summation matrices, by (dim_size, index)
_KEEP, _LARGEST = 16, 2**16  # how many to keep; indices longer than this use np.bincount


def _summation_matrix(index, dim_size):
    """The sparse (dim_size, n) matrix S with S[index[e], e] = 1, so that S @ src sums rows into bins.

    Message passing sums over the same edge_index many times (every layer, forward and backward),
    so the last few matrices are kept: building one costs about as much as five products with it.
    """
    key = (dim_size, index.tobytes())
    S = _MATRICES.pop(key, None)
    if S is None:
        n = index.shape[0]
        S = scipy.sparse.csr_matrix((np.ones(n), (index, np.arange(n))), shape=(dim_size, n))
        if len(_MATRICES) >= _KEEP:
            _MATRICES.popitem(last=False)
    _MATRICES[key] = S                                  # (re)inserted as the most recent
    return S


def _segment_sum(src, index, dim_size):
    """Sum rows of ``src`` (n, ...) into ``dim_size`` bins given by ``index`` (n,)."""
    trailing = src.shape[1:]
    width = int(np.prod(trailing)) if trailing else 1
    if index.shape[0] <= _LARGEST:
        out = _summation_matrix(index, dim_size) @ src.reshape(index.shape[0], width)
        return out.reshape((dim_size,) + trailing)
    if width == 1:
        out = np.bincount(index, weights=src.reshape(-1), minlength=dim_size)
        return out.reshape((dim_size,) + trailing)
    flat = (index[:, None] * width + np.arange(width)).reshape(-1)
    out = np.bincount(flat, weights=src.reshape(-1), minlength=dim_size * width)
    return out.reshape((dim_size,) + trailing)


def _check_scatter(src, index, dim_size):
    src = as_float_array("src", src)
    if src.ndim == 0:
        raise ValueError("src: expected at least one dimension (rows to scatter), got a scalar")
    dim_size = check_nonnegative_int("dim_size", dim_size)
    if dim_size == 0 and np.size(index):
        raise ValueError(f"dim_size: expected a positive integer (the number of output rows) for a nonempty "
                         f"index, got 0")
    index = as_index_array("index", index, size=dim_size)
    if index.shape[0] != src.shape[0]:
        raise ValueError(f"index: expected length {src.shape[0]} (rows of src), got {index.shape[0]}")
    return src, index, dim_size


# ----------------------------------------------------------------------------- gather
def gather_forward(x, index):
    """Read rows: ``out[e] = x[index[e]]``  (e.g. ``h_j`` for every edge, index = edge_index[0]).

    x: (N, ...); index: (E,) ints in [0, N). Returns out: (E, ...).
    """
    x = as_float_array("x", x)
    if x.ndim == 0:
        raise ValueError("x: expected at least one dimension, got a scalar")
    index = as_index_array("index", index, size=x.shape[0])
    return x[index], (index, x.shape)


def gather_backward(dout, cache, *, check_finite=True):
    """Each row of x receives the sum of the gradients of the rows that read it.

    dout: (E, ...) shaped like the forward output (check_finite=False: test its shape only).
    Returns dx: (N, ...).
    """
    index, x_shape = cache
    dout = check_like("dout", dout, index.shape + x_shape[1:], check_finite)
    return _segment_sum(dout, index, x_shape[0])


# ----------------------------------------------------------------------------- scatter-sum
def scatter_sum_forward(src, index, dim_size):
    """Sum rows into bins: ``out[i] = sum_{e : index[e] = i} src[e]`` (book: Message passing, `eq-agg-upd`).

    src: (E, ...); index: (E,) ints in [0, dim_size); dim_size: N. Returns (N, ...).
    Bins that receive nothing are zero.
    """
    src, index, dim_size = _check_scatter(src, index, dim_size)
    out = _segment_sum(src, index, dim_size)
    return out, (index, out.shape)


def scatter_sum_backward(dout, cache, *, check_finite=True):
    """Every source row receives the gradient of its bin: ``dsrc[e] = dout[index[e]]``.

    dout: (N, ...) shaped like the forward output (check_finite=False: test its shape only).
    Returns dsrc: (E, ...).
    """
    index, out_shape = cache
    return check_like("dout", dout, out_shape, check_finite)[index]


# ----------------------------------------------------------------------------- scatter-mean
def scatter_mean_forward(src, index, dim_size):
    """Average rows per bin: ``out[i] = mean_{e : index[e] = i} src[e]``; empty bins are zero.

    src: (E, ...); index: (E,); dim_size: N. Returns (N, ...).
    """
    src, index, dim_size = _check_scatter(src, index, dim_size)
    count = np.bincount(index, minlength=dim_size).astype(np.float64)
    scale = 1.0 / np.maximum(count, 1.0)
    total = _segment_sum(src, index, dim_size)
    out = total * scale.reshape((-1,) + (1,) * (src.ndim - 1))
    return out, (index, scale, out.shape)


def scatter_mean_backward(dout, cache, *, check_finite=True):
    """``dsrc[e] = dout[index[e]] / count[index[e]]``. dout: (N, ...). Returns dsrc: (E, ...)."""
    index, scale, out_shape = cache
    dout = check_like("dout", dout, out_shape, check_finite)
    return dout[index] * scale[index].reshape((-1,) + (1,) * (dout.ndim - 1))
