"""Grade exercise submissions with the exercise checks, running student code in sandboxed processes.

    python -m refimpl.grading SUBMISSIONS... --out DIR [--jobs N] [--private-tests DIR]
                              [--timeout S] [--memory MB] [--notebook NAME]

``refimpl.grading.grader`` is the parent (never runs student code), ``refimpl.grading.sandbox``
starts one child process per submission and exercise, ``refimpl.grading._child`` is that child,
``refimpl.grading.transfer`` carries plain data between them and ``refimpl.grading.report`` writes
the gradebook, the feedback and Gradescope's ``results.json``. The book's page *For instructors*
explains how to use it and what the isolation does and does not protect against.

This package imports nothing heavy on purpose: the child imports it before setting its limits.
"""


def grade(*args, **kwargs):
    """See ``refimpl.grading.grader.grade``."""
    from .grader import grade as _grade
    return _grade(*args, **kwargs)
