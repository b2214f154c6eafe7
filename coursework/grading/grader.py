"""The grader (parent side): find submissions, run each exercise in a sandboxed child, decide, report.

    python -m coursework.grading SUBMISSIONS... --out DIR [--jobs N] [--private-tests DIR]
                              [--timeout S] [--memory MB] [--notebook NAME] [--user NAME]

SUBMISSIONS are files (``.ipynb`` downloaded from Colab or Jupyter, or a ``.py`` export) or
folders, searched recursively for ``*.ipynb`` and ``*.py`` (hidden folders such as
``.ipynb_checkpoints`` are skipped). Which notebook a submission answers is decided, in order,
by: a notebook name contained in the file name (``alice_02_message_passing.ipynb``); the
``--notebook`` option; the exercise functions its code defines (``def gcn_norm`` ...); the only
notebook that the other submissions of the same run answer. Otherwise the row says so.

Scoring: an exercise's points are split equally over its checks (public and private); a check
earns its share when the student's functions ran in the child and the parent's ``verify``
accepted what came back. Anything unexpected (a timeout, a crash, data that cannot be read, a
call to the exercise's reference implementation, code that switched off the child's monitoring
of such calls) gives the whole exercise zero points.

Student code never runs in this process; see ``coursework.grading.sandbox``.
"""
import argparse
import concurrent.futures
import importlib
import io
import os
import pathlib
import re
import sys
import threading
from dataclasses import dataclass, field

import numpy as np

from coursework.checks import EXERCISES, CheckFailed, read_code_cells
from coursework.grading import report as reporting
from coursework.grading import transfer
from coursework.grading.private import private_tests
from coursework.grading.sandbox import Limits, kill_all, preflight, run_child

SUFFIXES = (".ipynb", ".py")
MAX_SUBMISSION_MB = 50
MESSAGE_CAP = 600
LIMITS_NOT_SET = set()   # resource limits a child could not set on this system (reported once)


@dataclass
class CheckOutcome:
    name: str
    public: bool
    passed: bool
    points: float           # what the check is worth
    message: str = ""


@dataclass
class ExerciseOutcome:
    name: str
    title: str
    points: float
    checks: list = field(default_factory=list)
    problem: str = ""       # why the whole exercise earns nothing ("" when graded check by check)

    @property
    def score(self):
        if self.problem:
            return 0.0
        return sum(c.points for c in self.checks if c.passed)


@dataclass
class SubmissionOutcome:
    id: str
    path: str
    notebook: str = None
    how: str = ""                       # how the notebook was determined
    unreadable: str = ""                # why the file could not be read as a submission
    exercises: list = field(default_factory=list)
    load_errors: list = field(default_factory=list)
    printed_chars: int = 0
    output_truncated: bool = False
    stuck: str = ""                     # set when loading the notebook timed out: its other exercises would too

    @property
    def total(self):
        return sum(e.score for e in self.exercises)

    @property
    def max_score(self):
        return sum(e.points for e in self.exercises)

    @property
    def status(self):
        if self.unreadable:
            return "unreadable"
        if self.notebook is None:
            return "unknown notebook"
        return "problems" if any(e.problem for e in self.exercises) else "ok"


# ----------------------------------------------------------------------------- finding submissions
def find_submissions(paths):
    """The submission files named by ``paths`` (files, or folders searched recursively), sorted."""
    found = set()
    for p in map(pathlib.Path, paths):
        if p.is_dir():
            for f in p.rglob("*"):
                rel = f.relative_to(p).parts
                if f.is_file() and f.suffix.lower() in SUFFIXES and not any(part.startswith(".") for part in rel):
                    found.add(f.resolve())
        elif p.is_file():
            found.add(p.resolve())
        else:
            raise ValueError(f"submissions: no file or folder at {p}")
    return sorted(found)


def submission_ids(files):
    """A short unique name per file: its name, or its path below the common folder when names repeat."""
    names = [f.name for f in files]
    if len(set(names)) == len(names):
        return names
    common = pathlib.Path(os.path.commonpath([str(f.parent) for f in files]))
    return ["__".join(f.relative_to(common).parts) for f in files]


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


def read_submission(path):
    """(source text, "") of a readable submission, or (None, why not) in plain words."""
    try:
        size = os.path.getsize(path)
        if size > MAX_SUBMISSION_MB * 2**20:
            return None, f"the file is larger than {MAX_SUBMISSION_MB} MB"
        if size == 0:
            return None, "the file is empty"
        cells = read_code_cells(path)
        return "\n".join(src for src, _ in cells), ""
    except ValueError as exc:
        return None, str(exc).removeprefix("submission: ")
    except Exception as exc:  # a notebook with an odd structure: fail closed, say so
        return None, f"the file is not a notebook this grader can read ({type(exc).__name__}: {exc})"


