"""Shared helpers for the notebook tools: read, normalize and write .ipynb files."""
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOK_DIRS = ("book", "solutions", "exercises")
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def read(path):
    return json.loads(pathlib.Path(path).read_text(encoding="utf-8"))


def dumps(nb):
    """Stable JSON text: one-space indent, sorted keys, trailing newline (small diffs)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def set_source(cell, text):
    lines = text.splitlines(keepends=True)
    cell["source"] = lines


def clean(nb):
    """Drop outputs, execution counts and per-machine metadata; keep cell tags and the kernelspec."""
    nb["metadata"] = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    nb.setdefault("nbformat", 4)
    nb["nbformat_minor"] = 5
    for k, cell in enumerate(nb["cells"]):
        tags = (cell.get("metadata") or {}).get("tags")
        cell["metadata"] = {"tags": tags} if tags else {}
        cell["id"] = cell.get("id") or f"cell-{k}"
        set_source(cell, source(cell))
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        else:
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    return nb


def all_notebooks():
    return sorted(p for d in NOTEBOOK_DIRS for p in (ROOT / d).glob("*.ipynb"))


def sync(targets, orphans, check):
    """Bring generated notebooks up to date: write each path's text in ``targets`` ({path: text}),
    or with ``check`` only report the out-of-date ones; also report ``orphans`` (generated files
    whose source is gone). Returns 1 when ``check`` found anything out of date, else 0."""
    stale = [p for p, text in targets.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    for p in stale:
        if not check:
            p.write_text(targets[p], encoding="utf-8")
        print(("out of date: " if check else "wrote: ") + str(p.relative_to(ROOT)))
    for p in orphans:
        print(f"orphan (no solution notebook): {p.relative_to(ROOT)}")
    return 1 if check and (stale or orphans) else 0
