"""The one rclone command line: refused flags, and no credential ever in argv."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.config import Job
from tui.ops import rclonecmd


@pytest.mark.parametrize("flags", [
    ("-vv",), ("-vvv",), ("--dump", "headers"), ("--dump=bodies",), ("--dump-headers",),
    ("--log-level", "DEBUG"), ("--log-level=debug",), ("-v",), ("--log-file", "/tmp/x"),
    ("--log-file=/tmp/x",), ("--use-json-log",), ("--stats", "5s"), ("-P",), ("--dry-run",),
    ("--max-delete", "5"), ("--config", "/root/.rclone.conf"), ("-q",),
])
def test_refused(flags: tuple[str, ...]) -> None:
    problems = rclonecmd.refused_flags(("--transfers", "4", *flags))
    assert len(problems) == 1 and problems[0].startswith(flags[0])


@pytest.mark.parametrize("flags", [
    (), ("--transfers", "16", "--fast-list", "--track-renames"), ("--bwlimit", "1M"),
    ("--exclude", "*.tmp", "--checksum"), ("--b2-hard-delete",), ("--verbose-xyz",),
])
def test_accepted(flags: tuple[str, ...]) -> None:
    assert rclonecmd.refused_flags(flags) == []


def test_sync_command(tmp_path: Path) -> None:
    job = Job(source="/src", destination=":b2:bucket", flags=("--transfers", "4"),
              log_file=tmp_path / "log")
    argv = rclonecmd.sync_command(Path("/usr/bin/rclone"), job, dry_run=False)
    assert argv[:4] == ["/usr/bin/rclone", "sync", "/src", ":b2:bucket"]
    assert argv[4:6] == ["--transfers", "4"]
    for flag in ("--use-json-log", "-v", "--stats"):
        assert flag in argv
    assert argv[argv.index("--log-file") + 1] == str(tmp_path / "log")
    assert "--dry-run" not in argv and "--max-delete" not in argv
    dry = rclonecmd.sync_command(Path("rclone"), job, dry_run=True, max_delete=5)
    assert dry[-1] == "--dry-run" and dry[dry.index("--max-delete") + 1] == "5"


def test_resolve_rclone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.core.rclone_version import Version
    from tui.ops import rclone_probe

    assert rclonecmd.resolve_rclone("/nonexistent/rclone") is None
    fake = tmp_path / "rclone"
    fake.write_text("#!/bin/sh\necho 'rclone v0.0.1-test'\n")
    fake.chmod(0o755)
    assert rclonecmd.resolve_rclone(str(fake)) == fake
    assert rclone_probe.version_of(fake) == Version(0, 0, 1, "-test")
    broken = tmp_path / "broken"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    assert rclone_probe.version_of(broken) is None
    # No rclone key: the bundled binary, by absolute path, whatever PATH holds. Debian's
    # apt rclone (1.60.1) first on PATH used to win here and fail every run.
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    found = rclonecmd.resolve_rclone(None)
    assert found is not None and found.name == "rclone" and found.is_absolute()
    monkeypatch.setenv("PATH", str(tmp_path))
    assert rclonecmd.resolve_rclone(None) == found != fake
    # A bare name in the job's key is looked up on PATH, and made absolute.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", ".")
    assert rclonecmd.resolve_rclone("rclone") == fake


def test_bwlimit_key_and_rc_socket_reach_the_argv() -> None:
    from pathlib import Path

    from tui.config import Job

    job = Job(source="/s", destination="/d", flags=(), bwlimit="08:00,512k 19:00,off")
    argv = rclonecmd.sync_command(Path("/bin/rclone"), job, False, None,
                                  Path("/run/space-mirror/t.rc.sock"))
    assert argv[4:6] == ["--bwlimit", "08:00,512k 19:00,off"]  # one argument, as it is
    i = argv.index("--rc-addr")
    assert argv[i + 1] == "unix:///run/space-mirror/t.rc.sock"
    assert "--rc-no-auth" in argv and not any(":5572" in a for a in argv)
    assert rclonecmd.refused_flags(("--rc-addr", "127.0.0.1:5572", "--rc"))  # ours alone
