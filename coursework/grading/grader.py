"""The grader (parent side): snapshot submissions, run each exercise in a sandboxed child, decide, report.

    python -m coursework.grading SUBMISSIONS... --out DIR [--overwrite] [--jobs N] [--private-tests DIR]
                              [--timeout S] [--memory MB] [--notebook NAME] [--roster CSV]
                              [--salt-file FILE] [--user NAME]

SUBMISSIONS are files (``.ipynb`` downloaded from Colab or Jupyter, or a ``.py`` export) or
folders, searched recursively for ``*.ipynb`` and ``*.py`` (hidden folders such as
``.ipynb_checkpoints`` are skipped). Each file is read once, before any student code runs, and
graded from that private snapshot; which notebook it answers and whose it is are decided as
``coursework.grading.submissions`` says. Scoring is described in ``coursework.grading.outcomes``;
the graded inputs are seeded from the course's secret salt (``coursework.grading.protect``).

Student code never runs in this process; see ``coursework.grading.sandbox`` and, for what is
protected in which mode, ``coursework.grading.modes``. The first line printed says which
protections are active.
"""
import argparse
import concurrent.futures
import importlib
import os
import pathlib
import sys
import tempfile
import threading

from coursework.checks import EXERCISES
from coursework.grading import report as reporting
from coursework.grading.modes import choose
from coursework.grading.outcomes import SubmissionOutcome, check_inputs, judge, short, unreadable_exercise
from coursework.grading.private import private_tests
from coursework.grading.protect import PACKAGE_PARENT, CourseCopy, OutputFolder, SignalGuard, course_salt, remove_tree
from coursework.grading.sandbox import Limits, Sandbox
from coursework.grading.submissions import (assign_students, detect_notebook, find_submissions, notebooks_in_order,
                                            read_roster, read_submission, snapshot, submission_ids)


class GradingStopped(Exception):
    """The grading was stopped by a signal (the gradebook was written with what had been graded)."""


def modules_for(ex):
    """The check modules a child imports to register exercise ``ex`` and find its ``run`` parts."""
    names = {c.run.__module__ for c in ex.checks}
    for name, module in list(sys.modules.items()):
        if name.startswith("coursework.checks.nb") and any(v is ex for v in vars(module).values()):
            names.add(name)
    return sorted(n for n in names if n.startswith("coursework.checks."))


def validate_exercises(exercises):
    for ex in exercises:
        if not ex.checks:
            raise ValueError(f"exercise {ex.name!r} has no checks to grade with")
        if len({c.name for c in ex.checks}) != len(ex.checks):
            raise ValueError(f"exercise {ex.name!r} has two checks of the same name")
        for dotted in ex.reference:  # the child's monitor needs Python functions
            module, _, attr = dotted.rpartition(".")
            if not hasattr(getattr(importlib.import_module(module), attr, None), "__code__"):
                raise ValueError(f"exercise {ex.name!r}: reference {dotted!r} is not a Python function")


def snapshots(paths, notebook, roster):
    """One SubmissionOutcome per file, its bytes read now (before any student code runs)."""
    found = find_submissions(paths)
    if not found:
        raise ValueError(f"submissions: no .ipynb or .py file in {', '.join(map(str, paths))}")
    files, rels = [f for f, _ in found], [r for _, r in found]
    students, missing, listed = assign_students(rels, roster)
    outcomes = []
    for f, sid, student in zip(files, submission_ids(files), students):
        data, why = snapshot(f)
        code, why = read_submission(f.name, data, why)
        nb, how = detect_notebook(f, code, notebook)
        outcomes.append(SubmissionOutcome(sid, str(f), nb, how, why, student=student, data=data))
    answered = {o.notebook for o in outcomes if o.notebook}
    for o in outcomes:
        if o.notebook is None and len(answered) == 1:
            o.notebook, o.how = next(iter(answered)), "the notebook of the other submissions"
    unlisted = {o.id for o, ok in zip(outcomes, listed) if roster is not None and not ok}
    return outcomes, missing, unlisted


