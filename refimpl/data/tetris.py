"""The eight 3D Tetris shapes: a toy classification task for rotation symmetry.

Each shape is four unit cubes glued face to face (a *tetracube*); we keep only
the four cube centres, so a shape is a (4, 3) array of positions in units of
the cube edge (lattice units, not Angstrom). There are exactly eight tetracubes
up to rotation; they are the data set of the tensor-field-network and e3nn
examples. A classifier that is invariant to rotations should label any rotated
and translated copy of a shape correctly.

The set holds one *chiral pair*: ``chiral_left`` and ``chiral_right`` are mirror
images of each other (``chiral_right`` is ``chiral_left`` with z -> -z, atom order
kept), and no rotation maps one onto the other: the signed volume
(x2 - x1) . ((x3 - x2) x (x4 - x3)) of the chain of cubes is rotation invariant and is
+1 for one, -1 for the other. (Which one to call "left" is a convention.) A model that is invariant to
reflections as well (group O(3)) cannot tell them apart; one invariant only to
rotations (SO(3)) can.

Atom order is fixed: atom k of every copy is the image of atom k of the template,
so a model that reads the coordinates in order (the MLP of chapter 5) never
has to deal with permutations.
"""
import numpy as np

from refimpl.symmetrize import augment
from refimpl.core.validate import as_float_array, check_positive_int

# cube centres of the eight tetracubes; each row of four is a path or a branch of unit steps
_SHAPES = {
    "chiral_left":  [(0, 0, 0), (1, 0, 0), (1, 1, 0), (1, 1, 1)],   # steps +x, +y, +z: signed volume +1
    "chiral_right": [(0, 0, 0), (1, 0, 0), (1, 1, 0), (1, 1, -1)],  # steps +x, +y, -z: its mirror, volume -1
    "square":       [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0)],
    "line":         [(0, 0, 0), (1, 0, 0), (2, 0, 0), (3, 0, 0)],
    "corner":       [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1)],   # three arms from one cube (tripod)
    "L":            [(0, 0, 0), (1, 0, 0), (2, 0, 0), (2, 1, 0)],
    "T":            [(0, 0, 0), (1, 0, 0), (2, 0, 0), (1, 1, 0)],
    "zigzag":       [(0, 0, 0), (1, 0, 0), (1, 1, 0), (2, 1, 0)],   # the S/Z piece
}

#: names of the eight shapes; label k means SHAPE_NAMES[k]
SHAPE_NAMES = tuple(_SHAPES)
#: the indices of the chiral pair (mirror images of each other)
CHIRAL_PAIR = (SHAPE_NAMES.index("chiral_left"), SHAPE_NAMES.index("chiral_right"))


def tetris_shapes():
    """The eight template shapes.

    Returns (pos, labels, names): pos (8, 4, 3) float64 cube centres, labels (8,)
    = arange(8), names: tuple of 8 strings (``names[labels[k]]`` names ``pos[k]``).
    """
    pos = np.array([_SHAPES[name] for name in SHAPE_NAMES], dtype=np.float64)
    return pos, np.arange(len(SHAPE_NAMES)), SHAPE_NAMES


def centre(pos):
    """Subtract each shape's centroid: ``x_a - (1/n) sum_b x_b``.

    pos: (..., n, 3). Returns an array of the same shape whose shapes have centroid 0.
    """
    pos = as_float_array("pos", pos)
    if pos.ndim < 2 or pos.shape[-1] != 3 or pos.shape[-2] == 0:
        raise ValueError(f"pos: expected shape (..., n, 3) with n >= 1, got {pos.shape}")
    return pos - pos.mean(axis=-2, keepdims=True)


def flatten_centred(pos):
    """Features for a coordinate MLP: centred positions, flattened in atom order.

    pos: (S, n, 3). Returns (S, 3 n): row s is (x_1, y_1, z_1, x_2, ...) of shape s minus its centroid.
    Translation invariant; NOT rotation or permutation invariant (that is the point of chapter 5).
    """
    pos = centre(pos)
    if pos.ndim != 3:
        raise ValueError(f"pos: expected shape (S, n, 3), got {pos.shape}")
    return pos.reshape(pos.shape[0], -1)


def to_batch(pos):
    """Concatenate S shapes of n atoms into the library's batch format.

    pos: (S, n, 3). Returns (flat_pos (S n, 3), batch (S n,)) with batch[a] = a // n.
    """
    pos = as_float_array("pos", pos)
    if pos.ndim != 3 or pos.shape[-1] != 3:
        raise ValueError(f"pos: expected shape (S, n, 3), got {pos.shape}")
    s, n, _ = pos.shape
    return pos.reshape(s * n, 3), np.repeat(np.arange(s), n)


def make_dataset(rng, copies, rotate=True, reflections=False, translation_scale=0.0, jitter=0.0, shapes=None):
    """Randomly transformed copies of the shapes: ``x' = Q x + t + noise``, one (Q, t) per copy.

    rng: np.random.Generator; copies: copies of each shape; rotate: apply a random
    rotation (uniform on SO(3)); reflections: draw Q from O(3) instead (each copy
    mirrored with probability 1/2; needs rotate=True); translation_scale: std of t (per axis);
    jitter: std of independent Gaussian noise on every coordinate; shapes: (K, n, 3)
    templates (default: the eight Tetris shapes).
    Returns (pos (K copies, n, 3), labels (K copies,)): copy c of shape k sits at row k * copies + c.
    """
    copies = check_positive_int("copies", copies)
    if copies < 1:
        raise ValueError("copies: expected at least 1 copy of each shape, got 0")
    templates = tetris_shapes()[0] if shapes is None else as_float_array("shapes", shapes, ndim=3)
    if templates.shape[-1] != 3:
        raise ValueError(f"shapes: expected shape (K, n, 3), got {templates.shape}")
    k, n, _ = templates.shape
    pos = np.repeat(templates, copies, axis=0)
    labels = np.repeat(np.arange(k), copies)
    flat, batch = to_batch(pos)
    flat, _, _ = augment.augment_batch(flat, batch, rng, reflections=reflections, rotate=rotate,
                                       translation_scale=translation_scale, jitter=jitter, num_graphs=k * copies)
    return flat.reshape(k * copies, n, 3), labels
