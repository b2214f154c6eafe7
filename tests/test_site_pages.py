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
    the site folds into a "Show solution" toggle; the student edition's page has none of them."""
    monkeypatch.setenv("GGNN_STUDENT_EDITION", "1" if student else "0")
    source = [page.read_text()]
    sphinx_site.on_source_read(fake_app(".ipynb"), f"book/{page.stem}", source)
    cells = json.loads(source[0])["cells"]
    regions = solution_regions(page.stem.removeprefix("solutions_"))
    assert regions, f"solutions/{page.stem} has no solution region"
    for body in regions:
        holders = [c for c in cells if body <= set("".join(c["source"]).splitlines())]
        if student:     # the page is replaced by the exercise statements (make_solution_pages.student_page)
            assert not holders, f"{page.name}: in the student edition:\n{sorted(body)}"
            continue
        assert holders, f"{page.name}: no cell holds the solution\n{sorted(body)}"
        for c in holders:
            tags = c["metadata"].get("tags", [])
            assert "hide-input" in tags and "remove-cell" not in tags, f"{page.name}: not a toggle:\n{sorted(body)}"
            assert c["metadata"]["mystnb"]["code_prompt_show"] == "Show solution"


@pytest.mark.parametrize("student", [False, True])
def test_student_edition_hides_sphinx_exercise_solutions(monkeypatch, student):
    monkeypatch.setenv("GGNN_STUDENT_EDITION", "1" if student else "0")
    config = types.SimpleNamespace(exclude_patterns=[], hide_solutions=False, mathjax_path=None,
                                   mathjax3_config={"options": {"a": 1}}, html_static_path=[])
    monkeypatch.setattr(sphinx_site, "ensure_node_modules", lambda root: None)
    sphinx_site.on_config_inited(types.SimpleNamespace(confdir=str(ROOT)), config)
    assert config.hide_solutions is student
    assert config.mathjax_path == sphinx_site.MATHJAX
    assert config.mathjax3_config == {"options": {"a": 1}, **sphinx_site.MATHJAX_CONFIG}
    assert config.html_static_path == [str(ROOT / "book" / "_static")]
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


# ----------------------------------------------------------------------------- figures, navigation, assets
import make_solution_pages  # noqa: E402  (tools/ is on the path, as for sphinx_site)
import site_assets  # noqa: E402

FIGURE_CALL = re.compile(r"plt\.(?:show|subplots|figure)\(")


def code_cells(path):
    if path.suffix == ".md":
        return [m.group(2) for m in sphinx_site.CODE_CELL.finditer(path.read_text())]
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def test_every_figure_of_the_book_has_a_caption_and_alt_text():
    """A cell that draws a matplotlib figure starts with ``#| fig-cap:`` and ``#| fig-alt:`` lines
    (tools/sphinx_site.py turns them into the figure's caption and the image's alt text)."""
    missing = []
    for f in toc_files():
        for path in (ROOT / f"{f}.md", ROOT / f"{f}.ipynb"):
            if not path.exists() or (path.suffix == ".ipynb" and (ROOT / f"{f}.md").exists()):
                continue
            for code in code_cells(path):
                if FIGURE_CALL.search(code):
                    _, meta = sphinx_site.figure_options(code)
                    if not meta or "figure" not in meta or "image" not in meta:
                        missing.append(f"{path.name}: {code.splitlines()[0][:70]}")
    assert not missing, "figure cells without '#| fig-cap:' and '#| fig-alt:' lines:\n" + "\n".join(missing)


def test_figure_options_become_caption_and_alt_text_and_leave_the_code():
    code, meta = sphinx_site.figure_options("#| fig-cap: A *curve*.\n#| fig-alt: A line going up.\nplt.plot(x)\n")
    assert code == "plt.plot(x)" and meta == {"figure": {"caption": "A *curve*."}, "image": {"alt": "A line going up."}}
    assert sphinx_site.figure_options("plt.plot(x)  # fig-cap: no") == ("plt.plot(x)  # fig-cap: no", None)
    md = "```{code-cell} ipython3\n:tags: [hide-input]\n#| fig-cap: Cap.\n#| fig-alt: Alt text here.\nplt.show()\n```\n"
    out = sphinx_site.with_figure_options_md(md)
    assert ':tags: [hide-input]\n:mystnb: {"figure": {"caption": "Cap."}, "image": {"alt": "Alt text here."}}\nplt.show()\n```' in out
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "#| fig-cap: Cap.\nplt.show()"}]}
    source = [json.dumps(nb)]
    sphinx_site.on_source_read(fake_app(".ipynb"), "ch", source)
    cell = json.loads(source[0])["cells"][0]
    assert cell["source"] == "plt.show()" and cell["metadata"]["mystnb"] == {"figure": {"caption": "Cap."}}


