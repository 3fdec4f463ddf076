"""Command line: the only place that turns argv into a Job and picks a command.

    space-mirror [JOB OPTIONS]                 open the dashboard
    space-mirror run [--dry-run] [JOB OPTIONS] the systemd ExecStart
    space-mirror check [--offline]             pre-flight checks
    space-mirror history [--json] [--limit N]  past runs from the log
    space-mirror plan [--json]                 what a sync would do
    space-mirror status [--json]               one-line health, Nagios exit codes 0-3
    space-mirror unit [--install]              systemd service + timer
    space-mirror bwlimit [RATE|off]            show or set a running sync's bandwidth limit
    space-mirror verify [--sample PCT]         rclone check of a random sample of the source
    space-mirror audit [--json]                B2: what the bucket keeps beyond the mirror, its cost
    space-mirror demo                          the dashboard on a built-in demo job
    space-mirror fleet [--json]                every host's jobs, from Prometheus

Usage errors exit 64 (not argparse's 2, which is rclone's "syntax error").
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tui import __version__
from tui.core import exitcodes

# Each command imports what it needs when it runs: `--version` and `--help` load argparse and
# the exit-code table, nothing else of ours (bench/b_startup.py's `version` figure; the
# import gate in tests/unit/test_cli_imports.py).
TYPE_CHECKING = False  # typing itself is one of the imports spared
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import NoReturn

    from tui.config import Job
    from tui.ops import preflight


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors exit 64 instead of 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"space-mirror: {message}", file=sys.stderr)
        raise SystemExit(exitcodes.USAGE)


JOB_OPTIONS = ("config", "job", "source", "dest", "log", "env_file", "rclone", "require_mount")


def _job_options(in_subcommand: bool) -> _Parser:
    # In a subcommand the defaults are SUPPRESS, so that `space-mirror --config X run` keeps
    # the X given before the subcommand instead of resetting it to None.
    p = _Parser(add_help=False,
                                argument_default=argparse.SUPPRESS if in_subcommand else None)
    g = p.add_argument_group("job options")
    g.add_argument("--config", metavar="FILE", help="TOML config (default: $SPACE_MIRROR_CONFIG, "
                   "else /etc/space-mirror/config.toml)")
    g.add_argument("--job", metavar="NAME", help="job name in the config (default: space-mirror)")
    g.add_argument("--source", metavar="PATH", help="override the job's source")
    g.add_argument("--dest", metavar="REMOTE", help="override the job's destination")
    g.add_argument("--log", metavar="FILE", help="override the job's log file")
    g.add_argument("--env-file", metavar="FILE", help="override the job's credentials env file")
    g.add_argument("--rclone", metavar="PATH", help="rclone binary to use")
    g.add_argument("--require-mount", dest="require_mount", action="store_true",
                   default=argparse.SUPPRESS if in_subcommand else None,
                   help="refuse a source that is not a mount point")
    g.add_argument("--no-require-mount", dest="require_mount", action="store_false",
                   help="allow a source that is a plain folder")
    return p


RCLONE_CODES = "0-10   rclone's own (0 success; 3 source not found; 7 fatal, or the delete guard)"
SIGNAL_CODES = "128+N  stopped by signal N (130: Ctrl-C, 143: SIGTERM)"
# What each command says in its --help: a description, and the exit codes it returns.
COMMANDS: dict[str, tuple[str, tuple[int | str, ...]]] = {
    "run": ("Run the job's sync once, as the systemd timer does: pre-flight, guards, rclone, "
            "markers in the log, summary, metrics, hooks. Prints one line at the start and "
            "one at the end; the dashboard shows the run live.",
            (RCLONE_CODES, exitcodes.USAGE, exitcodes.UNAVAILABLE, exitcodes.LOCKED,
             exitcodes.CONFIG, exitcodes.STALLED, exitcodes.TIMED_OUT, SIGNAL_CODES)),
    "check": ("Run the pre-flight checks without syncing: one ✓/✗ line per check, each ✗ "
              "with what to do.", (exitcodes.OK, exitcodes.USAGE, exitcodes.CONFIG)),
    "history": ("The job's past runs, read from its log files (rotated and .gz ones too).",
                (exitcodes.OK, exitcodes.USAGE)),
    "plan": ("A dry run, summed up: what a sync would copy, delete and rename.",
             (RCLONE_CODES, exitcodes.USAGE, exitcodes.LOCKED, exitcodes.CONFIG)),
    "status": ("The job's health in one line, for Nagios and people.",
               ("0      OK", "1      WARNING", "2      CRITICAL", "3      UNKNOWN")),
    "unit": ("Print (or install) the systemd service and timer that run the job.",
             (exitcodes.OK, exitcodes.USAGE, exitcodes.CONFIG)),
    "bwlimit": ("Show or change the bandwidth limit of the job's running sync (rclone's "
                "remote control).", (exitcodes.OK, exitcodes.USAGE, exitcodes.UNAVAILABLE)),
    "verify": ("rclone check --one-way of a random sample of the source's files against the "
               "destination.", ("0      the sample is intact", "1      differences found",
                                exitcodes.USAGE, exitcodes.LOCKED, exitcodes.CONFIG)),
    "demo": ("The dashboard on a built-in demo job (local folders, nothing to set up).",
             (exitcodes.OK, exitcodes.USAGE)),
    "audit": ("What a B2 bucket keeps beyond the mirror (hidden versions, old versions, "
              "unfinished large files), whether a lifecycle rule removes it, and what it "
              "costs a month; read-only.",
              ("0      OK", "1      WARNING: the bucket keeps something to act on",
               "3      UNKNOWN: the bucket could not be read")),
    "fleet": ("Every host's jobs, read from the Prometheus that scrapes their textfiles, "
              "sorted by need; Enter on a row says how to open its dashboard.",
              ("0      OK", "1      WARNING", "2      CRITICAL", "3      UNKNOWN")),
}


def _command(sub: argparse._SubParsersAction[_Parser], name: str, common: _Parser | None,
             help: str) -> _Parser:
    description, codes = COMMANDS[name]
    return sub.add_parser(name, parents=[common] if common is not None else [], help=help,
                          description=description, epilog=exitcodes.codes_text(codes),
                          formatter_class=argparse.RawDescriptionHelpFormatter)


class _PrintVersion(argparse.Action):
    """`--version`: the line, printed as is (argparse's own action loads its help formatter,
    and with it shutil and textwrap, to print one line)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print(f"space-mirror {__version__}")
        parser.exit()