def grade(paths, out, jobs=None, private=None, limits=None, notebook=None, progress=sys.stderr, overwrite=False,
          salt_file=None, roster=None):
    """Grade every submission under ``paths``; write the reports into ``out``; return the outcomes.

    private: a folder of private tests (see ``coursework.grading.private``) or None; limits: a
    ``sandbox.Limits``; notebook: the fallback notebook name; progress: a text stream for the
    protections line and one line per finished submission (None: quiet); overwrite: replace the
    grader's earlier reports in ``out``; salt_file: the course's secret salt (see
    ``protect.course_salt``); roster: a CSV of students (see ``coursework.grading.submissions``).
    Raises GradingStopped (after writing the reports) when a signal stopped the grading.
    """
    limits = limits or Limits()
    jobs = int(jobs or len(os.sched_getaffinity(0)))
    if jobs < 1:
        raise ValueError(f"jobs: expected at least 1, got {jobs}")
    say = (lambda line: print(line, file=progress, flush=True)) if progress else (lambda line: None)
    if private is not None and not pathlib.Path(private).is_dir():
        raise ValueError(f"private_tests: no folder at {private}")
    roster_rows = read_roster(roster) if roster else None
    folder = OutputFolder(out, overwrite)
    try:
        salt, salt_from = course_salt(folder, salt_file)
        with private_tests(private):
            if notebook is not None and notebook not in notebooks_in_order():
                raise ValueError(f"notebook: no exercises registered for {notebook!r}; known: {notebooks_in_order()}")
            outcomes, missing, unlisted = snapshots(paths, notebook, roster_rows)
            exercises = {nb: [ex for ex in EXERCISES.values() if ex.notebook == nb]
                         for nb in {o.notebook for o in outcomes if o.notebook}}
            validate_exercises(ex for exs in exercises.values() for ex in exs)
            prepared = {ex.name: {c.name: check_inputs(c, salt) for c in ex.checks}
                        for exs in exercises.values() for ex in exs}
            hide = sorted({str(p if p.is_dir() else p.parent) for p in (pathlib.Path(q).resolve() for q in paths)}
                          | {str(folder.path), str(PACKAGE_PARENT)} | ({str(pathlib.Path(private).resolve())} if private else set())
                          | ({str(pathlib.Path(salt_file).resolve().parent)} if salt_file else set()))
            stopped = run_all(outcomes, exercises, prepared, limits, jobs, private, hide, say, salt_from)
            unknown = folder.unexpected()
            if unknown:  # planted while grading (children as this user): write elsewhere, fresh
                target = OutputFolder(tempfile.mkdtemp(prefix=folder.path.name + "-", dir=folder.path.parent))
                say(f"warning: {folder.path} gained {unknown[:3]} while grading; the reports go to {target.path}")
                folder.close()
                folder = target
            reporting.write_all(outcomes, folder, missing, unlisted)
    finally:
        folder.close()
    say(f"wrote {folder.path / 'gradebook.csv'}, files.csv, feedback/ and results/")
    if stopped:
        raise GradingStopped(f"stopped by {stopped}: the reports hold what was graded before")
    return outcomes