def test_next_from_a_chapter_skips_the_solutions_pages():
    order = ["book/09", "book/solutions_01_graphs", "book/solutions_02_x", "book/conventions"]
    relations = {d: [None, order[k - 1] if k else None, order[k + 1] if k + 1 < len(order) else None]
                 for k, d in enumerate(order)}
    titles = {d: types.SimpleNamespace(astext=lambda d=d: d.upper()) for d in order}
    app = types.SimpleNamespace(env=types.SimpleNamespace(collect_relations=lambda: relations, titles=titles),
                                builder=types.SimpleNamespace(get_relative_uri=lambda a, b: b + ".html"))
    context = {"next": {"link": "solutions_01_graphs.html"}, "prev": None}
    sphinx_site.skip_solutions_in_prev_next(app, "book/09", None, context, None)
    assert context["next"] == {"link": "book/conventions.html", "title": "BOOK/CONVENTIONS"}
    context = {"prev": {"link": "x"}, "next": None}
    sphinx_site.skip_solutions_in_prev_next(app, "book/conventions", None, context, None)
    assert context["prev"]["link"] == "book/09.html"
    context = {"prev": "p", "next": "n"}            # the solutions pages keep their own neighbours
    sphinx_site.skip_solutions_in_prev_next(app, "book/solutions_02_x", None, context, None)
    assert context == {"prev": "p", "next": "n"}


def test_solutions_part_comes_after_every_chapter_part():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    parts = [[c["file"] for c in p["chapters"]] for p in toc["parts"]]
    solutions = next(k for k, files in enumerate(parts) if any("/solutions_" in f for f in files))
    chapters = [k for k, files in enumerate(parts) if any(re.match(r"book/\d\d_", f) for f in files)]
    assert chapters and max(chapters) < solutions


@pytest.mark.parametrize("page", SOLUTION_PAGES, ids=[p.stem for p in SOLUTION_PAGES])
def test_student_page_has_the_statements_and_no_solution(monkeypatch, page):
    name = page.stem.removeprefix("solutions_")
    nb = make_solution_pages.student_page(name)
    assert {c["cell_type"] for c in nb["cells"]} == {"markdown"}, "a student page runs no code"
    text = "\n".join("".join(c["source"]) for c in nb["cells"])
    assert make_solution_pages.colab_link(name) in text
    exercise = json.loads((ROOT / "exercises" / f"{name}.ipynb").read_text())
    given = "\n".join("".join(c["source"]) for c in exercise["cells"])     # what the exercise itself shows
    solved = {ln.strip() for region in solution_regions(name) for ln in region if len(ln.strip()) > 8}
    assert not [ln for ln in solved if ln in text and ln not in given]
    headings = [ln for c in exercise["cells"] if c["cell_type"] == "markdown"
                for ln in "".join(c["source"]).splitlines() if ln.startswith("## ")]
    assert headings and all(h in text for h in headings), "every exercise statement is on the page"
    monkeypatch.setenv("GGNN_STUDENT_EDITION", "1")
    source = [page.read_text()]
    sphinx_site.on_source_read(fake_app(".ipynb"), f"book/{page.stem}", source)
    assert json.loads(source[0]) == nb


def test_student_edition_colab_button_opens_the_exercise_notebook(monkeypatch):
    url = "https://colab.research.google.com/github/o/r/blob/main/book/solutions_04_schnet.ipynb"
    download = "../_sources/book/solutions_04_schnet.ipynb"
    context = {"header_buttons": [{"type": "group", "buttons": [{"url": url}, {"url": download}]}]}
    for student, expected in [("0", url), ("1", url.replace("book/solutions_04_schnet", "exercises/04_schnet"))]:
        monkeypatch.setenv("GGNN_STUDENT_EDITION", student)
        ctx = json.loads(json.dumps(context))
        sphinx_site.student_links(None, "book/solutions_04_schnet", None, ctx, None)
        assert ctx["header_buttons"][0]["buttons"] == [{"url": expected}, {"url": download}]


