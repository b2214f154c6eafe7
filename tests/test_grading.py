"""The isolated grader: hostile and broken submissions each get the right row and a clear message.

The submissions are written by the helpers below into a temporary folder, each one a small edit
of solutions/02_message_passing.ipynb (points: scatter_sum 3, gcn_norm 2, message_passing 5; an
exercise's points are split over its checks). The whole folder is graded once, in parallel,
with small limits.
"""
import copy
import csv
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from coursework.checks import EXERCISES, check, load_all, load_namespace
from coursework.grading import transfer
from coursework.grading.grader import grade
from coursework.grading.private import private_tests
from coursework.grading.sandbox import Limits

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOK = "02_message_passing"
SOLUTION = ROOT / "solutions" / f"{NOTEBOOK}.ipynb"
PRIVATE = ROOT / "tests" / "grading_private"
LIMITS = Limits(timeout=10, memory_mb=400)  # not too tight a wall clock: the test machine may be busy


# ----------------------------------------------------------------------------- building submissions
def solution():
    return json.loads(SOLUTION.read_text())


def cell_source(cell):
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def edit(nb, old, new):
    """Replace ``old`` by ``new`` in the one code cell that contains it."""
    hits = [c for c in nb["cells"] if c["cell_type"] == "code" and old in cell_source(c)]
    assert len(hits) == 1, f"{old!r} is in {len(hits)} cells of the solution"
    hits[0]["source"] = cell_source(hits[0]).replace(old, new)
    return nb


def in_body(nb, signature, lines):
    """Insert ``lines`` as the first statements of the function defined by ``signature``."""
    body = "".join(f"    {line}\n" for line in lines)
    return edit(nb, signature + "\n", signature + "\n" + body)


def add_cell(nb, text, at=None):
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": text}
    nb["cells"].insert(len(nb["cells"]) if at is None else at, cell)
    return nb


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "colab-install" not in c["metadata"].get("tags", [])]


GCN = "def gcn_norm(edge_index, num_nodes):"
SCATTER_FWD = "def scatter_sum_forward(src, index, dim_size):"
SCATTER_BWD = "def scatter_sum_backward(dout, cache):"
MP_FWD = "def message_passing_forward(h, edge_index, W_self, W_neigh, b):"
MP_BWD = "def message_passing_backward(dout, cache):"


def infinite_loop(nb):
    """An endless loop in gcn_norm, saved by Colab (no tags), so that its self-check cell loops too."""
    return colab_saved(in_body(nb, GCN, ["while True:", "    pass"]))


def endless_cell(nb):
    """A cell that never ends: every exercise times out while the notebook loads (waited for once)."""
    return add_cell(nb, "import time\nwhile True:\n    time.sleep(0.1)\n", at=3)


def memory_bomb(nb):
    return in_body(nb, MP_FWD, ["hog = []", "while True:", "    hog.append(np.ones(2**20))"])


def huge_output(nb):
    add_cell(nb, "for k in range(50_000):\n    print('line', k)\n", at=3)
    return in_body(nb, SCATTER_FWD, ["print('x' * 1_000_000)"])


def sys_exit(nb):
    add_cell(nb, "import sys\nsys.exit('leaving early')\n", at=3)
    return in_body(nb, GCN, ["import sys", "sys.exit(0)"])


def os_exit(nb):
    return in_body(nb, SCATTER_BWD, ["import os", "os._exit(0)"])


def raise_system_exit(nb):
    return in_body(nb, MP_BWD, ["raise SystemExit(1)"])


def keyboard_interrupt(nb):
    return in_body(nb, GCN, ["raise KeyboardInterrupt"])


def monkeypatch(nb):
    """A wrong gcn_norm, and patches that would make a naive in-process grader accept anything."""
    add_cell(nb, "import builtins\n"
                 "np.allclose = lambda *a, **k: True\n"
                 "np.array_equal = lambda *a, **k: True\n"
                 "np.testing.assert_allclose = lambda *a, **k: None\n"
                 "builtins.isinstance = lambda obj, cls: True\n", at=3)
    add_cell(nb, "np.ndarray.__eq__ = lambda self, other: True\n", at=4)  # raises TypeError: built-in type
    return edit(nb, "    return edge_index, edge_weight", "    return edge_index, np.ones_like(edge_weight)")


def always_equal(nb):
    add_cell(nb, "class AlwaysEqual:\n"
                 "    shape, dtype, __array_priority__ = (0,), np.float64, 1000\n"
                 "    def __eq__(self, other):\n"
                 "        return True\n", at=3)
    return edit(nb, "    return edge_index, edge_weight", "    return edge_index, AlwaysEqual()")


def strict_types(nb):
    """db of shape (D, 1) instead of (D,) (np.allclose would broadcast it) and float32 weights."""
    edit(nb, "    return dh, dW_self, dW_neigh, db", "    return dh, dW_self, dW_neigh, db[:, None]")
    return edit(nb, "    return edge_index, edge_weight", "    return edge_index, edge_weight.astype(np.float32)")


def cells_deleted(nb):
    nb["cells"] = [c for c in nb["cells"] if GCN not in cell_source(c)]
    return nb


def cells_merged(nb):
    cells = code_cells(nb)
    merged = "\n\n".join(cell_source(c) for c in cells)
    nb["cells"] = [c for c in nb["cells"] if c not in cells]
    return add_cell(nb, merged)


def cells_reordered(nb):
    cells = code_cells(nb)
    nb["cells"] = [c for c in nb["cells"] if c not in cells] + cells[::-1]
    return nb


def renamed(nb):
    return edit(nb, GCN, GCN.replace("gcn_norm", "gcn_normalize"))


def colab_saved(nb):
    """What Colab writes: no kernelspec fields, string sources, outputs, cell ids but no tags."""
    nb["metadata"] = {"colab": {"provenance": []}}
    nb["nbformat_minor"] = 0
    for k, cell in enumerate(nb["cells"]):
        cell["source"] = cell_source(cell)
        cell["metadata"] = {"id": f"c{k}"}
        cell.pop("id", None)
        if cell["cell_type"] == "code":
            cell["execution_count"] = k
            cell["outputs"] = [{"name": "stdout", "output_type": "stream", "text": ["ran\n"]}]
    return nb


