"""What root executes or loads: the rclone binary, each hook's program, the env file and the
config file. Trusted only when no other user could have written it or swapped its name.

The rules are OpenSSH's StrictModes (and cron's, and sudo's for its own config):
- the file is a regular file owned by root or by the user running us, not writable by group
  or others;
- every folder looked in on the way to it (symbolic links followed, hop by hop) is owned by
  root or by us and not writable by group or others, unless it is sticky and root's (/tmp):
  there others cannot rename or remove what is ours; a symbolic link in such a folder must
  be ours too.

The file is checked on its open descriptor (O_NOFOLLOW on the resolved name, then fstat) and
its content read from that same descriptor, so a swap between the check and the use changes
nothing. A program is executed through `/proc/self/fd/N` of the checked descriptor (`exec_path`).
For a `#!` script the kernel hands that same name to the interpreter, which opens it again
in the new process: the descriptor must then survive the exec (not close-on-exec), which
`open_program` arranges; the interpreter itself, named by path in the `#!` line, is checked
by the same rules.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

MAX_HOPS = 40  # symbolic links followed, as the kernel's own limit
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK  # NONBLOCK: a FIFO never hangs us


class Untrusted(Exception):
    """A file root must not run or load; the message names it and says what to do."""


def _owners(uid: int | None) -> tuple[int, ...]:
    me = os.geteuid() if uid is None else uid
    return (0,) if me == 0 else (0, me)


def _who(uid: int | None) -> str:
    me = os.geteuid() if uid is None else uid
    return "root" if me == 0 else f"root or you (uid {me})"


def folder_problem(folder: str, st: os.stat_result, uid: int | None = None) -> str | None:
    """Why names in this folder could be changed by another user, or None."""
    mode = stat.S_IMODE(st.st_mode)
    if st.st_uid not in _owners(uid):
        return (f"folder {folder} is owned by uid {st.st_uid}, not {_who(uid)}; "
                f"move the file into a folder only root can write")
    if mode & 0o022 and not (mode & stat.S_ISVTX and st.st_uid == 0):
        return (f"folder {folder} has mode {mode:04o}: other users can swap names in it; "
                f"chmod go-w {folder}, or move the file")
    return None


def file_problem(path: str, st: os.stat_result, uid: int | None = None) -> str | None:
    """Why this file's content is not ours to trust, or None."""
    if stat.S_ISDIR(st.st_mode):
        return f"{path} is a directory, not a regular file; point the job at a regular file"
    if not stat.S_ISREG(st.st_mode):
        return f"{path} is not a regular file; point the job at a regular file"
    mode = stat.S_IMODE(st.st_mode)
    if st.st_uid not in _owners(uid):
        return (f"{path} is owned by uid {st.st_uid}, not {_who(uid)}: another user could "
                f"change it; chown root {path} (or use a file root owns)")
    if mode & 0o022:
        return (f"{path} has mode {mode:04o}: other users can change it; chmod go-w {path}")
    return None


def resolve(path: Path | str, uid: int | None = None) -> str:
    """The real path of `path`, checking every folder looked in on the way (and every
    symbolic link in a shared sticky folder). Raises Untrusted, or OSError (ENOENT …)."""
    hops = 0
    checked: set[str] = set()

    def look_in(folder: str) -> None:
        if folder in checked:
            return
        problem = folder_problem(folder, os.stat(folder), uid)
        if problem:
            raise Untrusted(problem)
        checked.add(folder)

    def walk(cur: str, parts: list[str]) -> str:
        nonlocal hops
        for name in parts:
            if name in ("", "."):
                continue
            if name == "..":
                cur = os.path.dirname(cur) or "/"
                continue
            look_in(cur)
            nxt = os.path.join(cur, name)
            st = os.lstat(nxt)
            if stat.S_ISLNK(st.st_mode):
                hops += 1
                if hops > MAX_HOPS:
                    raise OSError(errno.ELOOP, "too many symbolic links", nxt)
                if st.st_uid not in _owners(uid):
                    folder_st = os.stat(cur)
                    if stat.S_IMODE(folder_st.st_mode) & 0o022:
                        raise Untrusted(f"{nxt} is a symbolic link of uid {st.st_uid} in the "
                                        f"shared folder {cur}; remove it, and name the real "
                                        "file")
                target = os.readlink(nxt)
                cur = walk("/" if target.startswith("/") else cur, target.split("/"))
            else:
                cur = nxt
        return cur

    text = os.fspath(path)
    base = "/" if text.startswith("/") else walk("/", os.getcwd().split("/"))
    return walk(base, text.split("/"))


