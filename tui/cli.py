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
    space-mirror demo                          the dashboard on a built-in demo job

Usage errors exit 64 (not argparse's 2, which is rclone's "syntax error").
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from tui import __version__
from tui.config import ConfigError, Job, Overrides, find_config, job_names, load_job
from tui.core import exitcodes


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
}


def _command(sub: argparse._SubParsersAction[_Parser], name: str, common: _Parser,
             help: str) -> _Parser:
    description, codes = COMMANDS[name]
    return sub.add_parser(name, parents=[common], help=help, description=description,
                          epilog=exitcodes.codes_text(codes),
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="space-mirror", parents=[_job_options(False)],
                     description="Runner and terminal dashboard for rclone mirror jobs. "
                     "With no command, it opens the dashboard (every job of the config "
                     "when it has several); each command below runs without it.")
    parser.add_argument("--version", action="version", version=f"space-mirror {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser,
                                title="commands (none: open the dashboard)")
    common = _job_options(True)

    run = _command(sub, "run", common, help="run the sync (systemd ExecStart)")
    run.add_argument("--dry-run", action="store_true",
                     help="show what would change; change nothing")
    run.add_argument("--offline", action="store_true",
                     help="skip the destination check in the pre-flight")
    run.add_argument("--force", action="store_true",
                     help="override the source sanity guards (logged in the start marker)")
    run.add_argument("--allow-deletes", type=int, metavar="N",
                     help="allow up to N deletes even above the delete guard")
    run.add_argument("--started-by", choices=("dashboard", "cli", "timer"), help=argparse.SUPPRESS)

    check = _command(sub, "check", common, help="pre-flight checks (exit 0 or 78)")
    check.add_argument("--offline", action="store_true", help="skip the destination check")

    hist = _command(sub, "history", common, help="past runs, from the log files")
    hist.add_argument("--json", action="store_true", help="machine-readable output")
    hist.add_argument("--limit", type=int, metavar="N", help="only the last N runs")
    hist.add_argument("--outcome", metavar="OUTCOME[,…]",
                      help="only runs with this outcome: success, failed, aborted, killed, "
                           "incomplete, running, or problem (all but success and running)")
    hist.add_argument("--since", metavar="DATE", help="only runs started at or after DATE "
                      "(ISO: 2026-11-25 or 2026-11-25T03:00[+01:00]; no offset: local time)")
    hist.add_argument("--until", metavar="DATE",
                      help="only runs started before the end of DATE (a date: the whole day)")
    hist.add_argument("--search", metavar="TEXT",
                      help="only runs whose id, reason, failed files or errors hold every word")

    plan = _command(sub, "plan", common, help="dry-run plan: copies, deletes, renames")
    plan.add_argument("--json", action="store_true", help="machine-readable output")
    plan.add_argument("--offline", action="store_true",
                      help="skip the destination check in the pre-flight")
    plan.add_argument("--force", action="store_true",
                      help="override the sentinel and ratio source guards (docs/safety.md)")

    status = _command(sub, "status", common,
                      help="one-line health (exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)")
    status.add_argument("--json", action="store_true", help="machine-readable output")

    unit = _command(sub, "unit", common, help="print a systemd service and timer")
    unit.add_argument("--on-calendar", default="*-*-* 03:00:00", help="timer schedule")
    unit.add_argument("--install", action="store_true",
                      help="write, verify and enable the units; disable the old wrapper's "
                      "unit after asking (docs/install.md)")
    unit.add_argument("--yes", action="store_true",
                      help="with --install: disable the old unit without asking")
    unit.add_argument("--print-steps", action="store_true",
                      help="with --install: print the systemctl steps instead of running them "
                      "(an image being built); the default when systemd is not running")
    unit.add_argument("--unit-dir", metavar="DIR", default="/etc/systemd/system",
                      help="with --install: where the units go (default: %(default)s)")
    unit.add_argument("--verify", metavar="WEEKDAY",
                      help="also a weekly `verify` service and timer on this day (e.g. Sun)")
    unit.add_argument("--verify-sample", type=float, metavar="PCT",
                      help="the sample the weekly verify checks (default 5)")

    bw = _command(sub, "bwlimit", common,
                  help="show or change the bandwidth limit of the running sync")
    bw.add_argument("rate", nargs="?", metavar="RATE|off",
                    help="512k, 10M, 10M:1M (upload:download) or off; none: show the limit")

    ver = _command(sub, "verify", common,
                   help="rclone check --one-way of a random sample of the source's files")
    ver.add_argument("--sample", type=float, metavar="PCT", default=None,
                     help="percentage of the source's files to check (default 5)")
    ver.add_argument("--download", action="store_true",
                     help="compare the bytes (downloads the sample) instead of the hashes the "
                          "destination reports")
    ver.add_argument("--seed", type=int, help=argparse.SUPPRESS)  # a repeatable sample
    ver.add_argument("--started-by", choices=("dashboard", "cli", "timer"), help=argparse.SUPPRESS)

    demo = _command(sub, "demo", common, help="dashboard on the built-in demo job")
    demo.add_argument("--dir", metavar="DIR", help="where the demo keeps its files")
    demo.add_argument("--print", dest="print_only", action="store_true",
                      help="run one demo sync and print, without the dashboard")
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
    config = find_config(ns.config)
    overrides = Overrides(source=ns.source, destination=ns.dest, log_file=ns.log,
                          env_file=ns.env_file, rclone=ns.rclone, require_mount=ns.require_mount)
    return load_job(config, ns.job, overrides), config


