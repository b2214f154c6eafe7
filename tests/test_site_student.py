"""The built student edition holds no solution, anywhere; the full site has every one (in its toggle).

The solution lines are read from ``solutions/NAME.ipynb``: every line of a solution region that is
at least ``MIN_MARKER`` characters long and appears nowhere in the exercise notebooks, the book's
chapters or the course package ``refimpl`` (which every student installs, so a line of it is no
secret in any edition). The tests look for them

- in every file of the built student edition (HTML with its tags removed, notebooks cell by cell,
  ``_sources``, ``_downloads``, the search index, scripts: the whole tree);
- in the search index's words of each solutions page (words only the solutions use);
- behind every link of every page: Colab and GitHub links open a file of this repository, which
  must hold none of them (and must not be a solved notebook); a local link must exist;

and check that a student solutions page does not claim to show solutions and holds no code or
output. The same lines must be in the full site (else the test proves nothing). Slow (two book
builds), so it runs only when asked, as ``.ci/run`` does after building both:

    bash tools/build_book.sh
    GGNN_STUDENT_EDITION=1 bash tools/build_book.sh --path-output _build/student
    GGNN_STUDENT_SITE=_build/student/_build/html python -m pytest tests/test_site_student.py

Once asked, nothing is skipped: a missing page is a failure. ``GGNN_SITE`` names the full site
(default ``_build/html``).
"""
import functools
import html
import json
import os
import pathlib
import re
import urllib.parse

import pytest
import yaml

from test_site_pages import SOLUTION_PAGES, solution_regions