def writes_files(nb):
    add_cell(nb, "import os\n"
                 "open('notes.txt', 'w').write('hello')\n"
                 "open('submission.ipynb', 'w').write('overwritten')\n"
                 "open('status.json', 'w').write('{\"complete\": true, \"checks\": []}')\n"
                 "open('big.bin', 'wb').write(b'0' * (100 * 2**20))\n", at=3)
    # the grader's own files must not follow the student's code into another folder
    return add_cell(nb, "os.mkdir('elsewhere')\nos.chdir('elsewhere')\n", at=4)


def calls_reference(nb):
    add_cell(nb, "import importlib\nimport refimpl.core.scatter as S\n"
                 "from refimpl.core.scatter import scatter_sum_forward as ref_forward\n"
                 "S = importlib.reload(S)  # fresh function objects: detection goes by the code, not the object\n", at=3)
    in_body(nb, SCATTER_FWD, ["return ref_forward(src, index, dim_size)"])
    return in_body(nb, SCATTER_BWD, ["return S.scatter_sum_backward(dout, cache)"])


def trace_switched_off(nb):
    """sys.settrace(None) before calling the reference; and the hook switched off and put back around a call."""
    add_cell(nb, "import sys\nimport refimpl.core.scatter\nimport refimpl.graphs.message_passing as ref_mp\n", at=3)
    in_body(nb, SCATTER_FWD, ["sys.settrace(None)", "return refimpl.core.scatter.scatter_sum_forward(src, index, dim_size)"])
    return in_body(nb, GCN, ["hook = sys.gettrace()", "sys.settrace(None)", "try:",
                             "    return ref_mp.gcn_norm(edge_index, num_nodes)", "finally:", "    sys.settrace(hook)"])


def trace_restored(nb):
    """The hook switched off and put back around a call of the reference, in the student's function only."""
    add_cell(nb, "import sys\nimport refimpl.graphs.message_passing as ref_mp\n", at=3)
    return in_body(nb, GCN, ["hook = sys.gettrace()", "sys.settrace(None)", "try:",
                             "    return ref_mp.gcn_norm(edge_index, num_nodes)", "finally:", "    sys.settrace(hook)"])


def trace_replaced(nb):
    """sys.settrace and threading.settrace replaced by no-ops in a cell, before the checks run."""
    add_cell(nb, "import sys, threading\nimport refimpl.core.scatter as S\n"
                 "sys.settrace = lambda *args: None\nthreading.settrace = lambda *args: None\n", at=3)
    return in_body(nb, SCATTER_FWD, ["return S.scatter_sum_forward(src, index, dim_size)"])


def reference_in_thread(nb):
    """The reference called from a new thread: the module's function, and a reloaded copy kept in a list."""
    add_cell(nb, "import importlib, threading\nimport refimpl.core.scatter, refimpl.graphs.message_passing\n"
                 "copies = [importlib.reload(refimpl.graphs.message_passing).gcn_norm]  # a list: out of the grader's sight\n"
                 "def in_thread(fn, *args):\n"
                 "    box = []\n"
                 "    worker = threading.Thread(target=lambda: box.append(fn(*args)))\n"
                 "    worker.start()\n"
                 "    worker.join()\n"
                 "    return box[0]\n", at=3)
    in_body(nb, SCATTER_FWD, ["return in_thread(refimpl.core.scatter.scatter_sum_forward, src, index, dim_size)"])
    return in_body(nb, GCN, ["return in_thread(copies[0], edge_index, num_nodes)"])


def trace_hook_disarmed(nb):
    """The grader's hook left installed but made to do nothing, then a reloaded copy of the reference called."""
    add_cell(nb, "import importlib, sys\nimport refimpl.graphs.message_passing\n"
                 "copies = [importlib.reload(refimpl.graphs.message_passing).gcn_norm]\n", at=3)
    return in_body(nb, GCN, ["sys.gettrace().__func__.__code__ = (lambda self, frame, event, arg: None).__code__",
                             "return copies[0](edge_index, num_nodes)"])


def python_export(nb):
    """A .py export (jupyter nbconvert style), with an install line and the self-check calls."""
    parts = ["#!/usr/bin/env python\n# coding: utf-8"]
    for k, c in enumerate(code_cells(nb)):
        parts.append(f"# In[{k}]:\n\n\n{cell_source(c)}")
    parts.insert(1, "# In[ ]:\n\n\n!pip install -q something")
    return "\n\n\n".join(parts) + "\n"


def install_merged(nb):
    """Every code cell, the (untagged) install cell included, merged into one: a common Colab accident."""
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    merged = "\n\n".join(cell_source(c) for c in cells)
    nb["cells"] = [c for c in nb["cells"] if c not in cells]
    return colab_saved(add_cell(nb, merged, at=0))


def colab_py_export(nb):
    """Colab's File > Download > Download .py: no cell markers, Markdown as strings, magics kept as they are."""
    parts = ['# -*- coding: utf-8 -*-\n"""02_message_passing.ipynb\n\nAutomatically generated by Colab.\n"""']
    for c in nb["cells"]:
        text = cell_source(c)
        parts.append(f'"""{text}"""' if c["cell_type"] == "markdown" and '"""' not in text else
                     text if c["cell_type"] == "code" else "")
    parts.insert(2, "!pip install -q something\nfrom google.colab import drive")
    return "\n\n".join(parts) + "\n"


def huge_return(nb):
    """gcn_norm returns 72 MB of weights: more than the grader takes back (64 MB)."""
    return edit(nb, "    return edge_index, edge_weight", "    return edge_index, np.zeros(9 * 2**20)")


def injects_markdown(nb):
    """An exception whose text tries to add a heading and a PASS line to the feedback."""
    return in_body(nb, GCN, ["raise ValueError('boom\\n\\n## gcn_norm: 2 of 2 points\\n\\n- PASS normalized adjacency')"])


def reference_copy(nb):
    """A copy of the reference's code with another name and first line: the same code, so still a call."""
    add_cell(nb, "import importlib, types\nimport refimpl.core.scatter as S\n"
                 "_ref = importlib.reload(S).scatter_sum_forward\n"
                 "_mine = types.FunctionType(_ref.__code__.replace(co_name='mine', co_firstlineno=7), _ref.__globals__)\n",
             at=3)
    return in_body(nb, SCATTER_FWD, ["return _mine(src, index, dim_size)"])


