"""Jobs: what to mirror, where to, and with which files around it.

A Job is built from, in order of precedence: command-line overrides, a named job in a TOML
config file, and the built-in seed job (/space → :b2:miket-space-mirror). Loading never
executes anything; errors are `ConfigError` with a one-line message.
"""

from __future__ import annotations

import math
import os
import re
import types
from dataclasses import dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

DEFAULT_JOB_NAME = "space-mirror"
# A duration key: a number of seconds, or a string with units ("30m", "1h30m").
SECONDS = "seconds"
Seconds = Annotated[float, SECONDS]
SYSTEM_CONFIG = Path("/etc/space-mirror/config.toml")
CONFIG_ENV_VAR = "SPACE_MIRROR_CONFIG"
NOTIFY_EVENTS = ("failure", "stalled", "stale", "recovered")


class ConfigError(Exception):
    """A config problem, phrased for the operator (what is wrong, and what to do)."""


class ConfigRefused(ConfigError):
    """A config file root must not load (another user could write or swap it): exit 78."""


MAX_CONFIG = 1 << 20


@dataclass(frozen=True)
class Job:
    """One mirror job: what to sync where, with which rclone flags, and where its log, lock,
    metrics and summary live (docs/configuration.md)."""

    name: str = DEFAULT_JOB_NAME
    source: str = "/space"
    destination: str = ":b2:miket-space-mirror"
    flags: tuple[str, ...] = ("--fast-list", "--transfers", "16", "--track-renames")
    env_file: Path | None = Path("/etc/miket/storage-credentials.env")
    # True when env_file is the built-in default rather than something an operator set:
    # a default env file is only demanded when the destination needs credentials.
    env_file_is_default: bool = True
    log_file: Path = Path("/var/log/space-mirror.log")
    lock_file: Path | None = None  # None → <run_dir>/lock
    metrics_file: Path | None = None  # None → node_exporter's textfile collector folder
    summary_file: Path | None = None  # None → /var/lib/space-mirror/<name>.last-run.json
    on_success: str | None = None
    on_failure: str | None = None
    hook_timeout: Seconds = 60.0
    require_mount: bool = True
    rclone: str | None = None
    env: dict[str, str] = field(default_factory=lambda: {"RCLONE_B2_HARD_DELETE": "true"})
    abort_grace: Seconds = 30.0  # seconds between SIGTERM and SIGKILL when aborting
    remote_timeout: Seconds = 20.0  # the pre-flight listing of the destination
    # Safety guards (see docs/safety.md); None means "not configured".
    max_delete: int | None = None
    max_delete_percent: float | None = None
    min_source_ratio: float = 0.5
    sentinel: str | None = None
    # Unattended runs (docs/runner.md#limits). No progress for stall_timeout seconds: the
    # watchdog stops rclone (exit 79). max_duration seconds for the whole run (exit 124);
    # a lock held longer than it (default a day) fails the next run (exit 69) instead of the
    # quiet "already running" exit 75.
    # window_end "HH:MM" (local time): rclone --max-duration up to then, --cutoff-mode soft.
    stall_timeout: Seconds = 1800.0
    max_duration: Seconds | None = None
    window_end: str | None = None
    # `space-mirror status`: WARNING / CRITICAL when the last success is older (seconds).
    warn_after: Seconds = 26 * 3600.0
    crit_after: Seconds = 50 * 3600.0
    # Healthchecks-style pings: URL/start, URL, URL/<exit code> (docs/monitoring.md).
    ping_url: str | None = None
    # Notifications through Apprise (docs/monitoring.md#notifications): one URL per service
    # (ntfys://…, mailto://…, json://…); a value `env:NAME` is NAME's value in the env file.
    # Sent once per change of state, for the states in notify_on.
    notify: tuple[str, ...] = ()
    notify_on: tuple[str, ...] = ("failure", "stalled", "stale", "recovered")
    # Set when --source/--dest made this a different job from the one named: the name it was
    # derived from. Its state (lock, summary, metrics, log) is its own (see adhoc_job).
    adhoc_of: str | None = None
    # rclone's --bwlimit, passed as it is: a rate ("10M") or a timetable
    # ("08:00,512k 19:00,off"); None: no limit. `space-mirror bwlimit` changes a live run's.
    bwlimit: str | None = None
    # The job's run folder (lock, rclone's rc socket): root-only, 0700, made by the unit's
    # RuntimeDirectory=. None → /run/space-mirror/<name>. See docs/security.md.
    run_dir: Path | None = None
    # A root run refuses configured paths in folders other users can write to, unless this
    # is set (docs/security.md).
    allow_shared_dirs: bool = False
    # `space-mirror audit` prices what a B2 bucket keeps beyond the mirror at this many
    # dollars per TB-month (10^12 bytes); the default is B2's list price (docs/b2.md).
    b2_price_per_tb_month: float = 6.95
    # While a sync runs, its textfile is rewritten this often (seconds) with live progress
    # (space_mirror_run_*: bytes, files, speed, ETA, seconds since progress). 0 turns it off.
    metrics_interval: float = 15.0

    @property
    def run_path(self) -> Path:
        return self.run_dir or Path(f"/run/space-mirror/{self.name}")

    @property
    def lock_path(self) -> Path:
        return self.lock_file or self.run_path / "lock"

    @property
    def rc_socket_path(self) -> Path:
        """rclone's remote control socket: beside the lock, in the job's root-only run folder."""
        lock = self.lock_path
        return lock.with_name(f"{lock.stem}.rc.sock")

    @property
    def metrics_path(self) -> Path:
        if self.metrics_file is not None:
            return self.metrics_file
        if self.adhoc_of is not None:
            # Beside the summary, not in node_exporter's folder: a one-off run must not
            # leave a series behind that the stale-mirror alert would page about forever.
            return self.summary_path.with_name(f"{self.name}.prom")
        return Path(f"/var/lib/prometheus/node-exporter/space_mirror_{_slug(self.name)}.prom")

    @property
    def summary_path(self) -> Path:
        return self.summary_file or Path(f"/var/lib/space-mirror/{self.name}.last-run.json")

    @property
    def backend(self) -> str:
        return destination_backend(self.destination)

    @property
    def transfers(self) -> int:
        """The job's --transfers (rclone's default is 4). Given twice, the last one counts,
        as rclone's flag parser sets it again for each."""
        flags = self.flags
        found: int | None = None
        for i, flag in enumerate(flags):
            name, _, value = flag.partition("=")
            if name == "--transfers":
                raw = value or (flags[i + 1] if i + 1 < len(flags) else "")
                found = int(raw) if raw.isdigit() else None
        return 4 if found is None else found


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


