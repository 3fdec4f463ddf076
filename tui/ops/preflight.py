"""Pre-flight checks: everything that must hold before a sync may touch the mirror.

Each check returns a CheckResult with what it found and, when it fails, the fix. Nothing
here prints; `space-mirror check`, the runner and the dashboard each show the results.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from tui.config import Job, is_local
from tui.ops import credentials, lock, rclonecmd, safefile, trust

# Entries that exist on an empty file system, so they do not make a source "not empty".
IGNORED_IN_EMPTY_SOURCE = {"lost+found"}


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    # True when this check failed only because an earlier one did (the destination is not
    # tried without rclone): the runner names the cause, not its echo.
    consequence: bool = False

    def line(self) -> str:
        mark = "✓" if self.ok else "✗"
        tail = f" — fix: {self.fix}" if (self.fix and not self.ok) else ""
        return f"{mark} {self.name}: {self.detail}{tail}"


@dataclass
class Context:
    """What the checks found along the way, for the runner to reuse (no second lookup)."""

    rclone: Path | None = None
    env: dict[str, str] | None = None
    secrets: frozenset[str] = frozenset()
    env_file_names: frozenset[str] = frozenset()  # what the env file defined: never for hooks


def run_checks(
    job: Job,
    offline: bool = False,
    lock_is_ours: bool = False,
    environ: Mapping[str, str] | None = None,
) -> tuple[list[CheckResult], Context]:
    """All checks, in the order an operator fixes things. Later checks still run after an
    early failure, so that one `check` shows everything that is wrong."""
    ctx = Context()
    results: list[CheckResult] = []
    results.append(_check_rclone(job, ctx))
    hooks = check_hooks(job, environ)
    if hooks is not None:
        results.append(hooks)
    flags_result = _check_flags(job)
    results.append(flags_result)
    env_result, creds_result = _check_credentials(
        job, ctx, os.environ if environ is None else environ)
    if env_result is not None:
        results.append(env_result)
    results.append(creds_result)
    env_result = _check_environment(ctx)
    if env_result is not None:
        results.append(env_result)
    results.extend(check_source(job))
    results.append(_check_log_folder(job))
    results.append(check_shared_dirs(job))
    if not lock_is_ours:
        results.append(_check_not_running(job))
    if not offline:
        # Not with refused flags: a credential in the remote string would go on rclone's argv.
        results.append(_check_destination(
            job, ctx, flags_result.ok and creds_result.ok and ctx.rclone is not None))
    return results, ctx


def redacted(results: list[CheckResult], secrets: frozenset[str]) -> list[CheckResult]:
    """The results with every known secret value masked: for a screen that shows them."""
    return [replace(r, detail=credentials.redact(r.detail, secrets),
                    fix=credentials.redact(r.fix, secrets)) for r in results]


def failed(results: list[CheckResult]) -> list[CheckResult]:
    return [r for r in results if not r.ok]


def causes(results: list[CheckResult]) -> list[CheckResult]:
    """The failed checks an operator must fix: failures that are mere consequences of an
    earlier failure are left out (unless nothing else failed)."""
    bad = failed(results)
    return [r for r in bad if not r.consequence] or bad


def _check_rclone(job: Job, ctx: Context) -> CheckResult:
    binary = rclonecmd.resolve_rclone(job.rclone)
    if binary is None:
        where = f"{job.rclone!r} is not an executable" if job.rclone else "not on PATH nor bundled"
        return CheckResult("rclone", False, f"rclone not found ({where})",
                           "install rclone, or set `rclone = \"/path/to/rclone\"` in the job")
    problem = rclonecmd.binary_problem(binary)
    if problem is not None:  # root would run another user's program: never, not even once
        detail, _, fix = problem.rpartition("; ")
        return CheckResult("rclone", False, (detail or problem).removeprefix("rclone "),
                           fix or "use a root-owned rclone in root-owned folders")
    version = rclonecmd.rclone_version(binary)
    if version is None:
        return CheckResult("rclone", False, f"{binary} does not run (`rclone version` failed)",
                           "reinstall rclone, or point the job's rclone at a working binary")
    ctx.rclone = binary
    return CheckResult("rclone", True, f"{binary} ({version})")


def check_hooks(job: Job, environ: Mapping[str, str] | None = None) -> CheckResult | None:
    """Each hook's program (and a script's interpreter) must be one no other user could
    have written (tui/ops/trust.py): root runs it. None when the job has no hook."""
    env = os.environ if environ is None else environ
    hooks = [(key, cmd) for key, cmd in (("on_success", job.on_success),
                                          ("on_failure", job.on_failure)) if cmd]
    if not hooks:
        return None
    problems = [f"{key}: {problem}" for key, cmd in hooks
                if (problem := trust.hook_problem(cmd, env.get("PATH"))) is not None]
    if problems:
        return CheckResult("hooks", False, "; ".join(problems),
                           "give each hook a root-owned program in root-owned folders")
    return CheckResult("hooks", True, ", ".join(key for key, _ in hooks) +
                       ": programs only root can change")


def _check_flags(job: Job) -> CheckResult:
    problems = rclonecmd.refused_flags(job.flags)
    if credentials.inline_secret_in_remote(job.destination):
        problems.append("the destination string carries a credential; it would show in ps "
                        "and in the log")
    if problems:
        return CheckResult("flags", False, "; ".join(problems),
                           "remove these from the job (credentials belong in the env file)")
    return CheckResult("flags", True, " ".join(job.flags) or "(none)")


def _check_credentials(
    job: Job, ctx: Context, environ: Mapping[str, str]
) -> tuple[CheckResult | None, CheckResult]:
    backend = job.backend
    needed = credentials.needs_credentials(backend)
    env_values: dict[str, str] = {}
    env_result: CheckResult | None = None
    use_env_file = job.env_file is not None and (needed or not job.env_file_is_default)
    if use_env_file:
        assert job.env_file is not None
        # Checked and read on one descriptor: what passed the check is what is loaded.
        check, env_values = credentials.inspect_env_file(job.env_file)
        env_result = CheckResult("env file", check.ok, check.detail, check.fix)
    if job.env_file is not None:
        # Under the unit's EnvironmentFile= these names are in our environment too.
        ctx.env_file_names = frozenset(env_values) | credentials.env_file_names(job.env_file)
    env = credentials.child_environment(environ, env_values, job.env)
    ctx.env = env
    ctx.secrets = credentials.secret_values(env_values, env)
    if not needed:
        return env_result, CheckResult("credentials", True,
                                       f"not needed for a {backend} destination")
    if backend.startswith("remote:"):
        return env_result, CheckResult(
            "credentials", True, f"named remote {backend[7:]!r}: taken from rclone's config")
    missing = credentials.missing_credentials(backend, env)
    if missing:
        where = str(job.env_file) if job.env_file else "the environment"
        names = ", ".join(missing)
        hint = " (B2_APPLICATION_KEY_ID / B2_APPLICATION_KEY)" if backend == "b2" else ""
        return env_result, CheckResult("credentials", False,
                                       f"{backend}: missing {names}", f"add them{hint} to {where}")
    groups = credentials.REQUIRED_CREDENTIALS.get(backend, [])
    present = [n for g in groups for n in g if env.get(n)]
    return env_result, CheckResult("credentials", True,
                                   f"{backend}: {', '.join(present) or 'present'} (values hidden)")


def check_source(job: Job) -> list[CheckResult]:
    """Exists, readable, not empty; and a mount point when the job requires one."""
    src = Path(job.source)
    if not is_local(job.source):
        return [CheckResult("source", True, f"{job.source} (remote; not checked locally)")]
    if not src.exists():
        return [CheckResult("source", False, f"{src} does not exist",
                            f"mount or create {src}, or fix the job's source")]
    if not src.is_dir():
        return [CheckResult("source", False, f"{src} is not a directory", "fix the job's source")]
    try:
        with os.scandir(src) as it:
            entries = [e.name for _, e in zip(range(64), it, strict=False)]
    except PermissionError:
        return [CheckResult("source", False, f"{src} is not readable (permission denied)",
                            "run as root, or fix the folder's permissions")]
    except OSError as exc:
        return [CheckResult("source", False, f"{src} cannot be read: {exc.strerror}",
                            "check the disk and the mount")]
    results: list[CheckResult] = []
    content = [e for e in entries if e not in IGNORED_IN_EMPTY_SOURCE]
    if not content:
        results.append(CheckResult(
            "source", False, f"{src} is empty: a sync would delete the whole mirror",
            "mount the source file system, or restore its content"))
    else:
        results.append(CheckResult("source", True, f"{src} is readable and not empty"))
    if job.require_mount:
        if os.path.ismount(src):
            results.append(CheckResult("mount", True, f"{src} is a mount point"))
        else:
            results.append(CheckResult(
                "mount", False, f"{src} is not a mount point (require_mount is set)",
                f"mount the file system on {src}, or set require_mount = false"))
    return results


def _check_log_folder(job: Job) -> CheckResult:
    folder = job.log_file.parent
    if job.log_file.is_dir():
        return CheckResult("log", False, f"{job.log_file} is a directory",
                           "point log_file at a file")
    if not folder.is_dir():
        return CheckResult("log", False, f"folder {folder} does not exist",
                           f"mkdir -p {folder}, or set log_file")
    if job.log_file.exists() and not os.access(job.log_file, os.W_OK):
        return CheckResult("log", False, f"{job.log_file} is not writable",
                           "run as root, or fix the file's permissions")
    if not job.log_file.exists() and not os.access(folder, os.W_OK | os.X_OK):
        return CheckResult("log", False, f"folder {folder} is not writable",
                           "run as root, or set log_file to a writable place")
    return CheckResult("log", True, f"{job.log_file} is writable")


def _check_environment(ctx: Context) -> CheckResult | None:
    problems = rclonecmd.refused_env(ctx.env or {})
    if not problems:
        return None
    return CheckResult("environment", False, "; ".join(problems),
                       "remove these from the job's env, the env file and the unit's "
                       "environment")


def check_shared_dirs(job: Job, uid: int | None = None) -> CheckResult:
    """Configured files in folders another user can write to (StrictModes-like). A root
    run refuses them unless the job sets allow_shared_dirs = true."""
    uid = os.geteuid() if uid is None else uid
    # The defaults' folders are root's (/run/space-mirror, /var/lib/space-mirror, /var/log),
    # except node_exporter's textfile folder, which its own service user owns by design.
    paths = {"log_file": job.log_file, "lock": job.lock_path, "metrics_file": job.metrics_file,
             "summary_file": job.summary_file}
    shared = []
    for key, path in paths.items():
        if path is None:
            continue
        folder = safefile.shared_folder(path, uid)
        if folder is not None:
            shared.append(f"{key} {path} (in {folder}, which other users can write to)")
    if not shared:
        return CheckResult("folders", True, "state and log folders are writable only by "
                           "root or this user")
    detail = "; ".join(shared)
    if uid != 0 or job.allow_shared_dirs:
        why = "allowed by allow_shared_dirs" if job.allow_shared_dirs else "not root"
        return CheckResult("folders", True, f"warning: {detail} ({why})")
    return CheckResult("folders", False, detail,
                       "move these into a folder only root can write (the defaults under "
                       "/run/space-mirror and /var/lib/space-mirror), or set "
                       "allow_shared_dirs = true in the job")


def _check_not_running(job: Job) -> CheckResult:
    holder = lock.inspect(job.lock_path)
    if holder is None:
        from tui.ops import processes

        others = processes.other_rclones(job)  # look-alikes: named, never a reason to wait
        if others:
            return CheckResult("lock", True, "warning: " + "; ".join(o.describe()
                                                                    for o in others))
        return CheckResult("lock", True, f"no other sync of {job.name!r} is running")
    if holder.problem is not None:
        return CheckResult("lock", False, f"lock {job.lock_path} {holder.describe()}",
                           "find that process (`fuser -v` on the lock) and stop it; runs of "
                           "this job exit 75 until then")
    return CheckResult("lock", False, f"sync already running ({holder.describe()})",
                       "wait for it, or watch it with `space-mirror`")


# Phrases in rclone's error output, and the cause an operator should read.
_REMOTE_CAUSES = (
    (re.compile(r"401|403|unauthori[sz]ed|bad_auth_token|invalid.*(key|credential|token)"
                r"|access denied|authenticat|SignatureDoesNotMatch|InvalidAccessKeyId"
                r"|permission denied|unable to authenticate", re.I),
     "auth", "check the credentials in the env file"),
    (re.compile(r"no such host|name resolution|lookup .* (on|server)", re.I),
     "DNS", "check DNS and the network"),
    (re.compile(r"connection refused", re.I), "connection refused",
     "check that the service is up and the address is right"),
    (re.compile(r"i/o timeout|deadline exceeded|timed out|timeout", re.I),
     "timeout", "check the network and firewall"),
    (re.compile(r"network is unreachable|no route to host|connection reset", re.I),
     "network", "check the network"),
)


def classify_remote_error(text: str) -> tuple[str, str]:
    for pattern, cause, fix in _REMOTE_CAUSES:
        if pattern.search(text):
            return cause, fix
    return "error", "read the message, and try `rclone lsf` on the destination by hand"


def _check_destination(job: Job, ctx: Context, can_try: bool) -> CheckResult:
    if not can_try or ctx.rclone is None or ctx.env is None:
        return CheckResult("destination", False, "not tried: fix rclone and credentials first",
                           "fix the checks above", consequence=True)
    argv = [str(ctx.rclone), "lsf", "--max-depth", "1", job.destination,
            "--contimeout", f"{max(1, int(job.remote_timeout // 2))}s",
            "--timeout", f"{max(1, int(job.remote_timeout))}s",
            "--low-level-retries", "1", "--retries", "1"]
    try:
        proc = subprocess.run(argv, env=ctx.env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=job.remote_timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return CheckResult("destination", False,
                           f"{job.destination} did not answer within {job.remote_timeout:.0f}s "
                           "(timeout)", "check the network and the remote's status")
    except OSError as exc:
        return CheckResult("destination", False, f"cannot run rclone: {exc.strerror}",
                           "check the rclone binary")
    err = credentials.redact(proc.stderr.decode("utf-8", "replace"), ctx.secrets)
    if proc.returncode == 0:
        return CheckResult("destination", True, f"{job.destination} answers")
    if proc.returncode == 3 or "directory not found" in err:
        # A first sync creates the folder or prefix; the remote itself answered.
        return CheckResult("destination", True,
                           f"{job.destination} answers (folder not created yet)")
    cause, fix = classify_remote_error(err)
    last = _last_error_line(err)
    return CheckResult("destination", False, f"{job.destination}: {cause} ({last})", fix)


def _last_error_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if "ERROR" in ln or "Failed" in ln or "CRITICAL" in ln:
            text = re.sub(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\s+\w+\s*:\s*", "", ln)
            return _tail(text)
    return _tail(lines[-1]) if lines else "no output"


def _tail(text: str, limit: int = 200) -> str:
    # rclone's errors wrap their causes outside-in ("Failed to lsf: … Get "…": dial tcp
    # 127.0.0.1:9: connect: connection refused"): the root cause, and the address, is at
    # the end, so a long message keeps its end.
    return text if len(text) <= limit else "…" + text[-(limit - 1):]
