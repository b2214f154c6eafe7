"""Grade exercise submissions with the exercise checks, running student code in sandboxed processes.

    python -m coursework.grading SUBMISSIONS... --out DIR [--overwrite] [--jobs N] [--private-tests DIR]
                              [--timeout S] [--memory MB] [--notebook NAME] [--roster CSV] [--salt-file FILE]

``coursework.grading.grader`` is the parent (never runs student code): ``submissions`` finds the files,
reads each once into a private snapshot and tells whose and which notebook it is; ``protect`` holds
the output folder, the course's secret salt, the read-only course copy and the signal guard;
``modes`` decides (and says in one line) which isolation the run gets; ``sandbox`` starts one child
per submission and exercise; ``_child`` is that child, ``jail`` its private view of the machine and
throwaway user (as root), ``monitor`` its watch on reference calls; ``transfer`` carries plain data
between them; ``outcomes`` decides the points and ``report`` writes the gradebook, the feedback and
Gradescope's ``results.json``. The book's page *For instructors* explains how to use it and what
the isolation does and does not protect against, in each mode.

This package imports nothing heavy on purpose: the child imports it before setting its limits.
"""


def grade(*args, **kwargs):
    """See ``coursework.grading.grader.grade``."""
    from coursework.grading.grader import grade as _grade
    return _grade(*args, **kwargs)
