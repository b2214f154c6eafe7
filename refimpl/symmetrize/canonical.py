"""Canonicalization: rotate each point cloud into its own principal-axis frame.

Instead of building the symmetry into the model, we can remove it from the input:
map every rotated copy of a shape to one canonical pose, then feed any model. Here
the pose comes from principal component analysis (PCA) of the centred positions
(book: Canonicalization, `eq-pca-frame`):

    c = (1/n) sum_a x_a,      C = (1/n) sum_a (x_a - c)(x_a - c)^T = V diag(l1, l2, l3) V^T

with l1 >= l2 >= l3 >= 0 and the columns e_1, e_2, e_3 of V the principal axes. (For
equal masses the inertia tensor is n (tr C I - C): same axes, reverse order, so this is
also the inertia frame.) The canonical coordinates are y_a = V^T (x_a - c), i.e.
``canonical_pos = (pos - c) @ V``.

An eigenvector is only defined up to sign, so we fix each sign with a rule
(book `eq-sign-rule`):

    m3_k = (1/n) sum_a (e_k . (x_a - c))^3 / l_k^(3/2)      (the skewness along e_k; 0 if l_k = 0)
    flip e_k if m3_k < 0, so that every axis points to the "heavier tail" of the shape.

- group="O(3)": the rule fixes all three signs. The frame may be improper (det V = -1),
  so a shape and its mirror image get the SAME canonical coordinates: the output is
  invariant to rotations and reflections, and a chiral pair becomes indistinguishable.
- group="SO(3)": the rule fixes e_1 and e_2, then e_3 = e_1 x e_2 (right-hand rule,
  det V = +1). The output is invariant to rotations only; a mirror image comes out
  with its third coordinate negated, so chirality survives.

If x' = Q x + t, then C' = Q C Q^T, and (when nothing is ambiguous) V' = Q V, hence
y' = y. The rule breaks down exactly when the frame is not a function of the shape,
and this module *reports* those cases instead of hiding them:

- degenerate eigenvalues: a relative gap (l_k - l_{k+1}) / l1 below ``gap_tol``: any
  rotation inside that eigenspace is as good as V, and tiny noise swaps the axes
  (symmetric shapes: a square, an equilateral triangle, a regular tetrahedron);
- undecidable signs: |m3_k| below ``sign_tol`` (every centrosymmetric or C2-symmetric
  shape has m3_k = 0 along some axes), so noise picks the sign;
- collinear (l2 / l1 < flat_tol) and planar (l3 / l1 < flat_tol) point sets.

An ambiguity along a direction in which the shape has (almost) no extent does not change
the canonical coordinates (they are at most ~sqrt(flat_tol l1) there), so
``CanonicalReport.reliable`` ignores it.
"""
from dataclasses import dataclass

import numpy as np

from refimpl.core.validate import as_float_array

GROUPS = ("SO(3)", "O(3)")


@dataclass
class CanonicalReport:
    """What ``canonicalize`` found, per point cloud; ``...`` is the batch shape of ``pos``.

    eigenvalues: (..., 3) l1 >= l2 >= l3 of the covariance (`eq-pca-frame`), in length^2;
    rel_gaps: (..., 2) (l1 - l2) / l1 and (l2 - l3) / l1;
    third_moments: (..., 3) m3_k of `eq-sign-rule` BEFORE the sign fix (the statistic the rule used);
    degenerate: (..., 2) bool, rel_gaps < gap_tol (axes k and k+1 not determined);
    undecidable_sign: (..., 3) bool, |m3_k| < sign_tol for an axis whose sign the rule sets
    (for SO(3), axis 3 follows from the right-hand rule and is never flagged);
    collinear, planar: (...) bool; flat: (..., 3) bool, l_k / l1 < flat_tol (no extent along e_k).
    """

    group: str
    eigenvalues: np.ndarray
    rel_gaps: np.ndarray
    third_moments: np.ndarray
    degenerate: np.ndarray
    undecidable_sign: np.ndarray
    collinear: np.ndarray
    planar: np.ndarray
    flat: np.ndarray
    gap_tol: float
    sign_tol: float
    flat_tol: float

    @property
    def reliable(self):
        """(...) bool: the canonical coordinates are determined by the shape (no relevant ambiguity).

        False if an eigen-gap between two axes along which the shape extends is degenerate,
        or if an axis along which the shape extends has an undecidable sign.
        """
        gap_matters = self.degenerate & ~self.flat[..., 1:]      # gap k matters unless axis k+1 is flat
        sign_matters = self.undecidable_sign & ~self.flat
        return ~(gap_matters.any(axis=-1) | sign_matters.any(axis=-1))

    def describe(self, index=()):
        """Human-readable problems of one point cloud (``index`` into the batch). Returns a list of str."""
        pick = lambda a: np.asarray(a)[index]
        out = []
        if pick(self.collinear):
            out.append("collinear: l2/l1 = %.2e < %g" % (pick(self.eigenvalues)[1] / pick(self.eigenvalues)[0], self.flat_tol))
        elif pick(self.planar):
            out.append("planar: l3/l1 = %.2e < %g" % (pick(self.eigenvalues)[2] / pick(self.eigenvalues)[0], self.flat_tol))
        for k in range(2):
            if pick(self.degenerate)[k]:
                out.append("degenerate eigenvalues l%d ~ l%d: relative gap %.2e < %g"
                           % (k + 1, k + 2, pick(self.rel_gaps)[k], self.gap_tol))
        for k in range(3):
            if pick(self.undecidable_sign)[k]:
                out.append("undecidable sign of axis %d: |m3| = %.2e < %g"
                           % (k + 1, abs(pick(self.third_moments)[k]), self.sign_tol))
        out.append("reliable" if pick(self.reliable) else "NOT reliable")
        return out


