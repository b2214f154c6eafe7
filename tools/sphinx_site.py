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

LOG = logging.getLogger(__name__)

VENDOR = {  # node_modules/<package>/<path>  ->  _static/vendor/<name>
    "3Dmol": ("3dmol", "build", ["3Dmol-min.js", "3Dmol-min.js.LICENSE.txt"]),
    "mathjax": ("mathjax", "es5", None),   # None: the whole folder (fonts and lazily loaded parts)
}
MATHJAX = "vendor/mathjax/tex-chtml.js"
THREEDMOL = "vendor/3Dmol/3Dmol-min.js"
# py3Dmol's output runs `$3Dmolpromise.then(draw)`; it only loads 3Dmol.js from a CDN when this
# global is undefined. A rejected promise surfaces as a console error (the browser test fails).
THREEDMOL_SHIM = ("var $3Dmolpromise = (typeof $3Dmol !== 'undefined') ? Promise.resolve($3Dmol)"
                  " : Promise.reject(new Error('3Dmol.js did not load from _static/vendor'));")
PY3DMOL_MARK = "$3Dmolpromise"
TAGS_LINE = re.compile(r"^(:tags:\s*\[)([^\]]*)(\])", re.MULTILINE)
# myst-nb's cell-level labels of a folded cell (default "Show code cell source")
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


def on_source_read(app, docname, source):
    path = app.env.doc2path(docname)
    text, student = source[0], student_edition()
    if str(path).endswith(".ipynb"):
        nb = json.loads(text)
        changed = False
        for cell in nb.get("cells", []):
            meta = cell.get("metadata") or {}
            if "solution" not in meta.get("tags", []):
                continue
            cell["metadata"] = dict(meta, tags=retag(list(meta["tags"]), student))
            if not student:
                cell["metadata"]["mystnb"] = {**meta.get("mystnb", {}), **SOLUTION_PROMPTS}
            changed = True
        if changed:
            source[0] = json.dumps(nb)
    elif str(path).endswith(".md") and "solution" in text:
        def fix(m):
            tags = [t.strip().strip("'\"") for t in m.group(2).split(",") if t.strip()]
            return m.group(1) + ", ".join(retag(tags, student)) + m.group(3)
        source[0] = TAGS_LINE.sub(fix, text)


def on_page_context(app, pagename, templatename, context, doctree):
    if PY3DMOL_MARK in context.get("body", ""):
        app.add_js_file(THREEDMOL, priority=150)
        app.add_js_file(None, body=THREEDMOL_SHIM, priority=151)


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
    root = pathlib.Path(app.confdir)
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
    app.connect("html-page-context", dedupe_scripts, priority=400)   # before a handler that returns a template ends the event
    app.connect("build-finished", on_build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