def main(argv: Sequence[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    try:
        return _dispatch(ns)
    except ConfigError as exc:
        print(f"space-mirror: {exc}", file=sys.stderr)
        return exitcodes.USAGE
    except KeyboardInterrupt:
        return exitcodes.signal_exit_code(2)
    except BrokenPipeError:
        # `space-mirror history | head`: the reader left; that is not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exitcodes.OK
    except Exception as exc:
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
    from tui.ops import credentials, preflight

    job, _ = resolve_job(ns)
    results, ctx = preflight.run_checks(job, offline=ns.offline)
    print(f"space-mirror check: job {job.name!r} ({job.source} → "
          f"{credentials.display_remote(job.destination)})")
    for r in results:
        print(credentials.redact(r.line(), ctx.secrets))
    bad: list[object] = list(preflight.failed(results))
    if not bad:
        # The source guards the runner applies next (docs/safety.md).
        from tui.ops.guards import source

        verdict = source.check_source(job, force=False)
        for g in verdict.guards:
            print(g.line())
        bad += verdict.refused
    if bad:
        print(f"{len(bad)} check(s) failed; nothing would start.")
        return exitcodes.CONFIG
    print("All checks passed.")
    return exitcodes.OK


def _cmd_history(ns: argparse.Namespace) -> int:
    from tui.core import runfilter
    from tui.history_cli import history_command

    try:
        where = runfilter.build(ns.outcome, ns.since, ns.until, ns.search, zone=None)
    except runfilter.FilterError as exc:
        print(f"space-mirror: {exc}", file=sys.stderr)
        return exitcodes.USAGE
    job, _ = resolve_job(ns)
    return history_command(job, as_json=ns.json, limit=ns.limit, where=where)


def _cmd_plan(ns: argparse.Namespace) -> int:
    from tui.plan_cli import plan_command

    job, _ = resolve_job(ns)
    return plan_command(job, as_json=ns.json, offline=ns.offline, force=ns.force)


def _cmd_status(ns: argparse.Namespace) -> int:
    from tui.status_cli import status_command, unknown

    try:
        job, _ = resolve_job(ns)
        return status_command(job, as_json=ns.json)
    except ConfigError as exc:
        return unknown(str(exc), ns.json)
    except Exception as exc:  # a monitoring check must answer 3, never a traceback
        return unknown(f"internal error: {type(exc).__name__}: {exc}", ns.json)


def _cmd_unit(ns: argparse.Namespace) -> int:
    from tui.ops.systemd import service_unit, timer_unit

    job, config = resolve_job(ns)
    verify_units: tuple[str, str] | None = None
    if ns.verify is not None or ns.verify_sample is not None:
        from tui.ops.systemd import verify_units as make_verify_units

        problem, verify_units = make_verify_units(job, config, ns.verify, ns.verify_sample)
        if problem is not None:
            print(f"space-mirror: {problem}", file=sys.stderr)
            return exitcodes.USAGE
    if ns.install:
        from tui.ops.unit_install import Installer, ask_tty

        installer = Installer(Path(ns.unit_dir), say=lambda m: print(m, flush=True),
                              ask=(lambda _q: True) if ns.yes else ask_tty,
                              systemd_running=False if ns.print_steps else None)
        name = f"space-mirror-{job.name}"
        more = {f"{name}-verify": verify_units} if verify_units is not None else None
        return installer.install(name, service_unit(job, config),
                                 timer_unit(job, ns.on_calendar), more)
    print(f"# /etc/systemd/system/space-mirror-{job.name}.service")
    print(service_unit(job, config))
    print(f"# /etc/systemd/system/space-mirror-{job.name}.timer")
    print(timer_unit(job, ns.on_calendar))
    if verify_units is not None:
        print(f"# /etc/systemd/system/space-mirror-{job.name}-verify.service")
        print(verify_units[0])
        print(f"# /etc/systemd/system/space-mirror-{job.name}-verify.timer")
        print(verify_units[1])
    return exitcodes.OK


def _cmd_verify(ns: argparse.Namespace) -> int:
    from tui.core.verify import DEFAULT_PERCENT, percent_problem
    from tui.ops.run.context import started_by_default
    from tui.ops.verify import VerifyOptions, verify_job

    percent = DEFAULT_PERCENT if ns.sample is None else ns.sample
    if (problem := percent_problem(percent)) is not None:
        print(f"space-mirror: {problem}", file=sys.stderr)
        return exitcodes.USAGE
    job, _ = resolve_job(ns)
    return verify_job(job, VerifyOptions(
        percent=percent, seed=ns.seed, download=ns.download,
        started_by=ns.started_by or started_by_default(os.environ)))


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


def _cmd_demo(ns: argparse.Namespace) -> int:
    from tui.ops import demo

    base = Path(ns.dir) if ns.dir else demo.default_dir()
    config = demo.prepare(base, progress=lambda m: print(m, file=sys.stderr, flush=True))
    args = ["--config", str(config), "--job", demo.JOB_NAME]
    ns_job = build_parser().parse_args(args)
    job, _ = resolve_job(ns_job)
    if ns.print_only or not sys.stdout.isatty():
        from tui.ops.run.context import RunOptions
        from tui.ops.run.sync import run_job

        return run_job(job, RunOptions(offline=True))
    return _open_dashboard(job, args)


def entry() -> None:
    raise SystemExit(main())
