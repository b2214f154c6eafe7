"""Sphinx extension that makes the built book self-contained and builds the student edition.

Loaded by ``_config.yml`` (``sphinx.local_extensions``). It

- installs the JavaScript libraries of ``package.json`` with ``npm ci`` when ``node_modules``
  does not hold exactly the versions of ``package-lock.json``, and copies them into
  ``_build/html/_static/vendor/`` (MathJax 3 and 3Dmol.js; nothing third-party is committed);
- points MathJax at that copy and, on every page with a py3Dmol view, loads 3Dmol.js from it and
  defines ``$3Dmolpromise``, which py3Dmol's output uses instead of fetching 3Dmol.js from a CDN;
- hides solutions: a code cell tagged ``solution`` becomes a toggle (``hide-input``, in a
  notebook labelled "Show solution"); with
  ``GGNN_STUDENT_EDITION=1`` it is removed from the page (it still runs, so later cells work)
  and sphinx-exercise's ``solution`` directives are dropped (``hide_solutions``);
- gives a figure its caption and alt text from two comment lines at the top of its code cell,
  ``#| fig-cap: ...`` and ``#| fig-alt: ...`` (Quarto's cell options, harmless comments in
  Colab): on the site they become myst-nb's figure caption and image alt text and leave the code;
- in the student edition replaces each solutions page (``book/solutions_NAME``) by
  ``make_solution_pages.student_page(NAME)``: the exercise statements, no code, no output, its
  Colab button and downloadable source the exercise notebook (``student_links``);
- leaves the solutions pages out of the reading path: "Next" from a chapter skips over them
  (``skip_solutions_in_prev_next``);
- adds the book's own CSS and JavaScript (``book/_static``: code and output wrap inside the column,
  equations fit or scroll) and makes pages lighter (``site_assets``: the theme's 1.5 MB icon script
  replaced by CSS icons of the icons the site uses; MathJax loaded as its smaller components);
- keeps a MyST-markdown chapter's paired ``.ipynb`` (written for Colab by
  ``tools/pair_notebooks.py``) out of Sphinx, which would otherwise see two sources for one page.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess

from sphinx.errors import ExtensionError
from sphinx.util import logging

import make_solution_pages
import site_assets

LOG = logging.getLogger(__name__)

VENDOR = {  # node_modules/<package>/<path>  ->  _static/vendor/<name>
    "3Dmol": ("3dmol", "build", ["3Dmol-min.js", "3Dmol-min.js.LICENSE.txt"]),
    "mathjax": ("mathjax", "es5", None),   # None: the whole folder (fonts and lazily loaded parts)
}
MATHJAX = "vendor/mathjax/startup.js"
# MathJax's components the book needs, loaded by startup.js: TeX input (with autoload for rarer
# macros) and HTML output, without the menu and the speech extensions of the combined tex-chtml.js.
MATHJAX_CONFIG = {"loader": {"load": ["input/tex", "output/chtml", "a11y/assistive-mml"]}}
SOLUTIONS_PREFIX = "book/" + make_solution_pages.PREFIX
THREEDMOL = "vendor/3Dmol/3Dmol-min.js"
# py3Dmol's output runs `$3Dmolpromise.then(draw)`; it only loads 3Dmol.js from a CDN when this
# global is undefined. A rejected promise surfaces as a console error (the browser test fails).
THREEDMOL_SHIM = ("var $3Dmolpromise = (typeof $3Dmol !== 'undefined') ? Promise.resolve($3Dmol)"
                  " : Promise.reject(new Error('3Dmol.js did not load from _static/vendor'));")
PY3DMOL_MARK = "$3Dmolpromise"
TAGS_LINE = re.compile(r"^(:tags:\s*\[)([^\]]*)(\])", re.MULTILINE)
# myst-nb's cell-level labels of a folded cell (default "Show code cell source")
FIGURE_OPTION = re.compile(r"^#\|\s*fig-(cap|alt):\s*(.+?)\s*$")
CODE_CELL = re.compile(r"(```\{code-cell\}[^\n]*\n)(.*?)(^```)", re.MULTILINE | re.DOTALL)
SOLUTION_PROMPTS = {"code_prompt_show": "Show solution", "code_prompt_hide": "Hide solution"}


def student_edition():
    return os.environ.get("GGNN_STUDENT_EDITION", "").lower() in ("1", "true", "yes")


def locked_versions(root):
    """{package: version} of the top-level dependencies recorded in package-lock.json."""
    lock = json.loads((root / "package-lock.json").read_text())
    wanted = lock["packages"][""].get("dependencies", {})
    return {name: lock["packages"][f"node_modules/{name}"]["version"] for name in wanted}


def installed_version(root, name):
    meta = root / "node_modules" / name / "package.json"
    return json.loads(meta.read_text())["version"] if meta.exists() else None


def ensure_node_modules(root):
    """Run `npm ci` unless node_modules already holds exactly the locked versions."""
    stale = [n for n, v in locked_versions(root).items() if installed_version(root, n) != v]
    if not stale:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise ExtensionError("the book serves MathJax and 3Dmol.js itself: install Node.js (npm) "
                             f"and run `npm ci` in {root} (missing or stale: {', '.join(stale)})")
    LOG.info(f"[sphinx_site] npm ci (missing or stale: {', '.join(stale)})")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=root, check=True)


def on_config_inited(app, config):
    root = pathlib.Path(app.confdir)
    ensure_node_modules(root)
    config.mathjax_path = MATHJAX
    config.mathjax3_config = {**(config.mathjax3_config or {}), **MATHJAX_CONFIG}   # myst adds its options later
    config.html_static_path = list(config.html_static_path) + [str(root / "book" / "_static")]
    if student_edition():
        config.hide_solutions = True
    # A chapter written as MyST markdown has a paired .ipynb for Colab: build the .md only.
    paired = [md.with_suffix(".ipynb") for md in root.glob("book/**/*.md") if md.with_suffix(".ipynb").exists()]
    config.exclude_patterns = list(config.exclude_patterns) + [p.relative_to(root).as_posix() for p in paired]


def retag(tags, student):
    """Tag list of a cell: a 'solution' cell is folded away, or removed in the student edition."""
    if "solution" not in tags:
        return tags
    extra = "remove-cell" if student else "hide-input"
    return tags + [extra] if extra not in tags else tags


def figure_options(code):
    """(code without its leading ``#| fig-cap/fig-alt`` lines, myst-nb metadata for them or None)."""
    lines, found = code.splitlines(), {}
    while lines and FIGURE_OPTION.match(lines[0]):
        kind, value = FIGURE_OPTION.match(lines.pop(0)).groups()
        found[kind] = value
    if not found:
        return code, None
    meta = {}
    if "cap" in found:
        meta["figure"] = {"caption": found["cap"]}
    if "alt" in found:
        meta["image"] = {"alt": found["alt"]}
    return "\n".join(lines), meta


def with_figure_options_md(text):
    """A MyST notebook's text with each code cell's ``#| fig-...`` lines turned into a ``:mystnb:`` option."""
    def fix(m):
        body = m.group(2)
        options = re.match(r"(?:^:[\w-]+:.*\n)*", body).group(0)
        code, meta = figure_options(body[len(options):])
        if meta is None:
            return m.group(0)
        return m.group(1) + options + f":mystnb: {json.dumps(meta)}\n" + code.rstrip("\n") + "\n" + m.group(3)
    return CODE_CELL.sub(fix, text)


def on_source_read(app, docname, source):
    path = app.env.doc2path(docname)
    text, student = source[0], student_edition()
    if student and docname.startswith(SOLUTIONS_PREFIX):
        source[0] = json.dumps(make_solution_pages.student_page(docname.removeprefix(SOLUTIONS_PREFIX)))
    elif str(path).endswith(".ipynb"):
        nb = json.loads(text)
        changed = False
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "code":
                code = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                code, figure = figure_options(code)
                if figure is not None:
                    cell["source"] = code
                    cell["metadata"] = dict(cell.get("metadata") or {}, mystnb=figure)
                    changed = True
            meta = cell.get("metadata") or {}
            if "solution" not in meta.get("tags", []):
                continue
            cell["metadata"] = dict(meta, tags=retag(list(meta["tags"]), student))
            if not student:
                cell["metadata"]["mystnb"] = {**meta.get("mystnb", {}), **SOLUTION_PROMPTS}
            changed = True
        if changed:
            source[0] = json.dumps(nb)
    elif str(path).endswith(".md"):
        text = source[0] = with_figure_options_md(text)
        if "solution" not in text:
            return

        def fix(m):
            tags = [t.strip().strip("'\"") for t in m.group(2).split(",") if t.strip()]
            return m.group(1) + ", ".join(retag(tags, student)) + m.group(3)
        source[0] = TAGS_LINE.sub(fix, text)


def on_page_context(app, pagename, templatename, context, doctree):
    if PY3DMOL_MARK in context.get("body", ""):
        app.add_js_file(THREEDMOL, priority=150)
        app.add_js_file(None, body=THREEDMOL_SHIM, priority=151)


def skip_solutions_in_prev_next(app, pagename, templatename, context, doctree):
    """"Next" from a chapter (and "Previous" after the solutions part) steps over the solutions
    pages, which stay reachable from the sidebar and the chapters' links."""
    if pagename.startswith(SOLUTIONS_PREFIX):
        return
    relations = app.env.collect_relations()
    for key, step in (("prev", 1), ("next", 2)):
        doc = (relations.get(pagename) or [None] * 3)[step]
        if doc is None or not doc.startswith(SOLUTIONS_PREFIX):
            continue
        while doc is not None and doc.startswith(SOLUTIONS_PREFIX):
            doc = relations[doc][step]
        context[key] = None if doc is None else {
            "link": app.builder.get_relative_uri(pagename, doc), "title": app.env.titles[doc].astext()}


def student_links(app, pagename, templatename, context, doctree):
    """Student edition: a solutions page's Colab button opens the exercise notebook (the page
    itself is made from it), never the solved book/solutions_NAME.ipynb of the repository; its
    download stays ``_sources/book/solutions_NAME.ipynb``, which on_build_finished rewrites."""
    if not (student_edition() and pagename.startswith(SOLUTIONS_PREFIX)):
        return
    solved = f"{pagename}.ipynb"
    exercise = f"exercises/{pagename.removeprefix(SOLUTIONS_PREFIX)}.ipynb"

    def fix(buttons):
        for b in buttons:
            url = b.get("url")             # a launch link (the download of _sources is the page itself)
            if isinstance(url, str) and url.startswith("http") and url.endswith("/" + solved):
                b["url"] = b["url"][: -len(solved)] + exercise
            fix(b.get("buttons", []))
    fix(context.get("header_buttons", []))


def dedupe_scripts(app, pagename, templatename, context, doctree):
    """Drop repeated <script> entries: sphinx-thebe 0.3 adds its `const THEBE_JS_URL` twice, which
    throws 'Identifier has already been declared' on every page."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for script in scripts:       # an inline script is stored once with filename None, once with ''
        key = (getattr(script, "filename", script) or None, repr(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique          # in place: later add_js_file calls append to this same list


def on_build_finished(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    root, out = pathlib.Path(app.confdir), pathlib.Path(app.outdir)
    if student_edition():    # the downloadable source of a solutions page is the page built, not the solved file
        for page in out.glob(f"_sources/{SOLUTIONS_PREFIX}*.ipynb"):
            name = page.stem.removeprefix(make_solution_pages.PREFIX)
            page.write_text(make_solution_pages.dumps(make_solution_pages.student_page(name)), encoding="utf-8")
    site_assets.finish(app, out)
    for name, (package, folder, files) in VENDOR.items():
        src = root / "node_modules" / package / folder
        dst = pathlib.Path(app.outdir) / "_static" / "vendor" / name
        if files is None:
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            dst.mkdir(parents=True, exist_ok=True)
            for f in files:
                shutil.copy2(src / f, dst / f)
    for lic in ("LICENSE",):
        for package in ("mathjax", "3dmol"):
            if (root / "node_modules" / package / lic).exists():
                shutil.copy2(root / "node_modules" / package / lic,
                             pathlib.Path(app.outdir) / "_static" / "vendor" / f"{package}-{lic}")


def setup(app):
    app.connect("config-inited", on_config_inited, priority=900)
    app.connect("source-read", on_source_read)
    app.connect("html-page-context", on_page_context)
    app.connect("html-page-context", skip_solutions_in_prev_next)
    app.connect("html-page-context", student_links, priority=502)    # after sphinx-book-theme's buttons (501)
    app.connect("html-page-context", dedupe_scripts, priority=400)   # before a handler that returns a template ends the event
    app.connect("build-finished", on_build_finished)
    app.add_css_file("ggnn.css")
    app.add_css_file(site_assets.ICON_CSS)
    app.add_js_file("ggnn.js", defer="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
