"""Measure symmetry numerically: how far is a function from invariant or equivariant?

A model of a molecule is a function ``fn(Z, pos)`` (or ``fn(Z, pos, batch)`` for a
batch) of atomic numbers Z (N,) and positions pos (N, 3). We move the input by a random
group element g and compare ``fn(g . input)`` with what the symmetry predicts:

- invariant output (an energy, a per-graph or per-atom scalar):  fn(g . x) = fn(x)
- equivariant output (forces, per-atom vectors (N, 3) or (N, C, 3), a dipole (3,)):
  fn(g . x) = g . fn(x), i.e. the vectors rotate with R and ignore translations.

The four groups, each drawn from the ``rng`` passed in:

- "permutation": Z, pos -> Z[perm], pos[perm] (atoms shuffled within each graph);
  a per-atom output reorders the same way, out -> out[perm];
- "rotation": pos -> pos @ R.T with R uniform in SO(3); vectors v -> v @ R.T;
- "reflection": pos -> pos @ P.T with P uniform among improper rotations (det -1);
  vectors v -> v @ P.T, pseudovectors v -> -v @ P.T;
- "translation": pos -> pos + t with t ~ Normal(0, (10 Angstrom)^2 I); vectors do not change.

Rotations and reflections are about the origin. Each error is the largest absolute
difference over ``trials`` random elements (``relative=True`` divides by the largest
|output|). In float64 a truly symmetric function gives about 1e-13 times the output's
size; a broken symmetry gives an error of the order of the output itself.

A model that needs a graph is wrapped so that the graph is rebuilt from the moved
positions, as it would be in use, e.g.
``fn = lambda Z, pos: model(Z, pos, radius_graph(pos, cutoff))``.
"""
import numpy as np

from refimpl import geometry as geo
from refimpl.core.validate import as_float_array, as_index_array, check_positive_int

GROUPS = ("permutation", "rotation", "reflection", "translation")
TRANSLATION_SCALE = 10.0   # Angstrom; the standard deviation of each translation component


def _check_inputs(Z, pos, batch):
    pos = as_float_array("pos", pos, shape=(None, 3))
    n = pos.shape[0]
    if Z is not None:
        Z = as_index_array("Z", Z)
        if Z.shape[0] != n:
            raise ValueError(f"Z: expected {n} atomic numbers (one per row of pos), got {Z.shape[0]}")
    if batch is not None:
        batch = geo.check_batch(batch, n)
    return Z, pos, batch


def _check_group(group):
    if group not in GROUPS:
        raise ValueError(f"group: expected one of {GROUPS}, got {group!r}")
    return group


def random_group_element(group, rng, n, batch=None):
    """Draw one element g of ``group`` as ``(perm, R, t)``; parts that do not apply are None.

    perm: (n,) (new atom k = old atom perm[k], within graphs of ``batch``); R: (3, 3); t: (3,).
    """
    _check_group(group)
    if group == "permutation":
        return geo.random_permutation(rng, n, batch), None, None
    if group == "rotation":
        return None, geo.random_rotation(rng), None
    if group == "reflection":
        return None, geo.random_improper(rng), None
    return None, None, geo.random_translation(rng, scale=TRANSLATION_SCALE)


def act_on_input(Z, pos, perm=None, R=None, t=None):
    """The moved input ``(Z[perm], pos[perm] @ R.T + t)``. Z: (N,) or None; pos: (N, 3)."""
    if perm is not None:
        Z = None if Z is None else Z[perm]
        pos = pos[perm]
    return Z, geo.apply_transform(pos, R, t)


def act_on_output(out, perm=None, R=None, per_atom=False, vector=False, pseudo=False):
    """What the symmetry predicts for the moved output.

    out: the original output; per_atom: its first axis is the atoms (rows follow perm);
    vector: its last axis is (x, y, z) and rotates with R (times det R if pseudo).
    """
    if perm is not None and per_atom:
        out = out[perm]
    if R is not None and vector:
        out = geo.rotate_vectors(out, R, pseudo=pseudo)
    return out


def _call(fn, Z, pos, batch):
    out = fn(Z, pos) if batch is None else fn(Z, pos, batch)
    return np.asarray(out, dtype=np.float64)


