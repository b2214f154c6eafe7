"""The grader's outputs: gradebook.csv, files.csv, feedback/<file>.md and Gradescope's results.json.

- ``gradebook.csv``: one row per student (see ``coursework.grading.submissions``) with the files it
  came from, one column per exercise of the notebooks in the run, then total, max, status, notes;
- ``files.csv``: the same, one row per submission file (readable or not);
- ``feedback/<file>.md``: every check with PASS/FAIL and, for failures, why, in plain words (the
  student's text, such as exception messages, is escaped: it cannot add headings or PASS lines);
- ``results/<submission>.json``: Gradescope's format (score, and per check: name, score,
  max_score, status, output, visibility; private checks are visible "after_published");
  with a single submission also ``results.json`` in the output folder, where Gradescope reads it.
"""
import csv
import hashlib
import io
import json
import re
import unicodedata

from coursework.checks import EXERCISES


def fmt(x):
    """Points as short text: 3, 1.67, 0."""
    return f"{round(float(x), 2):g}"


def safe_name(sid):
    """A file name for submission ``sid``: its letters (any script), digits and ``._()-`` kept.

    When anything had to change, a short hash of the original name is added, so that two names
    that differ only in characters replaced (or in case) never share a file.
    """
    name = unicodedata.normalize("NFC", sid)
    name = re.sub(r"[^\w.() -]", "_", name).strip(" .") or "submission"
    name = name[:120]
    if name != sid:
        name = f"{name}-{hashlib.sha256(sid.encode()).hexdigest()[:8]}"
    return name


def unique_names(ids):
    """``safe_name`` of each id, with a hash added to names that still collide (ignoring case)."""
    names = [safe_name(i) for i in ids]
    folded = [n.casefold() for n in names]
    return [f"{n}-{hashlib.sha256(i.encode()).hexdigest()[:8]}" if folded.count(n.casefold()) > 1 and n == i else n
            for n, i in zip(names, ids)]


_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|])")  # (text stays on one line: no heading, list or quote can start)


def md(text):
    """Student-controlled ``text`` as one line of Markdown that renders literally (no headings, lists, links)."""
    text = " ".join(str(text).split("\n"))
    return _MD_SPECIAL.sub(r"\\\1", text.replace("\r", " "))


def notes(o):
    """Short notes for the gradebook: why points were lost at the exercise level, load problems."""
    items = [o.unreadable] if o.unreadable else []
    if o.notebook is None:
        items.append("could not tell which notebook this answers (use --notebook)")
    items += [f"{e.name}: {e.problem}" for e in o.exercises if e.problem and not o.unreadable]
    if o.load_errors:
        items.append(f"{len(o.load_errors)} cell(s) raised while loading")
    if any(c.exited for e in o.exercises for c in e.checks):
        items.append("a function called sys.exit() or raised KeyboardInterrupt")
    if o.output_truncated:
        items.append("printed output truncated")
    return "; ".join(" ".join(str(i).split()) for i in items)


def progress_line(o):
    problems = [f"{e.name}: {e.problem.split(':')[0].split('(')[0].strip()}" for e in o.exercises if e.problem]
    head = f"{o.id}: {fmt(o.total)}/{fmt(o.max_score)}" if o.notebook else f"{o.id}: -"
    extra = o.unreadable or ("; ".join(problems)) or ("" if o.notebook else "unknown notebook")
    line = head + (f"  ({extra})" if extra else "")
    return "".join(ch if ch.isprintable() else "?" for ch in line)  # no terminal escapes from a file name


def exercise_columns(outcomes):
    """The exercises of the notebooks graded in this run, in registration order."""
    notebooks = {o.notebook for o in outcomes if o.notebook}
    return [name for name, ex in EXERCISES.items() if ex.notebook in notebooks]


