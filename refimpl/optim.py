"""Optimizers over a dict of named parameters.

``opt.step(grads)`` updates ``params`` in place; ``grads`` has the same keys and shapes.
"""
import numpy as np


def _check_grads(params, grads):
    if set(grads) != set(params):
        missing, extra = sorted(set(params) - set(grads)), sorted(set(grads) - set(params))
        raise ValueError(f"grads: expected the keys of params; missing {missing}, unexpected {extra}")
    for k in params:
        if np.shape(grads[k]) != params[k].shape:
            raise ValueError(f"grads[{k!r}]: expected shape {params[k].shape}, got {np.shape(grads[k])}")
        if not np.all(np.isfinite(grads[k])):
            raise ValueError(f"grads[{k!r}]: expected finite values (training diverged?)")


class SGD:
    """Stochastic gradient descent with momentum: v <- mu v - lr g; p <- p + v."""

    def __init__(self, params, lr=0.01, momentum=0.0):
        if lr <= 0 or not 0 <= momentum < 1:
            raise ValueError(f"SGD: expected lr > 0 and 0 <= momentum < 1, got lr={lr}, momentum={momentum}")
        self.params, self.lr, self.momentum = params, lr, momentum
        self.velocity = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, grads):
        _check_grads(self.params, grads)
        for k, p in self.params.items():
            self.velocity[k] = self.momentum * self.velocity[k] - self.lr * grads[k]
            p += self.velocity[k]


class Adam:
    """Adam (Kingma & Ba 2015) with bias correction."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        if lr <= 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"Adam: expected lr > 0 and betas in [0, 1), got lr={lr}, betas={betas}")
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
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
