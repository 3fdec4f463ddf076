"""Pre-flight checks: everything that must hold before a sync may touch the mirror.

Each check returns a CheckResult with what it found and, when it fails, the fix. Nothing
here prints; `space-mirror check`, the runner and the dashboard each show the results.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from tui.config import Job
from tui.core import rclone_version
from tui.core.remotes import inline_secret_in_remote
from tui.ops import credentials, lock, rclone_probe, rclonecmd, safefile, trust

# Entries that exist on an empty file system, so they do not make a source "not empty".


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
    env_file_placeholders: tuple[str, ...] = ()  # names whose value is an example value


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
    results.extend(check_rclone(job, ctx))
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
    placeholder_result = _check_placeholders(job, ctx)
    if placeholder_result is not None:
        results.append(placeholder_result)
    from tui.ops.guards import source  # it imports CheckResult from here

    results.extend(source.access(job))
    results.append(_check_log_folder(job))
    results.append(check_shared_dirs(job))
    if not lock_is_ours:
        results.append(_check_not_running(job))
    if not offline:
        # Not with refused flags: a credential in the remote string would go on rclone's argv.
        results.append(_check_destination(
            job, ctx, flags_result.ok and creds_result.ok and ctx.rclone is not None))
        from tui.ops.b2check import b2_checks  # B2 only: key, lifecycle, hard delete

        results.extend(b2_checks(job, ctx, destination_ok=results[-1].ok))
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


def check_rclone(job: Job, ctx: Context | None = None) -> list[CheckResult]:
    """The rclone the job runs, by absolute path and version; then one line per feature that
    degrades at that version (tui/core/rclone_version.py). Refused below the floor."""
    binary = rclonecmd.resolve_rclone(job.rclone)
    if binary is None:
        where = (f"{job.rclone!r} is not an executable" if job.rclone
                 else "the bundled rclone is missing")
        return [CheckResult("rclone", False, f"rclone not found ({where})",
                            "reinstall space-mirror (it bundles rclone), or set "
                            "`rclone = \"/path/to/rclone\"` in the job")]
    problem = rclonecmd.binary_problem(binary)
    if problem is not None:  # root would run another user's program: never, not even once
        detail, _, fix = problem.rpartition("; ")
        return [CheckResult("rclone", False, (detail or problem).removeprefix("rclone "),
                            fix or "use a root-owned rclone in root-owned folders")]
    info = rclone_probe.probe(binary)
    if info is None:
        return [CheckResult("rclone", False,
                            f"{binary} does not run (`rclone version` failed)",
                            "reinstall rclone, or point the job's rclone at a working binary")]
    problem = rclone_version.support_problem(info.version)
    if problem is not None:
        return [CheckResult("rclone", False, f"{binary}: {problem}",
                            "remove the job's `rclone` key to run the bundled rclone, or "
                            "install a newer one")]
    if ctx is not None:
        ctx.rclone = binary
    if info.bundled:
        results = [CheckResult("rclone", True, f"{binary} ({info.version}, bundled)")]
        other = shutil.which("rclone")
        if not job.rclone and other and Path(other).resolve() != binary.resolve():
            results[0] = replace(results[0], detail=results[0].detail
                                 + f"; not the {other} on PATH")
        return results
    bundled = "v{}.{}.{}".format(*rclone_version.BUNDLED)
    head = CheckResult("rclone", True, f"{binary} ({info.version}, the job's rclone key; "
                       f"the bundled one is {bundled})")
    return [head] + [CheckResult("rclone", True, f"degraded: {line}")
                     for line in rclone_version.degradations(info.version)]


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
    if inline_secret_in_remote(job.destination):
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
    ctx.env_file_placeholders = tuple(sorted(
        name for name, value in env_values.items() if _PLACEHOLDER.search(value.strip())))
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


# A value copied from an example and never filled in: `https://hc-ping.com/…`, `<key>`,
# `changeme`. A real URL or key holds none of these.
_PLACEHOLDER = re.compile(r"…|\.\.\.|<[^<>]*>|\byour[-_]|^(changeme|change[-_]me|xxx+|todo)$", re.I)


def _check_placeholders(job: Job, ctx: Context) -> CheckResult | None:
    """Refuses example values left in the job or the env file (their values never shown
    for the env file: it holds secrets)."""
    found: list[str] = []
    for key in ("ping_url", "on_success", "on_failure"):
        value = getattr(job, key)
        if isinstance(value, str) and _PLACEHOLDER.search(value.strip()):
            found.append(f"{key} = {value!r}")
    found += [f"{name} in {job.env_file} (value hidden)" for name in ctx.env_file_placeholders]
    if not found:
        return None
    return CheckResult("placeholders", False,
                       "example values never filled in: " + "; ".join(found),
                       "put the real value there (see docs/install.md), or remove the key")


def check_unit(job: Job, unit_dir: Path | None = None) -> list[CheckResult]:
    """The job's systemd unit against the job: the installed one when there is one (its
    problems fail the check), else the one `space-mirror unit --install` would write (its
    problems are warnings: nothing runs under it yet)."""
    from tui.ops import systemd, unit_install

    folder = unit_dir if unit_dir is not None else unit_install.UNIT_DIR
    path = folder / f"space-mirror-{job.name}.service"
    try:
        text = path.read_text("utf-8", "replace") if path.exists() else None
    except OSError as exc:
        return [CheckResult("unit", False, f"cannot read {path}: {exc.strerror}",
                            "fix its permissions, or reinstall it")]
    installed = text is not None
    problems = systemd.sandbox_problems(job, text if text is not None
                                        else systemd.service_unit(job, None))
    label = str(path) if installed else "the unit `space-mirror unit --install` would write"
    if not problems:
        return [CheckResult("unit", True, f"{label}: its sandbox lets the job write its "
                            "log, lock, metrics and destination")]
    results = []
    for p in problems:
        detail, _, fix = p.rpartition("; ")
        if installed:
            results.append(CheckResult("unit", False, f"{label}: {detail}", fix))
        else:
            results.append(CheckResult("unit", True, f"warning: {label}: {detail} ({fix})"))
    return results


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
    if cause == "auth" and job.backend == "b2":
        from tui.core.remedy import remedy  # names the seed's variables and env file

        fix = remedy("auth", job)
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