# Every Job field is a TOML key of the same name, coerced from its type annotation (see
# _coerce), except the ones below, which the loader derives. A new key is one Job field.
_DERIVED_FIELDS = frozenset({"name", "env_file_is_default", "adhoc_of"})
# Short spellings an operator may use instead of the field's name.
_ALIASES = {"dest": "destination", "log": "log_file"}


def toml_keys() -> dict[str, str]:
    """Key → Job field, for every key a config file may hold."""
    keys = {f.name: f.name for f in fields(Job) if f.name not in _DERIVED_FIELDS}
    keys.update(_ALIASES)
    return keys


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
    job = apply_overrides(job, overrides or Overrides())
    validate_job(job, config_path)
    return job


def validate_job(job: Job, where: Path | None = None) -> None:
    """What a finished Job must satisfy whatever its keys' types: raises ConfigError."""
    at = f"{where}: job {job.name!r}" if where else f"job {job.name!r}"
    for name in ("hook_timeout", "abort_grace", "remote_timeout", "max_delete_percent",
                 "min_source_ratio", "max_duration", "metrics_interval"):
        value = getattr(job, name)
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{at}: {name} must be a finite number, not {value}")
    if not job.source.strip():
        raise ConfigError(f"{at}: source is empty; set it to the folder to mirror")
    if not job.destination.strip():
        raise ConfigError(f"{at}: destination is empty; set it to the mirror's remote or folder")
    if job.sentinel is not None:
        parts = Path(job.sentinel).parts
        if not job.sentinel.strip() or Path(job.sentinel).is_absolute() or ".." in parts:
            raise ConfigError(f"{at}: sentinel {job.sentinel!r} must be a path inside the "
                              "source (relative, without '..')")
    unknown = [e for e in job.notify_on if e not in NOTIFY_EVENTS]
    if unknown:
        raise ConfigError(f"{at}: notify_on {unknown[0]!r} is not one of "
                          f"{', '.join(NOTIFY_EVENTS)}")
    for url in job.notify:
        if url.startswith("env:") and not re.fullmatch(r"env:[A-Za-z_][A-Za-z0-9_]*", url):
            raise ConfigError(f"{at}: notify {url!r} must be `env:NAME`, NAME a variable of "
                              "the env file")
    if job.min_source_ratio > 1:
        raise ConfigError(f"{at}: min_source_ratio {job.min_source_ratio:g} is above 1; it is "
                          "a fraction of the last good run's file count (e.g. 0.5)")


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
    result = replace(job, **changes) if changes else job
    if (result.source, result.destination) != (job.source, job.destination):
        result = adhoc_job(job, result, explicit_log=ov.log_file is not None)
    return result


