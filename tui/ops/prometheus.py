"""A small client of Prometheus's HTTP API for the fleet view: instant queries to
/api/v1/query, one per series name (tui/core/fleet.py's QUERIES), sent side by side.

urllib, a timeout on every request, redirects refused (a redirect would carry the
credentials elsewhere). Credentials come from an env file (python-dotenv, never argv):
PROMETHEUS_BEARER_TOKEN, or PROMETHEUS_USERNAME and PROMETHEUS_PASSWORD. A CA bundle may be
named for a Prometheus behind TLS with a private CA.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tui.config import FleetConfig
from tui.core import fleet
from tui.core.gcpause import gc_paused
from tui.ops import credentials, http

TIMEOUT = 10.0
TOKEN, USER, PASSWORD = "PROMETHEUS_BEARER_TOKEN", "PROMETHEUS_USERNAME", "PROMETHEUS_PASSWORD"


class PrometheusError(Exception):
    """A one-line reason the fleet cannot be read (what is wrong, what to do)."""


def check_url(url: str) -> str:
    """The base URL, or PrometheusError saying what is wrong with it."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PrometheusError(f"prometheus URL {url!r} is not an http(s) address; "
                              "use e.g. http://prometheus:9090")
    if parts.username or parts.password:
        raise PrometheusError("put Prometheus credentials in the [fleet] auth_file "
                              f"({USER}/{PASSWORD} or {TOKEN}), not in the URL")
    return url.rstrip("/")


class Client:
    def __init__(self, settings: FleetConfig, timeout: float = TIMEOUT) -> None:
        self.base = check_url(settings.prometheus or "")
        self.timeout = timeout
        self._headers = {"Accept": "application/json", "User-Agent": "space-mirror-fleet"}
        self._secrets: frozenset[str] = frozenset()
        if settings.auth_file is not None:
            self._auth(settings.auth_file)
        ctx: ssl.SSLContext | None = None
        if self.base.startswith("https:"):
            try:
                ctx = ssl.create_default_context(
                    cafile=str(settings.ca_bundle) if settings.ca_bundle else None)
            except (OSError, ssl.SSLError) as exc:
                raise PrometheusError(f"CA bundle {settings.ca_bundle} cannot be used: "
                                      f"{getattr(exc, 'strerror', None) or exc}") from None
        self._opener = http.opener(ctx)

    def _auth(self, path: Path) -> None:
        try:
            values = credentials.load_env_file(path)
        except credentials.CredentialError as exc:
            raise PrometheusError(f"auth_file: {exc}") from None
        token, user, password = values.get(TOKEN), values.get(USER), values.get(PASSWORD)
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
            self._secrets = frozenset({token})
        elif user and password is not None:
            pair = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {pair}"
            self._secrets = frozenset({password, pair})
        else:
            raise PrometheusError(f"auth_file {path} holds neither {TOKEN} nor {USER} and "
                                  f"{PASSWORD}; add them, or drop auth_file")

    def _get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return self.decode(self._fetch(path, params))

    def _fetch(self, path: str, params: Mapping[str, str] | None = None) -> bytes:
        """The answer's body, unread: PrometheusError when there is none."""
        url = f"{self.base}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        req = urllib.request.Request(url, headers=self._headers)
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                body: bytes = resp.read(64 * 1024 * 1024)
        except urllib.error.HTTPError as exc:
            if http.is_redirect(exc.code):
                where = exc.headers.get("Location", "elsewhere") if exc.headers else "elsewhere"
                raise PrometheusError(f"Prometheus answered with a redirect to {where}; give "
                                      "its final address with --prometheus (redirects are not "
                                      "followed)") from None
            hint = (" (check the auth_file's credentials)" if exc.code in (401, 403) else "")
            raise PrometheusError(f"Prometheus at {self.base} answered HTTP {exc.code} "
                                  f"{exc.reason}{hint}") from None
        except OSError as exc:  # URLError and timeouts are OSErrors
            why = getattr(exc, "reason", None) or exc
            raise PrometheusError(self._redact(f"Prometheus at {self.base} cannot be reached: "
                                               f"{why}; check --prometheus or [fleet] "
                                               "prometheus")) from None
        return body

    def decode(self, body: bytes) -> Any:
        """An answer's `data`; PrometheusError for anything but Prometheus's success."""
        try:
            data = json.loads(body)
        except ValueError:
            raise PrometheusError(f"{self.base} did not answer with Prometheus's JSON; is it "
                                  "Prometheus's address?") from None
        if not isinstance(data, dict) or data.get("status") != "success":
            err = data.get("error") if isinstance(data, dict) else None
            raise PrometheusError(f"Prometheus refused the query: {err or 'no reason given'}")
        return data.get("data")

    def _redact(self, text: str) -> str:
        return credentials.redact(text, self._secrets)

    def query(self, expr: str, at: float | None = None) -> tuple[float, list[fleet.Result]]:
        """An instant query's vector: (evaluation time, [(labels, value, sample time)]),
        evaluated at `at` (Prometheus's clock), else at Prometheus's now."""
        return parse_vector(self.decode(self.query_body(expr, at)))

    def query_body(self, expr: str, at: float | None = None) -> bytes:
        """`query`'s answer as Prometheus sent it, not decoded yet."""
        params = {"query": expr} if at is None else {"query": expr, "time": f"{at:.3f}"}
        return self._fetch("/api/v1/query", params)

    def scrape_interval(self) -> float:
        """The global scrape interval from Prometheus's config (15 s when unknown)."""
        try:
            data = self._get("/api/v1/status/config")
        except PrometheusError:
            return 15.0
        text = data.get("yaml", "") if isinstance(data, dict) else ""
        m = re.search(r"^\s+scrape_interval:\s*(\d+(?:\.\d+)?)(ms|s|m|h)\s*$", text, re.M)
        if not m:
            return 15.0
        return float(m[1]) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m[2]]