VICTIM = "zzz_victim_02_message_passing.ipynb"


def aaa_attacker(nb):
    """Graded first: empties a classmate's file, tries the grader's files, then reports what it could do."""
    return add_cell(nb, "import os, sys, json, signal, coursework\n"
                        "seen = {'uid': os.getuid(), 'course_file': coursework.__file__}\n"
                        "def attempt(name, fn):\n"
                        "    try:\n"
                        "        seen[name] = fn()\n"
                        "    except Exception as exc:\n"
                        "        seen[name] = type(exc).__name__\n"
                        "attempt('victim', lambda: open(VICTIM_PATH, 'w').write(''))\n"
                        "attempt('parent_cmdline', lambda: open(f'/proc/{os.getppid()}/cmdline').read())\n"
                        "attempt('course_writable', lambda: os.access(coursework.__file__, os.W_OK))\n"
                        "attempt('out_folder', lambda: os.listdir(OUT_PATH))\n"
                        "attempt('signal', lambda: os.kill(os.getppid(), signal.SIGTERM))\n"
                        "attempt('argv_env', lambda: [a for a in sys.argv + list(os.environ.values()) if 'subs' in a])\n"
                        "raise RuntimeError('SEEN ' + json.dumps(seen))\n", at=3)


EDITS = [infinite_loop, endless_cell, memory_bomb, huge_output, sys_exit, os_exit, raise_system_exit, keyboard_interrupt,
         monkeypatch, always_equal, strict_types, cells_deleted, cells_merged, cells_reordered, renamed,
         colab_saved, writes_files, calls_reference, trace_switched_off, trace_restored, trace_replaced, reference_in_thread,
         trace_hook_disarmed, install_merged, huge_return, injects_markdown, reference_copy]


