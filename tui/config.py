"""Jobs: what to mirror, where to, and with which files around it.

A Job is built from, in order of precedence: command-line overrides, a named job in a TOML
config file, and the built-in seed job (/space → :b2:miket-space-mirror). Loading never
executes anything; errors are `ConfigError` with a one-line message.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_JOB_NAME = "space-mirror"
SYSTEM_CONFIG = Path("/etc/space-mirror/config.toml")
CONFIG_ENV_VAR = "SPACE_MIRROR_CONFIG"


class ConfigError(Exception):
    """A config problem, phrased for the operator (what is wrong, and what to do)."""


@dataclass(frozen=True)
class Job:
    name: str = DEFAULT_JOB_NAME
    source: str = "/space"
    destination: str = ":b2:miket-space-mirror"
    flags: tuple[str, ...] = ("--fast-list", "--transfers", "16", "--track-renames")
    env_file: Path | None = Path("/etc/miket/storage-credentials.env")
    # True when env_file is the built-in default rather than something an operator set:
    # a default env file is only demanded when the destination needs credentials.
    env_file_is_default: bool = True
    log_file: Path = Path("/var/log/space-mirror.log")
    lock_file: Path | None = None  # None → /run/lock/space-mirror-<name>.lock
    metrics_file: Path | None = None  # None → node_exporter's textfile collector folder
    summary_file: Path | None = None  # None → /var/lib/space-mirror/<name>.last-run.json
    on_success: str | None = None
    on_failure: str | None = None
    hook_timeout: float = 60.0
    require_mount: bool = True
    rclone: str | None = None
    env: dict[str, str] = field(default_factory=lambda: {"RCLONE_B2_HARD_DELETE": "true"})
    abort_grace: float = 30.0  # seconds between SIGTERM and SIGKILL when aborting
    remote_timeout: float = 20.0  # the pre-flight listing of the destination
    # Safety guards (see docs/safety.md); None means "not configured".
    max_delete: int | None = None
    max_delete_percent: float | None = None
    min_source_ratio: float = 0.5
    sentinel: str | None = None
    # Unattended runs (docs/runner.md#limits). No progress for stall_timeout seconds: the
    # watchdog stops rclone (exit 79). max_duration seconds for the whole run (exit 124).
    # window_end "HH:MM" (local time): rclone --max-duration up to then, --cutoff-mode soft.
    stall_timeout: float = 1800.0
    max_duration: float | None = None
    window_end: str | None = None
    # `space-mirror status`: WARNING / CRITICAL when the last success is older (seconds).
    warn_after: float = 26 * 3600.0
    crit_after: float = 50 * 3600.0
    # Healthchecks-style pings: URL/start, URL, URL/<exit code> (docs/monitoring.md).
    ping_url: str | None = None

    @property
    def lock_path(self) -> Path:
        return self.lock_file or Path(f"/run/lock/space-mirror-{self.name}.lock")

    @property
    def metrics_path(self) -> Path:
        return self.metrics_file or Path(
            f"/var/lib/prometheus/node-exporter/space_mirror_{_slug(self.name)}.prom"
        )

    @property
    def summary_path(self) -> Path:
        return self.summary_file or Path(f"/var/lib/space-mirror/{self.name}.last-run.json")

    @property
    def backend(self) -> str:
        return destination_backend(self.destination)


def destination_backend(destination: str) -> str:
    """':b2:bucket' → 'b2'; ':s3,provider=X:b' → 's3'; 'remote:path' → 'remote:remote';
    '/path' or 'C:/x' → 'local'."""
    if destination.startswith(":"):
        name = destination[1:].split(":", 1)[0].split(",", 1)[0]
        return name.lower() or "local"
    m = re.match(r"^([\w.\- ]+?)(?:,[^:]*)?:", destination)
    if m and not (len(m[1]) == 1 and os.name == "nt") and "/" not in m[1]:
        return f"remote:{m[1]}"
    return "local"


def is_local(path: str) -> bool:
    """A path on this machine (not an rclone remote)."""
    return destination_backend(path) == "local"


# TOML keys an operator may set, and the Job field each lands in.
_TOML_KEYS = {
    "source": "source",
    "destination": "destination",
    "dest": "destination",
    "flags": "flags",
    "env_file": "env_file",
    "log_file": "log_file",
    "log": "log_file",
    "lock_file": "lock_file",
    "metrics_file": "metrics_file",
    "summary_file": "summary_file",
    "on_success": "on_success",
    "on_failure": "on_failure",
    "hook_timeout": "hook_timeout",
    "require_mount": "require_mount",
    "rclone": "rclone",
    "env": "env",
    "abort_grace": "abort_grace",
    "remote_timeout": "remote_timeout",
    "max_delete": "max_delete",
    "max_delete_percent": "max_delete_percent",
    "min_source_ratio": "min_source_ratio",
    "sentinel": "sentinel",
    "stall_timeout": "stall_timeout",
    "max_duration": "max_duration",
    "window_end": "window_end",
    "warn_after": "warn_after",
    "crit_after": "crit_after",
    "ping_url": "ping_url",
}
_PATH_FIELDS = {"env_file", "log_file", "lock_file", "metrics_file", "summary_file"}


@dataclass(frozen=True)
class Overrides:
    """Job options from the command line; None means 'not given'."""

    source: str | None = None
    destination: str | None = None
    log_file: str | None = None
    env_file: str | None = None
    rclone: str | None = None
    require_mount: bool | None = None


def find_config(explicit: str | None, environ: dict[str, str] | None = None) -> Path | None:
    """--config FILE, else $SPACE_MIRROR_CONFIG, else /etc/space-mirror/config.toml if present."""
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_ENV_VAR):
        return Path(env[CONFIG_ENV_VAR])
    if SYSTEM_CONFIG.exists():
        return SYSTEM_CONFIG
    return None


def load_job(
    config_path: Path | None, job_name: str | None, overrides: Overrides | None = None
) -> Job:
    """Build the Job the command line asks for. Raises ConfigError with a one-line reason."""
    job = Job()
    if config_path is not None:
        table = _read_toml(config_path)
        job = _job_from_table(table, job_name, config_path)
    elif job_name not in (None, DEFAULT_JOB_NAME):
        raise ConfigError(
            f"job {job_name!r} is not defined: no config file was found "
            f"(use --config FILE or ${CONFIG_ENV_VAR})"
        )
    return apply_overrides(job, overrides or Overrides())


def apply_overrides(job: Job, ov: Overrides) -> Job:
    changes: dict[str, Any] = {}
    if ov.source is not None:
        changes["source"] = ov.source
    if ov.destination is not None:
        changes["destination"] = ov.destination
    if ov.log_file is not None:
        changes["log_file"] = Path(ov.log_file)
    if ov.env_file is not None:
        changes["env_file"] = Path(ov.env_file) if ov.env_file else None
        changes["env_file_is_default"] = False
    if ov.rclone is not None:
        changes["rclone"] = ov.rclone
    if ov.require_mount is not None:
        changes["require_mount"] = ov.require_mount
    return replace(job, **changes) if changes else job


def job_names(config_path: Path) -> list[str]:
    table = _read_toml(config_path)
    jobs = table.get("jobs", {})
    return sorted(jobs) if isinstance(jobs, dict) else []


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # here, not at the top: `history --log FILE` needs no config at all

    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except PermissionError:
        raise ConfigError(f"config file {path} is not readable (permission denied)") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not valid UTF-8") from None


def _job_from_table(table: dict[str, Any], job_name: str | None, path: Path) -> Job:
    jobs = table.get("jobs", {})
    if not isinstance(jobs, dict):
        raise ConfigError(f"{path}: [jobs] must be a table of named jobs")
    unknown_top = set(table) - {"jobs", "defaults"}
    if unknown_top:
        raise ConfigError(f"{path}: unknown top-level key(s): {', '.join(sorted(unknown_top))}")
    if job_name is None:
        if len(jobs) == 1:
            job_name = next(iter(jobs))
        elif DEFAULT_JOB_NAME in jobs or not jobs:
            job_name = DEFAULT_JOB_NAME
        else:
            raise ConfigError(
                f"{path} defines several jobs; pick one with --job ({', '.join(sorted(jobs))})"
            )
    if job_name not in jobs and not (job_name == DEFAULT_JOB_NAME and not jobs):
        known = ", ".join(sorted(jobs)) or "none"
        raise ConfigError(f"job {job_name!r} is not defined in {path} (jobs: {known})")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", job_name):
        raise ConfigError(f"job name {job_name!r} may hold only letters, digits, '.', '_' and '-'")
    merged: dict[str, Any] = {}
    defaults = table.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ConfigError(f"{path}: [defaults] must be a table")
    merged.update(defaults)
    section = jobs.get(job_name, {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [jobs.{job_name}] must be a table")
    merged.update(section)
    changes: dict[str, Any] = {"name": job_name}
    for key, value in merged.items():
        target = _TOML_KEYS.get(key)
        if target is None:
            where = "[defaults]" if key not in section else f"job {job_name!r}"
            raise ConfigError(f"{path}: unknown key {key!r} in {where}")
        changes[target] = _coerce(target, value, path, job_name)
    if "log_file" not in changes and job_name != DEFAULT_JOB_NAME:
        # One log per job: two jobs appending to one file would mix their runs (the runner's
        # follower and the history read every marker in the file). The seed job keeps the
        # wrapper's /var/log/space-mirror.log, so its history continues.
        changes["log_file"] = Path(f"/var/log/space-mirror-{job_name}.log")
    if "env_file" in changes:
        changes["env_file_is_default"] = False
    if "env" in changes:
        changes["env"] = {**Job().env, **changes["env"]}
    return replace(Job(), **changes)


def _coerce(name: str, value: Any, path: Path, job: str) -> Any:
    where = f"{path}: job {job!r}, key {name!r}"
    if name in _PATH_FIELDS:
        if value in ("", None, False):
            return None
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a path string")
        return Path(value)
    if name == "flags":
        if isinstance(value, str):
            import shlex

            return tuple(shlex.split(value))
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of strings")
        return tuple(value)
    if name == "env":
        if not isinstance(value, dict) or not all(
            isinstance(v, (str, int, bool)) for v in value.values()
        ):
            raise ConfigError(f"{where} must be a table of strings")
        return {str(k): _env_str(v) for k, v in value.items()}
    if name == "require_mount":
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false")
        return value
    if name in ("hook_timeout", "abort_grace", "remote_timeout", "max_delete_percent",
                "min_source_ratio", "stall_timeout", "max_duration", "warn_after",
                "crit_after"):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{where} must be a non-negative number")
        return float(value)
    if name == "max_delete":
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{where} must be a non-negative integer")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be a string")
    if name == "window_end" and not valid_clock(value):
        raise ConfigError(f"{where} must be a time of day like \"07:00\"")
    return value


def valid_clock(text: str) -> bool:
    """"07:00" or "7:00"; hours 0-23, minutes 0-59."""
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    return m is not None and int(m[1]) < 24 and int(m[2]) < 60


def _env_str(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)
