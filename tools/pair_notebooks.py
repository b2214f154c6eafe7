"""Make every book page that runs code open in Colab.

Colab opens .ipynb files only. For a chapter written as MyST markdown (``book/NAME.md`` with a
``kernelspec`` in its front matter) this writes ``book/NAME.ipynb`` with the same cells, read by
myst-nb's own reader (the book builds the .md; the Colab button opens the .ipynb). Every book
notebook starts with the Colab install cell (tags ``colab-install`` and ``remove-cell``: it runs,
but the book does not show it), which installs the course package with its 3D-view extra.

    python tools/pair_notebooks.py          # write the paired .ipynb, add missing install cells
    python tools/pair_notebooks.py --check  # exit 1 if anything is out of date (used by the tests)
"""
import argparse
import re
import sys
import tomllib

from make_exercises import install_cell, package_url
from notebooks import ROOT, clean, dumps, read, source

FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
INSTALL_TAGS = ["colab-install", "remove-cell"]


def book_install_cell():
    """The exercises' install cell, installing ``NAME[viz] @ URL`` so py3Dmol >= 2.0 comes along."""
    url = package_url()
    name = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
    cell = install_cell(f"{name}[viz] @ {url}" if url.startswith("git+") else url)
    cell["metadata"] = {"tags": list(INSTALL_TAGS)}
    return cell


def is_myst_notebook(text):
    m = FRONT_MATTER.match(text)
    return bool(m and re.search(r"^kernelspec:", m.group(1), re.MULTILINE))


def myst_to_notebook(text, path):
    """The notebook (dict) of a MyST-markdown page: myst-nb's reader, cleaned, stable cell ids."""
    from myst_nb.core.read import read_myst_markdown_notebook

    nb = read_myst_markdown_notebook(text, path=str(path))
    nb = {"cells": [dict(c) for c in nb["cells"]], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    for k, cell in enumerate(nb["cells"]):
        cell["metadata"] = dict(cell.get("metadata") or {})
        cell["id"] = f"cell-{k}"
        cell.pop("attachments", None)
    return nb


def with_install_cell(nb):
    cells = nb["cells"]
    cell = book_install_cell()
    if cells and "colab-install" in (cells[0].get("metadata") or {}).get("tags", []):
        cells[0] = cell
    else:
        cells.insert(0, cell)
    return nb


def paired_notebooks():
    """{book/NAME.ipynb: its text as written from book/NAME.md} for every MyST-markdown notebook."""
    out = {}
    for md in sorted(ROOT.glob("book/**/*.md")):
        text = md.read_text(encoding="utf-8")
        if is_myst_notebook(text):
            out[md.with_suffix(".ipynb")] = dumps(clean(with_install_cell(myst_to_notebook(text, md))))
    return out


def plain_notebooks():
    """Book notebooks written as .ipynb (no .md source)."""
    return [p for p in sorted(ROOT.glob("book/**/*.ipynb"))
            if not p.with_suffix(".md").exists() and ".ipynb_checkpoints" not in p.parts]


def first_cell_is_install_cell(nb):
    cells = nb.get("cells", [])
    return bool(cells) and source(cells[0]) == source(book_install_cell()) and \
        (cells[0].get("metadata") or {}).get("tags") == INSTALL_TAGS


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report out-of-date notebooks; exit 1 if any")
    args = parser.parse_args(argv)
    stale = []
    for path, text in paired_notebooks().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    for path in plain_notebooks():
        nb = read(path)
        if not first_cell_is_install_cell(nb):
            stale.append(path)
            if not args.check:
                path.write_text(dumps(with_install_cell(nb)), encoding="utf-8")
    for p in stale:
        print(("out of date: " if args.check else "wrote: ") + str(p.relative_to(ROOT)))
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