def write_submissions(folder):
    """All test submissions in ``folder``; returns their file names."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"solution.ipynb": json.dumps(solution()),
             "unsolved.ipynb": (ROOT / "exercises" / f"{NOTEBOOK}.ipynb").read_text(),
             "invalid_json.ipynb": json.dumps(solution())[:-200],
             "empty.ipynb": "",
             "python_export.py": python_export(solution()),
             "colab_py_export.py": colab_py_export(solution()),
             VICTIM: json.dumps(solution()),
             "aaa_attacker.ipynb": json.dumps(aaa_attacker(solution())).replace(
                 "VICTIM_PATH", repr(str(folder / VICTIM))).replace("OUT_PATH", repr(str(folder.parent / "out")))}
    for fn in EDITS:
        files[f"{fn.__name__}.ipynb"] = json.dumps(fn(copy.deepcopy(solution())))
    for name, text in files.items():
        (folder / name).write_text(text)
    return sorted(files)


# ----------------------------------------------------------------------------- grading them once
@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    names = write_submissions(base / "subs")
    before = sorted(p.name for p in (base / "subs").iterdir())
    outcomes = grade([base / "subs"], base / "out", jobs=2, limits=LIMITS, progress=None)
    after = sorted(p.name for p in (base / "subs").iterdir())
    by_id = {o.id: o for o in outcomes}
    assert sorted(by_id) == names
    return {"by_id": by_id, "out": base / "out", "subs": base / "subs", "before": before, "after": after}


def scores(o):
    return {e.name: round(e.score, 2) for e in o.exercises}


def messages(o, exercise):
    e = next(e for e in o.exercises if e.name == exercise)
    return " | ".join([e.problem] + [c.message for c in e.checks])


FULL = {"scatter_sum": 3, "gcn_norm": 2, "message_passing": 5}
ZERO = {"scatter_sum": 0, "gcn_norm": 0, "message_passing": 0}
MP_BACKWARD_LOST = round(5 * 2 / 4, 2)  # two of the four message-passing checks (forward, permutation) still pass
MONITORING_OFF = "disabled the grader's monitoring of calls to the reference implementation"
# The child's limit on new processes stops threads too: children never run as root (a throwaway user each).
THREAD_CALL = "can't start new thread"

CASES = {  # submission: (scores, exercise whose message is checked, words the message must contain)
    "solution.ipynb": (FULL, None, None),
    "unsolved.ipynb": (ZERO, "scatter_sum", "not implemented yet"),
    "infinite_loop.ipynb": (dict(FULL, gcn_norm=0), "gcn_norm", "timed out"),
    "endless_cell.ipynb": (ZERO, "message_passing", "timed out: still running after 10 s while running your "
                                                   "notebook's cells"),
    "memory_bomb.ipynb": (dict(FULL, message_passing=0), "message_passing", "ran out of memory"),
    "huge_output.ipynb": (FULL, None, None),
    "sys_exit.ipynb": (dict(FULL, gcn_norm=0), "gcn_norm", "sys.exit()"),
    "os_exit.ipynb": (dict(FULL, scatter_sum=0), "scatter_sum", "os._exit()"),
    "raise_system_exit.ipynb": (dict(FULL, message_passing=MP_BACKWARD_LOST), "message_passing", "SystemExit"),
    "keyboard_interrupt.ipynb": (dict(FULL, gcn_norm=0), "gcn_norm", "KeyboardInterrupt"),
    "monkeypatch.ipynb": (dict(FULL, gcn_norm=0), "gcn_norm", "wrong values"),
    "always_equal.ipynb": (dict(FULL, gcn_norm=0), "gcn_norm", "got AlwaysEqual"),
    "strict_types.ipynb": (dict(FULL, gcn_norm=0, message_passing=MP_BACKWARD_LOST), "message_passing",
                           "expected shape (5,), got (5, 1)"),
    "cells_deleted.ipynb": (dict(FULL, gcn_norm=0), "gcn_norm", "no function named 'gcn_norm'"),
    "cells_merged.ipynb": (FULL, None, None),
    "cells_reordered.ipynb": (FULL, None, None),
    "renamed.ipynb": (dict(FULL, gcn_norm=0), "gcn_norm", "no function named 'gcn_norm'"),
    "colab_saved.ipynb": (FULL, None, None),
    "writes_files.ipynb": (FULL, None, None),
    "calls_reference.ipynb": (dict(FULL, scatter_sum=0), "scatter_sum",
                              "calls the reference implementation (refimpl.core.scatter.scatter_sum_forward, "
                              "refimpl.core.scatter.scatter_sum_backward)"),
    # (the notebook's own cells call the student's scatter_sum_forward, which switches the hook off: monitoring
    # starts with the first cell, so this costs every exercise)
    "trace_switched_off.ipynb": (ZERO, "scatter_sum",
                                 MONITORING_OFF + " (the trace hook was switched off or replaced (sys.settrace) "
                                                  "while your notebook's cells ran"),
    "trace_restored.ipynb": (dict(FULL, gcn_norm=0), "gcn_norm",
                             "calls the reference implementation (refimpl.graphs.message_passing.gcn_norm)"),
    "trace_replaced.ipynb": (ZERO, "scatter_sum", MONITORING_OFF + " (sys.settrace was replaced while your notebook's "
                                                                   "cells ran"),
    "reference_in_thread.ipynb": (dict(FULL, scatter_sum=0, gcn_norm=0, message_passing=0), "scatter_sum", THREAD_CALL),
    "trace_hook_disarmed.ipynb": (dict(FULL, gcn_norm=0), "gcn_norm",
                                  MONITORING_OFF + " (the trace hook stopped seeing function calls"),
    "python_export.py": (FULL, None, None),
    "colab_py_export.py": (FULL, None, None),
    "install_merged.ipynb": (FULL, None, None),
    "huge_return.ipynb": (dict(FULL, gcn_norm=0), "gcn_norm", "too large for the grader to take back"),
    "injects_markdown.ipynb": (dict(FULL, gcn_norm=0), "gcn_norm", "boom"),
    "reference_copy.ipynb": (dict(FULL, scatter_sum=0), "scatter_sum",
                             "calls the reference implementation (refimpl.core.scatter.scatter_sum_forward)"),
    VICTIM: (FULL, None, None),
    "aaa_attacker.ipynb": (FULL, None, None),
    "invalid_json.ipynb": (ZERO, "scatter_sum", "not valid notebook JSON"),
    "empty.ipynb": (ZERO, "scatter_sum", "the file is empty"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_submission_gets_its_row_and_message(graded, name):
    o = graded["by_id"][name]
    want, exercise, words = CASES[name]
    assert o.notebook == NOTEBOOK
    assert scores(o) == want, (scores(o), [messages(o, e) for e in want])
    assert o.max_score == 10
    if words:
        assert words in messages(o, exercise)


def test_every_case_is_in_the_table():
    assert {f"{fn.__name__}.ipynb" for fn in EDITS} <= set(CASES)


def test_failures_that_end_the_process_or_cheat_cost_the_whole_exercise(graded):
    by_id = graded["by_id"]
    for name, exercise in [("infinite_loop.ipynb", "gcn_norm"), ("os_exit.ipynb", "scatter_sum"),
                           ("calls_reference.ipynb", "scatter_sum"), ("trace_switched_off.ipynb", "scatter_sum"),
                           ("trace_replaced.ipynb", "gcn_norm"), ("trace_restored.ipynb", "gcn_norm"),
                           ("trace_hook_disarmed.ipynb", "gcn_norm")]:
        e = next(e for e in by_id[name].exercises if e.name == exercise)
        assert e.problem and e.score == 0, (name, e)
    assert by_id["infinite_loop.ipynb"].status == "problems"
    assert by_id["solution.ipynb"].status == "ok"
    assert by_id["empty.ipynb"].status == by_id["invalid_json.ipynb"].status == "unreadable"


def test_switching_off_the_reference_monitoring_fails_closed(graded):
    """Each way around the trace hook either is seen as tampering or leaves the call seen (by the sentinels)."""
    by_id = graded["by_id"]
    # the hook switched off and put back around the call: not seen as tampering, but the call is recorded
    restored = messages(by_id["trace_restored.ipynb"], "gcn_norm")
    assert "calls the reference implementation (refimpl.graphs.message_passing.gcn_norm)" in restored
    assert MONITORING_OFF not in restored
    # sys.settrace replaced in a cell: the grader used its own copy, saw the call, and says both
    replaced = messages(by_id["trace_replaced.ipynb"], "scatter_sum")
    assert "threading.settrace was replaced" in replaced
    assert "calls the reference implementation (refimpl.core.scatter.scatter_sum_forward)" in replaced
    assert "sys.settrace was replaced while your notebook's cells ran" in messages(by_id["trace_replaced.ipynb"],
                                                                                   "message_passing")
    # threads: the children never run as root, so the limit on new processes stops them
    assert THREAD_CALL in messages(by_id["reference_in_thread.ipynb"], "gcn_norm")
    feedback = (graded["out"] / "feedback" / "trace_switched_off.ipynb.md").read_text()
    assert f"**No points for this exercise:** your code {MONITORING_OFF}" in feedback


def test_load_problems_are_reported_but_do_not_stop_grading(graded):
    by_id = graded["by_id"]
    assert any("sys.exit()" in err for err in by_id["sys_exit.ipynb"].load_errors)
    assert any("TypeError" in err for err in by_id["monkeypatch.ipynb"].load_errors)   # np.ndarray.__eq__ = ...
    assert any("wrote a file larger than the 64 MB the grader allows" in err  # 100 MB > file cap
               for err in by_id["writes_files.ipynb"].load_errors)
    assert by_id["huge_output.ipynb"].output_truncated and by_id["huge_output.ipynb"].printed_chars > 10**6
    assert not by_id["solution.ipynb"].load_errors and not by_id["solution.ipynb"].output_truncated


def test_submissions_folder_is_left_as_it_was(graded):
    assert graded["before"] == graded["after"]
    assert (graded["subs"] / "writes_files.ipynb").read_text().startswith("{")


def test_files_csv_has_one_row_per_submission(graded):
    rows = list(csv.DictReader((graded["out"] / "files.csv").open()))
    assert [r["submission"] for r in rows] == sorted(CASES)
    assert list(rows[0])[:6] == ["submission", "student", "notebook", "scatter_sum", "gcn_norm", "message_passing"]
    by_name = {r["submission"]: r for r in rows}
    assert by_name["solution.ipynb"]["total"] == "10" and by_name["solution.ipynb"]["max"] == "10"
    assert by_name["infinite_loop.ipynb"]["gcn_norm"] == "0" and by_name["infinite_loop.ipynb"]["total"] == "8"
    assert by_name["empty.ipynb"]["status"] == "unreadable" and "empty" in by_name["empty.ipynb"]["notes"]
    assert "timed out" in by_name["infinite_loop.ipynb"]["notes"]


def test_feedback_says_what_passed_and_why_not(graded):
    text = (graded["out"] / "feedback" / "strict_types.ipynb.md").read_text()
    assert "**5.5 of 10 points**" in text
    assert "- PASS forward matches the reference" in text
    assert "- FAIL backward matches the reference (dh, dW_self, dW_neigh, db): message_passing_backward: db: " \
           "expected shape (5,), got (5, 1)" in text
    assert "expected finite float64 edge weights" in (graded["out"] / "feedback" / "strict_types.ipynb.md").read_text()
    loop = (graded["out"] / "feedback" / "infinite_loop.ipynb.md").read_text()
    assert "**No points for this exercise:** timed out" in loop


def test_results_json_is_in_gradescope_format(graded):
    for name in CASES:
        res = json.loads((graded["out"] / "results" / f"{name}.json").read_text())
        assert set(res) >= {"score", "tests"}
        assert len(res["tests"]) == sum(len(ex.checks) for ex in EXERCISES.values() if ex.notebook == NOTEBOOK)
        for t in res["tests"]:
            assert set(t) >= {"name", "score", "max_score", "status", "output", "visibility"}
            assert t["status"] in ("passed", "failed") and (t["score"] > 0) == (t["status"] == "passed")
        assert res["score"] == pytest.approx(sum(t["score"] for t in res["tests"]))
        assert res["score"] == pytest.approx(graded["by_id"][name].total)
        assert sum(t["max_score"] for t in res["tests"]) == pytest.approx(10)
    assert not (graded["out"] / "results.json").exists()  # only for a single submission


def test_regrading_gives_the_same_result(graded, tmp_path):
    subs = tmp_path / "again"
    subs.mkdir()
    names = ["strict_types.ipynb", "calls_reference.ipynb"]
    for name in names:
        (subs / name).write_bytes((graded["subs"] / name).read_bytes())
    grade([subs], tmp_path / "out", jobs=2, limits=LIMITS, progress=None, salt_file=graded["out"] / "salt")
    for name in names:
        first = json.loads((graded["out"] / "results" / f"{name}.json").read_text())
        again = json.loads((tmp_path / "out" / "results" / f"{name}.json").read_text())
        assert first == again


def test_every_solution_earns_full_marks(tmp_path):
    """The isolated path agrees with the in-process one on every notebook (plain-data transfer included).

    (The message-passing notebook, solved and unsolved, is graded by the fixture above; unsolved
    notebooks fail every check in-process, see test_exercise_tooling.py.)
    """
    subs = tmp_path / "subs"
    subs.mkdir()
    others = [p for p in sorted((ROOT / "solutions").glob("*.ipynb")) if p.stem != NOTEBOOK]
    for path in others:
        (subs / path.name).write_text(path.read_text())
    if not others:
        return
    outcomes = grade([subs], tmp_path / "out", jobs=2, limits=Limits(timeout=60, memory_mb=1024), progress=None)
    assert [o.notebook for o in outcomes] == [p.stem for p in others]
    for o in outcomes:
        failed = {f"{e.name}: {c.name}": c.message for e in o.exercises for c in e.checks if not c.passed}
        assert o.total == o.max_score > 0 and not failed, (o.id, failed)


# ----------------------------------------------------------------------------- private tests, command line
def test_private_tests_count_in_grading_but_never_in_the_self_check(tmp_path, capsys):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / f"{NOTEBOOK}.ipynb").write_text(SOLUTION.read_text())
    public = {name: len(ex.checks) for name, ex in load_all().items()}
    hidden = {name: sum(not c.public for c in ex.checks) for name, ex in EXERCISES.items()}   # the nb module's own
    outcomes = {o.id: o for o in grade([subs], tmp_path / "out", jobs=2, private=PRIVATE, limits=LIMITS,
                                       progress=None)}
    assert {name: len(ex.checks) for name, ex in EXERCISES.items()} == public, "private tests leaked into the registry"
    solved = outcomes[f"{NOTEBOOK}.ipynb"]
    assert solved.total == 10
    scatter = next(e for e in solved.exercises if e.name == "scatter_sum")
    private = [c for c in scatter.checks if not c.public]
    assert len(scatter.checks) == public["scatter_sum"] + 1 and len(private) == hidden["scatter_sum"] + 1
    res = json.loads((tmp_path / "out" / "results" / f"{NOTEBOOK}.ipynb.json").read_text())
    notebook_hidden = sum(n for name, n in hidden.items() if EXERCISES[name].notebook == NOTEBOOK)
    assert [t["visibility"] for t in res["tests"]].count("after_published") == notebook_hidden + 1
    assert "(instructor test)" in (tmp_path / "out" / "feedback" / f"{NOTEBOOK}.ipynb.md").read_text()

    namespace, _ = load_namespace(SOLUTION)
    with private_tests(PRIVATE):
        assert len(EXERCISES["scatter_sum"].checks) == public["scatter_sum"] + 1
        capsys.readouterr()
        results = check("scatter_sum", namespace)
    assert len(results) == public["scatter_sum"] - hidden["scatter_sum"]   # check() runs the public ones only
    assert private[0].name not in capsys.readouterr().out


def test_gradescope_zip_grades_a_submission(tmp_path):
    """Build the autograder zip, unpack it as Gradescope does, run run_autograder on a temp root."""
    zipped = tmp_path / "autograder.zip"
    env = {"PATH": "/usr/bin:/bin", "PYTHON": sys.executable}
    subprocess.run(["bash", str(ROOT / "gradescope" / "build_autograder.sh"), NOTEBOOK, "--private-tests", str(PRIVATE),
                    "--options", "--timeout 30 --memory 600", "--out", str(zipped)], check=True, env=env,
                   capture_output=True, timeout=120)
    root = tmp_path / "autograder"
    import zipfile
    with zipfile.ZipFile(zipped) as zf:
        zf.extractall(root / "source")
    assert (root / "source" / "NOTEBOOK").read_text().strip() == NOTEBOOK
    (root / "submission").mkdir()
    run = ["bash", str(root / "source" / "run_autograder")]
    env.update(AUTOGRADER_ROOT=str(root), GRADER_USER="")
    subprocess.run(run, check=True, env=env, capture_output=True, timeout=120)
    res = json.loads((root / "results" / "results.json").read_text())
    assert res["score"] == 0 and "No .ipynb or .py file" in res["output"]
    (root / "submission" / "My notebook.ipynb").write_text(SOLUTION.read_text())
    (root / "results" / "results.json").unlink()
    proc = subprocess.run(run, check=True, env=env, capture_output=True, text=True, timeout=300)
    assert "[1/1] My notebook.ipynb: 10/10" in proc.stderr  # the progress display
    res = json.loads((root / "results" / "results.json").read_text())
    assert res["score"] == 10
    assert [t["visibility"] for t in res["tests"]].count("after_published") == 1  # the private test


def test_command_line_rejects_a_missing_folder(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "coursework.grading", str(tmp_path / "nothing"), "--out",
                           str(tmp_path / "o")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "no file or folder" in proc.stderr


# ----------------------------------------------------------------------------- self-check cells
@pytest.mark.parametrize("folder", ["exercises", "solutions"])
def test_self_check_is_a_one_line_call_per_exercise(folder):
    """Each exercise's self-check cell ends with the one line check("name"), and nothing else calls check."""
    load_all()
    for path in sorted((ROOT / folder).glob("*.ipynb")):
        nb = json.loads(path.read_text())
        cells = [cell_source(c).strip() for c in nb["cells"] if "self-check" in c.get("metadata", {}).get("tags", [])]
        names = [ex.name for ex in EXERCISES.values() if ex.notebook == path.stem]
        assert [c.splitlines()[-1] for c in cells] == [f'check("{name}")' for name in names], path
        calls = [line for c in nb["cells"] if c["cell_type"] == "code"
                 for line in cell_source(c).splitlines() if "check(" in line]
        assert sorted(calls) == sorted(f'check("{name}")' for name in names), path


