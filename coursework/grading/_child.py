"""The grading child: runs one submission's code for one exercise and hands back plain data.

    python -I -c BOOTSTRAP COURSE_COPY WORKDIR      (see sandbox.BOOTSTRAP)

Started by the grader (``coursework.grading.sandbox``) in a fresh temporary folder WORKDIR that
holds a copy of the submission, ``job.json`` and one ``in<k>.npz`` of inputs per check. In order:

0. as root, give itself a private view of the machine and a throwaway user
   (``coursework.grading.jail``); otherwise forbid gaining privileges (``PR_SET_NO_NEW_PRIVS``);
1. set its own resource limits (address space, CPU seconds, file size, no new processes), before
   any student code exists in the process;
2. load the inputs and the checks (and the instructor's private tests, which hold ``run`` parts);
3. replace the self-check ``check(...)`` by a no-op, then execute the submission's code cells one
   by one (the ``ReferenceMonitor`` watching from the first line), each in try/except (a cell that raises, even SystemExit or KeyboardInterrupt, is
   recorded and the next one runs), then put back any builtin the student's code replaced
   (``builtins.isinstance = ...`` would break this process);
4. for each check, run its ``run`` part (which calls only the student's functions) under the
   ``ReferenceMonitor``, which records calls to the exercise's reference functions and notices
   when the student's code switched its monitoring off, and write what came back as
   ``out<k>.npz`` (plain arrays only) plus a JSON description;
5. write ``status.json`` and leave with ``os._exit(0)``, so no atexit handler of the student's runs.

The parent trusts nothing of this: it decides pass/fail itself (``Check.verify``) and gives no
points when this process ends in any other way.
"""
import builtins
import errno
import importlib
import json
import os
import resource
import sys
from types import SimpleNamespace

from coursework.grading.monitor import ReferenceMonitor

# Captured before any student code runs, so that monkeypatching builtins cannot reach them.
_open, _type, _str, _len, _isinstance = builtins.open, builtins.type, builtins.str, builtins.len, builtins.isinstance
_exit, _replace, _join, _dumps = os._exit, os.replace, os.path.join, json.dumps

OUTPUT_CAP = 64 * 1024      # characters of printed output kept (per stream)
TEXT_CAP = 500              # characters kept of any message


class _CappedStream:
    """sys.stdout/sys.stderr replacement: keeps the first OUTPUT_CAP characters, counts the rest."""

    def __init__(self, raw):
        self._raw, self.written, self.dropped = raw, 0, 0

    def write(self, text):
        text = _str(text)
        room = OUTPUT_CAP - self.written
        keep = text[:max(room, 0)]
        if keep:
            try:
                self._raw.write(keep)
                self._raw.flush()
            except Exception:
                pass
        self.written += _len(keep)
        self.dropped += _len(text) - _len(keep)
        return _len(text)

    def flush(self):
        pass

    def isatty(self):
        return False


def _short(text):
    text = _str(text)
    return text if _len(text) <= TEXT_CAP else text[:TEXT_CAP] + " ..."


def set_limits(memory_mb, cpu_seconds, file_mb):
    """Hard resource limits for this process and anything it starts; returns those that failed."""
    failed = []
    limits = [("RLIMIT_AS", memory_mb * 2**20, memory_mb * 2**20),
              ("RLIMIT_CPU", cpu_seconds, cpu_seconds + 1),
              ("RLIMIT_FSIZE", file_mb * 2**20, file_mb * 2**20),
              ("RLIMIT_NPROC", 0, 0),
              ("RLIMIT_CORE", 0, 0)]
    for name, soft, hard in limits:
        try:
            resource.setrlimit(getattr(resource, name), (soft, hard))
        except (AttributeError, ValueError, OSError):
            failed.append(name)
    return failed


def _where(exc):
    """'code cell 4, line 3, in scatter_sum_forward' for the innermost frame of the submission's code."""
    tb, where = exc.__traceback__, ""
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.startswith(("<code cell", "<your .py file")):
            where = f"{code.co_filename[1:-1]}, line {tb.tb_lineno}, in {code.co_name}"
        tb = tb.tb_next
    return where