# ----------------------------------------------------------------------------- checks and inputs
def check_inputs(chk):
    """The seeded inputs of a check and their .npz bytes (arrays of numbers, booleans or text only)."""
    inputs = chk.make_inputs(np.random.default_rng(chk.seed))
    arrays = {}
    for key, value in inputs.items():
        arr = np.asarray(value)
        if arr.dtype.kind not in transfer.PLAIN_KINDS:
            raise ValueError(f"check {chk.exercise}/{chk.name}: input {key!r} is not an array of numbers or text")
        arrays[key] = arr
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return inputs, buf.getvalue()


def modules_for(ex):
    """The check modules a child imports to register exercise ``ex`` and find its ``run`` parts.

    (Importing only these, not every notebook's checks, keeps a child's start-up short.)
    """
    names = {c.run.__module__ for c in ex.checks}
    for name, module in list(sys.modules.items()):
        if name.startswith("coursework.checks.") and any(v is ex for v in vars(module).values()):
            names.add(name)
    return sorted(n for n in names if n.startswith("refimpl."))


def _short(text):
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else "?" for ch in str(text))
    return text if len(text) <= MESSAGE_CAP else text[:MESSAGE_CAP] + " ..."


def judge(ex, prepared, child):
    """Decide every check of exercise ``ex`` from a ChildReport, in the parent; fail closed."""
    share = ex.points / len(ex.checks)
    out = ExerciseOutcome(ex.name, ex.title, ex.points)
    entries = child.status.get("checks") if not child.problem else None
    for k, chk in enumerate(ex.checks):
        result = CheckOutcome(chk.name, chk.public, False, share)
        out.checks.append(result)
        if child.problem:
            result.message = child.problem
            continue
        entry = entries[k] if isinstance(entries[k], dict) else {}
        outcome = entry.get("outcome")
        if entry.get("name") != chk.name:
            result.message = "the process running your code reported results for a different check"
        elif outcome in ("failed", "raised"):
            result.message = _short(entry.get("message", "failed"))
        elif outcome != "returned":
            result.message = "the process running your code reported an unexpected outcome"
        elif k in child.transfer_errors:
            result.message = _short(f"what your code returned could not be read back: {child.transfer_errors[k]}")
        else:
            try:
                chk.verify(prepared[chk.name][0], child.outputs[k])
                result.passed = True
            except CheckFailed as exc:
                result.message = _short(exc)
            except Exception as exc:  # the check could not even compare: fail closed
                result.message = _short(f"the check could not compare your result ({type(exc).__name__}: {exc})")
    if child.problem:
        out.problem = child.problem
        return out
    reasons = []
    monitoring = child.status.get("monitoring")
    if not isinstance(monitoring, list):  # fail closed: no report on the monitoring, no points
        monitoring = ["the process running your code did not report on it"]
    if monitoring:
        reasons.append("your code disabled the grader's monitoring of calls to the reference implementation ("
                       + "; ".join(str(m) for m in monitoring[:3]) + ")")
    calls = child.status.get("reference_calls")
    calls = [c for c in calls if c in ex.reference] if isinstance(calls, list) else []
    if calls:
        reasons.append(f"your code calls the reference implementation ({', '.join(calls)}) instead of "
                       f"computing the result itself")
    if reasons:
        out.problem = _short("; ".join(reasons) + ", so this exercise earns no points")
    return out


def unreadable_exercise(ex, why):
    share = ex.points / len(ex.checks)
    checks = [CheckOutcome(c.name, c.public, False, share, why) for c in ex.checks]
    return ExerciseOutcome(ex.name, ex.title, ex.points, checks, problem=why)


