"""The machinery behind exercise checks: exercises, checks, strict comparisons, notebook loading.

A check is split in three so that a grader can run student code in a separate process
and still decide pass/fail itself:

    make_inputs(rng) -> dict of arrays     runs in the grader (seeded from the check's name
                                           and, in the grader, the course's secret salt)
    run(student, inputs) -> dict           runs beside the student's code; calls only the
                                           student's functions and returns what they returned
    verify(inputs, outputs)                runs in the grader; compares with refimpl and
                                           raises CheckFailed with a plain-words message

``check("name")`` in a notebook runs all three in the student's own kernel for instant
feedback; ``tests/exercises`` and the grader run exactly the same checks.
"""
import hashlib
import hmac
import inspect
import zlib
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable

import numpy as np


class CheckFailed(AssertionError):
    """A check's verdict: the submission is wrong, and the message says how."""


@dataclass
class Check:
    exercise: str
    name: str
    make_inputs: Callable
    run: Callable
    verify: Callable
    public: bool = True

    @property
    def seed(self):
        """The public seed of the check (the self-check's inputs): a checksum of its names."""
        return zlib.crc32(f"{self.exercise}/{self.name}".encode())

    def salted_seed(self, salt):
        """The grader's seed: an HMAC of the check's names under the course's secret ``salt`` (bytes).

        Stable across re-grading with the same salt, and impossible to guess without it, so a
        submission cannot compute the graded inputs (and the reference's answers) in advance.
        """
        if not salt:
            return self.seed
        digest = hmac.new(bytes(salt), f"{self.exercise}/{self.name}".encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "little")


@dataclass
class Exercise:
    """One exercise: the functions the student writes, its points and its checks.

    ``reference`` names the refimpl functions that solve it; calling them from the
    submission earns no credit (the grader enforces this).
    """
    name: str
    notebook: str
    functions: tuple
    points: float
    title: str = ""
    reference: tuple = ()
    checks: list = field(default_factory=list)

    def add(self, name, make_inputs, run, verify, public=True):
        self.checks.append(Check(self.name, name, make_inputs, run, verify, public))


EXERCISES = {}


def exercise(name, notebook, functions, points, title="", reference=()):
    """Register and return a new ``Exercise``."""
    if name in EXERCISES:
        raise ValueError(f"name: exercise {name!r} is registered twice")
    ex = Exercise(name, notebook, tuple(functions), float(points), title, tuple(reference))
    EXERCISES[name] = ex
    return ex


# ----------------------------------------------------------------------------- comparisons
def expect_array(what, got, want, rtol=1e-6, atol=1e-8, kind="f"):
    """Strict comparison: a numpy array of the expected shape and dtype kind, then values.

    ``kind`` is 'f' (float64 expected) or 'i' (any integer dtype). No broadcasting:
    a (3, 1) array does not pass for (3,).
    """
    want = np.asarray(want)
    if not isinstance(got, np.ndarray):
        raise CheckFailed(f"{what}: expected a numpy array of shape {want.shape}, got {type(got).__name__}")
    if got.shape != want.shape:
        raise CheckFailed(f"{what}: expected shape {want.shape}, got {got.shape}")
    if kind == "f" and got.dtype != np.float64:
        raise CheckFailed(f"{what}: expected dtype float64, got {got.dtype}")
    if kind == "i" and not np.issubdtype(got.dtype, np.integer):
        raise CheckFailed(f"{what}: expected an integer dtype, got {got.dtype}")
    if kind == "f" and not np.all(np.isfinite(got)):
        raise CheckFailed(f"{what}: contains NaN or infinite values")
    if kind == "i":
        if not np.array_equal(got, want):
            bad = int(np.count_nonzero(got != want))
            raise CheckFailed(f"{what}: {bad} of {want.size} entries differ from the expected values")
        return
    err = np.abs(got - want)
    tol = atol + rtol * np.abs(want)
    if np.any(err > tol):
        k = int(np.argmax(err - tol))
        idx = np.unravel_index(k, want.shape) if want.ndim else ()
        raise CheckFailed(f"{what}: wrong values; e.g. at index {tuple(int(i) for i in idx)} expected "
                          f"{want[idx]:.6g}, got {got[idx]:.6g} (max abs error {err.max():.3g})")


