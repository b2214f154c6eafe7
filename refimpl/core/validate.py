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
    if finite:
        _check_finite(name, arr)
    return arr


def _check_finite(name, arr):
    """Raise unless every entry of the float array ``arr`` is finite."""
    # A NaN or infinite entry makes the sum NaN or infinite, so a finite sum proves every entry
    # finite with one cheap reduction (this check runs on every layer input); only a non-finite
    # sum, which finite entries can also give by overflowing, needs the entrywise test.
    with np.errstate(over="ignore", invalid="ignore"):
        total = arr.sum()
    if not np.isfinite(total) and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name}: expected finite values, found {bad} NaN or infinite entries")


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


def _check_int(name, value, lowest, expected):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < lowest:
        raise ValueError(f"{name}: expected {expected}, got {value!r}")
    return int(value)


def check_positive_int(name, value):
    """Return ``value`` as an int, raising if it is not an integer >= 1 (a size, a count of steps)."""
    return _check_int(name, value, 1, "a positive integer (>= 1)")


def check_nonnegative_int(name, value):
    """Return ``value`` as an int, raising if it is not an integer >= 0 (a count that may be zero)."""
    return _check_int(name, value, 0, "a non-negative integer (>= 0)")


def check_same_length(name_a, a, name_b, b, axis_a=0, axis_b=0):
    """Raise unless ``a.shape[axis_a] == b.shape[axis_b]``."""
    if a.shape[axis_a] != b.shape[axis_b]:
        raise ValueError(
            f"{name_a} and {name_b}: lengths differ ({name_a} has {a.shape[axis_a]} along axis {axis_a}, "
            f"{name_b} has {b.shape[axis_b]} along axis {axis_b})")


def check_flag(name, value):
    """Return ``value`` as a bool, raising unless it is True or False (not "yes", 1 or None)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def check_number(name, value, low=None, low_inclusive=True):
    """Return ``value`` as a float, raising unless it is a finite real number (>= or > ``low``).

    Booleans and strings are rejected (``True`` is not a learning rate, ``"0.1"`` not a scale).
    """
    number = None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        number = float(value)
    elif isinstance(value, np.ndarray) and value.ndim == 0 and np.issubdtype(value.dtype, np.number) \
            and not np.iscomplexobj(value):
        number = float(value)
    ok = number is not None and np.isfinite(number)
    if ok and low is not None:
        ok = number >= low if low_inclusive else number > low
    if not ok:
        bound = "" if low is None else f" {'>=' if low_inclusive else '>'} {low:g}"
        raise ValueError(f"{name}: expected a finite number{bound}, got {value!r}")
    return number


def check_like(name, dout, shape, finite=True):
    """Check an upstream gradient: ``dout`` must have the forward output's ``shape`` and be finite.

    Every ``*_backward`` calls this on its ``dout`` first, so that a gradient of the wrong shape
    fails here instead of broadcasting into a silently wrong result. The shape test costs
    nothing; the finiteness test is a pass over the array. ``finite=False`` skips it, for a
    gradient computed inside a backward pass from one already checked (SchNet's backward, a hot
    loop, passes ``check_finite=False`` down to its sub-blocks: the full test there would add
    about 7% to a training step). Returns dout as a float64 array.
    """
    arr = as_float_array(name, dout, finite=False)
    if arr.shape != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)} (the forward output's), got {arr.shape}")
    if finite:
        _check_finite(name, arr)
    return arr
