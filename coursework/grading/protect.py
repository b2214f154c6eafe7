"""The grader's protections on its own side: output folder, course salt, read-only course code, signals.

- ``OutputFolder``: ``--out`` must be new or empty (``--overwrite`` replaces the files the grader
  wrote there before, and nothing else); reports are written by the parent only, after every
  child is gone, as new files (``O_EXCL``) through directory descriptors opened with
  ``O_NOFOLLOW``, so a planted link or file is never followed or overwritten;
- ``course_salt``: the secret that seeds the graded inputs (``GRADER_SALT`` in hex, else
  ``--salt-file``, else ``OUT/salt``; created when absent, readable by its owner only);
- ``CourseCopy``: a private copy of ``refimpl`` and ``coursework`` (and the private tests) that the
  children import, read-only, checked after each child when the children could write it;
- ``SignalGuard``: the parent blocks the signals a process can catch and waits for them itself,
  so that a signal sent by a child is ignored (and noted) and one from anyone else stops the
  grading cleanly, the gradebook written with what was graded.
"""
import hashlib
import os
import pathlib
import secrets
import shutil
import signal
import stat
import tempfile

PACKAGE_PARENT = pathlib.Path(__file__).resolve().parents[2]  # the folder holding refimpl/ and coursework/
WRITTEN = {"gradebook.csv", "files.csv", "feedback", "results", "results.json"}
SALT_NAME = "salt"


