"""Exercise checks, shared by the notebooks' self-check, ``tests/exercises`` and the grader.

In a notebook::

    from coursework.checks import check
    check("scatter_sum")        # runs the public checks on your functions, prints a report

Each exercise is registered in the module of its notebook (``coursework/checks/nb02_message_passing.py``
for ``exercises/02_message_passing.ipynb``) with its points and checks.
"""
import importlib
import pkgutil

from coursework.checks.core import (EXERCISES, Check, CheckFailed, Exercise, Result, check, expect_array, expect_edge_index,
                   expect_tuple, exercise, load_namespace, read_code_cells, run_check, student_function)

_LOADED = False


def load_all():
    """Import every ``nbXX_*`` module so that all exercises are registered."""
    global _LOADED
    if not _LOADED:
        for mod in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("nb")):
            importlib.import_module(f"{__name__}.{mod}")
        _LOADED = True
    return EXERCISES


def exercises_for(notebook):
    """The exercises of one notebook (by file stem, e.g. '02_message_passing'), in registration order."""
    load_all()
    return [ex for ex in EXERCISES.values() if ex.notebook == notebook]


__all__ = ["EXERCISES", "Check", "CheckFailed", "Exercise", "Result", "check", "exercise", "exercises_for",
           "expect_array", "expect_edge_index", "expect_tuple", "load_all", "load_namespace", "read_code_cells", "run_check",
           "student_function"]
