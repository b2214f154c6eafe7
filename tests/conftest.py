import functools
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(pathlib.Path(__file__).parent))  # so tests can `import registry`
sys.path.insert(0, str(ROOT / "tools"))                  # so tests can import the notebook tools


def pytest_addoption(parser):
    parser.addoption("--submission", default=None, metavar="PATH",
                     help="grade this notebook (.ipynb) or .py export with the exercise tests "
                          "(default: the solution notebook of each test module)")


@functools.lru_cache(maxsize=None)
def _load(path):
    from coursework.checks import load_namespace
    return load_namespace(path)


@pytest.fixture(scope="module")
def student(request):
    """The namespace of the submission under test: --submission, or solutions/<NOTEBOOK>.ipynb."""
    path = request.config.getoption("--submission") or str(ROOT / "solutions" / f"{request.module.NOTEBOOK}.ipynb")
    namespace, errors = _load(str(pathlib.Path(path).resolve()))
    if errors:
        print(f"cells of {path} that raised while loading:\n  " + "\n  ".join(errors))
    return namespace
