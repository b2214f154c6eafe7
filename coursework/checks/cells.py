"""Reading a submission's code: notebook cells or a ``.py`` export, install statements neutralised.

The course's install cell (tagged ``colab-install``) runs only on Colab. When its tag is lost, or
when the student merged it with other cells, or exported the notebook as a ``.py`` file, only the
install *statements* are blanked out (``import google.colab``, the ``if "google.colab" in
sys.modules ...`` block, ``%pip`` and ``!pip`` lines), never the student's code; blanking keeps
every other line at its line number, so error messages point at the right line.

Cells are numbered as the student sees them: code cells counted from the top of the notebook,
not counting the (hidden) install cell.
"""
import ast
import json
import pathlib

SKIP_TAGS = {"colab-install", "self-check"}
INSTALL_MARKERS = ("google.colab", "GGNN_INSTALL_FROM")


def read_code_cells(path):
    """The code cells of a notebook (or the whole text of a .py file) as a list of (source, tags).

    Raises ValueError naming the file and what is wrong when it is not a readable notebook.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise ValueError(f"submission: no file at {path}")
    return parse_code_cells(path.read_text(encoding="utf-8", errors="replace"), path.name)


def parse_code_cells(text, name):
    """``read_code_cells`` of the text of a file called ``name`` (a notebook, or a .py file if it ends so)."""
    if name.lower().endswith(".py"):
        return [(text, [])]
    if not text.strip():
        raise ValueError(f"submission: {name} is empty (expected a Jupyter notebook)")
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"submission: {name} is not valid notebook JSON ({exc.msg}: line {exc.lineno}, "
                         f"column {exc.colno}); download it again from Colab or Jupyter") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError(f"submission: {name} has no list of cells (expected a Jupyter notebook)")
    cells = []
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(map(str, src)) if isinstance(src, list) else str(src)
        tags = (cell.get("metadata") or {}).get("tags") or []
        cells.append((src, [str(t) for t in tags] if isinstance(tags, list) else []))
    return cells


def strip_magics(src):
    """IPython-only lines (``%magic``, ``!shell``) become ``pass`` at the same indentation (line numbers kept)."""
    lines = src.splitlines()
    for k, line in enumerate(lines):
        body = line.lstrip()
        if body.startswith(("%", "!")):
            lines[k] = line[:len(line) - len(body)] + "pass"
    return "\n".join(lines)


def _mentions_install(node, src):
    text = ast.get_source_segment(src, node) or ""
    return any(marker in text for marker in INSTALL_MARKERS)


def _is_install_statement(node, src):
    """``import google.colab``, ``from google.colab import ...`` or an install ``if`` block that defines nothing."""
    if isinstance(node, ast.Import):
        return all(a.name == "google.colab" or a.name.startswith("google.colab.") for a in node.names)
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[:2] == ["google", "colab"]
    if isinstance(node, ast.If) and _mentions_install(node.test, src):
        defines = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        return not any(isinstance(n, defines) for n in ast.walk(node))
    return False


def strip_install(src):
    """``src`` with the course's install statements blanked out (line numbers kept), the rest untouched.

    Only top-level statements are touched. Code that does not parse is left as it is (running it
    reports the syntax error).
    """
    if not any(marker in src for marker in INSTALL_MARKERS):
        return src
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return src
    lines, changed = src.splitlines(), False
    for node in tree.body:
        if _is_install_statement(node, src):
            changed = True
            for k in range(node.lineno - 1, node.end_lineno):
                lines[k] = ""
    return "\n".join(lines) if changed else src


def _install_only(src, cleaned):
    """True for the install cell whose tag was lost: it mentioned the install and keeps only imports."""
    if not src.strip() or not any(marker in src for marker in INSTALL_MARKERS):
        return False
    try:
        return all(isinstance(node, ast.Import) for node in ast.parse(cleaned).body)
    except SyntaxError:
        return False


def split_python_file(text):
    """A .py export in chunks at its cell markers (``# In[..]:``, ``# %%``), each padded with blank lines
    so that its line numbers are the file's; a file without markers (Colab's "Download .py") is one chunk.
    """
    chunks, start, lines = [], 0, text.splitlines()
    for k, line in enumerate(lines + ["# %%"]):
        stripped = line.strip()
        if (stripped.startswith("# In[") and stripped.endswith("]:")) or stripped.startswith("# %%"):
            chunk = "\n".join(lines[start:k])
            if chunk.strip():
                chunks.append("\n" * start + chunk)
            start = k + 1
    return chunks


def runnable_cells(path):
    """What a grader runs of a submission, in order, as a list of (label, source, tags).

    Install cells (tagged, or made only of install statements and imports) are left out and not counted in
    the labels ("code cell 3" is the third code cell the student sees); self-check cells keep their
    number but are left out too. Magics and install statements are neutralised in the others.
    A ``.py`` file is labelled "your .py file" (its line numbers are the file's).
    """
    path = pathlib.Path(path)
    cells = read_code_cells(path)
    if path.suffix.lower() == ".py":
        return [("your .py file", strip_install(strip_magics(chunk)), []) for chunk in split_python_file(cells[0][0])]
    units, number = [], 0
    for src, tags in cells:
        if "colab-install" in tags:
            continue
        cleaned = strip_install(strip_magics(src))
        if _install_only(src, cleaned):
            continue  # the install cell, its tag lost
        number += 1
        if SKIP_TAGS & set(tags):
            continue
        units.append((f"code cell {number}", cleaned, tags))
    return units


def load_namespace(path):
    """Execute a submission's code cells in order and return (namespace, errors).

    Install and self-check cells are skipped; a cell that raises is recorded in
    ``errors`` and execution goes on with the next one, so one broken cell does not
    hide the functions defined elsewhere. Runs the code in this process: the grader
    calls it only inside its sandboxed child process.
    """
    namespace = {"__name__": "__submission__"}
    errors = []
    for label, src, _ in runnable_cells(path):
        try:
            exec(compile(src, f"<{label}>", "exec"), namespace)
        except (Exception, SystemExit) as exc:  # a cell's sys.exit() must not end the loading
            errors.append(f"{label}: {type(exc).__name__}: {exc}")
    return namespace, errors
