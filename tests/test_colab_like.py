"""Every exercise notebook runs, solved, in a fresh Colab-like environment.

Colab gives a notebook a Python with numpy, scipy and matplotlib (and a Jupyter kernel) but not
this course; the notebook's first cell installs the package. Here: a new virtual environment
with only numpy, scipy, matplotlib (the pins of requirements.txt) and ipykernel; the notebook is
copied alone into an empty folder (no repository next to it) and run top to bottom by a kernel of
that environment. Its install cell runs as on Colab, but installs a copy of the working tree's
package (``GGNN_INSTALL_FROM``) instead of the GitHub URL, so it tests the code under review.
Afterwards ``refimpl`` must come from that environment, not from the repository.

Slow (one environment per notebook), so it runs only when asked, as ``.ci/run`` does:

    GGNN_COLAB_TEST=1 python -m pytest tests/test_colab_like.py

Once asked, nothing is skipped.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
ENABLED = os.environ.get("GGNN_COLAB_TEST", "") not in ("", "0")
PREINSTALLED = ("numpy", "scipy", "matplotlib", "ipykernel")
NOTEBOOKS = sorted(p.name for p in (ROOT / "solutions").glob("*.ipynb"))

pytestmark = pytest.mark.skipif(not ENABLED, reason="Colab-like test: run by .ci/run (set GGNN_COLAB_TEST=1)")


def pins():
    """The exact versions requirements.txt gives the preinstalled packages."""
    text = (ROOT / "requirements.txt").read_text()
    found = {name: re.search(rf"^{name}==([^\s#]+)", text, re.MULTILINE) for name in PREINSTALLED}
    missing = [n for n, m in found.items() if m is None]
    assert not missing, f"requirements.txt has no exact pin for {missing}"
    return [f"{n}=={m.group(1)}" for n, m in found.items()]


def run(cmd, **kw):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def base_env(tmp_path_factory):
    """A virtual environment with only what Colab preinstalls that we rely on."""
    env = tmp_path_factory.mktemp("colab") / "base"
    run([sys.executable, "-m", "venv", env])
    run([env / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", *pins()])
    return env


@pytest.fixture(scope="module")
def package_source(tmp_path_factory):
    """A copy of the working tree's package (what `pip install <repo>` would build)."""
    src = tmp_path_factory.mktemp("src") / "geometric-gnns-from-scratch"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for package in ("refimpl", "coursework"):          # the library and the checks students call
        shutil.copytree(ROOT / package, src / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return src


def kernel_for(env, jupyter_dir):
    spec = jupyter_dir / "kernels" / "colablike"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(env / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab-like", "language": "python"}))
    return "colablike"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_solution_runs_in_a_fresh_colab_like_environment(base_env, package_source, name, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    env = tmp_path / "env"
    shutil.copytree(base_env, env, symlinks=True)          # a fresh copy: one environment per notebook
    workdir = tmp_path / "content"                         # like Colab's /content: the notebook alone
    workdir.mkdir()
    shutil.copy2(ROOT / "solutions" / name, workdir / name)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("GGNN_INSTALL_FROM", str(package_source))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for var in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"):
        monkeypatch.delenv(var, raising=False)
    kernel = kernel_for(env, tmp_path / "jupyter")

    nb = nbformat.read(workdir / name, as_version=4)
    first = nb.cells[0]
    assert "colab-install" in first.metadata.get("tags", []), f"{name}: the first cell is not the install cell"
    client = NotebookClient(nb, kernel_name=kernel, timeout=900, resources={"metadata": {"path": str(workdir)}})
    client.execute()                                       # raises CellExecutionError on any failing cell

    for package in ("refimpl", "coursework"):
        where = run([env / "bin" / "python", "-c", f"import {package}; print({package}.__file__)"], cwd=workdir).strip()
        assert pathlib.Path(where).is_relative_to(env), f"{package} came from {where}, not from the fresh environment"
    data = run([env / "bin" / "python", "-c",
                "from importlib import resources; print(sorted(p.name for p in (resources.files('refimpl') / 'data').iterdir()))"])
    shipped = sorted(p.name for p in (ROOT / "refimpl" / "data").iterdir() if p.suffix in (".npz", ".json"))
    assert all(f in data for f in shipped), f"data files not installed with the package: {shipped} vs {data}"
