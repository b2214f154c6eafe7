"""What the grader decides, in the parent: outcomes per check, exercise and submission file.

Scoring: an exercise's points are split equally over its checks (public and private); a check
earns its share when the student's functions ran in the child and the parent's ``verify``
accepted what came back. A check whose returned data cannot be read back (too large, or
malformed) fails, alone. Anything else unexpected (a timeout, a crash, an early exit, a call to
the exercise's reference implementation during a check, code that switched off the child's
monitoring of such calls) gives the whole exercise zero points.
"""
import io
from dataclasses import dataclass, field

import numpy as np

from coursework.checks import CheckFailed
from coursework.grading import transfer

MESSAGE_CAP = 600


@dataclass
class CheckOutcome:
    name: str
    public: bool
    passed: bool
    points: float           # what the check is worth
    message: str = ""
    exited: bool = False    # the student's code raised SystemExit or KeyboardInterrupt


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
    id: str                             # unique name of the file in this run
    path: str
    notebook: str = None
    how: str = ""                       # how the notebook was determined
    unreadable: str = ""                # why the file could not be read as a submission
    exercises: list = field(default_factory=list)
    load_errors: list = field(default_factory=list)
    printed_chars: int = 0
    output_truncated: bool = False
    stuck: str = ""                     # set when loading the notebook timed out: its other exercises would too
    student: str = ""                   # the gradebook row this file belongs to
    data: bytes = field(default=None, repr=False)  # the private snapshot graded (read once, at the start)

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
        if any(e.problem for e in self.exercises):
            return "problems"
        if self.load_errors or any(c.exited for e in self.exercises for c in e.checks):
            return "errors"  # a cell raised, or the code tried to end the process: points may be missing
        return "ok"


def short(text):
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else "?" for ch in str(text))
    return text if len(text) <= MESSAGE_CAP else text[:MESSAGE_CAP] + " ..."


def check_inputs(chk, salt=b""):
    """The inputs of a check, seeded from the course's salt, and their .npz bytes (plain arrays only)."""
    inputs = chk.make_inputs(np.random.default_rng(chk.salted_seed(salt)))
    arrays = {}
    for key, value in inputs.items():
        arr = np.asarray(value)
        if arr.dtype.kind not in transfer.PLAIN_KINDS:
            raise ValueError(f"check {chk.exercise}/{chk.name}: input {key!r} is not an array of numbers or text")
        arrays[key] = arr
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return inputs, buf.getvalue()


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
        result.exited = entry.get("exited") is True
        if entry.get("name") != chk.name:
            result.message = "the process running your code reported results for a different check"
        elif outcome in ("failed", "raised"):
            result.message = short(entry.get("message", "failed"))
        elif outcome != "returned":
            result.message = "the process running your code reported an unexpected outcome"
        elif k in child.transfer_errors:
            result.message = short(f"what your code returned could not be read back: {child.transfer_errors[k]}")
        else:
            try:
                chk.verify(prepared[chk.name][0], child.outputs[k])
                result.passed = True
            except CheckFailed as exc:
                result.message = short(exc)
            except Exception as exc:  # the check could not even compare: fail closed
                result.message = short(f"the check could not compare your result ({type(exc).__name__}: {exc})")
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
        out.problem = short("; ".join(reasons) + ", so this exercise earns no points")
    return out


def unreadable_exercise(ex, why):
    share = ex.points / len(ex.checks)
    checks = [CheckOutcome(c.name, c.public, False, share, why) for c in ex.checks]
    return ExerciseOutcome(ex.name, ex.title, ex.points, checks, problem=why)