def _cell(value):
    """A CSV cell a spreadsheet shows as text: a leading =, +, -, @ (a formula) gets a quote."""
    value = str(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv(rows):
    buf = io.StringIO()
    csv.writer(buf).writerows([[_cell(v) for v in row] for row in rows])
    return buf.getvalue()


def files_csv(outcomes):
    """One row per submission file."""
    names = exercise_columns(outcomes)
    rows = [["submission", "student", "notebook"] + names + ["total", "max", "status", "notes"]]
    for o in outcomes:
        scores = {e.name: fmt(e.score) for e in o.exercises}
        known = o.notebook is not None
        rows.append([o.id, o.student, o.notebook or ""] + [scores.get(n, "") for n in names]
                    + [fmt(o.total) if known else "", fmt(o.max_score) if known else "", o.status, notes(o)])
    return _csv(rows)


def gradebook_csv(outcomes, missing=(), unlisted=()):
    """One row per student: per notebook the best of the student's files for it; a blank is not submitted.

    missing: roster students without a file; unlisted: files no roster row matched.
    """
    names = exercise_columns(outcomes)
    points = {n: EXERCISES[n].points for n in names}
    rows = [["student", "files"] + names + ["total", "max", "status", "notes"]]
    by_student = {}
    for o in outcomes:
        by_student.setdefault(o.student, []).append(o)
    for student in sorted(set(by_student) | set(missing), key=str.casefold):
        files = by_student.get(student, [])
        best, items = {}, []
        for o in files:
            if o.notebook and (o.notebook not in best or o.total > best[o.notebook].total):
                best[o.notebook] = o
        scores = {e.name: e.score for o in best.values() for e in o.exercises}
        for o in files:
            if o.notebook and best[o.notebook] is not o:
                items.append(f"{o.id}: not counted ({best[o.notebook].id} scores higher for {o.notebook})")
            elif notes(o):
                items.append(f"{o.id}: {notes(o)}")
        if any(o.id in unlisted for o in files):
            items.append("not in the roster")
        statuses = [o.status for o in best.values()] or [o.status for o in files]
        if not files:
            status = "no submission"
        elif not best:
            status = "unknown notebook"
        else:
            status = next((s for s in ("problems", "errors", "unreadable") if s in statuses), "ok")
        rows.append([student, ";".join(o.id for o in files)] + [fmt(scores[n]) if n in scores else "" for n in names]
                    + [fmt(sum(scores.values())) if best else "", fmt(sum(points.values())), status, "; ".join(items)])
    return _csv(rows)


def feedback(o):
    """The feedback page of one submission, in Markdown (everything the student's code said is escaped)."""
    lines = [f"# Feedback on {md(o.id)}", ""]
    if o.notebook is None:
        lines += ["The grader could not tell which exercise notebook this file answers, so nothing was graded."
                  + (f" The file could not be read: {md(o.unreadable)}." if o.unreadable else ""),
                  "Submit the exercise notebook (for example `02_message_passing.ipynb`) with the "
                  "function names it asks for.", ""]
        return "\n".join(lines)
    lines += [f"Notebook `{o.notebook}`: **{fmt(o.total)} of {fmt(o.max_score)} points**.", ""]
    if o.unreadable:
        lines += [f"The file could not be read: {md(o.unreadable)}. No code was run, so no exercise earns points.", ""]
    for e in o.exercises:
        lines += [f"## {e.name}: {fmt(e.score)} of {fmt(e.points)} points", ""]
        if e.title:
            lines += [f"*{e.title}*", ""]
        if e.problem and not o.unreadable:
            lines += [f"**No points for this exercise:** {md(e.problem)}.", ""]
        for c in e.checks:
            tag = "" if c.public else " (instructor test)"
            if c.passed:
                lines.append(f"- PASS {c.name}{tag}")
            else:
                message = md(c.message) if c.message != e.problem else "not graded (see above)"
                lines.append(f"- FAIL {c.name}{tag}: {message}")
        lines.append("")
    if o.load_errors or o.output_truncated:
        lines += ["## Notes", ""]
    if o.load_errors:
        lines.append(f"- {len(o.load_errors)} cell(s) raised an error while your notebook was run from top to "
                     "bottom (the grader goes on with the next cell):")
        lines += [f"  - {md(err)}" for err in o.load_errors[:10]]
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


def write_all(outcomes, out, missing=(), unlisted=()):
    """Write every report through ``out`` (a ``protect.OutputFolder``: new files only, links never followed)."""
    out.write("gradebook.csv", gradebook_csv(outcomes, missing, unlisted))
    out.write("files.csv", files_csv(outcomes))
    for o, name in zip(outcomes, unique_names([o.id for o in outcomes])):
        out.write(f"feedback/{name}.md", feedback(o))
        out.write(f"results/{name}.json", json.dumps(gradescope(o), indent=1))
    if len(outcomes) == 1:
        out.write("results.json", json.dumps(gradescope(outcomes[0]), indent=1))
