"""Finding submissions, reading each once into a private snapshot, and telling whose and which notebook.

Which notebook a file answers is decided, in order, by: a notebook name contained in the file name
(``alice_02_message_passing.ipynb``); the ``--notebook`` option; the exercise functions its code
defines (``def gcn_norm`` ...); the only notebook that the other submissions of the same run answer.

Whose it is (the gradebook row): with ``--roster CSV`` (columns ``student`` and ``match``, a
case-insensitive shell pattern matched against the file's path below the folder given, such as
``alice*`` or ``alice/*``), the first row that matches; otherwise the first folder below the one
given (``submissions/alice/02_message_passing.ipynb``), else the file name without the notebook's
name, Colab's ``Copy of`` and `` (1)``, and separators (``alice_02_message_passing.ipynb`` ->
``alice``), else the file name itself.
"""
import csv
import fnmatch
import os
import pathlib
import re
import stat

from coursework.checks import EXERCISES
from coursework.checks.cells import parse_code_cells

SUFFIXES = (".ipynb", ".py")
MAX_SUBMISSION_MB = 50


def find_submissions(paths):
    """The submission files named by ``paths``, sorted, as (resolved path, path below the folder given)."""
    found = {}
    for p in map(pathlib.Path, paths):
        if p.is_dir():
            for f in p.rglob("*"):
                rel = f.relative_to(p).parts
                if f.is_file() and f.suffix.lower() in SUFFIXES and not any(part.startswith(".") for part in rel):
                    found.setdefault(f.resolve(), "/".join(rel))
        elif p.is_file():
            found.setdefault(p.resolve(), p.name)
        else:
            raise ValueError(f"submissions: no file or folder at {p}")
    return sorted(found.items())


def submission_ids(files):
    """A short unique name per file: its name, or its path below the common folder when names repeat."""
    names = [f.name for f in files]
    if len(set(names)) == len(names):
        return names
    common = pathlib.Path(os.path.commonpath([str(f.parent) for f in files]))
    return ["__".join(f.relative_to(common).parts) for f in files]


def snapshot(path):
    """The bytes of a submission file, read once (a regular file, at most MAX_SUBMISSION_MB), or (None, why)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        return None, f"the file could not be opened ({exc.strerror})"
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None, "not a regular file"
        cap, chunks, size = MAX_SUBMISSION_MB * 2**20, [], 0
        while size <= cap:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > cap:
            return None, f"the file is larger than {MAX_SUBMISSION_MB} MB"
        return b"".join(chunks), ""
    finally:
        os.close(fd)


def notebooks_in_order():
    seen = []
    for ex in EXERCISES.values():
        if ex.notebook not in seen:
            seen.append(ex.notebook)
    return seen


def detect_notebook(path, code, option):
    """(notebook or None, how) for one submission; ``code`` is its source text or None if unreadable."""
    names = notebooks_in_order()
    in_name = [nb for nb in names if nb in pathlib.Path(path).name]
    if in_name:
        return max(in_name, key=len), "file name"
    if option:
        return option, "--notebook"
    if code:
        defined = set(re.findall(r"^[ \t]*def[ \t]+([A-Za-z_]\w*)", code, flags=re.M))
        counts = {nb: len(defined & {f for ex in EXERCISES.values() if ex.notebook == nb for f in ex.functions})
                  for nb in names}
        best = max(counts.values(), default=0)
        winners = [nb for nb, n in counts.items() if n == best]
        if best > 0 and len(winners) == 1:
            return winners[0], "functions defined"
    return None, ""


def read_submission(name, data, why=""):
    """(source text, "") of a readable snapshot, or (None, why not) in plain words."""
    if data is None:
        return None, why
    if not data:
        return None, "the file is empty"
    try:
        cells = parse_code_cells(data.decode("utf-8", errors="replace"), name)
        return "\n".join(src for src, _ in cells), ""
    except ValueError as exc:
        return None, str(exc).removeprefix("submission: ")
    except Exception as exc:  # a notebook with an odd structure: fail closed, say so
        return None, f"the file is not a notebook this grader can read ({type(exc).__name__}: {exc})"


def derived_student(rel):
    """The student a file belongs to, from its path below the folder given (see the module's docstring)."""
    parts = rel.split("/")
    if len(parts) > 1:
        return parts[0]
    stem = pathlib.Path(parts[-1]).stem
    stem = re.sub(r"^(copy of )+", "", stem, flags=re.I)
    stem = re.sub(r"\s*\(\d+\)$", "", stem)
    for nb in sorted(notebooks_in_order(), key=len, reverse=True):
        stem = stem.replace(nb, " ")
    stem = re.sub(r"\s*\(\d+\)\s*", " ", stem).strip(" _-.")
    return stem or parts[-1]


def read_roster(path):
    """[(student, pattern)] from a CSV with the columns ``student`` and ``match``."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or not {"student", "match"} <= set(rows[0]):
        raise ValueError(f"roster: expected a CSV file with the columns 'student' and 'match', in {path}")
    return [(r["student"].strip(), r["match"].strip()) for r in rows if r["student"].strip()]


def assign_students(rels, roster=None):
    """(student per file, roster students without a file, whether each file was in the roster)."""
    students, listed = [], []
    for rel in rels:
        hit = next((s for s, pattern in roster or [] if pattern and fnmatch.fnmatch(rel.lower(), pattern.lower())
                    or pattern and fnmatch.fnmatch(pathlib.Path(rel).name.lower(), pattern.lower())), None)
        students.append(hit if hit is not None else derived_student(rel))
        listed.append(hit is not None)
    missing = [] if roster is None else sorted({s for s, _ in roster} - set(students))
    return students, missing, listed