ROOT = pathlib.Path(__file__).resolve().parents[1]
STUDENT = os.environ.get("GGNN_STUDENT_SITE", "")
SITE = pathlib.Path(os.environ.get("GGNN_SITE", ROOT / "_build" / "html"))
MIN_MARKER = 12
TEXT_SUFFIXES = {".html", ".js", ".txt", ".ipynb", ".json", ".py", ".md", ".css", ".xml", ".svg", ".inv", ""}
LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""")
CLAIMS = re.compile(r"show solution|hide solution|worked solutions?|open the solution|the solution under", re.I)

pytestmark = pytest.mark.skipif(not STUDENT, reason="student-edition test: run by .ci/run after both builds "
                                                    "(set GGNN_STUDENT_SITE)")


def notebook_text(path):
    return "\n".join("".join(c.get("source", "")) for c in json.loads(path.read_text(encoding="utf-8"))["cells"])


@functools.lru_cache(maxsize=None)
def markers():
    """{solutions page stem: set of solution lines found only in solutions} (see module docstring)."""
    elsewhere = "\n".join(notebook_text(p) for p in sorted((ROOT / "exercises").glob("*.ipynb")))
    elsewhere += "\n".join(notebook_text(p) for p in sorted((ROOT / "book").glob("[0-9]*.ipynb")))
    elsewhere += "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "refimpl").rglob("*.py")))
    found = {}
    for page in SOLUTION_PAGES:
        lines = {ln.strip() for region in solution_regions(page.stem.removeprefix("solutions_")) for ln in region}
        found[page.stem] = {ln for ln in lines if len(ln) >= MIN_MARKER and ln not in elsewhere}
        assert found[page.stem], f"{page.stem}: no solution line to look for"
    return found


def all_markers():
    return set().union(*markers().values())


def readable(path):
    """The text a reader or a script gets from a built file (None for a binary file)."""
    if path.suffix not in TEXT_SUFFIXES or path.stat().st_size > 20_000_000:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None
    if path.suffix == ".html":
        return text + "\n" + html.unescape(re.sub(r"<[^>]+>", "", text))
    if path.suffix == ".ipynb":
        nb = json.loads(text)
        parts = ["".join(c.get("source", "")) for c in nb.get("cells", [])]
        for c in nb.get("cells", []):
            for out in c.get("outputs", []):
                parts += ["".join(v) if isinstance(v, list) else str(v) for v in out.get("data", {}).values()]
                parts.append("".join(out.get("text", "")))
        return text + "\n" + "\n".join(parts)
    if path.suffix in (".js", ".json"):        # strings in scripts and JSON: undo the usual escapes
        return text + "\n" + text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
    return text


def found_in_tree(site):
    """{marker: [files of ``site`` holding it]}."""
    hits, wanted = {}, all_markers()
    for path in sorted(pathlib.Path(site).rglob("*")):
        if not path.is_file():
            continue
        text = readable(path)
        if text is None:
            continue
        for m in wanted:
            if m in text:
                hits.setdefault(m, []).append(path.relative_to(site).as_posix())
    return hits


def test_markers_are_in_the_full_site():
    """The lines the student test looks for are really on the full site (else it tests nothing)."""
    hits = found_in_tree(SITE)
    for stem, lines in markers().items():
        assert any(m in hits for m in lines), f"{stem}: no solution line found in the full site {SITE}"
        assert any(f"book/{stem}.html" in hits.get(m, []) for m in lines), f"{stem}: solutions missing from its page"


def test_no_file_of_the_student_edition_holds_a_solution_line():
    hits = found_in_tree(STUDENT)
    assert not hits, "solution lines in the student edition:\n" + "\n".join(
        f"  {m!r} in {files[:4]}" for m, files in sorted(hits.items()))


def search_index(site):
    text = (pathlib.Path(site) / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1: text.rindex(")")])


def solution_only_words():
    """Stemmed words (as Sphinx indexes them) of the solution lines that no exercise or chapter uses."""
    from sphinx.search.en import SearchEnglish

    stem = SearchEnglish({}).stem
    elsewhere = "\n".join(notebook_text(p) for p in sorted((ROOT / "exercises").glob("*.ipynb")))
    elsewhere += "\n".join(notebook_text(p) for p in sorted((ROOT / "book").glob("*.ipynb")) if "solutions_" not in p.name)
    known = {stem(w.lower()) for w in re.findall(r"\w+", elsewhere)}
    words = {stem(w.lower()) for m in all_markers() for w in re.findall(r"\w+", m) if len(w) > 2}
    return words - known


def indexed_words(index, docname):
    doc = index["docnames"].index(docname)
    return {term for term, docs in index["terms"].items()
            if doc in (docs if isinstance(docs, list) else [docs])}


@pytest.mark.parametrize("page", SOLUTION_PAGES, ids=[p.stem for p in SOLUTION_PAGES])
def test_search_index_has_no_word_only_the_solutions_use(page):
    only = solution_only_words()
    student = indexed_words(search_index(STUDENT), f"book/{page.stem}") & only
    assert not student, f"{page.stem}: the student edition's search index holds solution words {sorted(student)}"
    full = set().union(*(indexed_words(search_index(SITE), f"book/{p.stem}") for p in SOLUTION_PAGES)) & only
    assert full, "the full site's search index holds no solution-only word: the check above proves nothing"


def repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return config["repository"]["url"].rstrip("/").split("github.com/")[1], config["repository"].get("branch", "main")


def repository_file(url):
    """The repository path a Colab or GitHub link opens (None: not a file of this repository)."""
    repo, branch = repository()
    for prefix in (f"https://colab.research.google.com/github/{repo}/blob/{branch}/",
                   f"https://github.com/{repo}/blob/{branch}/", f"https://github.com/{repo}/raw/{branch}/",
                   f"https://github.com/{repo}/edit/{branch}/", f"https://raw.githubusercontent.com/{repo}/{branch}/"):
        if url.startswith(prefix):
            return urllib.parse.unquote(url[len(prefix):].split("#")[0].split("?")[0])
    return None


def test_every_link_of_the_student_edition_opens_no_solution():
    site, problems, wanted = pathlib.Path(STUDENT), [], all_markers()
    for page in sorted(p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts):
        for url in set(LINK.findall(page.read_text(encoding="utf-8"))):
            url = html.unescape(url)
            where = f"{page.relative_to(site)} -> {url}"
            target = repository_file(url)
            if target is not None:
                path = ROOT / target
                if target.startswith("solutions/") or pathlib.PurePosixPath(target).name.startswith("solutions_"):
                    problems.append(f"{where}: opens a solved notebook")
                elif not path.is_file():
                    problems.append(f"{where}: {target} is not in the repository")
                elif any(m in (readable(path) or "") for m in wanted):
                    problems.append(f"{where}: {target} holds solution lines")
            elif not re.match(r"^(?:[a-z]+:|//|#)", url):
                local = (page.parent / urllib.parse.unquote(url.split("#")[0].split("?")[0])).resolve()
                if url.split("#")[0] and not local.exists():
                    problems.append(f"{where}: no such file in the site")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("page", SOLUTION_PAGES, ids=[p.stem for p in SOLUTION_PAGES])
def test_student_solutions_page_claims_no_solution_and_shows_no_code(page):
    text = (pathlib.Path(STUDENT) / "book" / f"{page.stem}.html").read_text(encoding="utf-8")
    article = text[text.index("<article"): text.index("</article>")]
    plain = html.unescape(re.sub(r"<[^>]+>", "", article))
    assert not CLAIMS.search(plain), f"{page.stem}: claims solutions: {CLAIMS.search(plain).group(0)!r}"
    assert "cell_output" not in article and 'class="cell docutils' not in article, f"{page.stem}: shows code or output"
    assert "exercises/" in article, f"{page.stem}: no link to the exercise notebook"


@pytest.mark.parametrize("page", SOLUTION_PAGES, ids=[p.stem for p in SOLUTION_PAGES])
def test_solutions_are_in_the_site_and_not_in_the_student_edition(page):
    def page_text(site):
        path = pathlib.Path(site) / "book" / f"{page.stem}.html"
        assert path.is_file(), f"no built page {path}"
        return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))

    full, student = page_text(SITE), page_text(STUDENT)
    for lines in solution_regions(page.stem.removeprefix("solutions_")):
        marker = max((ln.strip() for ln in lines), key=len)
        assert marker in full, f"{page.stem}: solution line missing from the site: {marker!r}"
        assert marker not in student, f"{page.stem}: solution shown in the student edition: {marker!r}"
