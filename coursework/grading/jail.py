"""The child's first step when the grader runs as root: a private view of the machine, then a throwaway user.

Run by the child's bootstrap before anything else (as root, single-threaded, no student code yet):

1. a private mount namespace (``unshare(CLONE_NEWNS)``, mounts made private);
2. every folder in ``hide`` (the submission folders, ``--out``, the course repository, the private
   tests, the folder of the other children's work) covered by an empty tmpfs, and every folder in
   ``expose`` (Python itself, its packages, the read-only course copy, this child's work folder)
   made reachable again: a hidden or unreadable ancestor (such as ``/root``, mode 700) is covered by
   a tmpfs in which only the needed path is bind-mounted back;
3. a new ``/proc`` with ``hidepid=2``: the child sees no process of another user (the grader's
   command line included);
4. ``setgroups([])``, ``setgid``, ``setuid`` to a uid of its own (no entry in /etc/passwd needed),
   then ``PR_SET_NO_NEW_PRIVS`` so that no set-uid program can give root back.

Any failure raises, and the child ends before running student code (the grader then says so).
"""
import ctypes
import os
import stat

CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x1000, 0x4000, 1 << 18
PR_SET_NO_NEW_PRIVS = 38

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None):
    _check(_libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(), ctypes.c_ulong(flags),
                       data and data.encode()), f"mount {target}")


def _ancestors(path):
    """'/a/b/c' -> ['/a', '/a/b', '/a/b/c']."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:k]) for k in range(1, len(parts) + 1)]


def private_view(hide, expose):
    """Steps 1 to 3 above (as root); ``hide`` and ``expose`` are lists of absolute folder paths."""
    _check(_libc.unshare(CLONE_NEWNS), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    expose = [os.path.realpath(p) for p in expose if os.path.isdir(p)]
    hide = sorted({os.path.realpath(p) for p in hide if os.path.isdir(p)}, key=len)
    blocked = set(hide)  # folders an unprivileged user cannot pass through, in the view being made
    for p in expose:
        for a in _ancestors(p)[:-1]:
            if not os.stat(a).st_mode & stat.S_IXOTH:
                blocked.add(a)
    keep = {p: os.open(p, os.O_PATH | os.O_DIRECTORY) for p in expose}
    covered = []
    for folder in sorted(blocked, key=len):
        if any(folder.startswith(c + "/") for c in covered) or not os.path.isdir(folder):
            continue
        _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
        covered.append(folder)
    for p, fd in keep.items():
        cover = [c for c in covered if p == c or p.startswith(c + "/")]
        if cover:
            os.makedirs(p, mode=0o755, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", p, None, MS_BIND | MS_REC)
        os.close(fd)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2")


def become(uid, gid):
    """Step 4 above: drop every privilege for good."""
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")


def no_new_privileges():
    """``PR_SET_NO_NEW_PRIVS`` only (a child that runs as the grader's own user)."""
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")


def enter(plan):
    """Apply ``plan`` (from job.json: 'hide', 'expose', 'uid', 'gid'; any of them may be absent)."""
    if plan.get("hide") is not None:
        private_view(plan["hide"], plan["expose"])
    if plan.get("uid") is not None:
        become(int(plan["uid"]), int(plan["gid"]))
    else:
        no_new_privileges()