def _check_output(out, n, per_atom, vector):
    if per_atom and (out.ndim == 0 or out.shape[0] != n):
        raise ValueError(f"fn: per_atom=True expects an output with {n} rows (one per atom), got shape {out.shape}")
    if vector and (out.ndim == 0 or out.shape[-1] != 3):
        raise ValueError(f"fn: an equivariant (vector) output needs last dimension 3, got shape {out.shape}")


def _symmetry_error(fn, Z, pos, group, rng, trials, batch, per_atom, vector, pseudo, relative):
    Z, pos, batch = _check_inputs(Z, pos, batch)
    _check_group(group)
    trials = check_positive_int("trials", trials)
    out = _call(fn, Z, pos, batch)
    _check_output(out, pos.shape[0], per_atom, vector)
    worst = 0.0
    for _ in range(trials):                      # a few random group elements, not a hot path
        perm, R, t = random_group_element(group, rng, pos.shape[0], batch)
        moved = _call(fn, *act_on_input(Z, pos, perm, R, t), batch)
        expected = act_on_output(out, perm, R, per_atom, vector, pseudo)
        if moved.shape != expected.shape:
            raise ValueError(f"fn: output shape changed from {expected.shape} to {moved.shape} under {group}")
        if moved.size:
            worst = max(worst, float(np.max(np.abs(moved - expected))))
    if relative:
        worst /= max(float(np.max(np.abs(out))) if out.size else 0.0, 1e-300)
    return worst


def invariance_error(fn, Z, pos, group, rng, trials=5, batch=None, per_atom=False, relative=False):
    """Worst ``|fn(g . x) - fn(x)|`` over ``trials`` random g of ``group`` (0 for an invariant fn).

    fn: fn(Z, pos) or, when ``batch`` is given, fn(Z, pos, batch) -> array of any shape;
    Z: (N,) ints or None; pos: (N, 3) Angstrom; group: one of GROUPS; rng: numpy Generator;
    batch: (N,) sorted or None (permutations then stay within graphs); per_atom: the output's
    first axis is the atoms (e.g. atomwise energies (N,)), so it reorders with them;
    relative: divide by max |fn(x)|. Returns a float.
    """
    return _symmetry_error(fn, Z, pos, group, rng, trials, batch, per_atom, False, False, relative)


def equivariance_error(fn, Z, pos, group, rng, trials=5, batch=None, per_atom=True, pseudo=False,
                       relative=False):
    """Worst ``|fn(g . x) - g . fn(x)|`` for a vector output (0 for an equivariant fn).

    The output's last axis is (x, y, z): (N, 3) forces, (N, C, 3) vector features, or with
    per_atom=False a per-molecule vector such as a dipole (3,). Vectors rotate with R, ignore
    translations and, if per_atom, reorder with the atoms; a pseudovector (pseudo=True, e.g. a
    cross product) also changes sign under a reflection. Other arguments as in
    ``invariance_error``. Returns a float.
    """
    return _symmetry_error(fn, Z, pos, group, rng, trials, batch, per_atom, True, pseudo, relative)


def symmetry_report(fn, Z, pos, rng, output="invariant", trials=5, batch=None, per_atom=None,
                    pseudo=False, relative=False, groups=GROUPS):
    """``{group: error}`` for every group: invariance or equivariance errors in one call.

    output: "invariant" (per_atom defaults to False) or "equivariant" (per_atom defaults to
    True). Other arguments as in ``invariance_error``/``equivariance_error``.
    Typical use: ``assert max(symmetry_report(fn, Z, pos, rng).values()) < 1e-10``.
    """
    if output not in ("invariant", "equivariant"):
        raise ValueError(f"output: expected 'invariant' or 'equivariant', got {output!r}")
    vector = output == "equivariant"
    per_atom = vector if per_atom is None else per_atom
    return {g: _symmetry_error(fn, Z, pos, g, rng, trials, batch, per_atom, vector, pseudo and vector, relative)
            for g in groups}


def format_report(report, tol=1e-10):
    """The report as a small text table, each error marked ok (<= tol) or BROKEN."""
    lines = [f"{'group':<12} {'error':>10}"]
    for group, err in report.items():
        lines.append(f"{group:<12} {err:>10.2e}  {'ok' if err <= tol else 'BROKEN'}")
    return "\n".join(lines)
