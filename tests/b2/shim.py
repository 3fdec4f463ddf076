"""A loopback B2: an HTTP server on 127.0.0.1 that speaks B2's native API (the calls rclone
1.75.2's `b2` backend makes) in front of b2sdk's RawSimulator, the in-memory B2 that
Backblaze's own SDK tests against.

rclone is pointed at it with RCLONE_B2_ENDPOINT=http://127.0.0.1:PORT. It calls
`GET /b2api/v4/b2_authorize_account`, then `POST /b2api/v1/b2_*` for everything else;
uploads go to the uploadUrl we hand out, downloads through `b2_download_file_by_id`, and
existence checks use `HEAD /file/<bucket>/<name>`.

Where the simulator needs help (each fixed here, in the shim, not by editing b2sdk):
- `copy_file` never registers the new file id, so deleting a server-side copy 404'd;
- Go sends `X-Bz-Info-Src_last_modified_millis`: info keys are lowercased, as B2 does;
- only 200 upload URLs per bucket, a 200-byte simple-copy limit: both lifted;
- upload timestamps were 5000-9999 ms after 1970: a real clock (plus the fake clock's
  offset), strictly increasing;
- file ids counted down and were compared as strings: fixed-width ids, so both orders agree;
- `list_file_names` / `list_file_versions` have no `delimiter`: folded and paged here;
- `list_file_names` lets an unfinished large file hide the finished version under it;
- lifecycle rules are stored, never applied: `apply_lifecycle` applies them on a fake clock;
- its API URL is hard-coded and checked on every call: set to the shim's own.

Control endpoints (JSON, under /_shim/): reset, inject (an error per operation: status,
code, count, Retry-After), expire (every token), dump (every file version: hidden,
unfinished large files), lifecycle (advance the fake clock and apply the rules), stall
(stop answering), delay (slow an operation down), key (the key's capabilities), calls (the
operations rclone made, in order). Tests use the B2Shim methods of the same names.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import threading
import time
import traceback
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from b2sdk._internal import exception as b2exc
from b2sdk._internal.raw_simulator import (
    BucketSimulator,
    FileSimulator,
    KeySimulator,
    RawSimulator,
)
from b2sdk.v2 import ALL_CAPABILITIES, MetadataDirectiveMode

BUCKET = "miket-space-mirror"
DAY_MS = 86_400_000
PART_SIZE = 5 * 1024 * 1024  # B2's absolute minimum part size, and rclone's minimum chunk
# Capabilities of a key that may do everything a mirror needs (B2's "Read and Write").
MIRROR_CAPABILITIES = ["listBuckets", "listFiles", "readFiles", "shareFiles", "writeFiles",
                       "deleteFiles", "readBuckets", "writeBuckets"]


class _Clock:
    """Upload timestamps: milliseconds since 1970 from the real clock plus a fake offset
    (the lifecycle's days passing), strictly increasing."""

    def __init__(self) -> None:
        self.offset_ms = 0
        self._last = 0
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            self._last = max(self._last + 1, int(time.time() * 1000) + self.offset_ms)
            return self._last

    def peek_ms(self) -> int:
        return int(time.time() * 1000) + self.offset_ms


class _ShimBucket(BucketSimulator):
    MAX_SIMPLE_COPY_SIZE = 5 * 10**9  # B2's own limit for b2_copy_file

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.upload_url_counter = itertools.count()
        # Newest first when sorted, as strings or as integers alike: fixed width, counting down.
        self.file_id_counter = iter(range(10**15 - 1, 0, -1))
        self.upload_timestamp_counter = iter(self.api.clock.now_ms, None)

    def _next_file_id(self) -> str:
        return f"{next(self.file_id_counter):016d}"


class _ShimSimulator(RawSimulator):
    BUCKET_SIMULATOR_CLASS = _ShimBucket

    def __init__(self, api_url: str, clock: _Clock) -> None:
        super().__init__()
        self.API_URL = api_url
        self.DOWNLOAD_URL = api_url
        self.clock = clock


@dataclass
class Injection:
    op: str  # "b2_upload_file", "b2_list_file_names", "download", "*", …
    status: int
    code: str
    count: int
    retry_after: int | None = None
    message: str = "injected by the test"


@dataclass
class _State:
    sim: _ShimSimulator
    account_id: str
    bucket_id: str
    injections: list[Injection] = field(default_factory=list)
    delays: dict[str, tuple[float, int]] = field(default_factory=dict)  # op → (s, after)
    calls: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # time.monotonic() of each call
    errors: list[str] = field(default_factory=list)  # the shim's own failures (a test bug)
    max_page: int = 10_000  # a smaller page makes every listing page (B2 allows 10000)
    stall_after: str | None = None  # the first call of this operation starts a stall


_ERRORS: tuple[tuple[type[BaseException], int, str], ...] = (
    (b2exc.FileNotPresent, 404, "not_found"),
    (b2exc.NonExistentBucket, 400, "bad_request"),
    (b2exc.DuplicateBucketName, 400, "duplicate_bucket_name"),
    (b2exc.MissingPart, 400, "bad_request"),
    (b2exc.ChecksumMismatch, 400, "bad_request"),
    (b2exc.FileSha1Mismatch, 400, "bad_request"),
    (b2exc.PartSha1Mismatch, 400, "bad_request"),
    (b2exc.AccessDenied, 401, "access_denied"),
    (KeyError, 400, "bad_request"),
)


class B2Shim:
    """The server. `url` is what RCLONE_B2_ENDPOINT gets; `key_id`/`key` the credentials."""

    def __init__(self, key_id: str, key: str, bucket: str = BUCKET) -> None:
        self.key_id, self.key, self.bucket = key_id, key, bucket
        self._lock = threading.RLock()
        self._stalled = threading.Event()
        self._released = threading.Event()
        self.clock = _Clock()
        self._delay_gen = 0  # changed by delay() and reset(): wakes and drops delayed calls
        shim = self

        class Handler(_Handler):
            owner = shim

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port: int = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.state = self._fresh()
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    # -- state ------------------------------------------------------------------------------

    def _fresh(self) -> _State:
        self.clock = _Clock()
        sim = _ShimSimulator(self.url, self.clock)
        account_id, master = sim.create_account()
        token = sim.authorize_account("", account_id, master)["authorizationToken"]
        bucket = sim.create_bucket(sim.API_URL, token, account_id, self.bucket, "allPrivate")
        sim.key_id_to_key[self.key_id] = KeySimulator(
            account_id=account_id, name="mirror", application_key_id=self.key_id, key=self.key,
            capabilities=list(MIRROR_CAPABILITIES), expiration_timestamp_or_none=None,
            buckets_or_none=None, name_prefix_or_none=None)
        return _State(sim, account_id, bucket["bucketId"])

    def reset(self) -> None:
        """A new, empty bucket; no injections, delays, stall or recorded calls."""
        self.unstall()
        with self._lock:
            self._delay_gen += 1
            self.state = self._fresh()

    def close(self) -> None:
        self.unstall()
        self.server.shutdown()
        self.server.server_close()

    @property
    def bucket_sim(self) -> BucketSimulator:
        return self.state.sim.bucket_id_to_bucket[self.state.bucket_id]

    # -- controls (also reachable over HTTP under /_shim/) ----------------------------------

    def inject(self, op: str, status: int, code: str, count: int = 1,
               retry_after: int | None = None, message: str = "injected by the test") -> None:
        with self._lock:
            self.state.injections.append(Injection(op, status, code, count, retry_after, message))

    def delay(self, op: str, seconds: float, after: int = 0) -> None:
        """Hold each call of `op` (or "*") for `seconds` before answering it, except the
        next `after` ones."""
        with self._lock:
            self._delay_gen += 1  # calls held by an earlier delay are dropped, not stored
            self.state.delays[op] = (seconds, after + self.state.calls.count(op))

    def expire_tokens(self) -> None:
        with self._lock:
            sim = self.state.sim
            sim.expired_auth_tokens.update(sim.auth_token_to_key)

    def set_capabilities(self, capabilities: list[str]) -> None:
        with self._lock:
            self.state.sim.key_id_to_key[self.key_id].capabilities = list(capabilities)

    def stall(self, at: str | None = None) -> None:
        """Stop answering: every B2 request from now on (or from the first call of operation
        `at` on, that one included) hangs until unstall() or reset()."""
        if at is not None:
            with self._lock:
                self.state.stall_after = at
            return
        self._released.clear()
        self._stalled.set()

    def unstall(self) -> None:
        self._stalled.clear()
        self._released.set()

    def calls(self) -> list[str]:
        with self._lock:
            return list(self.state.calls)

    def call_times(self, op: str) -> list[float]:
        """When each call of `op` arrived (time.monotonic())."""
        with self._lock:
            return [t for c, t in zip(self.state.calls, self.state.times, strict=True)
                    if c == op]

    def dump(self) -> list[dict[str, Any]]:
        """Every file version in the bucket, newest first per name: live files, old versions,
        hide markers and unfinished large files (action "start", size = parts so far)."""
        with self._lock:
            out = []
            for (name, file_id), f in sorted(self.bucket_sim.file_name_and_id_to_file.items()):
                out.append({"fileName": name, "fileId": file_id, "action": f.action,
                            "size": _stored_size(f), "uploadTimestamp": f.upload_timestamp})
            return out

    def lifecycle_rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.bucket_sim.lifecycle_rules)

    def set_lifecycle_rules(self, rules: list[dict[str, Any]]) -> None:
        with self._lock:
            self.bucket_sim.lifecycle_rules = list(rules)

    def advance_days(self, days: float) -> list[str]:
        """Move the fake clock `days` ahead and apply the bucket's lifecycle rules as B2 does
        once a day. Returns what was removed ("delete NAME ID", "cancel NAME ID")."""
        with self._lock:
            self.clock.offset_ms += int(days * DAY_MS)
            return _apply_lifecycle(self.bucket_sim, self.clock.peek_ms())

    # -- serving ----------------------------------------------------------------------------

    def _gate(self) -> None:
        """Hold a call while B2 is stalled. Once released it is dropped, never stored: its
        client has given up (a timeout, or the watchdog killed it) long before."""
        if self._stalled.is_set():
            self._released.wait()
            raise _error(503, "service_unavailable", "dropped: B2 was stalled")