class OutputFolder:
    """``--out``: checked at the start, written at the end (see the module's docstring)."""

    def __init__(self, path, overwrite=False):
        self.path = path = pathlib.Path(path).absolute()
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            raise ValueError(f"out: {path} is not a folder (a file or a symbolic link); give a new folder")
        if not path.exists():
            path.mkdir(parents=True)
        self.fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        entries = set(os.listdir(self.fd)) - {SALT_NAME}
        if entries and not overwrite:
            raise ValueError(f"out: {path} is not empty ({', '.join(sorted(entries)[:5])}); give a new folder, "
                             f"or pass --overwrite to replace the grader's earlier reports in it")
        if entries - WRITTEN:
            raise ValueError(f"out: {path} holds files the grader does not write ({', '.join(sorted(entries - WRITTEN)[:5])}); "
                             f"--overwrite removes only its own reports: give a new folder")
        for name in entries:
            _remove_at(self.fd, name)

    def unexpected(self):
        """Entries that appeared in the folder since the start (none when nothing was planted)."""
        return sorted(set(os.listdir(self.fd)) - {SALT_NAME})

    def write(self, relname, text):
        """Create ``relname`` (e.g. ``feedback/x.md``) with ``text``; never follows a link or overwrites."""
        *folders, name = relname.split("/")
        fd = os.dup(self.fd)
        try:
            for folder in folders:
                try:
                    os.mkdir(folder, 0o755, dir_fd=fd)
                except FileExistsError:
                    pass
                sub = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                os.close(fd)
                fd = sub
            out = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=fd)
            with os.fdopen(out, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        finally:
            os.close(fd)

    def close(self):
        os.close(self.fd)


def _remove_at(dir_fd, name):
    """Remove ``name`` in the folder ``dir_fd`` without following links."""
    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(name, dir_fd=dir_fd)
        return
    sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
    try:
        for child in os.listdir(sub):
            _remove_at(sub, child)
    finally:
        os.close(sub)
    os.rmdir(name, dir_fd=dir_fd)


def course_salt(out, salt_file=None):
    """(salt bytes, where it came from) for this course; creates the salt file when it does not exist."""
    env = os.environ.get("GRADER_SALT")
    if env:
        try:
            return bytes.fromhex(env.strip()), "the GRADER_SALT variable"
        except ValueError:
            raise ValueError("GRADER_SALT: expected a hexadecimal string") from None
    path = pathlib.Path(salt_file) if salt_file else out.path / SALT_NAME
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        text = path.read_text(encoding="ascii", errors="replace").strip()
        try:
            salt = bytes.fromhex(text)
        except ValueError:
            raise ValueError(f"salt_file: {path} does not hold a hexadecimal salt") from None
        if len(salt) < 16:
            raise ValueError(f"salt_file: {path} holds a salt of {len(salt)} bytes; expected at least 16")
        return salt, str(path)
    salt = secrets.token_bytes(32)
    with os.fdopen(fd, "w") as f:
        f.write(salt.hex() + "\n")
    return salt, f"{path} (new: keep it, and pass --salt-file, to re-grade with the same inputs)"


def _tree_digest(root):
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            h.update(f"{os.path.relpath(p, root)}\0{st.st_mode}\0".encode())
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


class CourseCopy:
    """A read-only copy of the course packages (and private tests) in a folder of the grader's."""

    def __init__(self, workroot, private=None):
        self.root = tempfile.mkdtemp(prefix="course-", dir=workroot)
        os.chmod(self.root, 0o755)
        self.private, self.source = None, private
        self.fill(private)

    def fill(self, private):
        for name in ("refimpl", "coursework"):
            shutil.copytree(PACKAGE_PARENT / name, os.path.join(self.root, name), symlinks=False,
                            ignore=shutil.ignore_patterns("*.ipynb", ".*"))
        if private:
            self.private = os.path.join(self.root, "private_tests")
            shutil.copytree(private, self.private, ignore=shutil.ignore_patterns(".*", "__pycache__"))
        for dirpath, dirnames, filenames in os.walk(self.root):
            for name in filenames:
                os.chmod(os.path.join(dirpath, name), 0o444)
            os.chmod(dirpath, 0o555)
        self.digest = _tree_digest(self.root)

    def intact(self):
        """True when nobody changed the copy; otherwise it is rebuilt, and False says so."""
        if _tree_digest(self.root) == self.digest:
            return True
        remove_tree(self.root)
        os.mkdir(self.root, 0o755)
        self.fill(self.source)
        return False


def remove_tree(path):
    def retry(func, p, _exc):
        try:
            os.chmod(os.path.dirname(p), 0o700)
            os.chmod(p, 0o700)
            func(p)
        except OSError:
            pass
    shutil.rmtree(path, onerror=retry)


STOPPING = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGQUIT)   # from anyone but a child: stop cleanly
CATCHABLE = STOPPING + (signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM, signal.SIGPIPE, signal.SIGTSTP, signal.SIGTTIN,
                        signal.SIGTTOU, signal.SIGVTALRM, signal.SIGPROF, signal.SIGXCPU, signal.SIGXFSZ)


class SignalGuard:
    """Blocks the catchable signals in this thread (and the threads it starts) and collects them.

    ``poll(timeout)`` returns the name of a stopping signal (TERM, HUP, INT, QUIT) sent by someone
    other than a child (the grading should stop), or None; signals from children (``child_pids``,
    pid -> submission) and every other signal are ignored (those from children are noted).
    """

    def __init__(self, child_pids):
        self.child_pids, self.ignored, self.active = child_pids, [], False

    def __enter__(self):
        try:
            self.previous = signal.pthread_sigmask(signal.SIG_BLOCK, CATCHABLE)
            self.active = True
        except (ValueError, OSError):
            self.active = False
        return self

    def poll(self, timeout):
        if not self.active:
            return None
        info = signal.sigtimedwait(CATCHABLE, timeout)
        if info is None:
            return None
        name = signal.Signals(info.si_signo).name
        if info.si_pid in self.child_pids:
            self.ignored.append(f"{name} from the process grading {self.child_pids[info.si_pid]}")
            return None
        return name if info.si_signo in STOPPING else None

    def __exit__(self, *exc):
        if self.active:
            while signal.sigtimedwait(CATCHABLE, 0) is not None:
                pass
            signal.pthread_sigmask(signal.SIG_SETMASK, self.previous)
        return False
