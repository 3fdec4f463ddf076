"""Notifications through Apprise (ntfy, email, Slack, Matrix, Telegram, … one URL each): the
`Notify` reporter at a run's end, and `status --notify` for a stale job without a run.

What is said is tui/core/notice.py's (from the health model and the run's error tally);
this module decides nothing about content. It keeps the last state it told in a small
root-only file beside the summary (`NAME.notify.json`, through safefile), so a message goes
out once per change of state, sends with a deadline in a thread, never changes an exit code,
and counts its failures in `space_mirror_notify_failures_total` (its own textfile, beside
the job's, rendered by prom.render). URLs are secrets: only their scheme is ever shown.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from tui.config import Job
from tui.core import notice
from tui.core.health import Facts
from tui.core.markers import now
from tui.core.remedy import ErrorCount, error_count
from tui.core.rotation import Coverage
from tui.ops import credentials, safefile
from tui.ops.monitor import prom
from tui.ops.monitor.reporters import Reporter, RunEnd
from tui.ops.run.context import RunContext
from tui.ops.run.journal import Journal

TIMEOUT = 30.0  # at most; a job's hook_timeout may make it shorter
INSTALL = "pip install 'space-mirror[notify]'"


def state_path(job: Job) -> Path:
    return job.summary_path.with_name(f"{job.name}.notify.json")


def metrics_path(job: Job) -> Path:
    prom_path = job.metrics_path
    return prom_path.with_name(f"{prom_path.stem}_notify{prom_path.suffix or '.prom'}")


def missing_apprise() -> str | None:
    """None when Apprise can be imported; else the one line that says how to get it."""
    try:
        import apprise  # noqa: F401
    except ImportError:
        return f"Apprise is not installed, so `notify` sends nothing: {INSTALL}"
    return None


def shown(url: str) -> str:
    """What may be shown of a notification URL: its scheme (`ntfys://…`)."""
    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", url)
    return f"{m[1]}://…" if m else "a notify URL"


def resolve_urls(job: Job) -> tuple[list[str], frozenset[str], list[str]]:
    """(URLs, their secret values, problems): `env:NAME` read from the job's env file."""
    urls: list[str] = []
    problems: list[str] = []
    env_values: dict[str, str] | None = None
    for value in job.notify:
        if not value.startswith("env:"):
            urls.append(value)
            continue
        name = value[4:]
        if env_values is None:
            env_values = {}
            if job.env_file is None:
                problems.append(f"notify {value}: the job has no env_file to read {name} from")
                continue
            try:
                env_values = credentials.load_env_file(job.env_file)
            except credentials.CredentialError as exc:
                problems.append(f"notify {value}: {exc}")
                continue
        url = env_values.get(name, "").strip()
        if not url:
            problems.append(f"notify {value}: {name} is not set in {job.env_file}")
            continue
        urls.append(url)
    return urls, url_secrets(urls), problems


def url_secrets(urls: Sequence[str]) -> frozenset[str]:
    """A notification URL is a credential (tokens sit in its user, path or query): the whole
    URL, and each of its parts long enough to be a token."""
    found: set[str] = set()
    for url in urls:
        found.add(url)
        rest = url.split("://", 1)[-1]
        for part in re.split(r"[/:@?&=,]", rest):
            if len(part) >= 6 and not re.fullmatch(r"[a-z.\-]+|[0-9.]+", part):
                found.add(part)
    return frozenset(found)