def _stored_size(f: FileSimulator) -> int:
    if f.action == "start":
        return sum(p.content_length for p in f.parts if p is not None)
    return len(f.data_bytes) if f.data_bytes is not None else 0


def _apply_lifecycle(bucket: BucketSimulator, now_ms: int) -> list[str]:
    """B2's lifecycle rules: a version that a newer version (or a hide marker) replaced is
    deleted daysFromHidingToDeleting days after it was replaced; a hide marker that is left
    alone goes too; an unfinished large file is cancelled daysFromStartingToCanceling… days
    after it started. (daysFromUploadingToHiding is not simulated.)"""
    removed: list[str] = []
    by_name: dict[str, list[FileSimulator]] = {}
    for (name, _fid), f in sorted(bucket.file_name_and_id_to_file.items()):
        by_name.setdefault(name, []).append(f)  # newest first (ids count down)
    for rule in bucket.lifecycle_rules:
        prefix = rule.get("fileNamePrefix") or ""
        hide_days = rule.get("daysFromHidingToDeleting")
        cancel_days = rule.get("daysFromStartingToCancelingUnfinishedLargeFiles")
        for name, versions in by_name.items():
            if not name.startswith(prefix):
                continue
            finished = [v for v in versions if v.action != "start"]
            if hide_days is not None:
                for newer, older in itertools.pairwise(finished):
                    if (older.file_id in bucket.file_id_to_file
                            and now_ms - newer.upload_timestamp >= hide_days * DAY_MS):
                        bucket.delete_file_version(None, older.file_id, name)
                        removed.append(f"delete {name} {older.file_id}")
                alive = [v for v in finished if v.file_id in bucket.file_id_to_file]
                if (len(alive) == 1 and alive[0].action == "hide"
                        and now_ms - alive[0].upload_timestamp >= hide_days * DAY_MS):
                    bucket.delete_file_version(None, alive[0].file_id, name)
                    removed.append(f"delete {name} {alive[0].file_id}")
            if cancel_days is not None:
                for v in versions:
                    if v.action == "start" and now_ms - v.upload_timestamp >= cancel_days * DAY_MS:
                        bucket.cancel_large_file(v.file_id)
                        removed.append(f"cancel {name} {v.file_id}")
    return removed


