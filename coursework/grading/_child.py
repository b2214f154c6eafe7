"""The grading child: runs one submission's code for one exercise and hands back plain data.

    python -I -c BOOTSTRAP PACKAGE_PARENT WORKDIR      (see sandbox.BOOTSTRAP)

Started by the grader (``coursework.grading.sandbox``) in a fresh temporary folder WORKDIR that
holds a copy of the submission, ``job.json`` and one ``in<k>.npz`` of inputs per check. In order:

1. set its own resource limits (address space, CPU seconds, file size, no new processes), before
   any student code exists in the process;
2. load the inputs and the checks (and the instructor's private tests, which hold ``run`` parts);
3. replace the self-check ``check(...)`` by a no-op, then execute the submission's code cells one
   by one, each in try/except (a cell that raises, even SystemExit or KeyboardInterrupt, is
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
import functools
import importlib
import json
import os
import resource
import sys
import threading
from types import FunctionType, ModuleType, SimpleNamespace

# Captured before any student code runs, so that monkeypatching builtins cannot reach them.
_open, _type, _str, _len, _isinstance = builtins.open, builtins.type, builtins.str, builtins.len, builtins.isinstance
_exit, _replace, _join, _dumps = os._exit, os.replace, os.path.join, json.dumps
_modules, _update_wrapper = sys.modules, functools.update_wrapper
# What the reference monitor relies on: the monitor calls these private copies, and reports (and
# puts back) any the student's code replaced, since new threads call ``sys.settrace`` themselves.
_settrace, _gettrace = sys.settrace, sys.gettrace
_thread_settrace, _thread_gettrace = threading.settrace, threading.gettrace
MONITOR_TOOLS = (("sys.settrace", sys, "settrace", _settrace), ("sys.gettrace", sys, "gettrace", _gettrace),
                 ("threading.settrace", threading, "settrace", _thread_settrace),
                 ("threading.gettrace", threading, "gettrace", _thread_gettrace))

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
        if code.co_filename.startswith("<code cell"):
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


def split_python_file(text):
    """A .py export as a list of chunks: at '# In[..]:' or '# %%' markers, else the whole text."""
    chunks, current = [], []
    for line in text.splitlines():
        stripped = line.strip()
        if (stripped.startswith("# In[") and stripped.endswith("]:")) or stripped.startswith("# %%"):
            chunks.append("\n".join(current))
            current = []
        else:
            current.append(line)
    chunks.append("\n".join(current))
    return [c for c in chunks if c.strip()]


def _is_self_check(node):
    import ast
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name) and node.value.func.id == "check")


def code_units(path):
    """What to execute, in order: notebook cells, or the top-level statements of a .py export."""
    import ast

    from coursework.checks.core import SKIP_TAGS, read_code_cells, strip_magics
    units = []
    cells = read_code_cells(path)
    if path.endswith(".py"):
        cells = [(chunk, []) for chunk in split_python_file(cells[0][0])]
    for k, (src, tags) in enumerate(cells):
        if SKIP_TAGS & set(tags) or "google.colab" in src:
            continue
        src = strip_magics(src)
        if not path.endswith(".py"):
            units.append((f"<code cell {k + 1}>", src))
            continue
        try:  # a .py export: run statement by statement, skipping the self-check calls
            tree = ast.parse(src)
        except SyntaxError:
            units.append((f"<code cell {k + 1}>", src))  # compiling it again reports the syntax error
            continue
        for node in tree.body:
            if not _is_self_check(node):
                units.append((f"<code cell {k + 1}>", ast.Module(body=[node], type_ignores=[])))
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


CANARY = "(canary)"


def _canary():
    """Called at the end of each check: the monitor's trace hook must see this call."""
    return None


