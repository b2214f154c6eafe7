"""Run one submission's code for one exercise in a separate, limited process and collect plain data.

The child (``coursework.grading._child``) runs in a fresh private folder holding its own copy of
the submission (from the snapshot the grader took at the start) and ``job.json``; its command line
names only that folder and the read-only course copy it imports. It runs in its own session and
process group, with a minimal environment, stdin closed, output sent to files, and hard limits it
sets on itself before any student code exists: address space (``--memory``), CPU seconds
(``--timeout``), size of any file written, no new processes. As root it first gives itself a
private view of the machine and a throwaway user (``coursework.grading.jail``). The parent waits at
most ``--timeout`` seconds of wall-clock time, then kills the whole group (and, for a throwaway
user, every process of that user). Everything the child leaves behind is read with size caps,
without following links, and without pickles; the folder is deleted afterwards.
"""
import io
import json
import os
import queue
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
from coursework.grading.protect import remove_tree

STATUS_CAP = 2 * 2**20       # bytes of status.json read
STDERR_CAP = 4096            # bytes of the child's error output kept (for crashes)
CHILD_EXIT_GRADER_ERROR = 3  # the child's own machinery failed (see _child.py)
FIRST_UID = 1_900_000_000    # throwaway users: FIRST_UID + slot (no /etc/passwd entry needed)
# The child unblocks the signals the grader blocks, then imports the course from the read-only copy.
BOOTSTRAP = ("import sys, signal, runpy; signal.pthread_sigmask(signal.SIG_SETMASK, []); "
             "sys.path.insert(0, sys.argv.pop(1)); runpy.run_module('coursework.grading._child', run_name='__main__')")


@dataclass
class Limits:
    """Per-exercise limits of a child process."""
    timeout: float = 60.0     # wall-clock seconds for loading the notebook and running the checks
    memory_mb: int = 1024     # address space
    file_mb: int = 64         # largest file the child may write
    user: str = None          # run every child as this user instead of a throwaway one (when root)

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
    cpu: float = 0.0                             # CPU seconds the child used
    peak_mb: float = 0.0                         # its largest resident memory


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


def kill_user(uid):
    """Kill every process of ``uid`` (a throwaway user): from a forked process that becomes that user."""
    pid = os.fork()
    if pid == 0:  # only system calls here: the parent has threads
        try:
            os.setgid(uid)
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


@dataclass
class Isolation:
    """How children are kept apart: decided once per run (see ``coursework.grading.grader.isolation``)."""
    uids: list = None        # one uid per slot (throwaway users), or one for all (--user), or None
    gid: int = None          # the group for a --user; throwaway users use their uid as gid
    hide: list = None        # folders hidden by a private mount namespace (None: no namespace)
    expose: list = field(default_factory=list)
    course: str = ""         # the read-only course copy the children import
    workroot: str = ""       # where the children's folders are made
    throwaway: bool = False  # the uids are the grader's own throwaway users (nothing else runs as them)

    def jail(self, slot, workdir):
        plan = {}
        if self.hide is not None:
            plan.update(hide=self.hide, expose=self.expose + [workdir])
        if self.uids:
            uid = self.uids[slot % len(self.uids)]
            plan.update(uid=uid, gid=self.gid if self.gid is not None else uid)
        return plan


