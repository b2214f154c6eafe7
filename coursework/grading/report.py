"""The grader's outputs: gradebook.csv, feedback/<submission>.md and Gradescope's results.json.

- ``gradebook.csv``: one row per submission (readable or not), one column per exercise of the
  notebooks graded, then total, max, status (ok / problems / unreadable / unknown notebook), notes;
- ``feedback/<submission>.md``: every check with PASS/FAIL and, for failures, why, in plain words;
- ``results/<submission>.json``: Gradescope's format (score, and per check: name, score,
  max_score, status, output, visibility; private checks are visible "after_published");
  with a single submission also ``results.json`` in the output folder, where Gradescope reads it.
"""
import csv
import json
import pathlib
import re

from coursework.checks import EXERCISES


def fmt(x):
    """Points as short text: 3, 1.67, 0."""
    return f"{round(float(x), 2):g}"


def safe_name(sid):
    return re.sub(r"[^A-Za-z0-9._() -]", "_", sid).strip() or "submission"


def notes(o):
    """Short notes for the gradebook: why points were lost at the exercise level, load problems."""
    items = [o.unreadable] if o.unreadable else []
    if o.notebook is None:
        items.append("could not tell which notebook this answers (use --notebook)")
    items += [f"{e.name}: {e.problem}" for e in o.exercises if e.problem and not o.unreadable]
    if o.load_errors:
        items.append(f"{len(o.load_errors)} cell(s) raised while loading")
    if o.output_truncated:
        items.append("printed output truncated")
    return "; ".join(items)


def progress_line(o):
    problems = [f"{e.name}: {e.problem.split(':')[0].split('(')[0].strip()}" for e in o.exercises if e.problem]
    head = f"{o.id}: {fmt(o.total)}/{fmt(o.max_score)}" if o.notebook else f"{o.id}: -"
    extra = o.unreadable or ("; ".join(problems)) or ("" if o.notebook else "unknown notebook")
    return head + (f"  ({extra})" if extra else "")


def write_gradebook(outcomes, path):
    names = []
    for o in outcomes:
        for e in o.exercises:
            if e.name not in names:
                names.append(e.name)
    order = list(EXERCISES)
    names.sort(key=lambda n: order.index(n) if n in order else len(order))
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["submission", "notebook"] + names + ["total", "max", "status", "notes"])
        for o in outcomes:
            scores = {e.name: fmt(e.score) for e in o.exercises}
            w.writerow([o.id, o.notebook or ""] + [scores.get(n, "") for n in names]
                       + [fmt(o.total), fmt(o.max_score), o.status, notes(o)])


def feedback(o):
    """The feedback page of one submission, in Markdown."""
    lines = [f"# Feedback on {o.id}", ""]
    if o.notebook is None:
        lines += ["The grader could not tell which exercise notebook this file answers, so nothing was graded."
                  + (f" The file could not be read: {o.unreadable}." if o.unreadable else ""),
                  "Submit the exercise notebook (for example `02_message_passing.ipynb`) with the "
                  "function names it asks for.", ""]
        return "\n".join(lines)
    lines += [f"Notebook `{o.notebook}`: **{fmt(o.total)} of {fmt(o.max_score)} points**.", ""]
    if o.unreadable:
        lines += [f"The file could not be read: {o.unreadable}. No code was run, so no exercise earns points.", ""]
    for e in o.exercises:
        lines += [f"## {e.name}: {fmt(e.score)} of {fmt(e.points)} points", ""]
        if e.title:
            lines += [f"*{e.title}*", ""]
        if e.problem and not o.unreadable:
            lines += [f"**No points for this exercise:** {e.problem}.", ""]
        for c in e.checks:
            tag = "" if c.public else " (instructor test)"
            if c.passed:
                lines.append(f"- PASS {c.name}{tag}")
            else:
                message = c.message if c.message != e.problem else "not graded (see above)"
                lines.append(f"- FAIL {c.name}{tag}: {message}")
        lines.append("")
    if o.load_errors or o.output_truncated:
        lines += ["## Notes", ""]
    if o.load_errors:
        lines.append(f"- {len(o.load_errors)} cell(s) raised an error while your notebook was run from top to "
                     "bottom (the grader goes on with the next cell):")
        lines += [f"  - {err}" for err in o.load_errors[:10]]
    if o.output_truncated:
        lines.append(f"- Your code printed {o.printed_chars} characters; the grader keeps only the first 64 kB.")
    return "\n".join(lines).rstrip() + "\n"


def gradescope(o):
    """The Gradescope ``results.json`` of one submission."""
    tests = []
    for e in o.exercises:
        for c in e.checks:
            message = c.message
            if e.problem and c.passed:
                message = e.problem
            tests.append({"name": f"{e.name}: {c.name}",
                          "score": c.points if (c.passed and not e.problem) else 0.0,
                          "max_score": c.points,
                          "status": "passed" if (c.passed and not e.problem) else "failed",
                          "output": message if not (c.passed and not e.problem) else "",
                          "visibility": "visible" if c.public else "after_published"})
    if o.notebook is None:
        tests.append({"name": "submission", "score": 0.0, "max_score": 0.0, "status": "failed",
                      "output": o.unreadable or "could not tell which exercise notebook this file answers",
                      "visibility": "visible"})
    summary = feedback(o)
    return {"score": o.total, "output": summary, "output_format": "md",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": tests}


def write_all(outcomes, out):
    out = pathlib.Path(out)
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    (out / "results").mkdir(parents=True, exist_ok=True)
    write_gradebook(outcomes, out / "gradebook.csv")
    for o in outcomes:
        name = safe_name(o.id)
        (out / "feedback" / f"{name}.md").write_text(feedback(o), encoding="utf-8")
        (out / "results" / f"{name}.json").write_text(json.dumps(gradescope(o), indent=1), encoding="utf-8")
    if len(outcomes) == 1:
        (out / "results.json").write_text(json.dumps(gradescope(outcomes[0]), indent=1), encoding="utf-8")
