"""Which protections a run can have, tried once at the start, and the one line that says so.

- run as root: every child gets a throwaway user of its own (uid ``FIRST_UID`` + slot, or the
  ``--user`` given) inside a private mount namespace that hides the submission folders, ``--out``,
  the course repository, the private tests and the other children's folders, with a ``/proc``
  that shows no other user's process (``coursework.grading.jail``). If the namespace cannot be
  made (a container without the right), the throwaway users alone; if those cannot run Python
  either, the children run as root, and the line says what that leaves open;
- run as an ordinary user: the children run as that user. The line says what that leaves open.

Each candidate is tried with a probe child (no student code) that reports what it can see.
"""
import os
import pwd
import site
import sys

from coursework.grading.sandbox import FIRST_UID, Isolation, Sandbox

COMMON = ("submissions read once into private snapshots; course code imported from a read-only copy; "
          "reports written only by the grader, after every child ended, as new files that follow no link; "
          "children in their own sessions, killed by group")


def _probe(limits, iso, hidden):
    """Start one child with ``iso`` that runs no student code; return (None, problem) or (what it saw, "")."""
    job = {"probe": {"hidden": hidden, "parent": os.getpid()}, "checks": [], "exercise": None}
    try:
        report = Sandbox(limits, iso, 1).run("(probe)", b"", ".py", job, [])
    except Exception as exc:  # cannot even start it
        return None, f"{type(exc).__name__}: {exc}"
    seen = report.status.get("probe")
    if report.problem or not isinstance(seen, dict):
        return None, (report.stderr_tail.strip().splitlines() or [report.problem or "no report"])[-1]
    return seen, ""


def _throwaway_uids(jobs):
    """Unused uids of this run's own: other graders running at the same time (another pid) get others."""
    uids = []
    uid = FIRST_UID + (os.getpid() % 2**20) * 256
    while len(uids) < min(jobs, 256):
        try:
            pwd.getpwuid(uid)
        except KeyError:
            uids.append(uid)
        uid += 1
    return uids


def choose(limits, jobs, course, workroot, hide):
    """(Isolation, description line) for this run; raises RuntimeError when no child can start at all."""
    base = dict(course=course, workroot=workroot)
    if os.geteuid() != 0:
        seen, why = _probe(limits, Isolation(**base), [])
        if seen is None:
            raise RuntimeError(f"cannot start a grading child process: {why}")
        return Isolation(**base), (
            f"protections: {COMMON}. Children run as this user ({pwd.getpwuid(os.geteuid()).pw_name}): a submission "
            "can read what this user can (other submissions' original files included), stop the grader (SIGSTOP, "
            "SIGKILL) and interfere with children running at the same time; run as root for isolation "
            "(see the page For instructors)")
    if limits.user:
        entry = pwd.getpwnam(limits.user)
        users, who = dict(uids=[entry.pw_uid], gid=entry.pw_gid), f"the user {limits.user} (all children alike)"
    else:
        uids = _throwaway_uids(jobs)
        users, who = dict(uids=uids, throwaway=True), f"a throwaway user each (uids from {uids[0]})"
    hide = [p for p in hide if p != "/"]
    expose = sorted({os.path.realpath(p) for p in [sys.base_prefix, sys.prefix, course, *site.getsitepackages()]
                     if os.path.isdir(p)})
    iso = Isolation(**base, **users, hide=hide, expose=expose)
    seen, why_ns = _probe(limits, iso, hide)
    if seen is not None:
        leaks = [p for p in hide if seen["visible"].get(p)]
        if not leaks and not seen["parent_visible"]:
            return iso, (f"protections: {COMMON}; children run as {who} in a private mount namespace: the "
                         "submission folders, --out, the course repository, the private tests and the other "
                         "children's folders are hidden, and /proc shows no other user's process")
        why_ns = f"the probe could still see {leaks or 'the grader process'}"
    iso = Isolation(**base, **users)
    seen, why_users = _probe(limits, iso, [])
    if seen is not None:
        return iso, (f"protections: {COMMON}; children run as {who}, without a private mount namespace "
                     f"({why_ns}): a submission can read world-readable files, other submissions' original "
                     f"files among them if their folder allows it, and see other processes' command lines")
    iso = Isolation(**base)
    seen, why = _probe(limits, iso, [])
    if seen is None:
        raise RuntimeError(f"cannot start a grading child process: {why}")
    return iso, (f"protections: {COMMON}. WARNING: children run as root (no namespace: {why_ns}; no throwaway "
                 f"user: {why_users}): a submission can read and change anything on this machine")
