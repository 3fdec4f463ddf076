"""Files we write, opened so that no other local user can redirect or share them.

Like OpenSSH's StrictModes: a path is opened with O_NOFOLLOW (a planted symlink fails with
ELOOP instead of sending root's bytes into another file), then the descriptor is checked with
fstat (a regular file, owned by us, writable by nobody else) and its mode is set through the
descriptor (fchmod), never by path. Atomic replaces write a private temp file (mkstemp: O_EXCL,
mode 0600) and rename it; nothing is ever chmod-ed by name.

`shared_folder` answers the pre-flight's question: is this path inside a folder that another
user can write to (where they could swap names under us)?
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_OPEN = os.O_CLOEXEC | os.O_NOFOLLOW


class UnsafeFile(OSError):
    """A file we were about to write is not ours alone; `strerror` says why and what to do."""


def open_private(path: Path, flags: int, mode: int) -> int:
    """os.open(path) without following a symlink, checked; `mode` is set on a file we
    create (through the descriptor, so a umask or a race cannot widen it)."""
    try:
        fd = os.open(path, flags | _OPEN, mode)
    except OSError as exc:
        raise _no_link(path, exc) from None
    try:
        st = check_fd(fd, path)
        if st.st_size == 0 and stat.S_IMODE(st.st_mode) != mode:
            os.fchmod(fd, mode)  # a file we just created: the mode we asked for, exactly
    except BaseException:
        os.close(fd)
        raise
    return fd


def _no_link(path: Path, exc: OSError) -> OSError:
    """O_NOFOLLOW's ELOOP, said as what it means and what to do; other errors unchanged."""
    if exc.errno != errno.ELOOP:
        return exc
    return UnsafeFile(errno.ELOOP, f"{path} is a symbolic link; refusing to follow it "
                      "(remove it, or point the job at the real file)")


def check_fd(fd: int, path: Path | str) -> os.stat_result:
    """Raise UnsafeFile unless `fd` is a regular file of ours that only we may write; its
    stat otherwise."""
    st = os.fstat(fd)
    problem = private_file_problem(st)
    if problem:
        raise UnsafeFile(errno.EPERM, f"{path} {problem}")
    return st


def private_file_problem(st: os.stat_result, uid: int | None = None) -> str | None:
    """Why a file with this stat must not be trusted by a process of `uid`, or None."""
    uid = os.geteuid() if uid is None else uid
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    if st.st_uid != uid:
        return (f"is owned by uid {st.st_uid}, not by this user (uid {uid}): another user "
                "made it; remove it")
    if stat.S_IMODE(st.st_mode) & 0o022:
        return (f"has mode {stat.S_IMODE(st.st_mode):04o}: other users can write it; "
                "chmod go-w it")
    return None


