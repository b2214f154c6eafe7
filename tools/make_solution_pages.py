"""Generate book/solutions_NAME.ipynb, the book's page of solutions/NAME.ipynb.

The page is the solved exercise notebook for self-learners: a short introduction (which chapters,
the exercise notebook in Colab, try first), then the solution notebook's cells. Every code cell that
holds a solution region (``# BEGIN SOLUTION`` ... ``# END SOLUTION``, see make_exercises.py) is
tagged ``solution``: tools/sphinx_site.py folds it into a "Show solution" toggle, and removes it in
the student edition (``GGNN_STUDENT_EDITION=1``). On the page the region markers are dropped (the
hints stay as comments), and so is the "How to work" paragraph, which is about the exercise
notebook. The first cell is the book's hidden install cell (tools/pair_notebooks.py), so the page's
Colab button opens a notebook that runs. The pages are executed by the book build (a few seconds).

The student edition builds ``student_page(NAME)`` in place of the page (tools/sphinx_site.py): the
exercise statements of exercises/NAME.ipynb and a note that this edition has no solutions, no
code and so no solved output; its Colab button and download open the exercise notebook.

    python tools/make_solution_pages.py          # write the pages (make_exercises.py does it too)
    python tools/make_solution_pages.py --check  # exit 1 if a page is out of date (used by the tests)
"""
import argparse
import copy
import re
import sys

import yaml

from make_exercises import BEGIN, END
from notebooks import ROOT, clean, dumps, read, set_source, source, sync
from pair_notebooks import with_install_cell

PREFIX = "solutions_"
TITLE = re.compile(r"^#\s+(?:Exercises:\s*)?(.+?)\s*$")
HOW_TO_WORK = "**How to work.**"


def page_path(name):
    return ROOT / "book" / f"{PREFIX}{name}.ipynb"


def colab_link(name):
    """The Colab address of exercises/NAME.ipynb, as the chapters write it."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]["url"].removeprefix("https://github.com/").strip("/")
    colab = config["launch_buttons"]["colab_url"].rstrip("/")
    return f"{colab}/github/{repo}/blob/{config['repository'].get('branch', 'main')}/exercises/{name}.ipynb"


def page_text(path):
    """The markdown of a book page (.md, or the markdown cells of an .ipynb)."""
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8")
    return "\n".join(source(c) for c in read(path)["cells"] if c["cell_type"] == "markdown")


def chapters_linking(name):
    """[(title, file name)] of the book's chapters that link exercises/NAME.ipynb in Colab, in _toc.yml order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    link, found = colab_link(name), []
    for f in files:
        if f.startswith(f"book/{PREFIX}"):
            continue
        path = next((p for p in (ROOT / f"{f}.md", ROOT / f"{f}.ipynb") if p.exists()), None)
        text = page_text(path) if path else ""
        if link in text:
            title = next((m.group(1) for line in text.splitlines() if (m := TITLE.match(line))), path.stem)
            found.append((title, path.name))
    return found


def solution_code(text):
    """A cell's text without its solution-region marker lines."""
    return "\n".join(line for line in text.splitlines() if not (BEGIN.match(line) or END.match(line)))


def intro_cell(name, title, chapters):
    if chapters:
        links = [f"[{t}]({f})" for t, f in chapters]
        which = ("the chapter " if len(links) == 1 else "the chapters ") + \
            (links[0] if len(links) == 1 else ", ".join(links[:-1]) + " and " + links[-1])
    else:
        which = "the course"
    text = (f"# Solutions: {title}\n\n"
            f"Worked solutions of the exercises for {which}. Try each exercise first in the "
            f"[exercise notebook]({colab_link(name)}) (it opens in Colab); then open the "
            "solution under its statement here. The check cell after each solution runs the same "
            "public checks as your notebook.\n\n"
            f"<!-- Generated from solutions/{name}.ipynb by tools/make_solution_pages.py: edit the "
            "solution, not this file. -->")
    cell = {"cell_type": "markdown", "metadata": {}, "id": "solutions-page-intro"}
    set_source(cell, text)
    return cell


def make_page(solution_nb, name):
    """The book page (notebook dict) of a solution notebook."""
    nb = copy.deepcopy(solution_nb)
    cells = [c for c in nb["cells"] if "colab-install" not in (c.get("metadata") or {}).get("tags", [])]
    title, n_solutions = name, 0
    for cell in cells:
        text = source(cell)
        tags = [t for t in (cell.get("metadata") or {}).get("tags", []) if t != "raises-in-exercise"]
        if cell["cell_type"] == "code" and "# BEGIN SOLUTION" in text:
            set_source(cell, solution_code(text))
            tags = tags + ["solution"] if "solution" not in tags else tags
            n_solutions += 1
        cell["metadata"] = {"tags": tags} if tags else {}
    first = next((c for c in cells if c["cell_type"] == "markdown"), None)
    if first is not None:
        lines = source(first).splitlines()
        if lines and TITLE.match(lines[0]):       # the notebook's title becomes the page's
            title, lines = TITLE.match(lines[0]).group(1), lines[1:]
        paragraphs = [p for p in "\n".join(lines).split("\n\n") if p.strip() and not p.startswith(HOW_TO_WORK)]
        set_source(first, "\n\n".join(p.strip("\n") for p in paragraphs))
        if not paragraphs:
            cells.remove(first)
    if n_solutions == 0:
        raise SystemExit(f"solutions/{name}.ipynb: no '# BEGIN SOLUTION' region, so there is no solution to show")
    nb["cells"] = [intro_cell(name, title, chapters_linking(name))] + cells
    return clean(with_install_cell(nb))


STUDENT_NOTE = ("This edition of the course publishes the exercises without their solutions. Work "
                "them in the [exercise notebook]({link}) (it opens in Colab): its check cells tell you "
                "whether your code is right. The statements are repeated here for reference.")


def student_page(name):
    """The student edition's page for exercises/NAME.ipynb: its title, a note that there are no
    solutions here, and the exercise notebook's markdown cells (the statements; no code, no output)."""
    nb = read(ROOT / "exercises" / f"{name}.ipynb")
    cells = [c for c in nb["cells"] if c["cell_type"] == "markdown"
             and not source(c).lstrip().startswith("*Exercise notebook, generated")]
    title = name
    if cells and TITLE.match(source(cells[0]).splitlines()[0]):
        lines = source(cells[0]).splitlines()
        title = TITLE.match(lines[0]).group(1)
        set_source(cells[0], "\n".join(lines[1:]).strip("\n"))
    intro = {"cell_type": "markdown", "metadata": {}, "id": "student-page-intro"}
    set_source(intro, f"# Exercises: {title}\n\n" + STUDENT_NOTE.format(link=colab_link(name)))
    nb = {"cells": [intro] + [c for c in cells if source(c).strip()], "nbformat": 4, "nbformat_minor": 5}
    return clean(nb)


def expected_pages():
    """{book/solutions_NAME.ipynb: its text} for every solutions/NAME.ipynb."""
    return {page_path(p.stem): dumps(make_page(read(p), p.stem))
            for p in sorted((ROOT / "solutions").glob("*.ipynb"))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report out-of-date pages; exit 1 if any")
    args = parser.parse_args(argv)
    pages = expected_pages()
    orphans = [p for p in sorted((ROOT / "book").glob(f"{PREFIX}*.ipynb")) if p not in pages]
    return sync(pages, orphans, args.check)


if __name__ == "__main__":
    sys.exit(main())