# ----------------------------------------------------------------------------- plain data transfer
def test_transfer_keeps_numbers_and_structure(tmp_path):
    value = {"out": np.arange(6.0).reshape(2, 3), "pair": (np.int32(3), [1, 2.5, None, True]),
             "text": "hi", "nested": {"b": np.array([True, False])}, "zero_d": np.array(2.0),
             "words": np.array("ValueError"), "sliced": np.arange(10.0)[::3]}
    desc = transfer.save(tmp_path / "o.npz", value)
    back = transfer.load(tmp_path / "o.npz", json.loads(transfer.dumps(desc)), 2**20)
    assert back["out"].dtype == np.float64 and np.array_equal(back["out"], value["out"])
    assert back["pair"][0] == 3 and type(back["pair"][0]) is np.int32 and back["pair"][1] == [1, 2.5, None, True]
    assert back["text"] == "hi" and back["nested"]["b"].dtype == bool
    assert back["zero_d"].shape == () and back["zero_d"].dtype == np.float64 and back["zero_d"] == 2.0
    assert back["words"].shape == () and str(back["words"]) == "ValueError"
    assert np.array_equal(back["sliced"], [0.0, 3.0, 6.0, 9.0])


class Sneaky(np.ndarray):
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value, kind", [(object(), "object"), (np.array([object()]), "numpy array of dtype object"),
                                         (iter([1]), "list_iterator"), (tuple(range(100)), "too long")])