FAKE_BUNDLE = ('var p={github:[496,512,[],"f09b","M1 1h2"]};(function(){d("fab",p),d("fa-brands",p)})();'
               'var p={bars:[448,512,["navicon"],"f0c9","M0 0h4"],"magnifying-glass":[512,512,[128269,"search"],'
               '"f002","M5 5h1"]};(function(){d("fas",p),d("fa-solid",p)})();')


def test_icons_become_css_masks_of_exactly_the_icons_used():
    sets = site_assets.fontawesome_icons(FAKE_BUNDLE)
    assert sets["fab"] == {"github": (496, 512, "M1 1h2")}
    assert sets["fas"]["search"] == sets["fas"]["magnifying-glass"] == (512, 512, "M5 5h1")
    used = site_assets.icons_used(['<i class="fab fa-github"></i> <span class="fa-solid fa-bars fa-lg">',
                                   'x.innerHTML = "<i class=\\"fa-solid fa-search\\">"'])
    assert used == {("fab", "github"), ("fas", "bars"), ("fas", "lg"), ("fas", "search")}
    css = site_assets.icon_css(used, sets)
    assert ".fab.fa-github" in css and ".fa-solid.fa-bars" in css and ".fa-solid.fa-search" in css
    assert "fa-lg" not in css.split("}", 1)[1], "a size modifier is not an icon"
    assert css.count("mask-image: url(") == 2 * 3 and "M0 0h4" in css


def test_the_pages_load_no_icon_script(tmp_path):
    (tmp_path / "_static" / "scripts").mkdir(parents=True)
    (tmp_path / "_static" / "scripts" / "fontawesome.js").write_text(FAKE_BUNDLE)
    page = tmp_path / "a.html"
    page.write_text('<head><script defer src="_static/scripts/fontawesome.js?digest=1"></script></head>'
                    '<i class="fa-solid fa-bars"></i>')
    site_assets.finish(None, tmp_path)
    assert "fontawesome.js" not in page.read_text()
    assert not (tmp_path / "_static" / "scripts" / "fontawesome.js").exists()
    assert ".fa-solid.fa-bars" in (tmp_path / "_static" / site_assets.ICON_CSS).read_text()


FIGSIZE = re.compile(r"figsize\s*=\s*\(\s*([0-9.]+)\s*,")


def test_figures_fit_the_column_with_labels_as_large_as_the_text():
    """book/matplotlibrc (read from book/, where the chapters run) sets 12 pt labels at 100 dpi, i.e.
    16.7 px, at least the 16 px body text; a figure at most 6.9 in (690 px) wide shows at that size."""
    rc = dict(ln.split(":", 1) for ln in (ROOT / "book" / "matplotlibrc").read_text().splitlines()
              if ln.strip() and not ln.startswith("#"))
    dpi, size = float(rc["figure.dpi"]), float(rc["font.size"])
    assert size * dpi / 72 >= 16 and 6.9 * dpi <= 700
    wide = [f"{f}: figsize width {w}" for f in toc_files() for path in (ROOT / f"{f}.ipynb", ROOT / f"{f}.md")
            if path.exists() for code in code_cells(path) for w in FIGSIZE.findall(code) if float(w) > 6.9]
    assert not wide, "figures wider than the text column (6.9 in):\n" + "\n".join(wide)


@pytest.mark.parametrize("svg", sorted((ROOT / "book" / "figures").glob("*.svg")), ids=lambda p: p.name)
def test_diagrams_are_valid_svg_that_fit_the_column(svg):
    """A broken SVG shows as its alt text only; one wider than 690 px is shrunk below its natural size."""
    import xml.etree.ElementTree as ET

    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg") and float(root.get("width")) <= 690, f"{svg.name}: width {root.get('width')}"
    used = set().union(*(re.findall(r"figures/[\w.-]+\.svg", (ROOT / f"{f}.ipynb").read_text())
                         for f in toc_files() if (ROOT / f"{f}.ipynb").exists()))
    assert f"figures/{svg.name}" in used, f"{svg.name} is used by no page"