def run_all(outcomes, exercises, prepared, limits, jobs, private, hide, say, salt_from):
    """Run every exercise of every readable submission; returns the name of a signal that stopped it, or None."""
    tasks = []
    for o in outcomes:
        if o.notebook is None:
            continue
        if o.unreadable:
            o.exercises = [unreadable_exercise(ex, o.unreadable) for ex in exercises[o.notebook]]
        else:
            o.exercises = [None] * len(exercises[o.notebook])
            tasks += [(o, k, ex) for k, ex in enumerate(exercises[o.notebook])]
    workroot = tempfile.mkdtemp(prefix="grader-")
    os.chmod(workroot, 0o711)  # children may pass through to their own folder, never list the others
    try:
        course = CourseCopy(workroot, private)
        iso, line = choose(limits, jobs, course.root, workroot, hide + [workroot])
        say(line)
        say(f"course salt: {salt_from}")
        sandbox = Sandbox(limits, iso, jobs)
        remaining = {id(o): sum(1 for t in tasks if t[0] is o) for o in outcomes}
        lock, done, limits_not_set = threading.Lock(), [0], set()

        def finished(o):
            done[0] += 1
            say(f"[{done[0]:>{len(str(len(outcomes)))}}/{len(outcomes)}] {reporting.progress_line(o)}")

        for o in outcomes:
            if remaining[id(o)] == 0:
                finished(o)

        def work(task):
            o, k, ex = task
            job = {"exercise": ex.name, "checks": [c.name for c in ex.checks], "modules": modules_for(ex),
                   "private_tests": course.private}
            suffix = ".py" if o.path.lower().endswith(".py") else ".ipynb"
            with lock:
                stuck = o.stuck
            child = None
            try:
                if stuck:  # the notebook's cells never finished in another exercise's run: same result, no wait
                    result = unreadable_exercise(ex, stuck)
                else:
                    child = sandbox.run(o.id, o.data, suffix, job, [prepared[ex.name][c.name][1] for c in ex.checks])
                    result = judge(ex, prepared[ex.name], child)
                    if child.stuck_loading:
                        with lock:
                            o.stuck = child.problem
                    if iso.uids is None and not course.intact():  # children as this user could change it
                        result = unreadable_exercise(ex, "the grader's copy of the course code was changed while "
                                                         "your code ran, so this exercise earns no points")
            except Exception as exc:  # the grader itself failed on this one: no points, say so
                child = None
                result = unreadable_exercise(ex, short(f"the grader failed to run this exercise ({type(exc).__name__}: {exc})"))
            with lock:
                o.exercises[k] = result
                if child is not None:
                    absorb(o, child, limits_not_set)
                remaining[id(o)] -= 1
                if remaining[id(o)] == 0:
                    finished(o)

        stopped = None
        with SignalGuard(sandbox.pids) as guard:
            # announced only now that signals are guarded: a stop from here on still writes the gradebook
            say(f"grading {len(outcomes)} submission(s): {len(tasks)} exercise runs, {jobs} at a time, "
                f"limits {limits.timeout:g} s and {limits.memory_mb} MB per exercise")
            pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
            futures = [pool.submit(work, t) for t in tasks]
            try:
                while not all(f.done() for f in futures):
                    if guard.active:
                        stopped = guard.poll(0.2)
                    else:
                        concurrent.futures.wait(futures, timeout=0.2)
                    if stopped:
                        break
            except KeyboardInterrupt:
                stopped = "SIGINT"
            if stopped:
                sandbox.kill_all()
            pool.shutdown(wait=True, cancel_futures=bool(stopped))  # every child has ended after this
        for warning in guard.ignored[:20]:
            say(f"ignored {warning}")
        for o in outcomes:
            for k, ex in enumerate(exercises.get(o.notebook, [])):
                if o.exercises[k] is None or (stopped and "grading was stopped" in o.exercises[k].problem):
                    o.exercises[k] = unreadable_exercise(ex, f"not graded: the grader was stopped ({stopped})")
        if limits_not_set:
            say(f"warning: this system did not accept the limits {sorted(limits_not_set)}; student code ran without them")
        return stopped
    finally:
        remove_tree(workroot)


def absorb(o, child, limits_not_set):
    """Keep what every child of a submission reports alike (cell errors, printed output)."""
    status = child.status
    errors = status.get("load_errors")
    if isinstance(errors, list) and not o.load_errors:
        o.load_errors = [short(e) for e in errors[:20]]
    printed = status.get("printed_chars")
    if isinstance(printed, int):
        o.printed_chars = max(o.printed_chars, printed)
    o.output_truncated = o.output_truncated or status.get("output_truncated") is True
    failed = status.get("limits_failed")
    if isinstance(failed, list):
        limits_not_set.update(str(name) for name in failed)


# ----------------------------------------------------------------------------- command line
def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m coursework.grading", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", nargs="+", help="submission files or folders of them")
    parser.add_argument("--out", required=True, help="a new (or empty) folder for the gradebook, feedback/, results/")
    parser.add_argument("--overwrite", action="store_true", help="replace the grader's earlier reports in --out")
    parser.add_argument("--jobs", type=int, default=None, help="children run at once (default: the cores)")
    parser.add_argument("--private-tests", default=None, metavar="DIR", help="folder of private test files")
    parser.add_argument("--timeout", type=float, default=60.0, metavar="S",
                        help="wall-clock and CPU seconds per exercise (default 60)")
    parser.add_argument("--memory", type=int, default=1024, metavar="MB", help="memory per exercise (default 1024)")
    parser.add_argument("--notebook", default=None, help="notebook name when the file name does not contain it")
    parser.add_argument("--roster", default=None, metavar="CSV", help="students: columns 'student' and 'match'")
    parser.add_argument("--salt-file", default=None, metavar="FILE",
                        help="the course's secret salt (created if absent; default OUT/salt)")
    parser.add_argument("--user", default=None, help="as root: run every child as this user, not a throwaway one")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        grade(args.submissions, args.out, jobs=args.jobs, private=args.private_tests, notebook=args.notebook,
              limits=Limits(timeout=args.timeout, memory_mb=args.memory, user=args.user), overwrite=args.overwrite,
              salt_file=args.salt_file, roster=args.roster)
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except GradingStopped as exc:
        print(f"interrupted: {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
    return 0