def expect_edge_index(what, ei, num_nodes):
    """The student's ``edge_index`` must be an integer array of shape (2, E) with ids in [0, num_nodes)."""
    if not (isinstance(ei, np.ndarray) and ei.ndim == 2 and ei.shape[0] == 2 and np.issubdtype(ei.dtype, np.integer)):
        raise CheckFailed(f"{what}: expected an integer numpy array of shape (2, E), "
                          f"got {type(ei).__name__} {getattr(ei, 'shape', '')} {getattr(ei, 'dtype', '')}")
    if ei.size and (ei.min() < 0 or ei.max() >= num_nodes):
        raise CheckFailed(f"{what}: node ids must lie in [0, {num_nodes})")


def scalar(a):
    """The one number in ``a`` (check inputs keep scalars as shape (1,) arrays for the grader's transfer)."""
    return np.asarray(a).reshape(-1)[0]


def expect_tuple(what, got, n):
    """The student's function must return a tuple (or list) of n items."""
    if not isinstance(got, (tuple, list)) or len(got) != n:
        desc = f"a {type(got).__name__} of length {len(got)}" if isinstance(got, (tuple, list)) else type(got).__name__
        raise CheckFailed(f"{what}: expected a tuple of {n} values, got {desc}")
    return tuple(got)


def student_function(student, name):
    """The student's function ``name``, or a CheckFailed saying it is missing."""
    fn = getattr(student, name, None)
    if fn is None:
        raise CheckFailed(f"no function named {name!r} is defined: keep the name given in the exercise, and "
                          f"check that the cell defining it runs without an error")
    if not callable(fn):
        raise CheckFailed(f"{name!r} is defined but is not a function")
    return fn


# ----------------------------------------------------------------------------- running checks
@dataclass
class Result:
    exercise: str
    check: str
    passed: bool
    message: str = ""


def run_check(check, namespace):
    """Run one check entirely in this process (the student's self-check and the tests)."""
    student = namespace if isinstance(namespace, SimpleNamespace) else SimpleNamespace(**namespace)
    rng = np.random.default_rng(check.seed)
    inputs = check.make_inputs(rng)
    try:
        outputs = check.run(student, {k: np.copy(v) for k, v in inputs.items()})
        check.verify(inputs, outputs)
    except CheckFailed as exc:
        return Result(check.exercise, check.name, False, str(exc))
    except NotImplementedError as exc:
        return Result(check.exercise, check.name, False, f"not implemented yet ({exc})")
    except Exception as exc:  # the student's code raised: report it plainly
        return Result(check.exercise, check.name, False, f"your code raised {type(exc).__name__}: {exc}")
    return Result(check.exercise, check.name, True)


class CheckReport(list):
    """The results of ``check``: a list of Result, shown in a notebook as one summary line."""

    def __repr__(self):
        passed = sum(r.passed for r in self)
        return f"<{passed} of {len(self)} checks passed>"


def check(name, namespace=None, raise_on_failure=True):
    """Run the public checks of exercise ``name`` on your functions and print what passed.

    Call it in the notebook as ``check("scatter_sum")``: it looks your functions up
    in the notebook's global variables. Raises AssertionError after the report if a
    check failed (set raise_on_failure=False to only print).
    """
    from coursework.checks import load_all
    load_all()
    if name not in EXERCISES:
        raise ValueError(f"name: no exercise {name!r}; known: {sorted(EXERCISES)}")
    if namespace is None:
        namespace = inspect.currentframe().f_back.f_globals
    results = CheckReport(run_check(c, namespace) for c in EXERCISES[name].checks if c.public)
    for r in results:
        print(("PASS " if r.passed else "FAIL ") + r.check + ("" if r.passed else f"\n     {r.message}"))
    failed = [r for r in results if not r.passed]
    print(f"{name}: {len(results) - len(failed)} of {len(results)} checks passed")
    if failed and raise_on_failure:
        raise AssertionError(f"{len(failed)} check(s) of {name!r} failed (see the report above)")
    return results


# ----------------------------------------------------------------------------- loading submissions
# (kept importable from here: ``from coursework.checks.core import load_namespace``)
from coursework.checks.cells import (SKIP_TAGS, load_namespace, read_code_cells, runnable_cells,  # noqa: E402,F401
                                     strip_install, strip_magics)