def open_checked(path: Path | str, what: str, uid: int | None = None,
                 inheritable: bool = False) -> int:
    """A descriptor of `path`'s real file, checked (see the module's rules). `what` names
    the file in the message ("env file", "config file", "rclone", "hook"). Raises
    Untrusted with one line, or OSError when it cannot be opened at all."""
    try:
        real = resolve(path, uid)
    except Untrusted as exc:
        raise Untrusted(f"{what} {path}: {exc}") from None
    flags = _READ | (0 if inheritable else os.O_CLOEXEC)
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # swapped for a link after `resolve`
            raise Untrusted(f"{what} {path} changed while it was checked; try again, and "
                            "keep it in a folder only root can write") from None
        raise
    try:
        problem = file_problem(real if real == os.fspath(path) else f"{path} (→ {real})",
                               os.fstat(fd), uid)
        if problem:
            raise Untrusted(f"{what} {problem}")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_checked(path: Path | str, what: str, limit: int, uid: int | None = None) -> bytes:
    """The content (up to `limit` + 1 bytes) of a checked file, read from the descriptor
    that was checked."""
    fd = open_checked(path, what, uid)
    try:
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def exec_path(fd: int) -> str:
    """The name under which the kernel executes exactly the checked file."""
    return f"/proc/self/fd/{fd}"


class Program:
    """A checked program, open: execute `exec_path(fd)` with `fd` passed to the child, or
    its `real` path: every folder on the way to it was checked to be root's (or yours) and
    unwritable by others, so no other user can change what that name runs between the check
    and the exec (the process keeps its own name, `rclone`, in ps, top and pgrep)."""

    # A plain class: dataclasses (and inspect with it) would cost every `history` that the
    # memo answers a third of its time (tui/answer_memo.py checks its folder through here).
    __slots__ = ("fd", "path", "real")

    def __init__(self, path: str, fd: int, real: str = "") -> None:
        self.path = path  # as the operator named it (for messages and argv[0])
        self.fd = fd
        self.real = real  # the checked file's real path (symlinks resolved step by step)

    def close(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass


def open_program(path: Path | str, what: str, uid: int | None = None) -> Program:
    """Check a program and its `#!` interpreter; the descriptor is inheritable (a script's
    interpreter opens /proc/self/fd/N after the exec). Raises Untrusted or OSError."""
    fd = open_checked(path, what, uid, inheritable=True)
    try:
        real = resolve(path, uid)  # checked just above: the same answer, named
    except BaseException:
        os.close(fd)
        raise
    try:
        head = os.pread(fd, 256, 0)
        if head.startswith(b"#!"):
            line = head[2:].split(b"\n", 1)[0].strip()
            interpreter = os.fsdecode(line.split()[0]) if line.split() else ""
            if not interpreter.startswith("/"):
                raise Untrusted(f"{what} {path}: its #! line names no absolute interpreter; "
                                "write e.g. #!/bin/sh")
            os.close(open_checked(interpreter, f"{what} {path}'s interpreter", uid))
    except BaseException:
        os.close(fd)
        raise
    return Program(os.fspath(path), fd, real)


def find_program(name: str, search_path: str | None) -> str | None:
    """`name` as the shell would find it: a path as it is, else the first on `search_path`."""
    if "/" in name:
        return name
    import shutil

    return shutil.which(name, path=search_path)


def hook_program(command: str, search_path: str | None) -> str | None:
    """The program a hook's shell command runs first (its first word), or None when that is
    a shell builtin or keyword (nothing is executed by name)."""
    import shlex

    try:
        words = shlex.split(command)
    except ValueError:
        return None
    while words and "=" in words[0] and not words[0].startswith("="):
        words = words[1:]  # VAR=value cmd …
    if not words:
        return None
    return find_program(words[0], search_path)


def hook_problem(command: str, search_path: str | None, uid: int | None = None) -> str | None:
    """Why root must not run this hook (its program, or its script's interpreter, could be
    another user's), or None. One line, naming the file and the fix."""
    program = hook_program(command, search_path)
    if program is None:
        return None
    try:
        open_program(program, "hook program", uid).close()
    except Untrusted as exc:
        return str(exc)
    except FileNotFoundError:
        return None  # the shell says so (exit 127), as a failed hook: the folders were checked
    except OSError as exc:
        return f"hook program {program} cannot be opened: {exc.strerror}"
    return None


def hook_command(command: str, search_path: str | None,
                 uid: int | None = None) -> tuple[str, Program | None]:
    """(the command to give the shell, the checked program it runs, or None for a builtin).
    The first word becomes /proc/self/fd/N of the checked program when it is written as a
    plain word (the usual `/etc/space-mirror/notify.sh --flag`); the caller passes
    `program.fd` to the shell and closes it afterwards. Raises Untrusted or OSError."""
    path = hook_program(command, search_path)
    if path is None:
        return command, None
    try:
        program = open_program(path, "hook program", uid)
    except FileNotFoundError:  # the folders on the way were checked: nobody can add it
        return command, None
    stripped = command.lstrip()
    import shlex

    first = shlex.split(command)[0]
    rest = stripped[len(first):]
    if "=" not in first and stripped.startswith(first) and (not rest or rest[0] in " \t;&|<>\n"):
        return exec_path(program.fd) + rest, program
    return command, program  # quoted or prefixed: by name, through folders checked above