def parse_vector(data: Any) -> tuple[float, list[fleet.Result]]:
    """The `data` of an instant query's answer: (evaluation time, [(labels, value, time)]).
    A scalar (`time()`) gives its value as the time and no rows."""
    out: list[fleet.Result] = []
    now = time.time()
    if not isinstance(data, dict):
        return now, out
    result = data.get("result")
    if data.get("resultType") == "scalar" and isinstance(result, list):
        return float(result[1]), out
    for item in result if isinstance(result, list) else ():
        try:
            ts, value = item["value"]
            now = float(ts)
            out.append((item.get("metric", {}), float(value), float(ts)))
        except (KeyError, TypeError, ValueError):
            continue
    return now, out


def read_fleet(client: Client, scrape_interval: float,
               queries: Sequence[str] = fleet.QUERIES) -> fleet.Fleet:
    """Every query side by side (one per series name, never one per host), then the rows.
    All of them at one instant, Prometheus's own now: queries evaluated a scrape apart
    disagree (seen: a host's rows from before its failed scrape beside `up == 0` from
    after it, so a host reported down still had rows)."""
    at, _ = client.query("time()")
    with ThreadPoolExecutor(max_workers=8) as pool:
        bodies = list(pool.map(lambda q: client.query_body(q, at), queries))
    return fleet_from(client, dict(zip(queries, bodies, strict=True)), at, scrape_interval)


def fleet_from(client: Client, bodies: Mapping[str, bytes], at: float,
               scrape_interval: float) -> fleet.Fleet:
    """The fleet from each query's answer, as Prometheus sent it (`at`: when they were
    asked for, Prometheus's clock). The cycle collector waits meanwhile (core/gcpause): a
    thousand rows' answers are ~1.6 MB of JSON, ~130,000 objects and no cycle among them,
    and its passes over them (and over the screen's objects) took ~18 ms of a ~45 ms
    refresh (median, 1,000 rows)."""
    with gc_paused():
        got = {q: parse_vector(client.decode(body)) for q, body in bodies.items()}
        # Prometheus's clock, from its answers' evaluation times (ages never mix two clocks).
        now = max((t for t, rows in got.values() if rows), default=at)
        return fleet.build_rows({q: rows for q, (_, rows) in got.items()}, now,
                                scrape_interval)


class FleetReader:
    """read_fleet() for the screen, with its first answer fetched in the background from
    the moment it is made (the screen's imports and first paint happen meanwhile), and the
    scrape interval asked once, alongside. Call it for the fleet; errors are raised then."""

    def __init__(self, client: Client, interval: float | None) -> None:
        self.client = client
        self.interval = interval
        first: Future[fleet.Fleet] = Future()
        self._first: Future[fleet.Fleet] | None = first
        threading.Thread(target=self._prefetch, args=(first,), daemon=True).start()

    def _prefetch(self, first: Future[fleet.Fleet]) -> None:
        try:
            if self.interval is None:
                self.interval = self.client.scrape_interval()
            first.set_result(read_fleet(self.client, self.interval))
        except BaseException as exc:  # handed to whoever reads the first answer
            first.set_exception(exc)

    def __call__(self) -> fleet.Fleet:
        first, self._first = self._first, None
        if first is not None:
            return first.result()
        return read_fleet(self.client, self.interval or 15.0)


def local_hosts() -> frozenset[str]:
    """Names this machine answers to: Enter on one of their rows opens the dashboard here."""
    names = {"localhost", "127.0.0.1", "::1", socket.gethostname()}
    try:
        names.add(socket.getfqdn())
    except OSError:
        pass
    return frozenset(n.lower() for n in names)