def _run_options(p: _Parser) -> None:
    p.add_argument("--dry-run", action="store_true",
                   help="show what would change; change nothing")
    p.add_argument("--offline", action="store_true",
                   help="skip the destination check in the pre-flight")
    p.add_argument("--force", action="store_true",
                   help="override the source sanity guards (logged in the start marker)")
    p.add_argument("--allow-deletes", type=int, metavar="N",
                   help="allow up to N deletes even above the delete guard")
    p.add_argument("--started-by", choices=("dashboard", "cli", "timer"), help=argparse.SUPPRESS)


def _check_options(p: _Parser) -> None:
    p.add_argument("--offline", action="store_true", help="skip the destination check")


def _history_options(p: _Parser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--limit", type=int, metavar="N", help="only the last N runs")
    p.add_argument("--outcome", metavar="OUTCOME[,…]",
                   help="only runs with this outcome: success, failed, aborted, killed, "
                        "incomplete, running, or problem (all but success and running)")
    p.add_argument("--since", metavar="DATE", help="only runs started at or after DATE "
                   "(ISO: 2026-11-25 or 2026-11-25T03:00[+01:00]; no offset: local time)")
    p.add_argument("--until", metavar="DATE",
                   help="only runs started before the end of DATE (a date: the whole day)")
    p.add_argument("--search", metavar="TEXT",
                   help="only runs whose id, reason, failed files or errors hold every word")


def _plan_options(p: _Parser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--offline", action="store_true",
                   help="skip the destination check in the pre-flight")
    p.add_argument("--force", action="store_true",
                   help="override the sentinel and ratio source guards (docs/safety.md)")


def _status_options(p: _Parser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--notify", action="store_true",
                   help="also send the job's notification if its state changed (e.g. "
                        "stale: no good mirror within crit_after), from a timer or cron")


def _unit_options(p: _Parser) -> None:
    p.add_argument("--on-calendar", default="*-*-* 03:00:00", help="timer schedule")
    p.add_argument("--install", action="store_true",
                   help="write, verify and enable the units; disable the old wrapper's "
                   "unit after asking (docs/install.md)")
    p.add_argument("--yes", action="store_true",
                   help="with --install: disable the old unit without asking")
    p.add_argument("--print-steps", action="store_true",
                   help="with --install: print the systemctl steps instead of running them "
                   "(an image being built); the default when systemd is not running")
    p.add_argument("--unit-dir", metavar="DIR", default="/etc/systemd/system",
                   help="with --install: where the units go (default: %(default)s)")
    p.add_argument("--verify", metavar="WEEKDAY",
                   help="also a weekly `verify` service and timer on this day (e.g. Sun), "
                        "or `daily`")
    p.add_argument("--verify-rotate", type=int, metavar="N",
                   help="the scheduled verify checks slice K of N (verify --rotate N)")
    p.add_argument("--verify-sample", type=float, metavar="PCT",
                   help="the sample the weekly verify checks (default 5)")


def _bwlimit_options(p: _Parser) -> None:
    p.add_argument("rate", nargs="?", metavar="RATE|off",
                   help="512k, 10M, 10M:1M (upload:download) or off; none: show the limit")


def _verify_options(p: _Parser) -> None:
    p.add_argument("--sample", type=float, metavar="PCT", default=None,
                   help="percentage of the source's files to check (default 5)")
    p.add_argument("--rotate", type=int, metavar="N", default=None,
                   help="check slice K of N (rclone --hash-filter K/N), K advancing with each "
                        "verify: every file within N runs (docs/verify.md)")
    p.add_argument("--download", action="store_true",
                   help="compare the bytes (downloads the sample) instead of the hashes the "
                        "destination reports")
    p.add_argument("--seed", type=int, help=argparse.SUPPRESS)  # a repeatable sample
    p.add_argument("--started-by", choices=("dashboard", "cli", "timer"), help=argparse.SUPPRESS)


def _audit_options(p: _Parser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _fleet_options(p: _Parser) -> None:
    p.add_argument("--prometheus", metavar="URL",
                   help="Prometheus's address (default: [fleet] prometheus in the config)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--auth-file", metavar="FILE",
                   help="env file with PROMETHEUS_BEARER_TOKEN, or PROMETHEUS_USERNAME and "
                        "PROMETHEUS_PASSWORD (default: [fleet] auth_file)")
    p.add_argument("--ca-bundle", metavar="FILE", help="CA certificates for an https "
                   "Prometheus (default: [fleet] ca_bundle)")
    p.add_argument("--interval", type=float, metavar="SECONDS",
                   help="refresh interval (default: Prometheus's scrape interval)")


def _demo_options(p: _Parser) -> None:
    p.add_argument("--dir", metavar="DIR", help="where the demo keeps its files")
    p.add_argument("--print", dest="print_only", action="store_true",
                   help="run one demo sync and print, without the dashboard")


# Each command: its line in `space-mirror --help`, and what adds its options.
SUBCOMMANDS: dict[str, tuple[str, Callable[[_Parser], None]]] = {
    "run": ("run the sync (systemd ExecStart)", _run_options),
    "check": ("pre-flight checks (exit 0 or 78)", _check_options),
    "history": ("past runs, from the log files", _history_options),
    "plan": ("dry-run plan: copies, deletes, renames", _plan_options),
    "status": ("one-line health (exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)", _status_options),
    "unit": ("print a systemd service and timer", _unit_options),
    "bwlimit": ("show or change the bandwidth limit of the running sync", _bwlimit_options),
    "verify": ("rclone check --one-way of a random sample of the source's files", _verify_options),
    "audit": ("B2: hidden versions, unfinished uploads, lifecycle and cost "
              "(read-only; exit 0 OK, 1 WARNING, 3 UNKNOWN)", _audit_options),
    "fleet": ("every host's jobs from Prometheus (exit codes as status)", _fleet_options),
    "demo": ("dashboard on the built-in demo job", _demo_options),
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser. Given the `argv` it will parse, only the commands that argv
    names get their options (parsers nobody reads are half of `--version`'s start-up); None
    builds them all."""
    parser = _Parser(prog="space-mirror", parents=[_job_options(False)],
                     description="Runner and terminal dashboard for rclone mirror jobs. "
                     "With no command, it opens the dashboard (every job of the config "
                     "when it has several); each command below runs without it.")
    parser.add_argument("--version", action=_PrintVersion)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser,
                                title="commands (none: open the dashboard)")
    named = None if argv is None else set(argv)
    common = _job_options(True)
    for name, (short, add_options) in SUBCOMMANDS.items():
        if named is None or name in named:
            add_options(_command(sub, name, common, help=short))
        else:
            _command(sub, name, None, help=short)
    return parser


def job_args(ns: argparse.Namespace) -> list[str]:
    """The job options as given, to hand to a runner the dashboard starts."""
    out: list[str] = []
    for name in ("config", "job", "source", "dest", "log", "env_file", "rclone"):
        value = getattr(ns, name, None)
        if value is not None:
            flag = "--" + name.replace("_", "-")
            out += [flag, str(Path(value).resolve()) if name in ("config", "log", "env_file")
                    else value]
    if ns.require_mount is not None:
        out.append("--require-mount" if ns.require_mount else "--no-require-mount")
    return out


def resolve_job(ns: argparse.Namespace) -> tuple[Job, Path | None]:
    from tui.config import Overrides, find_config, load_job

    config = find_config(ns.config)
    overrides = Overrides(source=ns.source, destination=ns.dest, log_file=ns.log,
                          env_file=ns.env_file, rclone=ns.rclone, require_mount=ns.require_mount)
    return load_job(config, ns.job, overrides), config


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    ns = build_parser(args).parse_args(args)
    ns.argv = args  # what a kept answer is keyed by (tui/answer_memo.py)
    try:
        return _dispatch(ns)
    except KeyboardInterrupt:
        return exitcodes.signal_exit_code(2)
    except BrokenPipeError:
        from tui.entry import reader_left

        return reader_left()
    except Exception as exc:
        # A config error can only come from tui.config, so it is loaded by now.
        from tui.config import ConfigError, ConfigRefused
        from tui.core.text import printable

        if isinstance(exc, ConfigError):  # a refusal is a pre-flight's, as for `check`, `run`
            print(printable(f"space-mirror: {exc}"), file=sys.stderr)
            return exitcodes.CONFIG if isinstance(exc, ConfigRefused) else exitcodes.USAGE
        if os.environ.get("SPACE_MIRROR_DEBUG"):
            raise
        print(f"space-mirror: internal error: {type(exc).__name__}: {exc} "
              "(set SPACE_MIRROR_DEBUG=1 for details)", file=sys.stderr)
        return exitcodes.SOFTWARE


def _dispatch(ns: argparse.Namespace) -> int:
    command: str | None = ns.command
    handlers: dict[str | None, Callable[[argparse.Namespace], int]] = {
        None: _cmd_dashboard,
        "run": _cmd_run,
        "check": _cmd_check,
        "history": _cmd_history,
        "plan": _cmd_plan,
        "status": _cmd_status,
        "unit": _cmd_unit,
        "demo": _cmd_demo,
        "bwlimit": _cmd_bwlimit,
        "verify": _cmd_verify,
        "audit": _cmd_audit,
        "fleet": _cmd_fleet,
    }
    return handlers[command](ns)


def _cmd_run(ns: argparse.Namespace) -> int:
    from tui.ops.run.context import RunOptions, started_by_default
    from tui.ops.run.sync import run_job

    job, _ = resolve_job(ns)
    opts = RunOptions(dry_run=ns.dry_run, offline=ns.offline,
                      started_by=ns.started_by or started_by_default(os.environ),
                      force=ns.force)
    if ns.allow_deletes is not None:
        opts.max_delete = ns.allow_deletes
    return run_job(job, opts)


def _cmd_check(ns: argparse.Namespace) -> int:
    from tui.core.remotes import display_remote
    from tui.core.text import printable
    from tui.ops import credentials, preflight

    job, _ = resolve_job(ns)
    results, ctx = preflight.run_checks(job, offline=ns.offline)
    results += preflight.check_unit(job)  # `check` only: a run is not the unit's business
    print(f"space-mirror check: job {job.name!r} ({job.source} → "
          f"{display_remote(job.destination)})")
    for r in results:
        print(printable(credentials.redact(r.line(), ctx.secrets)))  # rclone's errors in it
    bad: list[object] = list(preflight.failed(results))
    for extra in _check_extras(job, ctx.rclone):
        print(credentials.redact(extra.line(), ctx.secrets))
        if not extra.ok and not extra.consequence:
            bad.append(extra)
    if not bad:
        # The source guards the runner applies next (docs/safety.md).
        from tui.ops.guards import source

        verdict = source.check_source(job, force=False)
        for g in verdict.guards:
            print(printable(g.line()))
        bad += verdict.refused
    if bad:
        print(f"{len(bad)} check(s) failed; nothing would start.")
        return exitcodes.CONFIG
    print("All checks passed.")
    return exitcodes.OK


def _check_extras(job: Job, rclone: Path | None) -> list[preflight.CheckResult]:
    """What `check` says beyond the runner's pre-flight: notifications (when the job has
    `notify`) and whether this rclone can `verify --rotate`."""
    from tui.core.rotation import hash_filter_problem
    from tui.ops import rclone_probe
    from tui.ops.monitor import notify_apprise
    from tui.ops.preflight import CheckResult

    out: list[preflight.CheckResult] = []
    if job.notify:
        urls, _, problems = notify_apprise.resolve_urls(job)
        missing = notify_apprise.missing_apprise()
        if missing:
            out.append(CheckResult("notify", False, missing, notify_apprise.INSTALL))
        elif problems:
            out.append(CheckResult("notify", False, "; ".join(problems),
                                   "set the variable in the env file, or fix `notify`"))
        else:
            schemes = ", ".join(notify_apprise.shown(u) for u in urls)
            out.append(CheckResult("notify", True, f"Apprise, {len(urls)} URL(s): {schemes} "
                                   f"on {', '.join(job.notify_on)}"))
    if rclone is not None:
        problem = hash_filter_problem(rclone_probe.version_text(rclone))
        # Said, never counted as failed: the run does not need verify --rotate.
        out.append(CheckResult("verify --rotate", problem is None, problem or "this rclone "
                               "has --hash-filter (rotating verification works)",
                               consequence=problem is not None))
    return out


def _cmd_history(ns: argparse.Namespace) -> int:
    from tui.history_cli import history_answer, history_command

    if ns.outcome or ns.since or ns.until or ns.search:  # the filters' module only for them
        from tui.core import runfilter

        try:
            where = runfilter.build(ns.outcome, ns.since, ns.until, ns.search, zone=None)
        except runfilter.FilterError as exc:
            print(f"space-mirror: {exc}", file=sys.stderr)
            return exitcodes.USAGE
        job, _ = resolve_job(ns)
        return history_command(job, as_json=ns.json, limit=ns.limit, where=where)
    # Unfiltered, the answer depends on the files alone: kept, the same question next time
    # is answered before anything heavier than this module is imported (tui/entry.py).
    from tui import answer_memo
    from tui.config import SYSTEM_CONFIG
    from tui.core import filestamp
    from tui.core.history.files import log_files

    job, config = resolve_job(ns)
    paths = answer_memo.watched(config, SYSTEM_CONFIG, log_files(job.log_file)[0], job.log_file)
    before = filestamp.stamp(paths)  # before the read: a log that grows meanwhile misses
    printed = history_answer(job, as_json=ns.json, limit=ns.limit)
    code = printed.write()
    answer_memo.keep(ns.argv, paths, before, printed, job.log_file)
    return code


def _cmd_plan(ns: argparse.Namespace) -> int:
    from tui.plan_cli import plan_command

    job, _ = resolve_job(ns)
    return plan_command(job, as_json=ns.json, offline=ns.offline, force=ns.force)


def _cmd_status(ns: argparse.Namespace) -> int:
    from tui.config import ConfigError
    from tui.status_cli import status_command, unknown

    try:
        job, _ = resolve_job(ns)
        return status_command(job, as_json=ns.json, notify=ns.notify)
    except ConfigError as exc:
        return unknown(str(exc), ns.json)
    except Exception as exc:  # a monitoring check must answer 3, never a traceback
        return unknown(f"internal error: {type(exc).__name__}: {exc}", ns.json)


def _cmd_unit(ns: argparse.Namespace) -> int:
    from tui.ops.systemd import service_unit, timer_unit

    job, config = resolve_job(ns)
    verify_units: tuple[str, str] | None = None
    if ns.verify is not None or ns.verify_sample is not None or ns.verify_rotate is not None:
        from tui.ops.systemd import verify_units as make_verify_units

        problem, verify_units = make_verify_units(job, config, ns.verify, ns.verify_sample,
                                                  ns.verify_rotate)
        if problem is not None:
            print(f"space-mirror: {problem}", file=sys.stderr)
            return exitcodes.USAGE
    name = f"space-mirror-{job.name}"
    more: dict[str, tuple[str, str]] = {}
    if verify_units is not None:
        more[f"{name}-verify"] = verify_units
    if job.notify:  # `stale` needs no run: an hourly status --notify tells it
        from tui.ops.systemd import notify_units

        more[f"{name}-notify"] = notify_units(job, config)
    if ns.install:
        from tui.ops.unit_install import Installer, ask_tty

        installer = Installer(Path(ns.unit_dir), say=lambda m: print(m, flush=True),
                              ask=(lambda _q: True) if ns.yes else ask_tty,
                              systemd_running=False if ns.print_steps else None)
        return installer.install(name, service_unit(job, config),
                                 timer_unit(job, ns.on_calendar), more or None)
    print(f"# /etc/systemd/system/{name}.service")
    print(service_unit(job, config))
    print(f"# /etc/systemd/system/{name}.timer")
    print(timer_unit(job, ns.on_calendar))
    for unit, (service, timer) in more.items():
        print(f"# /etc/systemd/system/{unit}.service")
        print(service)
        print(f"# /etc/systemd/system/{unit}.timer")
        print(timer)
    return exitcodes.OK


def _cmd_verify(ns: argparse.Namespace) -> int:
    from tui.core.rotation import rotate_problem
    from tui.core.verify import DEFAULT_PERCENT, percent_problem
    from tui.ops.run.context import started_by_default
    from tui.ops.verify import VerifyOptions, verify_job

    percent = DEFAULT_PERCENT if ns.sample is None else ns.sample
    problem = percent_problem(percent)
    if ns.rotate is not None:
        problem = (rotate_problem(ns.rotate) if ns.sample is None else
                   "--rotate and --sample are two ways to choose the files; give one")
    if problem is not None:
        print(f"space-mirror: {problem}", file=sys.stderr)
        return exitcodes.USAGE
    job, _ = resolve_job(ns)
    return verify_job(job, VerifyOptions(
        percent=percent, seed=ns.seed, download=ns.download, rotate=ns.rotate,
        started_by=ns.started_by or started_by_default(os.environ)))


def _cmd_audit(ns: argparse.Namespace) -> int:
    from tui.audit_cli import audit_command
    from tui.config import ConfigError
    from tui.core.b2audit import UNKNOWN

    try:
        job, _ = resolve_job(ns)
    except ConfigError as exc:  # a monitoring check answers 3, as `status` does
        print(f"space-mirror: {exc}", file=sys.stderr)
        return UNKNOWN
    return audit_command(job, as_json=ns.json)


def _cmd_bwlimit(ns: argparse.Namespace) -> int:
    from tui.core.bwlimit import rate_problem
    from tui.ops import rc

    job, _ = resolve_job(ns)
    if ns.rate is not None and (problem := rate_problem(ns.rate)) is not None:
        print(f"space-mirror: {problem}", file=sys.stderr)
        return exitcodes.USAGE
    try:
        if ns.rate is None:
            print(f"job {job.name}: bandwidth limit {rc.get_bwlimit(job)}")
        else:
            print(f"job {job.name}: bandwidth limit now {rc.set_bwlimit(job, ns.rate)}")
    except rc.RcError as exc:
        print(f"space-mirror: {exc}", file=sys.stderr)
        return exitcodes.UNAVAILABLE
    return exitcodes.OK


def _cmd_dashboard(ns: argparse.Namespace) -> int:
    from tui.config import find_config, job_names

    config = find_config(ns.config)
    # Several jobs and none named: the overview of them all (`--job NAME` opens one).
    if ns.job is None and config is not None and ns.source is None and ns.dest is None:
        names = job_names(config)
        if len(names) > 1:
            jobs: list[tuple[Job, list[str]]] = []
            for name in names:
                ns_one = argparse.Namespace(**{**vars(ns), "job": name})
                one, _ = resolve_job(ns_one)
                jobs.append((one, job_args(ns_one)))
            return _open_dashboard(jobs[0][0], jobs[0][1], jobs)
    job, _ = resolve_job(ns)
    return _open_dashboard(job, job_args(ns))


def _open_dashboard(job: Job, args: list[str], jobs: list[tuple[Job, list[str]]] | None = None
                    ) -> int:
    if not sys.stdout.isatty():
        print("space-mirror: the dashboard needs a terminal; use `space-mirror run`, "
              "`check` or `history` from scripts", file=sys.stderr)
        return exitcodes.USAGE
    from tui.app.app import MirrorApp

    app = MirrorApp(job, args, jobs=jobs or ())
    app.run()
    return app.return_code or 0


def _cmd_fleet(ns: argparse.Namespace) -> int:
    from dataclasses import replace

    from tui.config import find_config, load_fleet
    from tui.fleet_cli import fleet_command

    config = find_config(ns.config)
    settings = load_fleet(config)
    given = {"prometheus": ns.prometheus, "interval": ns.interval,
             "auth_file": Path(ns.auth_file) if ns.auth_file else None,
             "ca_bundle": Path(ns.ca_bundle) if ns.ca_bundle else None}
    settings = replace(settings, **{k: v for k, v in given.items() if v is not None})
    if ns.interval is not None and not ns.interval > 0:
        print("space-mirror: --interval must be a positive number of seconds", file=sys.stderr)
        return exitcodes.USAGE
    if not settings.prometheus:
        print("space-mirror: no Prometheus to read: give --prometheus URL or set "
              "[fleet] prometheus in the config", file=sys.stderr)
        return exitcodes.USAGE
    if ns.json or not sys.stdout.isatty():
        return fleet_command(settings, as_json=ns.json)
    from tui.ops import prometheus

    try:
        client = prometheus.Client(settings)
    except prometheus.PrometheusError as exc:
        print(f"space-mirror: {exc}", file=sys.stderr)
        return 3  # UNKNOWN, as `status` and `fleet --json` answer it
    # The first read starts now, while the screen's modules load.
    reader = prometheus.FleetReader(client, settings.interval)
    from tui.app.fleet_app import run_fleet_app

    opened = run_fleet_app(reader, client.base, settings.interval)
    if opened is None:
        return exitcodes.OK
    ns_job = argparse.Namespace(**{**vars(ns), "job": opened})
    job, _ = resolve_job(ns_job)
    return _open_dashboard(job, job_args(ns_job))


def _cmd_demo(ns: argparse.Namespace) -> int:
    from tui.ops import demo

    base = Path(ns.dir) if ns.dir else demo.default_dir()
    try:
        config = demo.prepare(base, progress=lambda m: print(m, file=sys.stderr, flush=True))
    except OSError as exc:  # UnsafeFile: a folder another user controls, with the fix
        print(f"space-mirror demo: {exc.strerror or exc}", file=sys.stderr)
        return exitcodes.CONFIG
    args = ["--config", str(config), "--job", demo.JOB_NAME]
    ns_job = build_parser(args).parse_args(args)
    job, _ = resolve_job(ns_job)
    if ns.print_only or not sys.stdout.isatty():
        from tui.ops.run.context import RunOptions
        from tui.ops.run.sync import run_job

        return run_job(job, RunOptions(offline=True))
    return _open_dashboard(job, args)
