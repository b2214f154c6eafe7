"""Input validation at the public boundary.

Every public function of ``refimpl`` calls these helpers on its arguments, so
that bad input fails early with a ``ValueError`` that names the argument and
says what was expected, instead of producing a silent wrong answer.
"""
import numpy as np


def as_float_array(name, x, ndim=None, shape=None, finite=True):
    """Return ``x`` as a float64 array after checking its rank, shape and values.

    ``shape`` is a tuple whose entries are ints (must match) or ``None`` (any).
    """
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected an array of real numbers, got {type(x).__name__} ({exc})") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(f"{name}: expected {' or '.join(map(str, allowed))} dimensions, got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name}: expected shape {want}, got {arr.shape}")
    # A NaN or infinite entry makes the sum NaN or infinite, so a finite sum proves every entry
    # finite with one cheap reduction (this check runs on every layer input); only a non-finite
    # sum, which finite entries can also give by overflowing, needs the entrywise test.
    if finite:
        with np.errstate(over="ignore", invalid="ignore"):
            total = arr.sum()
        if not np.isfinite(total) and not np.all(np.isfinite(arr)):
            bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
            raise ValueError(f"{name}: expected finite values, found {bad} NaN or infinite entries")
    return arr


def as_index_array(name, idx, size=None, ndim=1):
    """Return ``idx`` as an int64 array; every entry must lie in ``[0, size)``."""
    arr = np.asarray(idx)
    if arr.size == 0:
        arr = arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"{name}: expected integer indices, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimension(s), got shape {arr.shape}")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name}: indices must be >= 0, found {arr.min()}")
    if size is not None and arr.size and arr.max() >= size:
        raise ValueError(f"{name}: indices must be < {size}, found {arr.max()}")
    return arr


def as_edge_index(edge_index, num_nodes=None):
    """Check an ``edge_index`` of shape (2, E) (row 0 source j, row 1 target i)."""
    arr = np.asarray(edge_index)
    if arr.ndim != 2 or arr.shape[0] != 2:
        raise ValueError(f"edge_index: expected shape (2, E) (row 0 source j, row 1 target i), got {arr.shape}")
    return as_index_array("edge_index", arr, size=num_nodes, ndim=2)


def check_positive_int(name, value):
    """Return ``value`` as an int, raising if it is not a non-negative integer."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name}: expected a non-negative integer, got {value!r}")
    return int(value)


def check_same_length(name_a, a, name_b, b, axis_a=0, axis_b=0):
    """Raise unless ``a.shape[axis_a] == b.shape[axis_b]``."""
    if a.shape[axis_a] != b.shape[axis_b]:
        raise ValueError(
            f"{name_a} and {name_b}: lengths differ ({name_a} has {a.shape[axis_a]} along axis {axis_a}, "
            f"{name_b} has {b.shape[axis_b]} along axis {axis_b})")


def check_like(name, dout, ref):
    """Raise unless the upstream gradient ``dout`` has the shape of the forward output."""
    dout = as_float_array(name, dout)
    if dout.shape != np.shape(ref):
        raise ValueError(f"{name}: expected shape {np.shape(ref)} (the forward output's), got {dout.shape}")
    return dout