def describe_exception(exc):
    """Plain words for an exception raised by the student's code."""
    name = _type(exc).__name__
    where = _where(exc)
    at = f" ({where})" if where else ""
    if _isinstance(exc, SystemExit):
        return f"your code called sys.exit() or raised SystemExit{at}; a function must return its result"
    if _isinstance(exc, KeyboardInterrupt):
        return f"your code raised KeyboardInterrupt{at}"
    if _isinstance(exc, MemoryError):
        return f"your code ran out of memory{at} (the grader allows {os.environ.get('GRADER_MEMORY_MB', '?')} MB)"
    if _isinstance(exc, RecursionError):
        return f"your code recursed too deeply (RecursionError){at}"
    if _isinstance(exc, NotImplementedError):
        return f"not implemented yet{at}: {_short(exc)}"
    if _isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        return (f"your code wrote a file larger than the {os.environ.get('GRADER_FILE_MB', '?')} MB the grader "
                f"allows{at}")
    try:
        message = _short(exc)
    except BaseException:
        message = "(the error message could not be printed)"
    return f"your code raised {name}{at}: {message}"


class BuiltinsGuard:
    """Puts back the builtins the student's code replaced or deleted (names it added stay)."""

    def __init__(self):
        self.saved = dict(builtins.__dict__)

    def restore(self):
        current = builtins.__dict__
        for name, value in self.saved.items():
            if current.get(name, self) is not value:
                current[name] = value


def skipped_self_check(name, *args, **kwargs):
    """Stands in for ``coursework.checks.check`` in the child: a notebook's self-check cells do not run.

    (Tagged self-check cells are skipped anyway; this covers notebooks whose tags were lost,
    so that a self-check that loops or raises cannot hold up the loading of the notebook.)
    """
    print(f"(check({name!r}) skipped by the grader)")


def _is_self_check(node):
    import ast
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name) and node.value.func.id == "check")


def code_units(path):
    """What to execute, in order: notebook cells, or the top-level statements of a .py export."""
    import ast

    from coursework.checks.cells import runnable_cells
    units = []
    for label, src, _ in runnable_cells(path):
        if not path.endswith(".py"):
            units.append((f"<{label}>", src))
            continue
        try:  # a .py export: run statement by statement, skipping the self-check calls
            tree = ast.parse(src)
        except SyntaxError:
            units.append((f"<{label}>", src))  # compiling it again reports the syntax error
            continue
        for node in tree.body:
            if not _is_self_check(node):
                units.append((f"<{label}>", ast.Module(body=[node], type_ignores=[])))
    return units


def execute(units, namespace):
    """Run each unit in ``namespace``; return the errors (one line each), never raising."""
    errors = []
    for filename, src in units:
        try:
            exec(compile(src, filename, "exec"), namespace)
        except BaseException as exc:  # noqa: B902 - SystemExit and KeyboardInterrupt too
            message = describe_exception(exc)
            errors.append(message if filename[1:-1] in message else f"{filename[1:-1]}: {message}")
    return errors


