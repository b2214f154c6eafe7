"""Losses as forward/backward pairs: ``*_forward -> (loss, cache)``, ``*_backward(cache) -> grad``.

The backward returns d loss / d prediction for a scalar loss. Its upstream gradient ``dout``
comes last and defaults to 1 (the loss is what we minimize); pass the weight of the loss as
``dout`` if it is one term of a sum. Like every ``dout``, it must have the forward output's
shape, here a scalar, and be finite.
"""
import numpy as np

from refimpl.core.validate import as_float_array, as_index_array, check_like


def mse_forward(pred, target):
    """Mean squared error ``mean((pred - target)^2)`` over every entry.

    pred, target: same shape (any). Returns a float.
    """
    pred = as_float_array("pred", pred)
    target = as_float_array("target", target)
    if pred.shape != target.shape:
        raise ValueError(f"pred and target: expected equal shapes, got {pred.shape} and {target.shape}")
    if pred.size == 0:
        raise ValueError("pred: expected at least one entry, got an empty array")
    diff = pred - target
    return float(np.mean(diff * diff)), diff


def mse_backward(cache, dout=1.0):
    """d mse / d pred = 2 (pred - target) / n, times the upstream gradient dout (a scalar)."""
    diff = cache
    scale = float(check_like("dout", dout, ()))
    return 2.0 * diff / diff.size * scale


def softmax_cross_entropy_forward(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer labels.

    logits: (N, C); labels: (N,) ints in [0, C). Returns a float.
    """
    logits = as_float_array("logits", logits, ndim=2)
    labels = as_index_array("labels", labels, size=logits.shape[1])
    if labels.shape[0] != logits.shape[0]:
        raise ValueError(f"labels: expected length {logits.shape[0]} (rows of logits), got {labels.shape[0]}")
    if logits.shape[0] == 0:
        raise ValueError("logits: expected at least one row, got none")
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=1))
    log_p = shifted - log_z[:, None]
    n = logits.shape[0]
    loss = -log_p[np.arange(n), labels].mean()
    return float(loss), (np.exp(log_p), labels)


def softmax_cross_entropy_backward(cache, dout=1.0):
    """d loss / d logits = (softmax(logits) - onehot(labels)) / N, times the upstream gradient dout (a scalar)."""
    probs, labels = cache
    scale = float(check_like("dout", dout, ()))
    n = probs.shape[0]
    d = probs.copy()
    d[np.arange(n), labels] -= 1.0
    return d / n * scale