def _check_tol(name, value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}") from None
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")
    return float(value)


def canonicalize(pos, group="SO(3)", gap_tol=1e-2, sign_tol=1e-2, flat_tol=1e-3):
    """Principal-axis canonical pose and sign rule (book `eq-pca-frame`, `eq-sign-rule`), batched.

    pos: (..., n, 3), n >= 2 points that are not all identical; group: "SO(3)" or "O(3)";
    gap_tol, sign_tol, flat_tol: relative tolerances (see the module docstring).
    Returns (canonical_pos (..., n, 3), frame (..., 3, 3), report) with
    canonical_pos = (pos - centroid) @ frame; the columns of ``frame`` are e_1, e_2, e_3.
    """
    pos = as_float_array("pos", pos)
    if pos.ndim < 2 or pos.shape[-1] != 3 or pos.shape[-2] < 2:
        raise ValueError(f"pos: expected shape (..., n, 3) with n >= 2 points, got {pos.shape}")
    if group not in GROUPS:
        raise ValueError(f"group: expected one of {GROUPS}, got {group!r}")
    gap_tol, sign_tol, flat_tol = (_check_tol(k, v) for k, v in
                                   (("gap_tol", gap_tol), ("sign_tol", sign_tol), ("flat_tol", flat_tol)))
    x = pos - pos.mean(axis=-2, keepdims=True)
    lam, V = np.linalg.eigh(np.einsum("...ai,...aj->...ij", x, x) / x.shape[-2])
    lam, V = np.clip(lam[..., ::-1], 0.0, None), V[..., ::-1]           # descending l1 >= l2 >= l3
    scale2 = np.max(np.abs(x), axis=(-2, -1)) ** 2
    if np.any(lam[..., 0] <= 1e-24 * np.maximum(scale2, 1e-300)):
        raise ValueError("pos: expected points that are not all identical (the spread is zero, no frame exists)")
    l1 = lam[..., :1]
    gaps = (lam[..., :-1] - lam[..., 1:]) / l1
    flat = lam / l1 < flat_tol
    spread = np.where(flat, 1.0, lam) ** 1.5                            # skewness is 0 along flat axes
    m3 = np.where(flat, 0.0, np.mean(np.einsum("...ai,...ik->...ak", x, V) ** 3, axis=-2) / spread)
    sign = np.where(m3 < 0, -1.0, 1.0)
    undecidable = np.abs(m3) < sign_tol
    frame = V * sign[..., None, :]
    if group == "SO(3)":
        frame[..., :, 2] = np.cross(frame[..., :, 0], frame[..., :, 1])   # right-hand rule
        undecidable[..., 2] = False
    report = CanonicalReport(
        group=group, eigenvalues=lam, rel_gaps=gaps, third_moments=m3,
        degenerate=gaps < gap_tol, undecidable_sign=undecidable,
        collinear=lam[..., 1] / lam[..., 0] < flat_tol, planar=lam[..., 2] / lam[..., 0] < flat_tol,
        flat=flat, gap_tol=gap_tol, sign_tol=sign_tol, flat_tol=flat_tol)
    return x @ frame, frame, report