# ----------------------------------------------------------------------------- the run
def grade(paths, out, jobs=None, private=None, limits=None, notebook=None, progress=sys.stderr):
    """Grade every submission under ``paths``; write the reports into ``out``; return the outcomes.

    private: a folder of private tests (see ``coursework.grading.private``) or None;
    limits: a ``sandbox.Limits`` (timeout, memory, file size, user); notebook: the fallback
    notebook name; progress: a text stream for one line per finished submission (None: quiet).
    """
    limits = limits or Limits()
    jobs = int(jobs or len(os.sched_getaffinity(0)))
    if jobs < 1:
        raise ValueError(f"jobs: expected at least 1, got {jobs}")
    files = find_submissions(paths)
    if not files:
        raise ValueError(f"submissions: no .ipynb or .py file in {', '.join(map(str, paths))}")
    say = (lambda line: print(line, file=progress, flush=True)) if progress else (lambda line: None)
    with private_tests(private):
        if notebook is not None and notebook not in notebooks_in_order():
            raise ValueError(f"notebook: no exercises registered for {notebook!r}; known: {notebooks_in_order()}")
        outcomes = []
        for f, sid in zip(files, submission_ids(files)):
            code, why = read_submission(f)
            nb, how = detect_notebook(f, code, notebook)
            outcomes.append(SubmissionOutcome(sid, str(f), nb, how, why))
        answered = {o.notebook for o in outcomes if o.notebook}
        for o in outcomes:
            if o.notebook is None and len(answered) == 1:
                o.notebook, o.how = next(iter(answered)), "the notebook of the other submissions"
        preflight(limits)
        exercises = {nb: [ex for ex in EXERCISES.values() if ex.notebook == nb] for nb in answered}
        for ex in (ex for exs in exercises.values() for ex in exs):
            if not ex.checks:
                raise ValueError(f"exercise {ex.name!r} has no checks to grade with")
            if len({c.name for c in ex.checks}) != len(ex.checks):
                raise ValueError(f"exercise {ex.name!r} has two checks of the same name")
            for dotted in ex.reference:  # the child's monitor needs Python functions
                module, _, attr = dotted.rpartition(".")
                if not hasattr(getattr(importlib.import_module(module), attr, None), "__code__"):
                    raise ValueError(f"exercise {ex.name!r}: reference {dotted!r} is not a Python function")
        prepared = {ex.name: {c.name: check_inputs(c) for c in ex.checks}
                    for exs in exercises.values() for ex in exs}
        tasks = []
        for o in outcomes:
            if o.notebook is None:
                continue
            if o.unreadable:
                o.exercises = [unreadable_exercise(ex, o.unreadable) for ex in exercises[o.notebook]]
            else:
                o.exercises = [None] * len(exercises[o.notebook])
                tasks += [(o, k, ex) for k, ex in enumerate(exercises[o.notebook])]
        say(f"grading {len(outcomes)} submission(s): {len(tasks)} exercise runs, {jobs} at a time, "
            f"limits {limits.timeout:g} s and {limits.memory_mb} MB per exercise")
        remaining = {id(o): sum(1 for t in tasks if t[0] is o) for o in outcomes}
        lock, done = threading.Lock(), [0]

        def finished(o):
            done[0] += 1
            say(f"[{done[0]:>{len(str(len(outcomes)))}}/{len(outcomes)}] {reporting.progress_line(o)}")

        for o in outcomes:
            if remaining[id(o)] == 0:
                finished(o)

        def work(task):
            o, k, ex = task
            job = {"exercise": ex.name, "checks": [c.name for c in ex.checks], "modules": modules_for(ex),
                   "private_tests": str(pathlib.Path(private).resolve()) if private else None}
            with lock:
                stuck = o.stuck
            try:
                if stuck:  # the notebook's cells never finished in another exercise's run: same result, no wait
                    child, result = None, unreadable_exercise(ex, stuck)
                else:
                    child = run_child(o.path, job, [prepared[ex.name][c.name][1] for c in ex.checks], limits)
                    result = judge(ex, prepared[ex.name], child)
                    if child.stuck_loading:
                        with lock:
                            o.stuck = child.problem
            except Exception as exc:  # the grader itself failed on this one: no points, say so
                child = None
                result = unreadable_exercise(ex, f"the grader failed to run this exercise ({type(exc).__name__}: {exc})")
            with lock:
                o.exercises[k] = result
                if child is not None:
                    absorb(o, child)
                remaining[id(o)] -= 1
                if remaining[id(o)] == 0:
                    finished(o)

        pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)
        try:
            for future in [pool.submit(work, t) for t in tasks]:
                future.result()
        except BaseException:  # interrupted (Ctrl-C): stop the queue and the children now
            pool.shutdown(wait=False, cancel_futures=True)
            kill_all()
            raise
        pool.shutdown()
        reporting.write_all(outcomes, out)
    if LIMITS_NOT_SET:
        say(f"warning: this system did not accept the limits {sorted(LIMITS_NOT_SET)}; student code ran without them")
    say(f"wrote {pathlib.Path(out) / 'gradebook.csv'}, feedback/ and results/")
    return outcomes


def absorb(o, child):
    """Keep what every child of a submission reports alike (cell errors, printed output)."""
    status = child.status
    errors = status.get("load_errors")
    if isinstance(errors, list) and not o.load_errors:
        o.load_errors = [_short(e) for e in errors[:20]]
    printed = status.get("printed_chars")
    if isinstance(printed, int):
        o.printed_chars = max(o.printed_chars, printed)
    o.output_truncated = o.output_truncated or status.get("output_truncated") is True
    failed = status.get("limits_failed")
    if isinstance(failed, list):
        LIMITS_NOT_SET.update(str(name) for name in failed)


# ----------------------------------------------------------------------------- command line
def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m coursework.grading", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", nargs="+", help="submission files or folders of them")
    parser.add_argument("--out", required=True, help="folder for gradebook.csv, feedback/, results/")
    parser.add_argument("--jobs", type=int, default=None, help="children run at once (default: the cores)")
    parser.add_argument("--private-tests", default=None, metavar="DIR", help="folder of private test files")
    parser.add_argument("--timeout", type=float, default=60.0, metavar="S",
                        help="wall-clock and CPU seconds per exercise (default 60)")
    parser.add_argument("--memory", type=int, default=1024, metavar="MB", help="memory per exercise (default 1024)")
    parser.add_argument("--notebook", default=None, help="notebook name when the file name does not contain it")
    parser.add_argument("--user", default=None, help="run student code as this user (when grading as root)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        grade(args.submissions, args.out, jobs=args.jobs, private=args.private_tests, notebook=args.notebook,
              limits=Limits(timeout=args.timeout, memory_mb=args.memory, user=args.user))
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
    return 0