def read_private(path: Path, limit: int = 1 << 20) -> bytes | None:
    """The first `limit` bytes of a file of ours, or None when there is none. A file we are
    about to rewrite from its old content must not be a symlink to someone else's: root would
    copy e.g. /etc/shadow into a world-readable metrics file. Raises UnsafeFile."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | _OPEN)  # NONBLOCK: a FIFO never hangs
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _no_link(path, exc) from None
    try:
        size = check_fd(fd, path).st_size
        # os.read allocates all it is asked for before it reads: a 256 MiB limit would be
        # a 256 MiB buffer to read a 400 KB file (the `history` memo's).
        return os.read(fd, min(limit, size + 1) if size else limit)
    finally:
        os.close(fd)


def append_fd(path: Path, mode: int = 0o640) -> int:
    """A checked descriptor for appending to a log."""
    return open_private(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, mode)  # RDWR: pread


def write_atomic(path: Path, data: bytes, mode: int = 0o640, folder_mode: int = 0o750,
                 durable: bool = True) -> None:
    """Readers see the old file or the new one, never a mix; the mode is set on the
    descriptor, so no name is ever chmod-ed. What we write may name files (a summary's
    reason): 0640 by default, and folders we create are 0750 (docs/security.md says who
    may read what).

    The temp file is made inside a private 0700 folder of ours beside the target and renamed
    through directory descriptors: in a folder others can write, a temp *name* of its own
    could be swapped for a symlink between any check and the rename (seen: the inotify
    swapper of tests/security/test_shared_folders.py won that race under load). Inside our
    folder nobody else can add, swap or remove a name, and the descriptor stays ours even if
    the folder itself is renamed away.

    `durable=False` skips the fsync: for a cache, which a crash may leave empty or short
    (its readers then rebuild it), and which `history` rewrites on every change of the log."""
    parent = path.parent
    make_dirs(parent, folder_mode)
    pfd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        private = parent / _private_dir(pfd, f".{path.name}.")
        try:
            dfd = os.open(private.name, os.O_RDONLY | os.O_DIRECTORY | _OPEN, dir_fd=pfd)
        except OSError as exc:
            raise UnsafeFile(errno.EPERM, f"{private} was replaced before use; {parent} is "
                             "writable by others") from exc
        try:
            st = os.fstat(dfd)
            if st.st_uid != os.geteuid() or stat.S_IMODE(st.st_mode) & 0o077:
                raise UnsafeFile(errno.EPERM, f"{private} is not our private folder; "
                                 f"{parent} is writable by others")
            _write_new(dfd, data, mode, durable)
            os.rename("new", path.name, src_dir_fd=dfd, dst_dir_fd=pfd)
        finally:
            try:
                os.unlink("new", dir_fd=dfd)
            except OSError:
                pass
            os.close(dfd)
            try:  # by name: if someone swapped it, this removes (at most) their empty folder
                os.rmdir(private.name, dir_fd=pfd)
            except OSError:
                pass
    finally:
        os.close(pfd)


def _private_dir(pfd: int, prefix: str) -> str:
    """A new 0700 folder in the folder open as `pfd`, by a name nobody had: what
    tempfile.mkdtemp does, without importing tempfile (and random, shutil…) into every
    command that writes a cache."""
    for _ in range(100):
        name = f"{prefix}{os.urandom(6).hex()}"
        try:
            os.mkdir(name, 0o700, dir_fd=pfd)
        except FileExistsError:
            continue
        return name
    raise FileExistsError(errno.EEXIST, "no unused temporary name", prefix)


def _write_new(dfd: int, data: bytes, mode: int, durable: bool = True) -> None:
    fd = os.open("new", os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN, 0o600, dir_fd=dfd)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(path: Path, mode: int) -> None:
    """mkdir -p with `mode` for every folder we create (not just the last, as Path.mkdir
    does); existing folders are left as they are."""
    for parent in reversed([path, *path.parents]):
        try:
            os.mkdir(parent, mode)
        except FileExistsError:
            continue  # (a umask can only narrow `mode`: nothing is chmod-ed by name)


def make_private_dir(path: Path) -> None:
    """mkdir -p with mode 0700 for what we create; an existing folder is checked, not changed."""
    make_dirs(path, 0o700)
    problem = private_folder_problem(path)
    if problem:
        raise UnsafeFile(errno.EPERM, f"{path} {problem}")


def private_folder(folder: Path) -> Path:
    """`folder` for files of ours alone (a cache, reports, the demo), made 0700 when missing.
    Raises UnsafeFile (one line, with the fix) when another user owns it or can write it, or
    could swap any folder on the way to it (XDG_CACHE_HOME or HOME pointing at another
    user's folder under `sudo -E`): see tui/ops/trust.py."""
    from tui.ops import trust

    existing = folder  # checked before anything is made in it
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    try:
        real = trust.resolve(existing)
        if existing != folder and (problem := trust.folder_problem(real, os.stat(real))):
            raise trust.Untrusted(problem)
    except trust.Untrusted as exc:
        raise UnsafeFile(errno.EPERM, f"{exc} (on the way to {folder})") from None
    make_dirs(folder, 0o700)
    problem = private_folder_problem(folder)
    if problem:
        raise UnsafeFile(errno.EPERM, f"{folder} {problem}; remove it, or point "
                         "XDG_CACHE_HOME (or --dir) at a folder of your own")
    return folder


def private_folder_problem(path: Path, uid: int | None = None) -> str | None:
    """Why a folder we keep state in is not ours alone, or None."""
    uid = os.geteuid() if uid is None else uid
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        return "is not a folder (a symbolic link?)"
    if st.st_uid != uid:
        return f"is owned by uid {st.st_uid}, not by this user (uid {uid})"
    if stat.S_IMODE(st.st_mode) & 0o022:
        return f"has mode {stat.S_IMODE(st.st_mode):04o}: other users can write in it"
    return None


def shared_folder(path: Path, uid: int | None = None) -> Path | None:
    """The folder on the way to `path` through which a user other than `uid` (or root) could
    swap names under us, or None. The file's own folder must not be writable by others at
    all (sticky /tmp and /run/lock included: there another user plants the name first); a
    folder further up may be sticky (others cannot rename what is ours in it), but not
    writable by others without the sticky bit, and not owned by another user."""
    uid = os.geteuid() if uid is None else uid
    folder = Path(os.path.abspath(path)).parent
    nearest = True  # the nearest existing folder: where our names are (or will be) made
    for candidate in [folder, *folder.parents]:
        try:
            st = os.stat(candidate)
        except OSError:
            continue  # not made yet: we make it, with our own mode
        mode = stat.S_IMODE(st.st_mode)
        if st.st_uid not in (0, uid):
            return candidate
        if mode & 0o022 and (nearest or not mode & stat.S_ISVTX):
            return candidate
        nearest = False
    return None