def main(workdir):
    # The child's own files are named by absolute paths: the student's code may change directory.
    workdir = os.path.abspath(workdir)
    here = lambda name: _join(workdir, name)  # noqa: E731
    with _open(here("job.json"), encoding="utf-8") as f:
        job = json.load(f)
    from coursework.grading.jail import enter
    enter(job.get("jail") or {})  # as root: a private view of the machine and a throwaway user
    os.chdir(workdir)
    os.environ["GRADER_MEMORY_MB"], os.environ["GRADER_FILE_MB"] = _str(job["memory_mb"]), _str(job["file_mb"])
    status = {"complete": False, "limits_failed": set_limits(job["memory_mb"], job["cpu_seconds"], job["file_mb"])}

    def write_status():
        with _open(here("status.tmp"), "w", encoding="utf-8") as f:
            f.write(_dumps(status, allow_nan=True))
        _replace(here("status.tmp"), here("status.json"))

    import numpy as np

    from coursework.checks import EXERCISES, CheckFailed, load_all
    if job.get("probe"):  # no student code: report what this child can see
        hidden = job["probe"]["hidden"]
        ways = {(os.path.dirname(a), os.path.basename(a)) for p in (job.get("jail") or {}).get("expose", [])
                for a in [p] + [p.rsplit("/", k)[0] for k in range(1, p.count("/"))]}
        status["probe"] = {"visible": {p: os.path.isdir(p) and [n for n in os.listdir(p) if (p, n) not in ways]
                                       for p in hidden},
                           "parent_visible": os.path.exists(f"/proc/{job['probe']['parent']}"), "uid": os.getuid()}
        status.update(complete=True, checks=[])
        write_status()
        return
    from coursework.grading import transfer
    for module in job.get("modules", []):  # only the checks of this exercise: a faster start
        importlib.import_module(module)
    if job.get("private_tests"):
        from coursework.grading.private import load_private_tests
        load_private_tests(job["private_tests"])  # (imports every notebook's checks first)
    if job["exercise"] not in EXERCISES:
        load_all()
    exercise = EXERCISES[job["exercise"]]
    by_name = {c.name: c for c in exercise.checks}
    checks = [by_name[name] for name in job["checks"]]
    inputs = []
    for k in range(len(checks)):
        with np.load(here(f"in{k}.npz"), allow_pickle=False) as data:
            inputs.append({key: data[key] for key in data.files})
    monitor = ReferenceMonitor(exercise.reference)
    monitor.hide_references()  # before the student's code can import the reference functions
    savez = np.savez  # kept before the student's code can replace it

    import coursework.checks
    import coursework.checks.core
    coursework.checks.check = coursework.checks.core.check = skipped_self_check
    guard = BuiltinsGuard()
    out, err = _CappedStream(sys.stdout), _CappedStream(sys.stderr)
    sys.stdout, sys.stderr = out, err
    namespace = {"__name__": "__submission__"}
    units = code_units(job["submission"])
    monitor.start("loading", namespace)  # watched from the student's first line on
    try:
        status["load_errors"] = execute(units, namespace)
    finally:
        monitor.stop()
    status["checks"] = []
    for k, chk in enumerate(checks):
        guard.restore()
        with _open(here("progress"), "w") as f:
            f.write(_str(k))
        sys.stdout, sys.stderr = out, err
        entry = {"name": chk.name}
        monitor.start("check", namespace, chk.name)  # (outside the try: a failure of the monitor is the grader's)
        value = None
        try:
            student = SimpleNamespace(**{key: v for key, v in namespace.items() if _type(key) is str})
            value = chk.run(student, {key: np.copy(v) for key, v in inputs[k].items()})
            entry["outcome"] = "returned"
        except CheckFailed as exc:
            entry.update(outcome="failed", message=_short(exc))
        except BaseException as exc:  # noqa: B902 - whatever the student's code raised
            entry.update(outcome="raised", message=describe_exception(exc),
                         exited=_isinstance(exc, (SystemExit, KeyboardInterrupt)))
        finally:
            guard.restore()
            monitor.stop()
        if entry["outcome"] == "returned":
            try:
                entry["result"] = transfer.save(here(f"out{k}.npz"), value, savez)
            except OSError as exc:  # the file-size limit: what came back is too large to hand over
                if exc.errno != errno.EFBIG:
                    raise
                entry.update(outcome="failed", message=(
                    f"what your function returned is too large for the grader to take back (more than "
                    f"{job['file_mb']} MB once saved): return only the arrays the exercise asks for, "
                    f"at the sizes of its inputs"))
        value = None
        status["checks"].append(entry)
    guard.restore()
    status["reference_calls"] = list(monitor.called)
    status["reference_calls_loading"] = list(monitor.called_loading)
    status["monitoring"] = list(monitor.problems)
    status["printed_chars"] = out.written + out.dropped + err.written + err.dropped
    status["output_truncated"] = bool(out.dropped or err.dropped)
    status["complete"] = True
    write_status()


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except BaseException:  # the grading machinery itself failed: report on stderr, exit non-zero
        import traceback
        traceback.print_exc(file=sys.__stderr__)
        _exit(3)
    _exit(0)
