"""Grade exercise submissions with the exercise checks, running student code in sandboxed processes.

    python -m coursework.grading SUBMISSIONS... --out DIR [--jobs N] [--private-tests DIR]
                              [--timeout S] [--memory MB] [--notebook NAME]

``coursework.grading.grader`` is the parent (never runs student code), ``coursework.grading.sandbox``
starts one child process per submission and exercise, ``coursework.grading._child`` is that child,
``coursework.grading.transfer`` carries plain data between them and ``coursework.grading.report`` writes
the gradebook, the feedback and Gradescope's ``results.json``. The book's page *For instructors*
explains how to use it and what the isolation does and does not protect against.

This package imports nothing heavy on purpose: the child imports it before setting its limits.
"""


def grade(*args, **kwargs):
    """See ``coursework.grading.grader.grade``."""
    from coursework.grading.grader import grade as _grade
    return _grade(*args, **kwargs)