def read_state(job: Job) -> dict[str, object]:
    try:
        data = json.loads(safefile.read_private(state_path(job)) or b"{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _remember(job: Job, data: dict[str, object]) -> list[str]:
    warnings: list[str] = []
    try:
        safefile.write_atomic(state_path(job), (json.dumps(data) + "\n").encode(), 0o600)
    except OSError as exc:
        warnings.append(f"could not write {state_path(job)}: {exc.strerror or exc}")
    return warnings + _write_notify_metrics(job, data)


def _write_notify_metrics(job: Job, data: dict[str, object]) -> list[str]:
    """Rewritten at every run's end, news or not: node_exporter's age of the file
    (SpaceMirrorTextfileStale) then says the runner ran, as for the run's own file."""
    failures = data.get("failures_total")
    sent = data.get("last_sent")
    text = metrics_text(job.name, failures if isinstance(failures, int) else 0,
                        sent if isinstance(sent, (int, float)) else None)
    warning = prom.write(metrics_path(job), text)
    if warning:
        return [warning]
    return []


def metrics_text(job: str, failures: int, last_sent: float | None) -> str:
    return prom.render(job, [
        ("notify_failures_total", "Notifications that could not be sent (all time).",
         failures, ""),
        ("notify_last_sent_timestamp_seconds", "When a notification last went out.",
         last_sent, ""),
    ])


def deliver(urls: Sequence[str], title: str, body: str, timeout: float) -> list[str]:
    """Each URL through Apprise, in a thread that gets `timeout` seconds in all; one
    problem per URL that was not sent (named by its scheme only)."""
    import apprise

    # Apprise logs through `logging`, and its lines may carry a URL's host or token.
    log = logging.getLogger("apprise")
    log.propagate = False
    log.handlers = [logging.NullHandler()]
    results: dict[int, str | None] = {}

    def work() -> None:
        for i, url in enumerate(urls):
            ap = apprise.Apprise()
            if not ap.add(url):
                results[i] = f"notify to {shown(url)}: not a URL Apprise knows"
                continue
            try:
                ok = ap.notify(body=body, title=title)
            except Exception as exc:  # a plugin's bug must not cost the run
                results[i] = f"notify to {shown(url)} failed ({type(exc).__name__})"
                continue
            results[i] = None if ok else f"notify to {shown(url)} failed (not delivered)"

    worker = threading.Thread(target=work, name="space-mirror-notify", daemon=True)
    worker.start()
    worker.join(timeout)
    problems = [p for p in results.values() if p]
    for i, url in enumerate(urls):
        if i not in results:
            problems.append(f"notify to {shown(url)}: no answer within {timeout:g}s")
    return problems


def notify(job: Job, facts: Facts, errors: ErrorCount | None = None,
           secrets: frozenset[str] = frozenset(), now: float | None = None) -> list[str]:
    """Tell the job's state if it changed; the warnings to show (never fatal)."""
    if not job.notify:
        return []
    data = read_state(job)
    previous = data.get("state")
    current = notice.notice_state(facts)
    event = notice.decide(previous if isinstance(previous, str) else None, current)
    if event is None:
        return _write_notify_metrics(job, data)
    message = notice.compose(event, facts, job, socket.gethostname(), errors)
    return _tell(job, data, "state", current, message, secrets, now)


def notify_verify(job: Job, run_id: str, differences: int, summary: str,
                  examples: Sequence[tuple[str, str]], remedy_text: str,
                  coverage: Coverage | None, secrets: frozenset[str]) -> list[str]:
    """After a verify: its differences by file with the remedy, once; `recovered` when a
    later verify finds none left."""
    if not job.notify:
        return []
    data = read_state(job)
    previous = data.get("verify_state")
    current = notice.verify_state(differences, coverage)
    event = notice.decide_verify(previous if isinstance(previous, str) else None, current)
    if event is None:
        return []
    message = notice.compose_verify(event, job, socket.gethostname(), summary, examples,
                                    remedy_text, coverage, run_id)
    return _tell(job, data, "verify_state", current, message, secrets, None)


def _tell(job: Job, data: dict[str, object], key: str, current: str | None,
          message: notice.Message, secrets: frozenset[str], now: float | None) -> list[str]:
    """Send `message` unless its event is not in notify_on; remember `current` under `key`
    once told (not told: the next run or status tries again). The warnings to show."""
    when = time.time() if now is None else now
    if message.event not in job.notify_on:  # not told, but remembered: no late message
        data[key] = current
        return _remember(job, data)
    urls, hidden, problems = resolve_urls(job)
    everything = secrets | hidden
    title = credentials.redact(message.title, everything)
    body = credentials.redact(message.body, everything)
    missing = missing_apprise()
    unsent: list[str] = []
    if missing:
        problems.append(missing)
    elif urls:
        unsent = deliver(urls, title, body, min(TIMEOUT, job.hook_timeout or TIMEOUT))
        problems += unsent
    failures = data.get("failures_total")
    data["failures_total"] = (failures if isinstance(failures, int) else 0) + len(problems)
    if urls and not missing and len(unsent) < len(urls):
        data.update({key: current, "last_event": message.event, "last_sent": when})
    warnings = [credentials.redact(p, everything) for p in problems]
    return warnings + _remember(job, data)


def notify_after_run(job: Job, errors: ErrorCount | None = None,
                     secrets: frozenset[str] = frozenset()) -> list[str]:
    """From the job's health once its run ended (its summary is written). The run still
    holds the lock, so the model would see it running: it is not, any more (no process
    probe). The history comes through the runner's own cache, which the summary's reading
    has just brought up to date: not root's ~/.cache, and not a second scan of every log."""
    from tui.ops.health import gather

    facts = dataclasses.replace(gather(job, find_running=lambda _job: None, cache="state"),
                                running=None, no_progress_for=None)
    return notify(job, facts, errors, secrets)


class Notify(Reporter):
    """The reporter: after a real sync's summary is written, its state, if it changed."""

    async def finished(self, ctx: RunContext, journal: Journal, end: RunEnd) -> None:
        if not ctx.job.notify or ctx.mode != "sync":
            return
        warnings = await asyncio.to_thread(notify_after_run, ctx.job, error_count(ctx.errors),
                                           ctx.secrets)
        for warning in warnings:
            journal.warn(f"{warning}; the run's exit code is unchanged")
            journal.append(f"[{now().isoformat(timespec='seconds')}] space-mirror notify: "
                           f"{warning} run={ctx.run_id}")
