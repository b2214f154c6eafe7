"""Optimizers over a dict of named parameters.

``opt.step(grads)`` updates ``params`` in place; ``grads`` has the same keys and shapes.
"""
import numpy as np

from refimpl.core.validate import check_number


def _check_params(params):
    """params: a dict of name -> float array, updated in place (so not a copy, not ints)."""
    if not isinstance(params, dict):
        raise ValueError(f"params: expected a dict of name -> float64 array, got {type(params).__name__}")
    for k, p in params.items():
        if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
            kind = type(p).__name__ if not isinstance(p, np.ndarray) else f"array of dtype {p.dtype}"
            raise ValueError(f"params[{k!r}]: expected a float numpy array (updated in place), got {kind}")
    return params


def _check_grads(params, grads):
    if not isinstance(grads, dict):
        raise ValueError(f"grads: expected a dict with the keys of params, got {type(grads).__name__}")
    if set(grads) != set(params):
        missing, extra = sorted(set(params) - set(grads)), sorted(set(grads) - set(params))
        raise ValueError(f"grads: expected the keys of params; missing {missing}, unexpected {extra}")
    for k in params:
        if np.shape(grads[k]) != params[k].shape:
            raise ValueError(f"grads[{k!r}]: expected shape {params[k].shape}, got {np.shape(grads[k])}")
        try:
            finite = bool(np.all(np.isfinite(grads[k])))
        except TypeError:
            raise ValueError(f"grads[{k!r}]: expected an array of real numbers") from None
        if not finite:
            raise ValueError(f"grads[{k!r}]: expected finite values (training diverged?)")


class SGD:
    """Stochastic gradient descent with momentum: v <- mu v - lr g; p <- p + v.

    params: dict of float arrays, updated in place; lr: > 0; momentum: in [0, 1).
    """

    def __init__(self, params, lr=0.01, momentum=0.0):
        self.params = _check_params(params)
        self.lr = check_number("lr", lr, low=0.0, low_inclusive=False)
        self.momentum = check_number("momentum", momentum, low=0.0)
        if self.momentum >= 1:
            raise ValueError(f"momentum: expected a number in [0, 1), got {momentum!r}")
        self.velocity = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, grads):
        _check_grads(self.params, grads)
        for k, p in self.params.items():
            self.velocity[k] = self.momentum * self.velocity[k] - self.lr * grads[k]
            p += self.velocity[k]


class Adam:
    """Adam (Kingma & Ba 2015) with bias correction.

    params: dict of float arrays, updated in place; lr: > 0; betas: (beta1, beta2), each in [0, 1);
    eps: > 0, added to the denominator.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params = _check_params(params)
        self.lr = check_number("lr", lr, low=0.0, low_inclusive=False)
        if not isinstance(betas, (tuple, list, np.ndarray)) or len(betas) != 2:
            raise ValueError(f"betas: expected a pair (beta1, beta2), got {betas!r}")
        b1, b2 = (check_number("betas", b, low=0.0) for b in betas)
        if b1 >= 1 or b2 >= 1:
            raise ValueError(f"betas: expected both in [0, 1), got {betas!r}")
        self.betas = (b1, b2)
        self.eps = check_number("eps", eps, low=0.0, low_inclusive=False)
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, grads):
        _check_grads(self.params, grads)
        self.t += 1
        b1, b2 = self.betas
        for k, p in self.params.items():
            self.m[k] = b1 * self.m[k] + (1 - b1) * grads[k]
            self.v[k] = b2 * self.v[k] + (1 - b2) * grads[k] ** 2
            m_hat = self.m[k] / (1 - b1 ** self.t)
            v_hat = self.v[k] / (1 - b2 ** self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
