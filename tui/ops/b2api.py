"""The few B2 native API calls rclone has no command for: the key's capabilities (from
b2_authorize_account) and the unfinished large files with the bytes of their parts
(b2_list_unfinished_large_files, b2_list_parts). Read-only: nothing here changes a bucket.

Credentials come from the job's rclone environment (RCLONE_B2_ACCOUNT / RCLONE_B2_KEY, the
seed's names already mapped), go only into an Authorization header, and never into an
error message (`B2Error` says what failed, with B2's status and code).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tui.core.b2audit import Unfinished

DEFAULT_ENDPOINT = "https://api.backblazeb2.com"


class B2Error(Exception):
    """A B2 call failed: one line, no secret."""


@dataclass(frozen=True)
class Session:
    api_url: str
    token: str
    account_id: str
    capabilities: tuple[str, ...]
    bucket_names: tuple[str, ...] | None  # a key restricted to buckets names them
    timeout: float


def authorize(env: Mapping[str, str], timeout: float = 20.0) -> Session:
    key_id, key = env.get("RCLONE_B2_ACCOUNT", ""), env.get("RCLONE_B2_KEY", "")
    if not key_id or not key:
        raise B2Error("no B2 credentials (RCLONE_B2_ACCOUNT / RCLONE_B2_KEY) in the job's "
                      "environment")
    endpoint = (env.get("RCLONE_B2_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
    basic = base64.b64encode(f"{key_id}:{key}".encode()).decode()
    answer = _b2_request("GET", f"{endpoint}/b2api/v4/b2_authorize_account", None,
                   {"Authorization": f"Basic {basic}"}, timeout, "b2_authorize_account")
    storage = answer.get("apiInfo", {}).get("storageApi", {})
    allowed = storage.get("allowed") or {}
    buckets = allowed.get("buckets")
    names = tuple(str(b.get("name")) for b in buckets) if buckets else None
    return Session(str(storage.get("apiUrl", endpoint)).rstrip("/"),
                   str(answer["authorizationToken"]), str(answer.get("accountId", "")),
                   tuple(allowed.get("capabilities") or ()), names, timeout)


def bucket_info(s: Session, bucket: str) -> dict[str, Any]:
    """The bucket as b2_list_buckets describes it (bucketId, lifecycleRules, …)."""
    answer = _post(s, "b2_list_buckets", {"accountId": s.account_id, "bucketName": bucket})
    for b in answer.get("buckets", []):
        if b.get("bucketName") == bucket:
            return dict(b)
    raise B2Error(f"bucket {bucket!r} not found (or the key may not list it)")


def bucket_id(s: Session, bucket: str) -> str:
    return str(bucket_info(s, bucket)["bucketId"])


def unfinished_large_files(s: Session, bucket: str, prefix: str = "") -> list[Unfinished]:
    """Every unfinished large file under `prefix`, with the bytes its parts hold."""
    bid = bucket_id(s, bucket)
    out: list[Unfinished] = []
    start: str | None = None
    while True:
        req: dict[str, Any] = {"bucketId": bid, "maxFileCount": 100}
        if prefix:
            req["namePrefix"] = prefix
        if start:
            req["startFileId"] = start
        page = _post(s, "b2_list_unfinished_large_files", req)
        for f in page.get("files", []):
            out.append(Unfinished(str(f["fileName"]), str(f["fileId"]),
                                  int(f.get("uploadTimestamp") or 0),
                                  _parts_bytes(s, str(f["fileId"]))))
        start = page.get("nextFileId")
        if not start:
            return out


def _parts_bytes(s: Session, file_id: str) -> int:
    total, start = 0, None
    while True:
        req: dict[str, Any] = {"fileId": file_id, "maxPartCount": 1000}
        if start:
            req["startPartNumber"] = start
        page = _post(s, "b2_list_parts", req)
        total += sum(int(p.get("contentLength") or 0) for p in page.get("parts", []))
        start = page.get("nextPartNumber")
        if not start:
            return total


def _post(s: Session, op: str, body: dict[str, Any]) -> dict[str, Any]:
    return _b2_request("POST", f"{s.api_url}/b2api/v1/{op}", body, {"Authorization": s.token},
                 s.timeout, op)


def _b2_request(method: str, url: str, body: dict[str, Any] | None, headers: dict[str, str],
          timeout: float, op: str) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={**headers, "Content-Type": "application/json"})
    host = urllib.parse.urlsplit(url).netloc
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            answer: dict[str, Any] = json.loads(resp.read() or b"{}")
            return answer
    except urllib.error.HTTPError as exc:
        try:
            err = json.loads(exc.read() or b"{}")
        except ValueError:
            err = {}
        code = err.get("code") or "error"
        raise B2Error(f"{op} at {host}: {exc.code} {code}: {err.get('message', '')}".rstrip(
            ": ")) from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise B2Error(f"{op} at {host}: {reason}") from None
    except ValueError:
        raise B2Error(f"{op} at {host}: the answer is not JSON") from None