class ReferenceMonitor:
    """Records calls to the exercise's reference functions during the checks, and notices tampering.

    Two independent records, so that switching one off is not enough:

    - sentinels: each reference function is replaced, in refimpl's modules and in the submission's
      global names, by a wrapper that notes the call (from any thread) and then runs it; put in
      place before the submission's code runs (so ``from refimpl.core.scatter import ...`` in a cell
      gets the wrapper) and again before each check (after an ``importlib.reload``, say);
    - a trace hook, installed with ``sys.settrace`` and ``threading.settrace`` while a check runs,
      that compares the code (file, first line, name) of every Python call with the reference
      functions', so that a fresh copy of them (reloaded, or kept in a closure) is seen too.

    After each check it verifies that its hook is still the trace function of this thread and of
    new threads, that the hook still sees calls (a call of ``_canary``), and that ``sys.settrace``,
    ``sys.gettrace``, ``threading.settrace`` and ``threading.gettrace`` are the originals. Anything
    else goes into ``problems``, and the grader gives the exercise no points.
    """

    def __init__(self, dotted_names):
        self.keys, self.called, self.problems, self.kinds = {}, [], [], set()
        for dotted in dotted_names:
            module, _, attr = dotted.rpartition(".")
            self.keys[self._key(getattr(importlib.import_module(module), attr).__code__)] = dotted
        self.keys[self._key(_canary.__code__)] = CANARY
        self.sentinels, self.armed, self.canary_calls, self.check = set(), False, 0, ""
        self._hook = self.hook  # the very object installed: compared with sys.gettrace() after each check

    @staticmethod
    def _key(code):
        return (code.co_filename, code.co_firstlineno, code.co_name)

    def seen(self, name):
        if name == CANARY:
            self.canary_calls += 1
        elif name not in self.called:
            self.called.append(name)

    def problem(self, kind, when):
        """Record a kind of tampering once, with the first check where it was found."""
        if kind not in self.kinds:
            self.kinds.add(kind)
            self.problems.append(f"{kind} {when}")

    def hook(self, frame, event, arg):
        if event == "call":
            code = frame.f_code
            name = self.keys.get((code.co_filename, code.co_firstlineno, code.co_name))
            if name is not None:
                self.seen(name)
        return None

    def _sentinel(self, fn, name):
        def reference_sentinel(*args, **kwargs):
            if self.armed:
                self.seen(name)
            return fn(*args, **kwargs)
        _update_wrapper(reference_sentinel, fn)  # same name, docstring and signature
        self.sentinels.add(reference_sentinel)
        return reference_sentinel

    def hide_references(self, namespaces=()):
        """Put a sentinel in place of each reference function found in refimpl's modules and ``namespaces``."""
        dicts = [module.__dict__ for name, module in list(_modules.items())
                 if _type(name) is str and _type(module) is ModuleType
                 and (name == "refimpl" or name.startswith("refimpl."))]
        for names in dicts + list(namespaces):
            for key, value in list(names.items()):
                if _type(key) is not str or _type(value) is not FunctionType or value in self.sentinels:
                    continue
                name = self.keys.get(self._key(value.__code__))
                if name is not None and name != CANARY:
                    names[key] = self._sentinel(value, name)

    def _put_back_tools(self, when):
        for label, owner, attr, original in MONITOR_TOOLS:
            if owner.__dict__.get(attr) is not original:
                setattr(owner, attr, original)
                self.problem(f"{label} was replaced", when)

    def start(self, check, namespace):
        """Before a check: put the tools and sentinels back in place, then install the trace hook."""
        self.check = check
        self._put_back_tools(f"before the check '{check}'")
        self.hide_references([namespace])
        self.armed = True
        _thread_settrace(self._hook)
        _settrace(self._hook)

    def stop(self):
        """After a check: verify the trace hook was never switched off or replaced, then remove it."""
        during = f"during the check '{self.check}'"
        if _gettrace() is not self._hook:
            self.problem("the trace hook was switched off or replaced (sys.settrace)", during)
        else:
            before = self.canary_calls
            _canary()
            if self.canary_calls == before:
                self.problem("the trace hook stopped seeing function calls", during)
        if _thread_gettrace() is not self._hook:
            self.problem("the trace hook of new threads was switched off or replaced (threading.settrace)", during)
        _settrace(None)
        _thread_settrace(None)
        self.armed = False
        self._put_back_tools(during)


def main(workdir):
    # The child's own files are named by absolute paths: the student's code may change directory.
    workdir = os.path.abspath(workdir)
    here = lambda name: _join(workdir, name)  # noqa: E731
    os.chdir(workdir)
    with _open(here("job.json"), encoding="utf-8") as f:
        job = json.load(f)
    os.environ["GRADER_MEMORY_MB"] = _str(job["memory_mb"])
    status = {"complete": False, "limits_failed": set_limits(job["memory_mb"], job["cpu_seconds"], job["file_mb"])}

    def write_status():
        with _open(here("status.tmp"), "w", encoding="utf-8") as f:
            f.write(_dumps(status, allow_nan=True))
        _replace(here("status.tmp"), here("status.json"))

    import numpy as np

    from coursework.checks import EXERCISES, CheckFailed, load_all
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
    status["load_errors"] = execute(code_units(job["submission"]), namespace)
    status["checks"] = []
    for k, chk in enumerate(checks):
        guard.restore()
        with _open(here("progress"), "w") as f:
            f.write(_str(k))
        sys.stdout, sys.stderr = out, err
        entry = {"name": chk.name}
        monitor.start(chk.name, namespace)  # (outside the try: a failure of the monitor is the grader's)
        try:
            student = SimpleNamespace(**{key: v for key, v in namespace.items() if _type(key) is str})
            value = chk.run(student, {key: np.copy(v) for key, v in inputs[k].items()})
            guard.restore()
            entry["result"] = transfer.save(here(f"out{k}.npz"), value, savez)
            entry["outcome"] = "returned"
        except CheckFailed as exc:
            entry.update(outcome="failed", message=_short(exc))
        except BaseException as exc:  # noqa: B902 - whatever the student's code raised
            guard.restore()
            entry.update(outcome="raised", message=describe_exception(exc))
        finally:
            monitor.stop()
        status["checks"].append(entry)
    guard.restore()
    status["reference_calls"] = list(monitor.called)
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
