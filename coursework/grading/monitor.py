"""The child's watch on calls to an exercise's reference functions (see ``coursework.grading._child``).

A reference function is recognised by what a copy of it cannot change without becoming new
code: its bytecode, the names and constants it uses and its argument counts (nested code
objects, such as comprehensions, by the same key; the docstring left out). Its file, first line,
name and module do not matter, so a copy made with ``code.replace(co_name=...)``, a reload, or
``refimpl`` imported under another name through a symlinked path are all recognised.
"""
import hashlib
import importlib
import sys
import threading
from functools import update_wrapper as _update_wrapper
from types import CodeType, FunctionType, ModuleType

# Captured when the child imports this module, before any student code runs.
_type, _modules = type, sys.modules
_settrace, _gettrace = sys.settrace, sys.gettrace
_thread_settrace, _thread_gettrace = threading.settrace, threading.gettrace
MONITOR_TOOLS = (("sys.settrace", sys, "settrace", _settrace), ("sys.gettrace", sys, "gettrace", _gettrace),
                 ("threading.settrace", threading, "settrace", _thread_settrace),
                 ("threading.gettrace", threading, "gettrace", _thread_gettrace))
CANARY = "(canary)"


def _canary():
    """Called at the end of each check: the monitor's trace hook must see this call."""
    return None


def code_key(code):
    """A digest of what makes ``code`` the same function: bytecode, names, constants, argument counts."""
    h = hashlib.sha256()
    h.update(code.co_code)
    h.update(repr((code.co_names, code.co_argcount, code.co_kwonlyargcount, code.co_posonlyargcount,
                   code.co_nlocals, code.co_flags)).encode())
    consts = code.co_consts
    if consts and _type(consts[0]) is str and code.co_flags & 0x3 == 0x3:  # a function's docstring
        consts = consts[1:]
    for c in consts:
        h.update(code_key(c).encode() if _type(c) is CodeType else repr((_type(c).__name__, c)).encode())
    return h.hexdigest()


class ReferenceMonitor:
    """Records calls to the exercise's reference functions, and notices tampering.

    Two independent records, so that switching one off is not enough:

    - sentinels: each reference function is replaced, in refimpl's modules and in the submission's
      global names, by a wrapper that notes the call (from any thread) and then runs it; put in
      place before the submission's code runs and again before each check;
    - a trace hook, installed with ``sys.settrace`` and ``threading.settrace`` from the moment the
      submission's code starts running, that compares the key (``code_key``) of every Python
      call's code with the reference functions', so that any copy of them is seen too.

    Calls while the notebook's cells run go to ``called_loading`` (a cell may legitimately compare
    with refimpl), calls during a check to ``called``. After loading and after each check it
    verifies that its hook is still the trace function of this thread and of new threads, that the
    hook still sees calls (a call of ``_canary``), and that ``sys.settrace``, ``sys.gettrace``,
    ``threading.settrace`` and ``threading.gettrace`` are the originals. Anything else goes into
    ``problems``, and the grader gives the exercise no points.
    """

    def __init__(self, dotted_names):
        self.keys, self.called, self.called_loading, self.problems, self.kinds = {}, [], [], [], set()
        for dotted in dotted_names:
            module, _, attr = dotted.rpartition(".")
            self.keys[code_key(getattr(importlib.import_module(module), attr).__code__)] = dotted
        self.keys[code_key(_canary.__code__)] = CANARY
        self.shapes = {self._shape(getattr(importlib.import_module(d.rpartition(".")[0]), d.rpartition(".")[2]).__code__)
                       for d in dotted_names} | {self._shape(_canary.__code__)}
        self.cache = {}  # id(code) -> (code, name or None): the code kept alive so that its id stays its own
        self.sentinels, self.phase, self.canary_calls, self.check = set(), None, 0, ""
        self._hook = self.hook  # the very object installed: compared with sys.gettrace() afterwards

    @staticmethod
    def _shape(code):
        return (code.co_argcount, code.co_nlocals, code.co_stacksize, code.co_flags, len(code.co_names))

    def lookup(self, code):
        """The dotted name of the reference function whose code ``code`` is (a copy of), or None."""
        hit = self.cache.get(id(code))
        if hit is not None and hit[0] is code:
            return hit[1]
        name = self.keys.get(code_key(code)) if self._shape(code) in self.shapes else None
        self.cache[id(code)] = (code, name)
        return name

    def seen(self, name):
        if name == CANARY:
            self.canary_calls += 1
        elif self.phase == "check" and name not in self.called:
            self.called.append(name)
        elif self.phase == "loading" and name not in self.called_loading:
            self.called_loading.append(name)

    def problem(self, kind, when):
        """Record a kind of tampering once, with the first place where it was found."""
        if kind not in self.kinds:
            self.kinds.add(kind)
            self.problems.append(f"{kind} {when}")

    def hook(self, frame, event, arg):
        if event == "call":
            name = self.lookup(frame.f_code)
            if name is not None:
                self.seen(name)
        return None

    def _sentinel(self, fn, name):
        def reference_sentinel(*args, **kwargs):
            if self.phase:
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
                name = self.lookup(value.__code__)
                if name is not None and name != CANARY:
                    names[key] = self._sentinel(value, name)

    def _put_back_tools(self, when):
        for label, owner, attr, original in MONITOR_TOOLS:
            if owner.__dict__.get(attr) is not original:
                setattr(owner, attr, original)
                self.problem(f"{label} was replaced", when)

    def start(self, phase, namespace, check=""):
        """Before loading (phase "loading") or a check ("check"): tools and sentinels back, hook installed."""
        self.check = check
        when = f"before the check '{check}'" if check else "before your notebook's cells ran"
        self._put_back_tools(when)
        self.hide_references([namespace])
        self.phase = phase
        _thread_settrace(self._hook)
        _settrace(self._hook)

    def stop(self):
        """After loading or a check: verify the trace hook was never switched off or replaced, then remove it."""
        during = f"during the check '{self.check}'" if self.check else "while your notebook's cells ran"
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
        self.phase = None
        self._put_back_tools(during)
