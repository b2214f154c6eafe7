"""Run one submission's code for one exercise in a separate, limited process and collect plain data.

The child (``coursework.grading._child``) runs in a fresh temporary folder holding a copy of the
submission, in its own process group, with a minimal environment, stdin closed, output sent to
files, and hard limits it sets on itself before any student code exists: address space
(``--memory``), CPU seconds (``--timeout``), size of any file written, no new processes. The
parent waits at most ``--timeout`` seconds of wall-clock time, then kills the whole group.
Everything the child leaves behind is read with size caps, without following links, and
without pickles; the folder is deleted afterwards.
"""
import io
import json
import os
import pathlib
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from coursework.grading import transfer

PACKAGE_PARENT = str(pathlib.Path(__file__).resolve().parents[2])  # the folder holding `refimpl/`
STATUS_CAP = 2 * 2**20       # bytes of status.json read
STDERR_CAP = 4096            # bytes of the child's error output kept (for crashes)
CHILD_EXIT_GRADER_ERROR = 3  # the child's own machinery failed (see _child.py)
# The child puts the parent's copy of refimpl first on its path, so both run the same checks.
BOOTSTRAP = ("import sys, runpy; sys.path.insert(0, sys.argv.pop(1)); "
             "runpy.run_module('coursework.grading._child', run_name='__main__')")


_LIVE, _LIVE_LOCK = set(), threading.Lock()   # process groups of the children running now


def kill_all():
    """Kill every child process group still running (used when grading is interrupted)."""
    with _LIVE_LOCK:
        for pid in list(_LIVE):
            _kill_group(pid)


@dataclass
class Limits:
    """Per-exercise limits of a child process."""
    timeout: float = 60.0     # wall-clock seconds for loading the notebook and running the checks
    memory_mb: int = 1024     # address space
    file_mb: int = 64         # largest file the child may write
    user: str = None          # run the child as this user (when the grader runs as root)

    def __post_init__(self):
        if not self.timeout > 0:
            raise ValueError(f"timeout: expected a positive number of seconds, got {self.timeout}")
        if int(self.memory_mb) < 200:
            raise ValueError(f"memory: expected at least 200 MB (Python and NumPy need about 150), got {self.memory_mb}")


@dataclass
class ChildReport:
    """What came back from one child: its status, the decoded outputs per check, or the problem."""
    problem: str = ""                            # plain words; "" when the child finished normally
    stuck_loading: bool = False                  # timed out before the first check started
    status: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)  # check index -> decoded value
    transfer_errors: dict = field(default_factory=dict)  # check index -> why its outputs were refused
    stderr_tail: str = ""
    elapsed: float = 0.0


