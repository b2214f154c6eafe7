"""Plain data across the sandbox boundary: what the student's code returned, as arrays + JSON.

The child (student side) turns a check's outputs into plain arrays (numbers, booleans or text),
stored in an ``.npz`` without pickles, and a JSON description of the structure around them. The parent rebuilds the
structure with ``allow_pickle=False``. Anything else (a student's own class, an object array,
a generator...) crosses as a placeholder that only carries its type's name, so a check that
expects an array fails with "expected a numpy array ..., got <that name>".
"""
import json
import zipfile

import numpy as np

PLAIN_KINDS = "biufcUS"    # bool, int, unsigned, float, complex, unicode and byte strings
MAX_DEPTH = 4               # nesting of tuples/lists/dicts kept
MAX_ITEMS = 64              # items of one tuple/list/dict kept
MAX_TEXT = 200              # characters of a returned string kept


def _type_name(t):
    try:
        name = str(type.__getattribute__(t, "__name__"))
    except Exception:
        name = "object"
    return name[:80]


def _plain_scalar_type(t):
    try:
        return np.dtype(t).kind in PLAIN_KINDS
    except Exception:
        return False


def encode(value, arrays, depth=0):
    """Describe ``value`` as JSON-able data; numeric arrays go into ``arrays`` (name -> ndarray)."""
    t = type(value)
    if issubclass(t, np.ndarray):
        if value.dtype.kind in PLAIN_KINDS and not value.dtype.hasobject:
            key = f"a{len(arrays)}"
            arrays[key] = np.array(np.ndarray.view(value, np.ndarray), copy=True, order="C")  # keeps 0-d as 0-d
            return {"kind": "array", "key": key}
        return {"kind": "other", "type": f"numpy array of dtype {value.dtype}"}
    if issubclass(t, np.generic) and _plain_scalar_type(t):
        key = f"a{len(arrays)}"
        arrays[key] = np.array(value)
        return {"kind": "scalar", "key": key}
    if value is None:
        return {"kind": "none"}
    if t in (bool, int, float):
        return {"kind": "py", "type": t.__name__, "value": value}
    if t is str:
        return {"kind": "py", "type": "str", "value": value[:MAX_TEXT]}
    if t in (tuple, list) and depth < MAX_DEPTH:
        items = t.__iter__(value)
        if t.__len__(value) > MAX_ITEMS:
            return {"kind": "other", "type": f"{t.__name__} of {t.__len__(value)} items (too long to transfer)"}
        return {"kind": t.__name__, "items": [encode(v, arrays, depth + 1) for v in items]}
    if t is dict and depth < MAX_DEPTH and dict.__len__(value) <= MAX_ITEMS:
        out = {}
        for k, v in dict.items(value):
            if type(k) is not str:
                return {"kind": "other", "type": "dict with non-string keys"}
            out[k] = encode(v, arrays, depth + 1)
        return {"kind": "dict", "items": out}
    return {"kind": "other", "type": _type_name(t)}


class Untransferred:
    """Stands for an object of the student's that could not cross the boundary (only its type name did)."""

    def __repr__(self):
        return f"<{type(self).__name__}>"


def _placeholder(name):
    return type(str(name)[:80], (Untransferred,), {})()


def decode(desc, arrays, depth=0):
    """Rebuild what ``encode`` described; raises ValueError on anything malformed."""
    if not isinstance(desc, dict) or depth > MAX_DEPTH + 1:
        raise ValueError("malformed description")
    kind = desc.get("kind")
    if kind == "array":
        return arrays[str(desc["key"])]
    if kind == "scalar":
        return arrays[str(desc["key"])][()]
    if kind == "none":
        return None
    if kind == "py":
        value, want = desc.get("value"), desc.get("type")
        if want == "float" and type(value) in (int, float):
            return float(value)
        if want in ("bool", "int", "str") and type(value).__name__ == want:
            return value
        raise ValueError("malformed plain value")
    if kind in ("tuple", "list"):
        items = desc.get("items")
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise ValueError("malformed sequence")
        seq = [decode(d, arrays, depth + 1) for d in items]
        return tuple(seq) if kind == "tuple" else seq
    if kind == "dict":
        items = desc.get("items")
        if not isinstance(items, dict) or len(items) > MAX_ITEMS:
            raise ValueError("malformed dict")
        return {str(k): decode(d, arrays, depth + 1) for k, d in items.items()}
    if kind == "other":
        return _placeholder(desc.get("type", "object"))
    raise ValueError(f"unknown kind {kind!r}")


def save(path, value, savez=np.savez):
    """Child side: write ``value`` as ``path`` (.npz of arrays) and return its JSON description."""
    arrays = {}
    desc = encode(value, arrays)
    savez(path, **arrays)
    return desc


def load(path, desc, max_bytes):
    """Parent side: read the arrays (no pickles, at most ``max_bytes`` unpacked) and rebuild the value."""
    with zipfile.ZipFile(path) as zf:
        if sum(info.file_size for info in zf.infolist()) > max_bytes:
            raise ValueError(f"the returned arrays are larger than {max_bytes // 2**20} MB")
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    for a in arrays.values():
        if a.dtype.kind not in PLAIN_KINDS:
            raise ValueError(f"an array of dtype {a.dtype} is not plain data")
    return decode(desc, arrays)


def dumps(obj):
    return json.dumps(obj, allow_nan=True)
