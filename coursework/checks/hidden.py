"""Helpers for the hidden checks (``public=False``): run only by the grader and the tests, never by
a notebook's ``check(...)``. They use inputs the public checks never show (other sizes, weights,
degenerate cases) and test that a submission leaves its inputs unchanged.

A check's ``run`` passes the arrays themselves to the student's function and returns them as
``after_<name>`` next to the results; ``verify`` then compares them with the inputs it made::

    def run(student, x):
        out = fn(x["A"])
        return {"edge_index": out, **after(x, "A")}

    def verify(x, got):
        expect_unchanged("adjacency_to_edge_index(A)", x, got, "A")
"""
import numpy as np

from coursework.checks.core import CheckFailed


def after(x, *names):
    """The arrays ``names`` of the check's inputs as they are after the student's call."""
    return {f"after_{n}": np.asarray(x[n]) for n in names}


def expect_unchanged(what, x, got, *names):
    """Raise CheckFailed naming every input of ``names`` that the student's call modified in place."""
    changed = [n for n in names if not (isinstance(got.get(f"after_{n}"), np.ndarray)
                                        and got[f"after_{n}"].shape == np.shape(x[n])
                                        and np.array_equal(got[f"after_{n}"], x[n]))]
    if changed:
        raise CheckFailed(f"{what} modified its argument(s) {', '.join(changed)} in place; the caller still needs "
                          f"them: compute new arrays instead (e.g. x = x + 1, not x += 1)")