def test_transfer_replaces_anything_else_by_its_type_name(tmp_path, value, kind):
    desc = transfer.save(tmp_path / "o.npz", {"out": value})
    back = transfer.load(tmp_path / "o.npz", desc, 2**20)["out"]
    assert isinstance(back, transfer.Untransferred) and kind in type(back).__name__


def test_transfer_drops_array_subclasses_and_refuses_pickles(tmp_path):
    sneaky = np.zeros(3).view(Sneaky)
    back = transfer.load(tmp_path / "s.npz", transfer.save(tmp_path / "s.npz", sneaky), 2**20)
    assert type(back) is np.ndarray and not np.array_equal(back, np.ones(3))
    np.save(tmp_path / "p.npy", np.array([object()]), allow_pickle=True)
    np.savez(tmp_path / "p.npz", a0=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError):
        transfer.load(tmp_path / "p.npz", {"kind": "array", "key": "a0"}, 2**20)
    with pytest.raises(ValueError, match="larger than"):
        transfer.load(tmp_path / "s.npz", {"kind": "array", "key": "a0"}, 8)


# ----------------------------------------------------------------------------- honest students lose nothing (issue 15)
def feedback_of(graded, name):
    return (graded["out"] / "feedback" / f"{name}.md").read_text()


def test_student_text_cannot_inject_markdown(graded):
    lines = feedback_of(graded, "injects_markdown.ipynb").splitlines()
    assert [line for line in lines if line.startswith("## gcn_norm")] == ["## gcn_norm: 0 of 2 points"]
    assert not any(line.startswith("- PASS normalized adjacency") and "reference" not in line for line in lines)
    assert any(line.startswith("- FAIL") and "boom" in line and "PASS normalized" in line for line in lines)


def test_messages_use_the_students_terms(graded):
    by_id = graded["by_id"]
    assert " at at " not in messages(by_id["invalid_json.ipynb"], "scatter_sum")
    # the cell added before the first exercise is the second code cell the student sees (the install cell is hidden)
    assert any("(code cell 2, line 2" in err and "sys.exit()" in err for err in by_id["sys_exit.ipynb"].load_errors)
    assert by_id["sys_exit.ipynb"].status == "errors" and by_id["solution.ipynb"].status == "ok"
    assert "Errno" not in messages(by_id["huge_return.ipynb"], "gcn_norm")


def test_a_timeout_says_whether_the_code_was_computing():
    from coursework.grading.sandbox import ChildReport, _timeout_message
    busy = _timeout_message(LIMITS, "", ChildReport(elapsed=10.1, cpu=9.9, peak_mb=90))
    idle = _timeout_message(LIMITS, "", ChildReport(elapsed=10.1, cpu=0.8, peak_mb=390))
    assert "endless loop" in busy
    assert "endless loop" not in idle and "computed only 0.8 s" in idle and "390 of the 400 MB" in idle


