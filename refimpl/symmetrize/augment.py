"""Data augmentation for 3D point clouds: a random rigid motion (and noise) per graph.

For each graph g of a batch we draw one group element (Q_g, t_g) and move every atom
of that graph (book: Data augmentation, `eq-augment`)::

    x_a'  =  Q_g x_a + t_g + eps_a,      g = batch[a],   eps_a ~ Normal(0, jitter^2 I)

Q_g is a uniformly random rotation (SO(3)), or a uniformly random element of O(3)
(half of them improper, i.e. containing a mirror) with ``reflections=True``;
t_g ~ Normal(0, translation_scale^2 I). The motion acts about the origin, as the group
does; a model that centres its input (or uses only differences x_j - x_i) does not
see where the origin is. Training on such copies teaches a model the symmetry only
approximately: chapter 6 measures how well.
"""
import numpy as np

from refimpl.geometry import check_batch, random_orthogonal, random_rotation
from refimpl.core.validate import as_float_array, check_flag, check_number, check_positive_int


def augment_batch(pos, batch, rng, reflections=False, translation_scale=0.0, jitter=0.0,
                  num_graphs=None, rotate=True):
    """Apply one random rigid motion per graph and Gaussian jitter per atom (book `eq-augment`).

    pos: (N, 3); batch: (N,) sorted graph index of each atom; rng: np.random.Generator;
    reflections: draw Q from O(3) instead of SO(3); translation_scale: std of t (>= 0);
    jitter: std of the per-coordinate noise (>= 0); num_graphs: G (default batch.max() + 1);
    rotate: False keeps Q = I (translations and jitter only).
    Returns (pos' (N, 3), Q (G, 3, 3), t (G, 3)): the group element used for each graph,
    so ``pos' - noise == einsum('aij,aj->ai', Q[batch], pos) + t[batch]``.
    """
    pos = as_float_array("pos", pos, shape=(None, 3))
    batch = check_batch(batch, pos.shape[0])
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng: expected numpy.random.Generator, got {type(rng).__name__}")
    translation_scale = check_number("translation_scale", translation_scale, low=0.0)
    jitter = check_number("jitter", jitter, low=0.0)
    reflections, rotate = check_flag("reflections", reflections), check_flag("rotate", rotate)
    if reflections and not rotate:
        raise ValueError("reflections: expected rotate=True when reflections=True (a mirror is an improper rotation)")
    g = int(batch.max()) + 1 if batch.size else 0
    if num_graphs is not None:
        num_graphs = check_positive_int("num_graphs", num_graphs)
        if num_graphs < g:
            raise ValueError(f"num_graphs: expected at least {g} (batch.max() + 1), got {num_graphs}")
        g = num_graphs
    if g == 0:
        return pos.copy(), np.zeros((0, 3, 3)), np.zeros((0, 3))
    if not rotate:
        Q = np.broadcast_to(np.eye(3), (g, 3, 3)).copy()
    else:
        Q = random_orthogonal(rng, g) if reflections else random_rotation(rng, g)
    t = translation_scale * rng.normal(size=(g, 3))
    out = np.einsum("aij,aj->ai", Q[batch], pos) + t[batch]
    if jitter > 0:
        out = out + jitter * rng.normal(size=out.shape)
    return out, Q, t