def identity_key(source: str, destination: str) -> str:
    """A short, stable key for a (source, destination) pair: what a job's state belongs to."""
    import hashlib  # OpenSSL's: 4 ms of every command, for ad-hoc jobs only

    digest = hashlib.sha256(f"{source}\0{destination}".encode()).hexdigest()
    return digest[:8]


def adhoc_name(source: str, destination: str) -> str:
    """'adhoc-<source folder>-<destination folder>-<key>': readable in a lock record, a
    marker or a file name, and distinct for every (source, destination) pair."""
    def tail(path: str) -> str:
        last = re.split(r"[/:]", path.rstrip("/:"))[-1] or "root"
        return re.sub(r"[^A-Za-z0-9_.\-]", "_", last)[:24]

    return f"adhoc-{tail(source)}-{tail(destination)}-{identity_key(source, destination)}"


def adhoc_job(named: Job, changed: Job, explicit_log: bool) -> Job:
    """`changed` (a job whose source or destination the command line replaced) as a job of
    its own: a derived name, and a lock, summary, metrics file and log of its own, so a test
    run neither blocks the named job nor overwrites the baseline its safety guards compare
    against (seen: an ad-hoc run of 50 files made the next real run of 10 files refuse)."""
    name = adhoc_name(changed.source, changed.destination)

    def keyed(path: Path | None) -> Path | None:
        # A path the config set explicitly: the ad-hoc job's file goes beside it.
        return None if path is None else path.with_name(f"{path.stem}-{name}{path.suffix}")

    log = changed.log_file
    if not explicit_log:
        log = keyed(changed.log_file) or changed.log_file
    # Its run folder (lock, rc socket) too: the named job's `run_dir` would make the two
    # share a lock (seen: an ad-hoc run exited 75 while the named job ran).
    run_dir = None if changed.run_dir is None else \
        changed.run_dir.with_name(f"{changed.run_dir.name}-{name}")
    return replace(changed, name=name, adhoc_of=named.name, log_file=log, run_dir=run_dir,
                   lock_file=keyed(changed.lock_file), summary_file=keyed(changed.summary_file),
                   metrics_file=keyed(changed.metrics_file))


@dataclass(frozen=True)
class FleetConfig:
    """`[fleet]`: the Prometheus that `space-mirror fleet` reads (docs/monitoring.md)."""

    prometheus: str | None = None  # http(s)://host:9090
    auth_file: Path | None = None  # env file: PROMETHEUS_BEARER_TOKEN or _USERNAME/_PASSWORD
    ca_bundle: Path | None = None  # PEM file of the CA that signed Prometheus's certificate
    interval: float | None = None  # refresh (seconds); None: Prometheus's scrape interval


def load_fleet(config_path: Path | None) -> FleetConfig:
    """`[fleet]` from the config file (empty when there is no file or no table)."""
    if config_path is None:
        return FleetConfig()
    table = _read_toml(config_path).get("fleet", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{config_path}: [fleet] must be a table")
    known = ("prometheus", "auth_file", "ca_bundle", "interval")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{config_path}: unknown key {key!r} in [fleet] "
                              f"(known: {', '.join(known)})")
        if key == "interval":
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not math.isfinite(value) or value <= 0):
                raise ConfigError(f"{config_path}: [fleet] interval must be a positive "
                                  "number of seconds")
            values[key] = float(value)
        elif not isinstance(value, str) or not value:
            raise ConfigError(f"{config_path}: [fleet] {key} must be a non-empty string")
        else:
            values[key] = Path(value) if key in ("auth_file", "ca_bundle") else value
    return FleetConfig(**values)