def test_output_that_cannot_be_read_back_fails_only_its_check():
    from coursework.grading.outcomes import judge
    from coursework.grading.sandbox import ChildReport
    ex = load_all()["message_passing"]
    entries = [{"name": c.name, "outcome": "returned", "result": {"kind": "none"}} for c in ex.checks]
    child = ChildReport(status={"checks": entries, "monitoring": [], "reference_calls": []},
                        outputs={}, transfer_errors={k: "ValueError: malformed" for k in range(len(ex.checks))})
    out = judge(ex, {}, child)
    assert not out.problem and all("could not be read back" in c.message for c in out.checks)
    text = (ROOT / "book" / "instructors.md").read_text()
    assert "fails that check" in text and "could not be read back as plain data; and" not in text


def test_feedback_files_are_unique_and_never_overwritten(tmp_path):
    from coursework.grading.outcomes import SubmissionOutcome
    from coursework.grading.protect import OutputFolder
    from coursework.grading.report import write_all
    ids = ["김민수_02_message_passing.ipynb", "王伟_02_message_passing.ipynb", "A.ipynb", "a.ipynb", "a?.ipynb", "a_.ipynb"]
    outcomes = [SubmissionOutcome(i, i, None, student=i) for i in ids]
    out = OutputFolder(tmp_path / "out")
    write_all(outcomes, out)
    pages = sorted((tmp_path / "out" / "feedback").iterdir())
    assert len(pages) == len(ids) and "김민수_02_message_passing.ipynb.md" in [p.name for p in pages]
    assert sorted(p.read_text().splitlines()[0] for p in pages) == sorted(f"# Feedback on {i}" for i in ids)
    with pytest.raises(FileExistsError):
        out.write("feedback/A.ipynb-" + pages[0].name.split("-")[-1], "again")  # an existing file: refused


# ----------------------------------------------------------------------------- students cannot touch each other
def test_a_submission_cannot_reach_classmates_or_the_grader(graded):
    """The attacker runs first (its name sorts first): what it saw and what it changed."""
    by_id = graded["by_id"]
    error = next(e for e in by_id["aaa_attacker.ipynb"].load_errors if "SEEN " in e)
    seen = json.loads(error.split("SEEN ", 1)[1])
    assert scores(by_id[VICTIM]) == FULL  # graded from the snapshot taken before any student code ran
    assert seen["course_writable"] is False and seen["argv_env"] == []
    assert not seen["course_file"].startswith(str(ROOT))  # the read-only copy, not the repository
    if os.geteuid() == 0:  # as root: a throwaway user in a private mount namespace
        assert seen["uid"] != 0
        assert seen["victim"] in ("PermissionError", "FileNotFoundError")
        assert (graded["subs"] / VICTIM).read_text().startswith("{")
        assert seen["parent_cmdline"] in ("PermissionError", "FileNotFoundError")
        assert seen["out_folder"] in ([], "PermissionError", "FileNotFoundError")
        assert seen["signal"] == "PermissionError"


def test_the_protections_line_says_what_is_active(tmp_path):
    import io
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "x.ipynb").write_text("")  # unreadable: no child runs, but the protections are set up and probed
    log = io.StringIO()
    grade([subs], tmp_path / "out", jobs=1, limits=LIMITS, progress=log)
    first = log.getvalue().splitlines()[0]
    assert first.startswith("protections: submissions read once into private snapshots")
    if os.geteuid() == 0:
        assert "throwaway user each" in first and "private mount namespace" in first


def test_output_folder_is_fresh_and_links_are_never_followed(tmp_path):
    from coursework.grading.protect import OutputFolder
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "gradebook.csv").write_text("planted")
    with pytest.raises(ValueError, match="not empty"):
        OutputFolder(out)
    (out / "feedback").symlink_to(elsewhere)
    folder = OutputFolder(out, overwrite=True)  # removes the grader's names, the link itself (not its target)
    folder.write("feedback/x.md", "mine")
    assert (out / "feedback").is_dir() and not (out / "feedback").is_symlink() and not list(elsewhere.iterdir())
    (out / "notes.txt").write_text("the instructor's")
    with pytest.raises(ValueError, match="does not write"):
        OutputFolder(out, overwrite=True)
    with pytest.raises(ValueError, match="not a folder"):
        OutputFolder(tmp_path / "link") if (tmp_path / "link").symlink_to(elsewhere) is None else None


def test_signals_from_children_are_ignored_and_others_stop_cleanly():
    import signal
    import threading
    from coursework.grading.protect import SignalGuard
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are handled in the main thread")
    pids = {}
    with SignalGuard(pids) as guard:
        proc = subprocess.Popen([sys.executable, "-c", "import os, signal, sys, time; time.sleep(0.3); "
                                 "os.kill(int(sys.argv[1]), signal.SIGTERM)", str(os.getpid())])
        pids[proc.pid] = "child.ipynb"
        assert guard.poll(10) is None and proc.wait() == 0
        assert guard.ignored == ["SIGTERM from the process grading child.ipynb"]
        os.kill(os.getpid(), signal.SIGTERM)
        assert guard.poll(10) == "SIGTERM"


def test_a_stopped_grading_still_writes_the_gradebook(tmp_path):
    subs = tmp_path / "subs"
    write = write_submissions(tmp_path / "all")
    subs.mkdir()
    for name in ["solution.ipynb", "endless_cell.ipynb"]:
        assert name in write
        (subs / name).write_bytes((tmp_path / "all" / name).read_bytes())
    proc = subprocess.Popen([sys.executable, "-m", "coursework.grading", str(subs), "--out", str(tmp_path / "out"),
                             "--jobs", "1", "--timeout", "60"], stderr=subprocess.PIPE, text=True, cwd=ROOT)
    for line in proc.stderr:
        if line.startswith("[1/2]"):  # endless_cell sorts first and stays stuck: stop now
            break
        if line.startswith("grading "):
            proc.send_signal(15)
            break
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 130, rest
    rows = list(csv.DictReader((tmp_path / "out" / "files.csv").open()))
    assert [r["submission"] for r in rows] == ["endless_cell.ipynb", "solution.ipynb"]
    assert all("not graded: the grader was stopped (SIGTERM)" in r["notes"] for r in rows)


