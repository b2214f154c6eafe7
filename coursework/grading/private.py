"""Instructors' private tests: python files in a folder that register more (hidden) checks.

A file in the folder imports the registry and adds checks, exactly as ``coursework/checks/nbXX_*.py``
do, to an existing exercise or to a new one::

    from coursework.checks import EXERCISES, expect_array, student_function
    EXERCISES["scatter_sum"].add("a 3-D src", make_inputs, run, verify)

Every check added this way is marked private (``public=False``) whatever the file says, so it
never runs in a student's ``check(...)``; the notebooks never load these files anyway.
"""
import contextlib
import importlib.util
import pathlib
import sys

from coursework.checks import EXERCISES, load_all


def _import_file(path, k):
    name = f"_private_tests_{k}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return name


def load_private_tests(folder):
    """Import every ``*.py`` of ``folder`` (sorted by name); return the module names imported.

    Raises ValueError naming the folder when it does not exist; an error inside a file
    propagates (the instructor's tests must not fail silently).
    """
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise ValueError(f"private_tests: no folder at {folder}")
    load_all()
    before = {name: {id(c) for c in ex.checks} for name, ex in EXERCISES.items()}
    names = [_import_file(path, k) for k, path in enumerate(sorted(folder.glob("*.py")))]
    for name, ex in EXERCISES.items():
        for c in ex.checks:
            if id(c) not in before.get(name, ()):
                c.public = False
    return names


@contextlib.contextmanager
def private_tests(folder):
    """Load the private tests of ``folder`` (None: none) for the duration of a ``with`` block."""
    load_all()
    saved = {name: (ex, list(ex.checks)) for name, ex in EXERCISES.items()}
    modules = []
    try:
        if folder is not None:
            modules = load_private_tests(folder)
        yield
    finally:
        for name in list(EXERCISES):
            if name not in saved:
                del EXERCISES[name]
        for name, (ex, checks) in saved.items():
            EXERCISES[name] = ex
            ex.checks[:] = checks
        for m in modules:
            sys.modules.pop(m, None)
