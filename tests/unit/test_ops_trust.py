"""tui/ops/trust.py: the StrictModes-like rules, and executing the checked descriptor."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tui.ops import trust


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_folders_on_the_way_and_the_file_itself(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    f = real / "env"
    f.write_text("A=1\n")
    (tmp_path / "link").symlink_to(real)
    assert trust.resolve(tmp_path / "link" / "env") == str(f)
    os.close(trust.open_checked(tmp_path / "link" / "env", "env file"))
    real.chmod(0o777)
    with pytest.raises(trust.Untrusted, match=f"folder {real} has mode 0777"):
        trust.open_checked(tmp_path / "link" / "env", "env file")
    real.chmod(0o1777)  # sticky and root's, like /tmp: others cannot swap our names
    os.close(trust.open_checked(f, "env file"))
    real.chmod(0o755)
    f.chmod(0o664)
    with pytest.raises(trust.Untrusted, match=r"mode 0664.*chmod go-w"):
        trust.open_checked(f, "env file")
    f.chmod(0o644)
    os.chown(f, 65534, 65534)
    with pytest.raises(trust.Untrusted, match="owned by uid 65534"):
        trust.open_checked(f, "config file")


def test_a_foreign_symlink_in_a_sticky_folder_is_refused(tmp_path: Path) -> None:
    sticky = tmp_path / "sticky"
    sticky.mkdir(mode=0o1777)
    sticky.chmod(0o1777)
    target = tmp_path / "file"
    target.write_text("x")
    link = sticky / "link"
    link.symlink_to(target)
    os.lchown(link, 65534, 65534)
    with pytest.raises(trust.Untrusted, match="symbolic link of uid 65534"):
        trust.resolve(link)


def test_the_checked_binary_runs_through_its_descriptor(rclone_bin: Path) -> None:
    program = trust.open_program(rclone_bin, "rclone")
    try:
        out = subprocess.run([str(rclone_bin), "version"], executable=trust.exec_path(program.fd),
                             pass_fds=(program.fd,), capture_output=True, text=True, timeout=30)
    finally:
        program.close()
    assert out.stdout.startswith("rclone v")


def test_a_script_needs_its_descriptor_to_survive_the_exec(tmp_path: Path) -> None:
    """The kernel hands /proc/self/fd/N to the #! interpreter, which opens it after the
    exec: with a close-on-exec descriptor it is gone (ENOENT)."""
    script = _script(tmp_path / "hook.sh", 'echo "ran $1"')
    command, program = trust.hook_command(f"{script} yes", os.environ.get("PATH"))
    assert program is not None and command == f"/proc/self/fd/{program.fd} yes"
    try:
        out = subprocess.run(command, shell=True, pass_fds=(program.fd,), capture_output=True,
                             text=True, timeout=30)
    finally:
        program.close()
    assert out.stdout == "ran yes\n"
    fd = os.open(script, os.O_RDONLY | os.O_CLOEXEC)
    try:
        with pytest.raises(FileNotFoundError):
            subprocess.run([f"/proc/self/fd/{fd}"], capture_output=True, timeout=30)
    finally:
        os.close(fd)


def test_a_scripts_interpreter_is_checked_too(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    interpreter = shared / "sh"
    interpreter.symlink_to("/bin/sh")
    shared.chmod(0o777)
    script = tmp_path / "hook"
    script.write_text(f"#!{interpreter}\necho hi\n")
    script.chmod(0o755)
    assert "interpreter" in (trust.hook_problem(str(script), None) or "")


def test_hook_programs() -> None:
    path = os.environ.get("PATH")
    assert trust.hook_program("", path) is None
    assert trust.hook_program("X=1 /bin/true", path) == "/bin/true"
    cmd, program = trust.hook_command("X=1 /bin/true", path)
    assert cmd == "X=1 /bin/true" and program is not None  # checked, run by its name
    program.close()
    assert trust.hook_problem("no-such-program-here --x", path) is None  # the shell says so
