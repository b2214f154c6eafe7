"""Generate exercises/NAME.ipynb from solutions/NAME.ipynb (the single source).

In a solution notebook, code between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` is what the
student writes. It becomes ``raise NotImplementedError("<hint>")`` at the same indentation,
the hint taken from ``# HINT: ...`` lines inside the region. Cells tagged
``raises-in-exercise`` get nbval's ``raises-exception`` tag. The first cell of both
notebooks is the install cell (tag ``colab-install``), written from ``course.package_url``
in ``_config.yml``.

It also writes the book's solutions pages, book/solutions_NAME.ipynb (tools/make_solution_pages.py).

    python tools/make_exercises.py          # write exercises/ and the solutions pages
                                            # (and fix the solutions' install cell)
    python tools/make_exercises.py --check  # exit 1 if anything is out of date (used by the tests)
"""
import argparse
import copy
import re
import sys

import yaml

from notebooks import ROOT, clean, dumps, read, set_source, source, sync

BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
HINT = re.compile(r"^\s*# HINT:\s*(.*)$")

INSTALL_TEMPLATE = '''\
# Setup: on Google Colab this installs the course package (about 30 s); elsewhere it does nothing.
import os, subprocess, sys
if "google.colab" in sys.modules or os.environ.get("GGNN_INSTALL_FROM"):
    package = os.environ.get("GGNN_INSTALL_FROM", "{url}")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)'''


def package_url():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    try:
        return config["course"]["package_url"]
    except (KeyError, TypeError):
        raise SystemExit("_config.yml: expected course.package_url (the pip URL the exercises install)")


def install_cell(url):
    cell = {"cell_type": "code", "metadata": {"tags": ["colab-install"]}, "outputs": [],
            "execution_count": None, "id": "colab-install"}
    set_source(cell, INSTALL_TEMPLATE.format(url=url))
    return cell


def strip_solutions(text, where):
    """Replace every solution region of a cell's text by a NotImplementedError stub."""
    out, region, hints, indent = [], False, [], ""
    for n, line in enumerate(text.splitlines(), 1):
        if BEGIN.match(line):
            if region:
                raise SystemExit(f"{where}, line {n}: BEGIN SOLUTION inside another solution region")
            region, hints, indent = True, [], BEGIN.match(line).group(1)
        elif END.match(line):
            if not region:
                raise SystemExit(f"{where}, line {n}: END SOLUTION without a BEGIN SOLUTION")
            hint = " ".join(hints) or "write this part"
            out.append(f"{indent}raise NotImplementedError({('Exercise: ' + hint)!r})")
            region = False
        elif region:
            m = HINT.match(line)
            if m:
                hints.append(m.group(1).strip())
        else:
            out.append(line)
    if region:
        raise SystemExit(f"{where}: BEGIN SOLUTION is never closed by END SOLUTION")
    return "\n".join(out)


def with_install_cell(nb, url):
    cells = nb["cells"]
    first_tags = (cells[0].get("metadata") or {}).get("tags", []) if cells else []
    if cells and "colab-install" in first_tags:
        cells[0] = install_cell(url)
    else:
        cells.insert(0, install_cell(url))
    return nb


def make_exercise(solution_nb, name):
    nb = copy.deepcopy(solution_nb)
    n_regions = 0
    for k, cell in enumerate(nb["cells"]):
        text = source(cell)
        if cell["cell_type"] == "code" and "# BEGIN SOLUTION" in text:
            n_regions += text.count("# BEGIN SOLUTION")
            set_source(cell, strip_solutions(text, f"solutions/{name}.ipynb cell {k}"))
        tags = list((cell.get("metadata") or {}).get("tags", []))
        if "raises-in-exercise" in tags:
            tags = [t for t in tags if t != "raises-in-exercise"] + ["raises-exception"]
        cell["metadata"] = {"tags": tags} if tags else {}
    if n_regions == 0:
        raise SystemExit(f"solutions/{name}.ipynb: no '# BEGIN SOLUTION' region, so there is nothing to exercise")
    banner = {"cell_type": "markdown", "metadata": {}, "id": "generated-banner",
              "source": [f"*Exercise notebook, generated from `solutions/{name}.ipynb` by "
                         "`tools/make_exercises.py`: edit the solution, not this file.*"]}
    nb["cells"].insert(1, banner)
    return clean(nb)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report out-of-date files; exit 1 if any")
    args = parser.parse_args(argv)
    url = package_url()
    (ROOT / "exercises").mkdir(exist_ok=True)
    solutions = sorted((ROOT / "solutions").glob("*.ipynb"))
    targets = {}
    for path in solutions:
        sol = clean(with_install_cell(read(path), url))
        targets[path] = dumps(sol)
        targets[ROOT / "exercises" / path.name] = dumps(make_exercise(sol, path.stem))
    expected = {p.name for p in solutions}
    orphans = [p for p in sorted((ROOT / "exercises").glob("*.ipynb")) if p.name not in expected]
    status = sync(targets, orphans, args.check)
    import make_solution_pages   # here, not at the top: it imports this module
    pages = make_solution_pages.main(["--check"] if args.check else [])
    return 1 if (status or pages) else 0


if __name__ == "__main__":
    sys.exit(main())
