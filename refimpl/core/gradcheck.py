"""Gradient checking by central finite differences in float64.

    df/dx_k  ~=  (f(x + eps e_k) - f(x - eps e_k)) / (2 eps)        error O(eps^2)

``rel_error`` is the max over entries of |a - b| / max(|a| + |b|, tiny), taken
over the whole array's scale, which is what the tests compare against 1e-6.
"""
import numpy as np


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of the scalar function ``f()`` w.r.t. the array ``x``.

    ``x`` is perturbed in place (and restored), so ``f`` may close over it.
    Returns an array shaped like x. Costs 2 * x.size calls of f (a test tool, not a hot path).
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise ValueError("x: expected a float64 numpy array (finite differences need double precision)")
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + eps
        fp = f()
        flat[k] = old - eps
        fm = f()
        flat[k] = old
        gflat[k] = (fp - fm) / (2 * eps)
    return grad


def rel_error(a, b):
    """Relative error ``max|a - b| / max(max|a| + max|b|, 1e-12)`` (0 for two empty arrays)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b: expected equal shapes, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(np.abs(a).max() + np.abs(b).max(), 1e-12)
    return float(np.abs(a - b).max() / scale)


def check_layer_gradients(forward, backward, inputs, wrt, rng, eps=1e-6):
    """Compare a forward/backward pair with finite differences.

    forward(**inputs) -> (out, cache); backward(dout, cache) -> one gradient or a
    tuple of them; ``wrt`` names the input each returned gradient belongs to, in
    the same order (``None`` for a returned value to skip, e.g. a missing bias).
    A gradient returned as a dict belongs to an input that is a dict of arrays (a block's
    parameters by name); each entry is checked, reported as ``name.key``.
    The scalar checked is ``sum(out * dout)`` for a random ``dout``.
    Returns {name: relative error}.
    """
    out, cache = forward(**inputs)
    dout = rng.normal(size=np.shape(out))
    grads = backward(dout, cache)
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(wrt):
        raise ValueError(f"wrt: backward returned {len(grads)} gradients but wrt names {len(wrt)}")
    errors = {}
    for name, g in zip(wrt, grads):
        if name is None:
            continue

        def f():
            return float(np.sum(forward(**inputs)[0] * dout))

        if isinstance(g, dict):
            if set(g) != set(inputs[name]):
                raise ValueError(f"backward: gradient keys {sorted(g)} differ from the keys of input {name!r}")
            for key, gk in g.items():
                errors[f"{name}.{key}"] = rel_error(gk, numerical_gradient(f, inputs[name][key], eps))
        else:
            errors[name] = rel_error(g, numerical_gradient(f, inputs[name], eps))
    return errors
