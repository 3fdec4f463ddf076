"""`space-mirror audit` on a B2 destination: gather what the bucket holds (rclone's
listings and lifecycle rules, B2's unfinished large files), build the model
(tui/core/b2audit.py), and write its metrics beside the run metrics. Read-only.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tui.config import Job
from tui.core import b2audit
from tui.core.plan import Plan
from tui.core.remedy import bucket as bucket_of
from tui.ops import b2api, credentials, rclonecmd, safefile
from tui.ops.monitor import prom


class AuditError(Exception):
    """Why the audit could not be made: one line, what to do; never a secret."""


@dataclass(frozen=True)
class JobEnv:
    env: dict[str, str]
    secrets: frozenset[str]


def job_environment(job: Job) -> JobEnv:
    """rclone's environment for this job, as the runner builds it (env file checked)."""
    values: dict[str, str] = {}
    if job.env_file is not None:
        check = credentials.check_env_file(job.env_file)
        if not check.ok:
            raise AuditError(f"env file: {check.detail} — fix: {check.fix}")
        try:
            values = credentials.load_env_file(job.env_file)
        except credentials.CredentialError as exc:
            raise AuditError(str(exc)) from None
    env = credentials.child_environment(os.environ, values, job.env)
    return JobEnv(env, credentials.secret_values(values, env))


def with_delete_meaning(job: Job, plan: Plan) -> Plan:
    """The plan, saying what its deletes do on this destination (B2 only)."""
    if job.backend != "b2":
        return plan
    try:
        env: dict[str, str] = job_environment(job).env
    except AuditError:
        env = dict(job.env)  # the pre-flight says what is wrong with the env file
    hard = b2audit.hard_delete_on(job.flags, env)
    return replace(plan, delete_meaning=b2audit.delete_meaning(job.backend, hard))


def bucket_root(job: Job) -> str:
    """':b2:bucket/dir' → ':b2:bucket' (lifecycle rules and cleanups are per bucket)."""
    return f":b2:{bucket_of(job.destination)}"


def prefix_in_bucket(job: Job) -> str:
    rest = job.destination.split(":", 2)[2] if job.destination.count(":") >= 2 else ""
    _, _, path = rest.partition("/")
    return f"{path.strip('/')}/" if path.strip("/") else ""


def run_audit(job: Job) -> tuple[b2audit.Audit, JobEnv]:
    if job.backend != "b2":
        raise AuditError(f"audit is for B2 destinations; {job.destination} is a {job.backend} "
                         "destination")
    binary = rclonecmd.resolve_rclone(job.rclone)
    if binary is None:
        raise AuditError("rclone not found — fix: install rclone or set the job's rclone")
    jenv = job_environment(job)
    missing = credentials.missing_credentials("b2", jenv.env)
    if missing:
        raise AuditError(f"b2: missing {', '.join(missing)} — fix: add B2_APPLICATION_KEY_ID "
                         f"and B2_APPLICATION_KEY to {job.env_file or 'the environment'}")
    cmds = rclonecmd.b2_audit_commands(binary, job, bucket_root(job))
    live = _json(_rclone(cmds["live"], jenv, job), "the live listing")
    versions = _json(_rclone(cmds["versions"], jenv, job), "the --b2-versions listing")
    rules: list[dict[str, Any]] | None
    try:
        rules = _json(_rclone(cmds["lifecycle"], jenv, job), "the lifecycle rules")
    except AuditError:
        rules = None  # a key without readBuckets/writeBuckets: say "unknown", go on
    try:
        session = b2api.authorize(jenv.env, timeout=job.remote_timeout)
        unfinished = b2api.unfinished_large_files(session, bucket_of(job.destination),
                                                  prefix_in_bucket(job))
    except b2api.B2Error as exc:
        raise AuditError(credentials.redact(f"B2: {exc}", jenv.secrets)) from None
    hard = b2audit.hard_delete_on(job.flags, jenv.env)
    audit = b2audit.assess(job.destination, bucket_root(job), live, versions, unfinished,
                          rules, hard, job.b2_price_per_tb_month)
    return audit, jenv