# ----------------------------------------------------------------------------- inputs from a secret salt
def test_graded_inputs_come_from_a_secret_salt(tmp_path):
    from coursework.grading.outcomes import check_inputs
    from coursework.grading.protect import CourseCopy, OutputFolder, course_salt
    folder = OutputFolder(tmp_path / "out")
    salt, where = course_salt(folder)
    assert "new" in where and len(salt) == 32 and (tmp_path / "out" / "salt").stat().st_mode & 0o077 == 0
    assert course_salt(folder)[0] == salt  # re-grading reads the same salt
    chk = load_all()["gcn_norm"].checks[0]
    public = chk.make_inputs(np.random.default_rng(chk.seed))
    graded_inputs, _ = check_inputs(chk, salt)
    again, _ = check_inputs(chk, salt)
    assert any(not np.array_equal(public[k], graded_inputs[k]) for k in public)
    assert all(np.array_equal(again[k], graded_inputs[k]) for k in again)
    copy_root = CourseCopy(str(tmp_path)).root  # what the children import: no salt in it
    assert not any(salt.hex() in p.read_text(errors="replace") for p in pathlib.Path(copy_root).rglob("*.py"))


# ----------------------------------------------------------------------------- a gradebook an instructor can use
def test_gradebook_has_one_row_per_student(tmp_path):
    from coursework.grading.outcomes import CheckOutcome, ExerciseOutcome, SubmissionOutcome
    from coursework.grading.report import gradebook_csv
    from coursework.grading.submissions import assign_students, read_roster

    def outcome(sid, nb, score):
        o = SubmissionOutcome(sid, sid, nb)
        o.exercises = [ExerciseOutcome(ex.name, "", ex.points, [CheckOutcome("c", True, score > 0, ex.points)])
                       for ex in load_all().values() if ex.notebook == nb]
        return o
    files = ["alice_02_message_passing.ipynb", "alice/01_graphs.ipynb", "Copy of bob_02_message_passing (1).ipynb",
             "notes.ipynb"]
    outcomes = [outcome("alice_02_message_passing.ipynb", "02_message_passing", 1),
                outcome("01_graphs.ipynb", "01_graphs", 0), outcome("Copy of bob_02_message_passing (1).ipynb",
                                                                    "02_message_passing", 1), outcome("notes.ipynb", None, 0)]
    students, missing, _ = assign_students(files)
    assert students == ["alice", "alice", "bob", "notes"] and missing == []
    for o, s in zip(outcomes, students):
        o.student = s
    rows = list(csv.DictReader(io_lines(gradebook_csv(outcomes))))
    assert [r["student"] for r in rows] == ["alice", "bob", "notes"]
    assert rows[0]["files"] == "alice_02_message_passing.ipynb;01_graphs.ipynb"
    names01 = [ex.name for ex in load_all().values() if ex.notebook in ("01_graphs", "02_message_passing")]
    assert list(rows[0])[2:-4] == names01  # only the notebooks in the run
    assert rows[0]["total"] == "10" and rows[1]["total"] == "10" and rows[1]["one_hot"] == ""
    assert rows[2]["status"] == "unknown notebook" and rows[2]["total"] == ""
    roster = tmp_path / "roster.csv"
    roster.write_text("student,match\nAlice Liddell,alice*\nCarol,carol*\n")
    students, missing, listed = assign_students(files, read_roster(roster))
    assert students[:2] == ["Alice Liddell"] * 2 and missing == ["Carol"] and listed == [True, True, False, False]
    outcomes[0].id = "=HYPERLINK(1)"  # a file name is student-controlled: never a formula in a spreadsheet
    assert "'=HYPERLINK(1)" in gradebook_csv(outcomes)


def io_lines(text):
    import io
    return io.StringIO(text)


def test_gradebook_of_the_run(graded):
    rows = {r["student"]: r for r in csv.DictReader((graded["out"] / "gradebook.csv").open())}
    assert rows["zzz_victim"]["files"] == VICTIM and rows["zzz_victim"]["total"] == "10"
    assert list(next(iter(rows.values())))[2:5] == ["scatter_sum", "gcn_norm", "message_passing"]
    assert len(next(iter(rows.values()))) == 9  # student, files, 3 exercises, total, max, status, notes


def test_without_isolation_a_changed_course_copy_costs_the_exercise(tmp_path, monkeypatch):
    """Children as the grader's own user (forced here) can make the course copy writable: the grader notices."""
    import coursework.grading.grader as grader
    from coursework.grading.sandbox import Isolation
    monkeypatch.setattr(grader, "choose", lambda limits, jobs, course, workroot, hide:
                        (Isolation(course=course, workroot=workroot), "protections: (as the grader's user)"))
    subs = tmp_path / "subs"
    subs.mkdir()
    nb = add_cell(solution(), "import os, coursework.checks.core as core\nos.chmod(core.__file__, 0o644)\n"
                              "open(core.__file__, 'a').write('# changed by a submission')\n", at=3)
    (subs / "tamper.ipynb").write_text(json.dumps(nb))
    (subs / "zz_honest.ipynb").write_text(json.dumps(solution()))  # graded after the tampering (jobs=1)
    by_id = {o.id: o for o in grade([subs], tmp_path / "out", jobs=1, limits=LIMITS, progress=None,
                                    notebook=NOTEBOOK)}
    assert by_id["tamper.ipynb"].total == 0
    assert all("copy of the course code was changed" in e.problem for e in by_id["tamper.ipynb"].exercises)
    assert by_id["zz_honest.ipynb"].total == 10  # graded with the copy rebuilt


@pytest.mark.skipif(os.geteuid() != 0, reason="throwaway users exist only when the grader runs as root")
def test_nothing_of_a_throwaway_user_survives_its_child():
    from coursework.grading.sandbox import FIRST_UID, kill_user
    uid = FIRST_UID - 1 - os.getpid() % 1000  # below the range of any grader's children
    detached = subprocess.Popen(["sleep", "60"], user=uid, group=uid, extra_groups=[], start_new_session=True)
    kill_user(uid)
    assert detached.wait(timeout=10) == -9