class Sandbox:
    """Runs children, at most ``jobs`` at once (slots), and remembers which pid grades what."""

    def __init__(self, limits, iso, jobs):
        self.limits, self.iso = limits, iso
        self.slots = queue.Queue()
        for k in range(jobs):
            self.slots.put(k)
        self.pids, self.live, self.lock, self.stopping = {}, set(), threading.Lock(), False

    def kill_all(self):
        """Kill every child still running (the grading was stopped); no new child starts."""
        with self.lock:
            self.stopping = True
            for pid in list(self.live):
                _kill_group(pid)

    def run(self, label, data, suffix, job, inputs_npz):
        """Run the checks of ``job`` on the snapshot ``data`` in a limited child; return a ChildReport."""
        slot = self.slots.get()
        try:
            return self._run(slot, label, data, suffix, job, inputs_npz)
        finally:
            self.slots.put(slot)

    def _run(self, slot, label, data, suffix, job, inputs_npz):
        limits, iso = self.limits, self.iso
        workdir = tempfile.mkdtemp(prefix="grade-", dir=iso.workroot)
        try:
            target = os.path.join(workdir, "submission" + suffix)
            with open(target, "wb") as f:
                f.write(data)
            plan = iso.jail(slot, workdir)
            job = dict(job, submission=target, jail=plan, memory_mb=int(limits.memory_mb),
                       cpu_seconds=max(1, int(np.ceil(limits.timeout))), file_mb=int(limits.file_mb))
            with open(os.path.join(workdir, "job.json"), "w", encoding="utf-8") as f:
                json.dump(job, f)
            for k, blob in enumerate(inputs_npz):
                with open(os.path.join(workdir, f"in{k}.npz"), "wb") as f:
                    f.write(blob)
            if "uid" in plan:
                for name in os.listdir(workdir):
                    os.chown(os.path.join(workdir, name), plan["uid"], plan["gid"])
                os.chown(workdir, plan["uid"], plan["gid"])
            report = ChildReport()
            returncode, timed_out = self._start_and_wait(workdir, label, report)
            if iso.throwaway:
                kill_user(plan["uid"])  # nothing of this child survives it (a throwaway user has nothing else)
            return collect(report, workdir, job, returncode, timed_out, limits)
        finally:
            remove_tree(workdir)

    def _start_and_wait(self, workdir, label, report):
        start = time.monotonic()
        with open(os.path.join(workdir, ".stdout"), "wb") as out, open(os.path.join(workdir, ".stderr"), "wb") as err:
            with self.lock:
                if self.stopping:
                    raise RuntimeError("the grading was stopped")
                proc = subprocess.Popen([sys.executable, "-I", "-B", "-c", BOOTSTRAP, self.iso.course, workdir], cwd=workdir,
                                        stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=child_env(workdir),
                                        start_new_session=True, close_fds=True)
                self.pids[proc.pid] = label
                self.live.add(proc.pid)
            fired = threading.Event()

            def expire():
                fired.set()
                _kill_group(proc.pid)
            timer = threading.Timer(self.limits.timeout, expire)
            timer.start()
            try:
                _, status, usage = os.wait4(proc.pid, 0)
            finally:
                timer.cancel()
                _kill_group(proc.pid)  # anything the child left behind in its group
                with self.lock:
                    self.live.discard(proc.pid)
            proc.returncode = os.waitstatus_to_exitcode(status)
            if self.stopping:  # killed because the grading was stopped: not a result of the student's code
                raise RuntimeError("the grading was stopped")
        report.elapsed = time.monotonic() - start
        report.cpu = usage.ru_utime + usage.ru_stime
        report.peak_mb = usage.ru_maxrss / 1024
        return proc.returncode, fired.is_set()


def _timeout_message(limits, during, report):
    wall = f"timed out: still running after {limits.timeout:g} s{during}"
    if report.cpu >= 0.7 * report.elapsed:
        return f"{wall}, computing all the time (an endless loop, or code much slower than it needs to be?)"
    return (f"{wall}, of which your code computed only {report.cpu:.1f} s (its memory peaked at "
            f"{report.peak_mb:.0f} of the {limits.memory_mb} MB allowed): it was waiting (on time.sleep, input "
            f"or a lock), or the grading machine was too busy or short of memory; if your code does not wait, "
            f"ask your instructor to grade it again")


def _problem(returncode, timed_out, limits, during, status, report):
    """Plain words for a child that did not finish normally ("" if it did)."""
    if timed_out:
        return _timeout_message(limits, during, report)
    if returncode == -signal.SIGXCPU:
        return f"stopped by the grader's limits{during}: more than {limits.timeout:g} s of CPU time"
    if returncode == -signal.SIGKILL:
        return (f"stopped{during} by the system (signal SIGKILL), most likely for using more than the "
                f"{limits.memory_mb} MB of memory allowed (its memory peaked at {report.peak_mb:.0f} MB)")
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
    report.problem = _problem(returncode, timed_out, limits, during, report.status, report)
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