def _rclone(argv: list[str], jenv: JobEnv, job: Job) -> str:
    try:
        proc = subprocess.run(argv, env=jenv.env, capture_output=True, text=True,
                              timeout=max(60.0, job.remote_timeout * 6),
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise AuditError(f"`rclone {argv[1]}` on {job.destination} did not finish in time — "
                         "fix: check the network and `space-mirror check`") from None
    except OSError as exc:
        raise AuditError(f"cannot run rclone: {exc.strerror}") from None
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        last = credentials.redact(lines[-1] if lines else f"exit {proc.returncode}", jenv.secrets)
        raise AuditError(f"`rclone {argv[1]}` failed: {last[-300:]} — fix: run "
                         "`space-mirror check`")
    return proc.stdout


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text or "[]")
    except ValueError:
        raise AuditError(f"{what} from rclone is not JSON") from None


# -- metrics: a textfile of its own beside the run metrics (as verify's) ---------------------

_METRICS = (
    ("b2_audit_timestamp_seconds", "When the last B2 audit ran, unix time."),
    ("b2_live_bytes", "Bytes of the mirror's live files in the B2 bucket."),
    ("b2_hidden_bytes", "Bytes of hidden versions (deleted files B2 still keeps and bills)."),
    ("b2_hidden_versions", "Hidden versions of deleted files."),
    ("b2_old_version_bytes", "Bytes of older versions of live files (overwrites)."),
    ("b2_unfinished_bytes", "Bytes in the parts of unfinished large files."),
    ("b2_unfinished_files", "Unfinished large files."),
    ("b2_lifecycle_removes_versions", "1 if a lifecycle rule deletes hidden versions."),
    ("b2_lifecycle_removes_unfinished", "1 if a lifecycle rule cancels unfinished large files."),
    ("b2_extra_monthly_cost", "Monthly cost of what the bucket keeps beyond the mirror, at the "
                              "job's b2_price_per_tb_month."),
)


def b2_metrics_path(job: Job) -> Path:
    prom = job.metrics_path
    return prom.with_name(f"{prom.stem}_b2audit{prom.suffix or '.prom'}")


def b2_text(job_name: str, a: b2audit.Audit, now: float) -> str:
    """The audit's gauges, through the one renderer (labelled `job`, as the run metrics)."""
    values: dict[str, float | int] = {
        "b2_audit_timestamp_seconds": now, "b2_live_bytes": a.live_bytes,
        "b2_hidden_bytes": a.hidden_bytes, "b2_hidden_versions": a.hidden_count,
        "b2_old_version_bytes": a.old_bytes, "b2_unfinished_bytes": a.unfinished_bytes,
        "b2_unfinished_files": len(a.unfinished),
        "b2_lifecycle_removes_versions": int(a.cover.removes_versions),
        "b2_lifecycle_removes_unfinished": int(a.cover.removes_unfinished),
        "b2_extra_monthly_cost": round(a.cost(a.extra_bytes), 3),
    }
    return prom.render(job_name, [(name, help_text, values[name], "")
                                  for name, help_text in _METRICS])


def write_b2_metrics(job: Job, a: b2audit.Audit, now: float) -> str | None:
    return prom.write(b2_metrics_path(job), b2_text(job.name, a, now))


# -- the last audit, for `status --json` ------------------------------------------------------

def b2_state_path(job: Job) -> Path:
    """Beside the job's last-run summary: `<job>.b2audit.json`."""
    return job.summary_path.with_name(f"{job.name}.b2audit.json")


def write_state(job: Job, a: b2audit.Audit, now: float) -> str | None:
    data = {"audited_at": now, "hidden_bytes": a.hidden_bytes,
            "hidden_versions": a.hidden_count, "old_version_bytes": a.old_bytes,
            "unfinished_bytes": a.unfinished_bytes, "unfinished_files": len(a.unfinished),
            "extra_monthly_cost": round(a.cost(a.extra_bytes), 4), "status": a.code}
    path = b2_state_path(job)
    try:
        safefile.write_atomic(path, json.dumps(data).encode(), 0o644)
    except OSError as exc:
        return f"could not write {path}: {exc.strerror or exc}"
    return None


def last_state(job: Job) -> dict[str, Any] | None:
    """The last audit's numbers, or None (no audit yet, or the file is not root's)."""
    if job.backend != "b2":
        return None
    try:
        raw = safefile.read_private(b2_state_path(job))
    except OSError:
        return None
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