def child_env(workdir):
    """A minimal environment: no secrets of the grader's, one thread per library, files kept local."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir, "MPLCONFIGDIR": workdir,
           "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "MPLBACKEND": "Agg"}
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        env[var] = "1"  # deterministic sums, and CPU time == wall time
    return env


def read_capped(path, cap):
    """The bytes of a regular file (not a link, FIFO or device), or None; at most ``cap`` + 1 bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks, size = [], 0
        while size <= cap:
            chunk = os.read(fd, min(1 << 20, cap + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _remove(workdir):
    def retry(func, path, _exc):
        try:
            os.chmod(os.path.dirname(path), 0o700)
            os.chmod(path, 0o700)
            func(path)
        except OSError:
            pass
    shutil.rmtree(workdir, onerror=retry)


def _as_user(workdir, user):
    """Give ``workdir`` to ``user`` and return the Popen arguments that run the child as that user."""
    import pwd
    entry = pwd.getpwnam(user)
    for dirpath, dirnames, filenames in os.walk(workdir):
        for name in [dirpath] + [os.path.join(dirpath, n) for n in dirnames + filenames]:
            os.chown(name, entry.pw_uid, entry.pw_gid)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def prepare(workdir, submission, job, inputs_npz):
    """Fill ``workdir``: the submission's copy, job.json and one in<k>.npz per check."""
    suffix = ".py" if pathlib.Path(submission).suffix.lower() == ".py" else ".ipynb"
    target = os.path.join(workdir, "submission" + suffix)
    shutil.copyfile(submission, target)
    job = dict(job, submission=target)
    with open(os.path.join(workdir, "job.json"), "w", encoding="utf-8") as f:
        json.dump(job, f)
    for k, data in enumerate(inputs_npz):
        with open(os.path.join(workdir, f"in{k}.npz"), "wb") as f:
            f.write(data)


def _problem(returncode, timed_out, limits, during, status):
    """Plain words for a child that did not finish normally ("" if it did)."""
    if timed_out:
        return f"timed out: still running after {limits.timeout:g} s{during} (an endless loop?)"
    if returncode == -signal.SIGXCPU or returncode == -signal.SIGKILL:
        return (f"stopped by the grader's limits{during}: more than {limits.timeout:g} s of CPU time "
                f"or more than {limits.memory_mb} MB of memory")
    if returncode == -signal.SIGXFSZ:
        return f"stopped{during}: your code wrote a file larger than {limits.file_mb} MB"
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"crashed{during} ({name}), perhaps out of memory (limit {limits.memory_mb} MB)"
    if returncode == CHILD_EXIT_GRADER_ERROR:
        return f"the grading process failed after running your code{during} (did your code change numpy, json or the grader?)"
    if returncode != 0 or not status.get("complete"):
        return (f"the process running your code ended before reporting its results{during} (exit code "
                f"{returncode}): does your code call os._exit(), exit() or end the process another way?")
    return ""


def run_child(submission, job, inputs_npz, limits, workroot=None):
    """Run the checks of ``job`` on ``submission`` in a limited child process; return a ChildReport.

    job: dict with 'exercise', 'checks' (names, in order) and 'private_tests' (folder or None);
    inputs_npz: bytes of one .npz per check, in the same order.
    """
    workdir = tempfile.mkdtemp(prefix="grade-", dir=workroot)
    try:
        job = dict(job, memory_mb=int(limits.memory_mb), cpu_seconds=max(1, int(np.ceil(limits.timeout))),
                   file_mb=int(limits.file_mb))
        prepare(workdir, submission, job, inputs_npz)
        user_args = {}
        if limits.user:
            user_args = _as_user(workdir, limits.user)
        start = time.monotonic()
        with open(os.path.join(workdir, ".stdout"), "wb") as out, open(os.path.join(workdir, ".stderr"), "wb") as err:
            proc = subprocess.Popen([sys.executable, "-I", "-c", BOOTSTRAP, PACKAGE_PARENT, workdir], cwd=workdir,
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=child_env(workdir),
                                    start_new_session=True, close_fds=True, **user_args)
            with _LIVE_LOCK:
                _LIVE.add(proc.pid)
            timed_out = False
            try:
                proc.wait(timeout=limits.timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill_group(proc.pid)  # the child and anything it left behind
                proc.wait()
                with _LIVE_LOCK:
                    _LIVE.discard(proc.pid)
        report = ChildReport(elapsed=time.monotonic() - start)
        return collect(report, workdir, job, proc.returncode, timed_out, limits)
    finally:
        _remove(workdir)


def collect(report, workdir, job, returncode, timed_out, limits):
    """Read what the child left in ``workdir`` into ``report`` (status, outputs, problem)."""
    tail = read_capped(os.path.join(workdir, ".stderr"), 1 << 20) or b""
    report.stderr_tail = tail[-STDERR_CAP:].decode("utf-8", errors="replace")
    raw = read_capped(os.path.join(workdir, "status.json"), STATUS_CAP)
    status = {}
    if raw is not None and len(raw) <= STATUS_CAP:
        try:
            status = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            status = {}
    report.status = status if isinstance(status, dict) else {}
    progress = read_capped(os.path.join(workdir, "progress"), 32)
    during = " while running your notebook's cells"
    try:
        during = f" during the check '{job['checks'][int(progress)]}'"
    except (TypeError, ValueError, IndexError):
        pass
    report.problem = _problem(returncode, timed_out, limits, during, report.status)
    report.stuck_loading = timed_out and progress is None
    if report.problem:
        return report
    entries = report.status.get("checks")
    if not isinstance(entries, list) or len(entries) != len(job["checks"]):
        report.problem = "the process running your code reported an unexpected list of checks"
        return report
    max_bytes = int(limits.file_mb) * 2**20
    for k, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("outcome") != "returned":
            continue
        try:
            data = read_capped(os.path.join(workdir, f"out{k}.npz"), max_bytes)
            if data is None or len(data) > max_bytes:
                raise ValueError("the returned data is missing or too large")
            report.outputs[k] = transfer.load(io.BytesIO(data), entry.get("result"), max_bytes)
        except Exception as exc:  # anything odd about the data: this check fails closed
            report.transfer_errors[k] = f"{type(exc).__name__}: {exc}"
    return report


def preflight(limits):
    """Start one empty child as the grader will; raise RuntimeError when that is impossible."""
    workdir = tempfile.mkdtemp(prefix="grade-preflight-")
    try:
        user_args = {}
        if limits.user:
            user_args = _as_user(workdir, limits.user)
        code = BOOTSTRAP.replace("runpy.run_module('coursework.grading._child', run_name='__main__')",
                                 "import coursework.grading._child, numpy")
        proc = subprocess.run([sys.executable, "-I", "-c", code, PACKAGE_PARENT], cwd=workdir, capture_output=True,
                              env=child_env(workdir), timeout=120, **user_args)
        if proc.returncode != 0:
            raise RuntimeError("cannot start a grading child process: " + proc.stderr.decode(errors="replace")[-2000:])
    except (OSError, subprocess.SubprocessError) as exc:
        raise RuntimeError(f"cannot start a grading child process ({type(exc).__name__}: {exc})") from None
    finally:
        _remove(workdir)
