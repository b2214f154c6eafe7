"""Turn the checks registered for a notebook into pytest tests.

A test module for ``exercises/NAME.ipynb`` is three lines::

    from harness import checks_of
    NOTEBOOK = "NAME"
    test_check = checks_of(NOTEBOOK)

Run ``pytest tests/exercises/test_NAME.py --submission path/to/notebook.ipynb`` to grade one submission.
"""
import pytest

from coursework.checks import exercises_for, run_check


def checks_of(notebook):
    checks = [c for ex in exercises_for(notebook) for c in ex.checks]
    if not checks:
        raise ValueError(f"notebook: no exercise checks registered for {notebook!r}")

    @pytest.mark.parametrize("chk", checks, ids=[f"{c.exercise}: {c.name}" for c in checks])
    def test_check(chk, student):
        result = run_check(chk, student)
        assert result.passed, result.message

    return test_check
