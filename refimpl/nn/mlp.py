"""A plain multilayer perceptron classifier (no symmetry built in) and its training loop.

book: Tetris, `eq-tetris-mlp`:

    h_0 = x,   h_l = relu(h_{l-1} W_l + b_l)  (l = 1 .. L-1),   logits = h_{L-1} W_L + b_L

Parameters are a dict ``{"W1": (D_0, D_1), "b1": (D_1,), ..., "WL", "bL"}`` (W stored
(in, out) as in ``refimpl.core.layers``; PyTorch's ``nn.Linear.weight`` is its transpose).
In chapter 5 the input is the flattened centred coordinates of a shape (4 atoms x 3 = 12
numbers), so the model sees the orientation: nothing makes its output rotation invariant.
"""
import numpy as np

from refimpl.core.init import he_normal, zeros
from refimpl.core.layers import linear_backward, linear_forward, relu_backward, relu_forward
from refimpl.core.losses import softmax_cross_entropy_backward, softmax_cross_entropy_forward
from refimpl.core.optim import Adam
from refimpl.core.validate import as_float_array, as_index_array, check_positive_int


def init_mlp(rng, sizes):
    """He-normal weights and zero biases for layer sizes (D_0, D_1, ..., D_L). Returns the params dict."""
    sizes = [check_positive_int("sizes", s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes: expected at least two positive layer sizes (input, output), got {sizes}")
    params = {}
    for l, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{l}"], params[f"b{l}"] = he_normal(rng, d_in, d_out), zeros(d_out)
    return params


def _num_layers(params):
    num = len(params) // 2
    if num < 1 or set(params) != {f"{p}{l}" for l in range(1, num + 1) for p in "Wb"}:
        raise ValueError(f"params: expected keys W1, b1, ..., WL, bL, got {sorted(params)}")
    return num


def mlp_forward(x, params):
    """Logits of the MLP (book `eq-tetris-mlp`). x: (B, D_0); params: see module docstring. Returns (logits (B, D_L), cache)."""
    x = as_float_array("x", x, ndim=2)
    num = _num_layers(params)
    h, caches = x, []
    for l in range(1, num + 1):
        h, lin = linear_forward(h, params[f"W{l}"], params[f"b{l}"])
        act = None
        if l < num:
            h, act = relu_forward(h)
        caches.append((lin, act))
    return h, caches


def mlp_backward(dout, cache):
    """Gradients of ``mlp_forward``: back through each relu and linear pair, last layer first.

    dout: (B, D_L). Returns (dx (B, D_0), grads) with grads a dict keyed like params.
    """
    grads, dh = {}, dout          # the last layer's linear_backward checks dout against the logits (B, D_L)
    for l in range(len(cache), 0, -1):
        lin, act = cache[l - 1]
        if act is not None:
            dh = relu_backward(dh, act)
        dh, grads[f"W{l}"], grads[f"b{l}"] = linear_backward(dh, lin)
    return dh, grads


def predict(params, x):
    """Predicted class ``argmax_c logits_c``. x: (B, D_0). Returns (B,) int."""
    return np.argmax(mlp_forward(x, params)[0], axis=1)


def accuracy(params, x, labels):
    """Fraction of rows of x whose predicted class equals ``labels`` (B,). Returns a float in [0, 1]."""
    labels = as_index_array("labels", labels)
    return float(np.mean(predict(params, x) == labels))


def train_mlp(params, x, labels, rng, epochs=200, lr=1e-2, batch_size=64):
    """Train ``params`` in place with Adam on softmax cross-entropy, shuffled mini-batches.

    x: (B, D_0); labels: (B,) ints in [0, D_L); rng: shuffles the batches each epoch.
    Returns the mean training loss of each epoch, (epochs,).
    """
    x = as_float_array("x", x, ndim=2)
    labels = as_index_array("labels", labels)
    if labels.shape[0] != x.shape[0] or x.shape[0] == 0:
        raise ValueError(f"labels: expected {x.shape[0]} labels (one per row of x, at least one), got {labels.shape[0]}")
    epochs, batch_size = check_positive_int("epochs", epochs), check_positive_int("batch_size", batch_size)
    if batch_size < 1:
        raise ValueError("batch_size: expected at least 1")
    opt, history = Adam(params, lr=lr), np.zeros(epochs)
    for epoch in range(epochs):
        order = rng.permutation(x.shape[0])
        for start in range(0, x.shape[0], batch_size):
            idx = order[start:start + batch_size]
            logits, cache = mlp_forward(x[idx], params)
            loss, loss_cache = softmax_cross_entropy_forward(logits, labels[idx])
            _, grads = mlp_backward(softmax_cross_entropy_backward(loss_cache), cache)
            opt.step(grads)
            history[epoch] += loss * idx.size / x.shape[0]
    return history
