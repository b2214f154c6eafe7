"""The site's machinery without building it: Colab notebooks of the book, the model map, the
bibliography, and the Sphinx extension that hides solutions (tools/sphinx_site.py)."""
import json
import pathlib
import re
import types

import pytest
import yaml

import pair_notebooks
import sphinx_site

ROOT = pathlib.Path(__file__).resolve().parents[1]


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]


# ----------------------------------------------------------------------------- Colab
def test_markdown_chapters_have_paired_notebooks_in_sync():
    """A MyST-markdown chapter's .ipynb (what Colab opens) has exactly the .md's cells."""
    stale = [p.relative_to(ROOT).as_posix() for p, text in pair_notebooks.paired_notebooks().items()
             if not p.exists() or p.read_text(encoding="utf-8") != text]
    assert not stale, f"out of date: {stale}; run: python tools/pair_notebooks.py"


def test_every_book_notebook_installs_the_package_in_colab():
    missing = [p.relative_to(ROOT).as_posix() for p in pair_notebooks.plain_notebooks()
               if not pair_notebooks.first_cell_is_install_cell(json.loads(p.read_text()))]
    assert not missing, f"no Colab install cell first: {missing}; run: python tools/pair_notebooks.py"


def test_every_toc_page_that_runs_code_has_a_notebook_for_colab():
    for f in toc_files():
        md, nb = ROOT / f"{f}.md", ROOT / f"{f}.ipynb"
        if md.exists() and pair_notebooks.is_myst_notebook(md.read_text()):
            assert nb.exists(), f"{f}.md runs code but has no {f}.ipynb for the Colab button"
        else:
            assert md.exists() or nb.exists(), f"_toc.yml names {f}, which has no .md or .ipynb"