def job_names(config_path: Path) -> list[str]:
    table = _read_toml(config_path)
    jobs = table.get("jobs", {})
    return sorted(jobs) if isinstance(jobs, dict) else []


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # here, not at the top: `history --log FILE` needs no config at all

    from tui.ops import trust

    try:
        # Checked on the descriptor it is read from: root must not load a config another
        # user could write or swap (its hooks and rclone would run as root).
        data = trust.read_checked(path, "config file", MAX_CONFIG)
        if len(data) > MAX_CONFIG:
            raise ConfigError(f"config file {path} is over {MAX_CONFIG // 1024} KiB; "
                              "point --config at the job's config")
        return tomllib.loads(data.decode("utf-8"))
    except trust.Untrusted as exc:
        raise ConfigRefused(str(exc)) from None
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
    unknown_top = set(table) - {"jobs", "defaults", "fleet"}
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
    keys = toml_keys()
    for key, value in merged.items():
        target = keys.get(key)
        if target is None:
            where = "[defaults]" if key not in section else f"job {job_name!r}"
            import difflib

            close = difflib.get_close_matches(key, list(keys), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{path}: unknown key {key!r} in {where}{hint}")
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


@cache
def _field_types() -> dict[str, Any]:
    return get_type_hints(Job)


@cache
def _duration_fields() -> frozenset[str]:
    """The keys typed Seconds: they also take a duration with units."""
    hints = get_type_hints(Job, include_extras=True)
    return frozenset(name for name, kind in hints.items()
                     if SECONDS in _metadata(_without_none(kind)))


def _metadata(kind: Any) -> tuple[Any, ...]:
    return tuple(getattr(kind, "__metadata__", ()))


def _coerce(name: str, value: Any, path: Path, job: str) -> Any:
    """A TOML value → the Job field's type, or a one-line ConfigError saying what it must be."""
    where = f"{path}: job {job!r}, key {name!r}"
    kind = _field_types()[name]
    optional = _is_optional(kind)
    base = _without_none(kind)
    if base is Path:
        if value in ("", False) and optional:
            return None
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where} must be a path string")
        return Path(value)
    if base is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false")
        return value
    if base is float:
        if name in _duration_fields():
            from tui.core.units import DURATION_HELP, parse_duration

            if isinstance(value, str):
                seconds = parse_duration(value)
                if seconds is None:
                    raise ConfigError(f"{where}: {value!r} is not {DURATION_HELP}")
                return seconds
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0 \
                    or not math.isfinite(value):
                raise ConfigError(f"{where} must be a non-negative number of seconds, or "
                                  f"{DURATION_HELP}")
            return float(value)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0 \
                or not math.isfinite(value):
            raise ConfigError(f"{where} must be a non-negative number")
        return float(value)
    if base is int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{where} must be a non-negative integer")
        return value
    if get_origin(base) is tuple:  # tuple[str, ...]: a list, or one shell-quoted string
        if isinstance(value, str):
            import shlex

            return tuple(shlex.split(value))
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of strings")
        return tuple(value)
    if get_origin(base) is dict:  # dict[str, str]: a table of strings (numbers, booleans ok)
        if not isinstance(value, dict) or not all(
            isinstance(v, (str, int, bool)) for v in value.values()
        ):
            raise ConfigError(f"{where} must be a table of strings")
        return {str(k): _env_str(v) for k, v in value.items()}
    if base is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string")
        if name == "bwlimit":  # rclone's own notation: checked lightly, passed as it is
            from tui.core.bwlimit import schedule_problem

            if (problem := schedule_problem(value)) is not None:
                raise ConfigError(f"{where}: {problem}")
        if name == "window_end" and not valid_clock(value):
            raise ConfigError(f"{where} must be a time of day like \"07:00\"")
        return value
    raise AssertionError(f"Job.{name}: no coercion for {kind!r}")  # a new field's type


def _is_optional(kind: Any) -> bool:
    return get_origin(kind) in (Union, types.UnionType) and type(None) in get_args(kind)


def _without_none(kind: Any) -> Any:
    if get_origin(kind) in (Union, types.UnionType):
        rest = [a for a in get_args(kind) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return kind


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
