"""Dense layers and activations as forward/backward pairs.

Each ``*_forward`` returns ``(out, cache)``; the matching ``*_backward`` takes the
upstream gradient ``dout`` (same shape as ``out``) and the cache and returns the
gradients of its inputs. The derivative sits right below the formula it belongs to.
Arrays are float64; ``...`` in a shape means any leading dimensions.

Every backward checks that ``dout`` has the forward output's shape and is finite
(``validate.check_like``). ``check_finite=False`` (linear, SiLU, tanh, shifted softplus) skips the
finiteness pass for a ``dout`` computed from checked gradients, as SchNet's backward does
in its hot loop; the shape is always checked.
"""
import numpy as np

from refimpl.core.validate import as_float_array, check_like

LOG2 = np.log(2.0)


# ----------------------------------------------------------------------------- linear
def linear_forward(x, W, b=None):
    """Affine map ``out = x @ W + b`` (book: Message passing, `eq-mp`).

    x: (..., D_in); W: (D_in, D_out); b: (D_out,) or None.  Returns out: (..., D_out).
    W is stored (in, out); PyTorch's ``nn.Linear.weight`` is its transpose.
    """
    x = as_float_array("x", x)
    W = as_float_array("W", W, ndim=2)
    if x.ndim == 0 or x.shape[-1] != W.shape[0]:
        raise ValueError(f"x: expected last dimension {W.shape[0]} (= W.shape[0]), got shape {x.shape}")
    out = x @ W
    if b is not None:
        b = as_float_array("b", b, shape=(W.shape[1],))
        out = out + b
    return out, (x, W, b is not None)


def linear_backward(dout, cache, *, check_finite=True):
    """Gradients of ``linear_forward``: dx = dout W^T, dW = x^T dout, db = sum(dout).

    dout: (..., D_out). Returns (dx, dW, db); db is None when the forward had no bias.
    """
    x, W, has_bias = cache
    dout = check_like("dout", dout, x.shape[:-1] + W.shape[1:], check_finite)
    dx = dout @ W.T
    x2, d2 = x.reshape(-1, W.shape[0]), dout.reshape(-1, W.shape[1])
    dW = x2.T @ d2
    db = d2.sum(axis=0) if has_bias else None
    return dx, dW, db


# ----------------------------------------------------------------------------- activations
def relu_forward(x):
    """ReLU, ``max(x, 0)``. x: any shape."""
    x = as_float_array("x", x)
    return np.maximum(x, 0.0), x


def relu_backward(dout, cache):
    """d relu/dx = 1 where x > 0, else 0."""
    x = cache
    return check_like("dout", dout, x.shape) * (x > 0)


def sigmoid_forward(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed without overflow."""
    x = as_float_array("x", x)
    out = np.exp(-np.logaddexp(0.0, -x))
    return out, out


def sigmoid_backward(dout, cache):
    """d sigmoid/dx = s (1 - s)."""
    s = cache
    return check_like("dout", dout, s.shape) * s * (1.0 - s)


def tanh_forward(x):
    """Hyperbolic tangent."""
    x = as_float_array("x", x)
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache, *, check_finite=True):
    """d tanh/dx = 1 - tanh^2."""
    t = cache
    return check_like("dout", dout, t.shape, check_finite) * (1.0 - t * t)


def silu_forward(x):
    """SiLU (swish), ``x * sigmoid(x)``."""
    x = as_float_array("x", x)
    s = np.exp(-np.logaddexp(0.0, -x))
    return x * s, (x, s)


def silu_backward(dout, cache, *, check_finite=True):
    """d silu/dx = s + x s (1 - s)."""
    x, s = cache
    return check_like("dout", dout, x.shape, check_finite) * (s + x * s * (1.0 - s))


def shifted_softplus_forward(x):
    """Shifted softplus ``ln(1 + e^x) - ln 2`` (SchNet's activation; ssp(0) = 0).

    Written as ``max(x, 0) + ln(1 + e^-|x|) - ln 2`` so that ``e^-|x|`` never overflows; that
    one exponential also gives the derivative, sigmoid(x), which the cache keeps (SchNet spends
    much of its time here: this form is about three times faster than ``np.logaddexp``).
    """
    x = as_float_array("x", x)
    e = np.exp(-np.abs(x))
    out = np.maximum(x, 0.0) + np.log1p(e) - LOG2
    inv = 1.0 / (1.0 + e)
    sig = np.where(x >= 0, inv, e * inv)                # sigmoid(x), stable for both signs
    return out, sig


def shifted_softplus_backward(dout, cache, *, check_finite=True):
    """d ssp/dx = sigmoid(x), kept by the forward pass."""
    return check_like("dout", dout, cache.shape, check_finite) * cache


ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "silu": (silu_forward, silu_backward),
    "shifted_softplus": (shifted_softplus_forward, shifted_softplus_backward),
}


def activation(name):
    """Return the ``(forward, backward)`` pair registered under ``name``."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"name: expected an activation name, one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]