def test_paired_notebook_matches_its_markdown_cell_by_cell(tmp_path):
    md = tmp_path / "page.md"
    md.write_text("---\nkernelspec:\n  name: python3\n  display_name: Python 3\n---\n\n# Title\n\n"
                  "```{code-cell} ipython3\n:tags: [solution]\nx = 1\n```\n\nText.\n")
    nb = pair_notebooks.with_install_cell(pair_notebooks.myst_to_notebook(md.read_text(), md))
    kinds = [(c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
             for c in nb["cells"]]
    assert kinds[0][0] == "code" and "pip" in kinds[0][1]
    assert kinds[1:] == [("markdown", "# Title"), ("code", "x = 1"), ("markdown", "Text.")]
    assert nb["cells"][2]["metadata"]["tags"] == ["solution"]
    assert "[viz] @ git+" in kinds[0][1]


# ----------------------------------------------------------------------------- model map
MAP = (ROOT / "book" / "model_map.md").read_text()
ROWS = [ln for ln in MAP.splitlines() if ln.startswith("|") and not ln.startswith("| ---")][1:]


def cells(row):
    return [c.strip() for c in row.strip("|").split("|")]


@pytest.mark.parametrize("row", ROWS, ids=[cells(r)[1][:20] for r in ROWS])
def test_model_map_row_is_true(row):
    c = cells(row)
    status, files = c[-1], re.findall(r"`([\w/]+\.py)`", c[-3] + " " + c[-2])
    assert status in ("exists", "planned"), f"status must be exists or planned: {c}"
    module = re.search(r"`(refimpl/[\w/]+\.py)`", c[-3]).group(1)
    if status == "exists":
        missing = [f for f in files if not (ROOT / f).exists()]
        assert not missing, f"{c[1]}: marked exists but {missing} are missing"
    else:
        assert not (ROOT / module).exists(), f"{c[1]}: {module} exists now; mark the row 'exists' and link its tests"


def test_model_map_lists_every_model_module():
    listed = set(re.findall(r"`(refimpl/[\w/]+\.py)`", MAP))
    present = {f"refimpl/models/{p.stem}.py" for p in (ROOT / "refimpl" / "models").glob("*.py")
               if p.stem not in ("__init__", "base")}
    assert "refimpl/models/schnet.py" in present, "the model folder moved: update this test"
    assert present <= listed, f"model modules missing from book/model_map.md: {sorted(present - listed)}"


# ----------------------------------------------------------------------------- bibliography
BIB = (ROOT / "references.bib").read_text()
KEYS = set(re.findall(r"^@\w+\{([^,]+),", BIB, re.MULTILINE))


LECTURE_WORKS = ("bronstein2021geometric", "kipf2017semi", "schutt2017schnet", "gasteiger2020directional",
                 "schutt2021equivariant", "jing2021learning", "satorras2021en", "geiger2022e3nn",
                 "batzner2022e3", "duval2023hitchhiker", "joshi2023expressive")
CITE = re.compile(r"\{cite(?::\w+)?\}`([^`]+)`")


def test_bibliography_holds_the_works_the_lectures_cite():
    for key in LECTURE_WORKS:
        assert key in KEYS, key


def cited_keys(text):
    return {k.strip() for group in CITE.findall(text) for k in group.split(",")}


def page_prose(f, root=ROOT):
    """The text of _toc.yml page f where a {cite} renders: the .md source, else the notebook's markdown cells."""
    md, nb = root / f"{f}.md", root / f"{f}.ipynb"
    if md.exists():
        return md.read_text()
    cells = json.loads(nb.read_text())["cells"] if nb.exists() else []   # a missing page fails its own test
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def test_every_work_in_the_bibliography_is_cited_where_the_book_uses_it():
    """book/references.md prints all of references.bib (`:all:`); that list is honest only if every
    entry, and every work the lectures rely on, is cited with {cite} on some page of _toc.yml."""
    cited = set().union(*(cited_keys(page_prose(f)) for f in toc_files()))
    uncited = sorted((KEYS | set(LECTURE_WORKS)) - cited)
    assert not uncited, f"never cited on a page of _toc.yml: {uncited}; cite them where the text uses them"


def test_cited_keys_reads_the_cite_roles_and_only_markdown_cells(tmp_path):
    assert cited_keys("GCN {cite:t}`kipf2017semi`, see {cite}`a2020x, b2021y` and `cite` alone") == {
        "kipf2017semi", "a2020x", "b2021y"}
    nb = {"cells": [{"cell_type": "markdown", "source": ["As {cite}`md2020`."]},
                    {"cell_type": "code", "source": ["# {cite}`code2020`"]}]}
    (tmp_path / "page.ipynb").write_text(json.dumps(nb))
    assert cited_keys(page_prose("page", tmp_path)) == {"md2020"}


def test_every_citation_of_the_book_is_in_the_bibliography():
    cited = set()
    for path in list((ROOT / "book").glob("*.md")) + list((ROOT / "book").glob("*.ipynb")):
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", path.read_text()):
            cited |= {k.strip() for k in group.split(",")}
    assert cited, "no page cites anything"
    assert cited <= KEYS, f"cited but not in references.bib: {sorted(cited - KEYS)}"


# ----------------------------------------------------------------------------- solutions, student edition
def fake_app(suffix):
    env = types.SimpleNamespace(doc2path=lambda docname: f"/book/{docname}{suffix}")
    return types.SimpleNamespace(env=env)


NB = {"cells": [{"cell_type": "code", "metadata": {"tags": ["solution"]}, "source": "x = 1"},
                {"cell_type": "code", "metadata": {}, "source": "y = 2"}]}


@pytest.mark.parametrize("student, tag", [(False, "hide-input"), (True, "remove-cell")])
def test_solution_cells_fold_or_disappear_in_the_student_edition(monkeypatch, student, tag):
    monkeypatch.setenv("GGNN_STUDENT_EDITION", "1" if student else "")
    source = [json.dumps(NB)]
    sphinx_site.on_source_read(fake_app(".ipynb"), "ch", source)
    tags = [c["metadata"].get("tags", []) for c in json.loads(source[0])["cells"]]
    assert tags == [["solution", tag], []]
    md = ["```{code-cell} ipython3\n:tags: [solution]\nx = 1\n```\n"]
    sphinx_site.on_source_read(fake_app(".md"), "ch", md)
    assert f":tags: [solution, {tag}]" in md[0]


SOLUTION_PAGES = sorted((ROOT / "book").glob("solutions_*.ipynb"))
REGION = re.compile(r"^[ \t]*# BEGIN SOLUTION[ \t]*\n(.*?)^[ \t]*# END SOLUTION", re.MULTILINE | re.DOTALL)


def solution_regions(name):
    """The code lines of every solution region of solutions/NAME.ipynb (hints and blank lines left out)."""
    nb = json.loads((ROOT / "solutions" / f"{name}.ipynb").read_text())
    bodies = [m.group(1) for c in nb["cells"] if c["cell_type"] == "code" for m in REGION.finditer("".join(c["source"]))]
    return [{ln for ln in b.splitlines() if ln.strip() and not ln.strip().startswith("# HINT:")} for b in bodies]


def test_every_solution_notebook_has_a_page():
    names = {p.stem.removeprefix("solutions_") for p in SOLUTION_PAGES}
    assert names and names == {p.stem for p in (ROOT / "solutions").glob("*.ipynb")}


@pytest.mark.parametrize("student", [False, True], ids=["site", "student"])
@pytest.mark.parametrize("page", SOLUTION_PAGES, ids=[p.stem for p in SOLUTION_PAGES])
def test_solutions_pages_fold_every_solution_and_the_student_edition_removes_it(monkeypatch, page, student):
    """Each solution region of solutions/NAME.ipynb is in a cell of book/solutions_NAME.ipynb that
    the site folds into a "Show solution" toggle and the student edition removes."""
    monkeypatch.setenv("GGNN_STUDENT_EDITION", "1" if student else "0")
    source = [page.read_text()]
    sphinx_site.on_source_read(fake_app(".ipynb"), f"book/{page.stem}", source)
    cells = json.loads(source[0])["cells"]
    regions = solution_regions(page.stem.removeprefix("solutions_"))
    assert regions, f"solutions/{page.stem} has no solution region"
    for body in regions:
        holders = [c for c in cells if body <= set("".join(c["source"]).splitlines())]
        assert holders, f"{page.name}: no cell holds the solution\n{sorted(body)}"
        for c in holders:
            tags = c["metadata"].get("tags", [])
            if student:
                assert "remove-cell" in tags, f"{page.name}: shown in the student edition:\n{sorted(body)}"
            else:
                assert "hide-input" in tags and "remove-cell" not in tags, f"{page.name}: not a toggle:\n{sorted(body)}"
                assert c["metadata"]["mystnb"]["code_prompt_show"] == "Show solution"


@pytest.mark.parametrize("student", [False, True])
def test_student_edition_hides_sphinx_exercise_solutions(monkeypatch, student):
    monkeypatch.setenv("GGNN_STUDENT_EDITION", "1" if student else "0")
    config = types.SimpleNamespace(exclude_patterns=[], hide_solutions=False, mathjax_path=None)
    monkeypatch.setattr(sphinx_site, "ensure_node_modules", lambda root: None)
    sphinx_site.on_config_inited(types.SimpleNamespace(confdir=str(ROOT)), config)
    assert config.hide_solutions is student
    assert config.mathjax_path == sphinx_site.MATHJAX
    paired = [p.with_suffix(".ipynb").relative_to(ROOT).as_posix() for p in pair_notebooks.paired_notebooks()]
    assert set(paired) <= set(config.exclude_patterns)


def test_vendored_libraries_are_locked_and_installed_by_npm():
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert "resolved" not in json.dumps(lock), "package-lock.json must not record download addresses"
    locked = sphinx_site.locked_versions(ROOT)
    assert set(locked) == {"3dmol", "mathjax"}
    assert {pkg for pkg, _, _ in sphinx_site.VENDOR.values()} == set(locked)


# ----------------------------------------------------------------------------- opened alone
LAYOUT = re.compile(r"sys\.path|os\.chdir|['\"]\.\./|refimpl/data|__file__|['\"](?:book|solutions|exercises|tests|tools)/")


def test_notebooks_do_not_depend_on_the_repository_layout():
    """A notebook opened alone (Colab, a download) finds its data through the installed package
    (refimpl.data.datasets), never through paths into this repository."""
    found = []
    for folder in ("book", "solutions", "exercises"):
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            for k, cell in enumerate(json.loads(path.read_text())["cells"]):
                text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                if cell["cell_type"] == "code" and LAYOUT.search(text):
                    found.append(f"{folder}/{path.name} cell {k}: {LAYOUT.search(text).group(0)!r}")
    assert not found, "paths into the repository:\n" + "\n".join(found)


def test_layout_pattern_catches_repository_paths():
    for bad in ['np.load("../refimpl/data/x.npz")', "sys.path.insert(0, '..')", 'open("solutions/a.ipynb")']:
        assert LAYOUT.search(bad), bad
    assert not LAYOUT.search('datasets.load_molecule("ethanol")')


def test_ci_runs_the_slow_site_tests_explicitly():
    """The browser, student-edition and Colab-like tests skip unless asked; .ci/run (and so both workflows) asks."""
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^GGNN_BROWSER_TEST=1 python -m pytest .*tests/test_site_browser\.py", ci, re.MULTILINE)
    assert re.search(r"^GGNN_COLAB_TEST=1 python -m pytest .*tests/test_colab_like\.py", ci, re.MULTILINE)
    assert ci.index("tools/build_book.sh") < ci.index("tests/test_site_browser.py")
    assert re.search(r"^GGNN_STUDENT_EDITION=1 bash tools/build_book.sh --path-output _build/student$", ci, re.MULTILINE)
    assert re.search(r"^GGNN_STUDENT_SITE=_build/student/_build/html python -m pytest .*tests/test_site_student\.py",
                     ci, re.MULTILINE)
    for workflow in ("tests.yml", "pages.yml"):
        assert "bash .ci/run" in (ROOT / ".github" / "workflows" / workflow).read_text(), workflow