class _Reply(Exception):
    """An answer other than 200 JSON: an error, or a download."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _error(status: int, code: str, message: str, retry_after: int | None = None) -> _Reply:
    body = json.dumps({"status": status, "code": code, "message": message}).encode()
    headers = {"Content-Type": "application/json"}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return _Reply(status, body, headers)


class _Handler(BaseHTTPRequestHandler):
    owner: B2Shim
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing ---------------------------------------------------------------------------

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status: int, body: bytes, headers: dict[str, str],
              head_only: bool = False) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head_only:
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    def _json(self, obj: Any) -> None:
        self._send(200, json.dumps(obj, default=_jsonable).encode(),
                   {"Content-Type": "application/json"})

    def do_GET(self) -> None:
        self._route("GET")

    def do_HEAD(self) -> None:
        self._route("HEAD")

    def do_POST(self) -> None:
        self._route("POST")

    def _route(self, method: str) -> None:
        shim = self.owner
        path = urllib.parse.urlsplit(self.path).path
        body = self._body() if method == "POST" else b""
        if path.startswith("/_shim/"):
            self._control(path[len("/_shim/"):], body)
            return
        op = _op_name(method, path)
        with shim._lock:
            if shim.state.stall_after == op:
                shim.state.stall_after = None
                shim.stall()
        try:
            shim._gate()
            with shim._lock:
                state = shim.state
                state.calls.append(op)
                state.times.append(time.monotonic())
                injected = _take_injection(state, op)
                seconds, after = state.delays.get(op) or state.delays.get("*") or (0.0, 0)
                delay = seconds if state.calls.count(op) > after else 0.0
            if delay:
                gen, end = shim._delay_gen, time.monotonic() + delay
                while time.monotonic() < end and shim._delay_gen == gen:
                    time.sleep(0.05)
                if shim._delay_gen != gen:  # its client was killed meanwhile: never stored
                    raise _error(503, "service_unavailable", "dropped by the test")
            if injected is not None:
                raise _error(injected.status, injected.code, injected.message,
                             injected.retry_after)
            with shim._lock:
                result = self._dispatch(shim.state, method, path, op, body)
            self._json(result)
        except _Reply as reply:
            self._send(reply.status, reply.body, reply.headers, head_only=method == "HEAD")
        except b2exc.B2Error as exc:
            reply = _b2_error(exc)
            self._send(reply.status, reply.body, reply.headers, head_only=method == "HEAD")
        except Exception as exc:
            status, code = next(((s, c) for t, s, c in _ERRORS if isinstance(exc, t)),
                                (500, "internal_error"))
            if status == 500:
                with shim._lock:
                    shim.state.errors.append(f"{op}: {traceback.format_exc()}")
            reply = _error(status, code, f"{type(exc).__name__}: {exc}")
            self._send(reply.status, reply.body, reply.headers, head_only=method == "HEAD")

    def _control(self, name: str, body: bytes) -> None:
        shim = self.owner
        args = json.loads(body or b"{}")
        actions: dict[str, Callable[[], Any]] = {
            "reset": shim.reset,
            "inject": lambda: shim.inject(**args),
            "delay": lambda: shim.delay(**args),
            "expire": shim.expire_tokens,
            "stall": lambda: shim.stall(args.get("at")),
            "unstall": shim.unstall,
            "dump": shim.dump,
            "calls": shim.calls,
            "key": lambda: shim.set_capabilities(args["capabilities"]),
            "lifecycle": lambda: shim.advance_days(float(args.get("days", 0))),
        }
        if name not in actions:
            self._send(404, b"unknown control", {})
            return
        self._json(actions[name]())

    # -- B2 ---------------------------------------------------------------------------------

    def _dispatch(self, state: _State, method: str, path: str, op: str, body: bytes) -> Any:
        sim = state.sim
        api = sim.API_URL
        if op == "b2_authorize_account":
            return self._authorize(sim)
        token = self.headers.get("Authorization", "")
        if token not in sim.auth_token_to_key and not token.startswith("https://upload."):
            raise _error(401, "bad_auth_token", "Invalid authorization token")
        if op == "b2_upload_file":
            return self._upload_file(sim, token, body)
        if op == "b2_upload_part":
            return self._upload_part(sim, token, body)
        if op in ("download", "head_file", "download_by_name"):
            return self._download(state, method, path, token)
        req: dict[str, Any] = json.loads(body or b"{}")
        account = state.account_id
        if op == "b2_list_buckets":
            return sim.list_buckets(api, token, req.get("accountId", account),
                                    req.get("bucketId"), req.get("bucketName"))
        if op == "b2_create_bucket":
            return sim.create_bucket(api, token, account, req["bucketName"],
                                     req.get("bucketType", "allPrivate"),
                                     lifecycle_rules=req.get("lifecycleRules"))
        if op == "b2_update_bucket":
            bucket = sim._get_bucket_by_id(req["bucketId"])
            sim._assert_account_auth(api, token, account, "writeBuckets")
            if req.get("lifecycleRules") is not None:
                bucket.lifecycle_rules = req["lifecycleRules"]
                bucket.revision += 1
            return bucket.bucket_dict(token)
        if op == "b2_list_file_names":
            return _list(sim, token, req, False, state.max_page)
        if op == "b2_list_file_versions":
            return _list(sim, token, req, True, state.max_page)
        if op == "b2_get_upload_url":
            answer = sim.get_upload_url(api, token, req["bucketId"])
            return {**answer, "uploadUrl": f"{api}/upload"}
        if op == "b2_start_large_file":
            return sim.start_large_file(api, token, req["bucketId"], req["fileName"],
                                        req.get("contentType") or "application/octet-stream",
                                        _lower_info(req.get("fileInfo") or {}))
        if op == "b2_get_upload_part_url":
            answer = sim.get_upload_part_url(api, token, req["fileId"])
            return {**answer, "uploadUrl": f"{api}/upload_part"}
        if op == "b2_finish_large_file":
            answer = sim.finish_large_file(api, token, req["fileId"], req["partSha1Array"])
            return _with_size(answer)
        if op == "b2_cancel_large_file":
            return sim.cancel_large_file(api, token, req["fileId"])
        if op == "b2_list_unfinished_large_files":
            return sim.list_unfinished_large_files(api, token, req["bucketId"],
                                                   req.get("startFileId"),
                                                   req.get("maxFileCount"), req.get("namePrefix"))
        if op == "b2_list_parts":
            return sim.list_parts(api, token, req["fileId"], req.get("startPartNumber"),
                                  req.get("maxPartCount"))
        if op == "b2_copy_file":
            return self._copy_file(sim, token, req)
        if op == "b2_copy_part":
            return sim.copy_part(api, token, req["sourceFileId"], req["largeFileId"],
                                 req["partNumber"], _range(req.get("range")))
        if op == "b2_hide_file":
            return _with_size(sim.hide_file(api, token, req["bucketId"], req["fileName"]))
        if op == "b2_delete_file_version":
            return sim.delete_file_version(api, token, req["fileId"], req["fileName"])
        if op == "b2_get_file_info":
            return _with_size(sim.get_file_info_by_id(api, token, req["fileId"]))
        raise _error(400, "bad_request", f"the shim does not speak {op}")

    def _authorize(self, sim: _ShimSimulator) -> Any:
        auth = self.headers.get("Authorization", "")
        try:
            key_id, _, key = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
        except ValueError:
            raise _error(401, "bad_auth_token", "malformed Authorization header") from None
        try:
            answer = sim.authorize_account("", key_id, key)
        except b2exc.Unauthorized:
            raise _error(401, "unauthorized", "invalid application key") from None
        storage = answer["apiInfo"]["storageApi"]
        storage.update(apiUrl=sim.API_URL, downloadUrl=sim.DOWNLOAD_URL,
                       recommendedPartSize=PART_SIZE, absoluteMinimumPartSize=PART_SIZE,
                       minimumPartSize=PART_SIZE)
        return answer

    def _upload_file(self, sim: _ShimSimulator, token: str, body: bytes) -> Any:
        h = self.headers
        name = urllib.parse.unquote(h["X-Bz-File-Name"])
        info = {k[len("x-bz-info-"):].lower(): urllib.parse.unquote(v)
                for k, v in h.items() if k.lower().startswith("x-bz-info-")}
        answer = sim.upload_file(token, token, name, len(body),
                                 h.get("Content-Type") or "application/octet-stream",
                                 h["X-Bz-Content-Sha1"], info, io.BytesIO(body))
        return _with_size(answer)

    def _upload_part(self, sim: _ShimSimulator, token: str, body: bytes) -> Any:
        h = self.headers
        return sim.upload_part(token, token, int(h["X-Bz-Part-Number"]), len(body),
                               h["X-Bz-Content-Sha1"], io.BytesIO(body))

    def _copy_file(self, sim: _ShimSimulator, token: str, req: dict[str, Any]) -> Any:
        directive = req.get("metadataDirective")
        mode = MetadataDirectiveMode[directive] if directive else None
        info = _lower_info(req["fileInfo"]) if req.get("fileInfo") is not None else None
        answer = sim.copy_file(sim.API_URL, token, req["sourceFileId"], req["fileName"],
                               _range(req.get("range")), mode,
                               req.get("contentType") if mode is not None else None,
                               info, req.get("destinationBucketId"))
        # The simulator forgets the new id: register it, or its delete 404s.
        sim.file_id_to_bucket_id[answer["fileId"]] = sim.file_id_to_bucket_id[req["sourceFileId"]]
        return _with_size(answer)

    def _download(self, state: _State, method: str, path: str, token: str) -> Any:
        sim = state.sim
        if path.startswith("/file/"):
            bucket_name, _, name = path[len("/file/"):].partition("/")
            bucket = sim._get_bucket_by_name(urllib.parse.unquote(bucket_name))
            name = urllib.parse.unquote(name)
            sim._assert_account_auth(sim.API_URL, token, bucket.account_id, "readFiles")
            visible = [f for (n, _i), f in sorted(bucket.file_name_and_id_to_file.items())
                       if n == name and f.action != "start"]
            if not visible or visible[0].action != "upload":
                raise _error(404, "not_found", f"File with such name does not exist: {name}")
            f = visible[0]
        else:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            file_id = query.get("fileId", [""])[0]
            bucket_id = sim.file_id_to_bucket_id.get(file_id)
            if bucket_id is None:
                raise _error(404, "not_found", f"no such file id {file_id}")
            bucket = sim._get_bucket_by_id(bucket_id)
            sim._assert_account_auth(sim.API_URL, token, bucket.account_id, "readFiles")
            f = bucket.file_id_to_file[file_id]
        data: bytes = f.data_bytes or b""
        headers = {
            "Content-Type": f.content_type or "application/octet-stream",
            "X-Bz-File-Id": f.file_id,
            "X-Bz-File-Name": urllib.parse.quote(f.name, safe="/"),
            "X-Bz-Content-Sha1": f.content_sha1 or "none",
            "X-Bz-Upload-Timestamp": str(f.upload_timestamp),
            "Accept-Ranges": "bytes",
        }
        for k, v in (f.file_info or {}).items():
            headers[f"X-Bz-Info-{k}"] = urllib.parse.quote(str(v), safe="")
        status = 200
        wanted = self.headers.get("Range")
        if wanted and data:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted.strip())
            if m:
                start = int(m[1]) if m[1] else max(0, len(data) - int(m[2]))
                end = int(m[2]) if m[1] and m[2] else len(data) - 1
                end = min(end, len(data) - 1)
                headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                data = data[start:end + 1]
                status = 206
        headers["Content-Length"] = str(len(data))
        raise _Reply(status, data, headers)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if hasattr(value, "value"):  # the simulator's enums
        return value.value
    raise TypeError(f"no JSON for {type(value).__name__}")


def _op_name(method: str, path: str) -> str:
    if path == "/upload":
        return "b2_upload_file"
    if path == "/upload_part":
        return "b2_upload_part"
    if path.startswith("/file/"):
        return "head_file" if method == "HEAD" else "download_by_name"
    if "b2_download_file_by_id" in path:
        return "download"
    m = re.fullmatch(r"/b2api/v\d+/(b2_\w+)", path)
    return m[1] if m else f"unknown {method} {path}"


def _take_injection(state: _State, op: str) -> Injection | None:
    for inj in state.injections:
        if inj.count > 0 and inj.op in (op, "*"):
            inj.count -= 1
            return inj
    return None


def _b2_error(exc: b2exc.B2Error) -> _Reply:
    if isinstance(exc, b2exc.InvalidAuthToken):
        code = "expired_auth_token" if "expired" in str(exc) else "bad_auth_token"
        return _error(401, code, str(exc))
    if isinstance(exc, b2exc.Unauthorized):
        return _error(401, "unauthorized", str(exc) or "not allowed by the key's capabilities")
    for kind, status, code in _ERRORS:
        if isinstance(exc, kind):
            return _error(status, code, str(exc))
    return _error(400, "bad_request", f"{type(exc).__name__}: {exc}")


def _lower_info(info: dict[str, Any]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in info.items()}


def _range(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    m = re.fullmatch(r"bytes=(\d+)-(\d+)", text.strip())
    return (int(m[1]), int(m[2])) if m else None


def _with_size(entry: dict[str, Any]) -> dict[str, Any]:
    """API v1 names the length `size` in listings (`contentLength` elsewhere): both."""
    entry = dict(entry)
    entry.setdefault("contentLength", 0)
    entry["size"] = entry["contentLength"]
    return entry


def _list(sim: _ShimSimulator, token: str, req: dict[str, Any], versions: bool,
          max_page: int) -> Any:
    """b2_list_file_names / b2_list_file_versions with `delimiter` folding and paging, over
    the simulator's full listing (which checks the token and the key's capabilities)."""
    bucket_id, prefix = req["bucketId"], req.get("prefix") or ""
    delimiter = req.get("delimiter") or ""
    limit = max(1, min(int(req.get("maxFileCount") or 100), max_page))
    start_name, start_id = req.get("startFileName") or "", req.get("startFileId") or ""
    # The simulator stops at the first name outside the prefix, so it starts at the prefix.
    # Its file-name listing takes each name's newest version, even an unfinished large
    # file's start marker, and then hides the finished one under it: B2 lists the newest
    # finished version. So both listings come from the versions, checked as listFiles.
    everything = sim.list_file_versions(sim.API_URL, token, bucket_id, prefix or None,
                                        None, 10**9, prefix or None)["files"]
    if not versions:
        current: dict[str, dict[str, Any]] = {}
        for f in everything:  # newest first per name
            if f["action"] != "start":
                current.setdefault(f["fileName"], f)
        everything = [f for f in current.values() if f["action"] == "upload"]
    entries: list[dict[str, Any]] = []
    seen_folders: set[str] = set()
    for f in everything:
        name = f["fileName"]
        rest = name[len(prefix):]
        if delimiter and delimiter in rest:
            folder = prefix + rest.split(delimiter, 1)[0] + delimiter
            if folder not in seen_folders:
                seen_folders.add(folder)
                entries.append({"fileName": folder, "fileId": None, "action": "folder",
                                "size": 0, "contentLength": 0, "uploadTimestamp": 0,
                                "contentSha1": None, "contentType": None, "fileInfo": {}})
            continue
        entries.append(_with_size(f))
    entries.sort(key=lambda e: (e["fileName"], e["fileId"] or ""))

    def after_start(e: dict[str, Any]) -> bool:
        if e["fileName"] != start_name:
            return e["fileName"] > start_name
        return not start_id or (e["fileId"] or "") >= start_id

    page = [e for e in entries if after_start(e)]
    more = page[limit:]
    page = page[:limit]
    answer: dict[str, Any] = {"files": page, "nextFileName": more[0]["fileName"] if more else None}
    if versions:
        answer["nextFileId"] = more[0]["fileId"] if more else None
    return answer


def control(url: str, name: str, **args: Any) -> Any:
    """POST /_shim/NAME with JSON args: for a test that drives a shim in another process."""
    req = urllib.request.Request(f"{url}/_shim/{name}", data=json.dumps(args).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"null")


__all__ = ["ALL_CAPABILITIES", "BUCKET", "MIRROR_CAPABILITIES", "B2Shim", "control"]
