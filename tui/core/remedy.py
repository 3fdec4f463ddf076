"""From "it failed" to "do this": a remedy for each triage class, and the one reason line
the dashboard leads with.

`remedy(cls, job, example)` names the job's real paths, backend and credential variables
(`auth: the B2 key was rejected: check B2_APPLICATION_KEY_ID … in
/etc/miket/storage-credentials.env …`). `count_once(records)` counts each failing file or
cause once per run, however many times rclone retried it, and keeps the attempts apart.
`reason_line(...)` leads with the main class, its count and an example, then the remedy;
never with rclone's `Attempt N/M failed with …` summary.

Pure: the job is anything with the Job's few attributes (see `JobFacts`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tui.core.logline import LineParser, LogRecord
from tui.core.triage import ClassCount, Tally

_ATTEMPT = re.compile(r"Attempt (\d+)/(\d+) failed with \d+ errors(?: and)?:?\s*")
_LAST_ERROR = re.compile(r"\s*Last error:\s*$")


class JobFacts(Protocol):
    """What a remedy needs of a job (tui.config.Job has all of it)."""

    @property
    def name(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def destination(self) -> str: ...
    @property
    def env_file(self) -> Path | None: ...
    @property
    def backend(self) -> str: ...


# The variables an operator edits, per backend (the seed's B2 names, mapped by the runner).
_KEY_NAMES = {
    "b2": "B2_APPLICATION_KEY_ID and B2_APPLICATION_KEY",
    "s3": "RCLONE_S3_ACCESS_KEY_ID and RCLONE_S3_SECRET_ACCESS_KEY",
    "sftp": "RCLONE_SFTP_USER and RCLONE_SFTP_PASS (or RCLONE_SFTP_KEY_FILE)",
    "webdav": "RCLONE_WEBDAV_USER and RCLONE_WEBDAV_PASS",
    "azureblob": "RCLONE_AZUREBLOB_ACCOUNT and RCLONE_AZUREBLOB_KEY",
}
_PROVIDER = {"b2": "B2", "s3": "S3", "sftp": "the SFTP server", "webdav": "the WebDAV server",
             "azureblob": "Azure", "gcs": "Google Cloud Storage", "drive": "Google Drive"}


def bucket(destination: str) -> str:
    """':b2:bucket/dir' → 'bucket'; 'remote:path' → 'path'; a local path → itself."""
    if destination.startswith(":"):
        rest = destination[1:].split(":", 1)[1] if ":" in destination[1:] else ""
        return rest.split("/", 1)[0] or destination
    head, sep, tail = destination.partition(":")
    if sep and "/" not in head and len(head) > 1:
        return tail.split("/", 1)[0] or head
    return destination


def _site(job: JobFacts) -> str:
    if job.backend.startswith("remote:"):
        return f"the remote {job.backend[7:]!r} in rclone's config"
    return str(job.env_file) if job.env_file else "the job's env file (env_file)"


def _provider(job: JobFacts) -> str:
    if job.backend.startswith("remote:"):
        return f"remote {job.backend[7:]}"
    return _PROVIDER.get(job.backend, job.backend)


def _b2_cap(low: str, bucket_name: str) -> str:
    """B2's caps (403 *_cap_exceeded): rclone gives up at once, so the next run fails the
    same way until the cap is raised (or resets: download and transaction caps are daily)."""
    console = "in the B2 web console (Caps & Alerts)"
    if "storage_cap" in low or "storage cap" in low:
        return (f"the B2 account hit its storage cap: raise the storage cap {console}, or free "
                f"space in {bucket_name} (`space-mirror audit` shows the hidden versions and "
                "unfinished uploads that count against it); then re-run")
    if "download_cap" in low or "download cap" in low:
        return (f"the B2 account hit its daily download cap: raise the download cap {console}, "
                "or wait for the daily reset (00:00 UTC); then re-run")
    if "transaction_cap" in low or "transaction cap" in low:
        return (f"the B2 account hit a daily transaction cap: raise the transaction cap "
                f"{console}, or wait for the daily reset (00:00 UTC); --fast-list saves list "
                "calls; then re-run")
    return (f"the B2 account hit a cap: raise the caps {console} or free space in "
            f"{bucket_name}; then re-run")


# The path a failed write names: `write /tmp/rclone-115-sha1sum-214: no space left on device`.
_WRITING = re.compile(r"\b(?:write|mkdir|open|create|rename) (/[^:\n]*?): no space left")


def names(text: str, path: str) -> bool:
    """Whether `text` names `path` or a path under it: `/space` is in `/space-backup/x`, but
    does not name it."""
    path = path.rstrip("/")
    if not path:
        return False
    at = text.find(path)
    while at != -1:
        after = text[at + len(path):at + len(path) + 1]
        if after in ("", "/", ":", " ", "\n", "'", '"'):
            return True
        at = text.find(path, at + 1)
    return False


def remedy(cls: str, job: JobFacts, example: str = "") -> str:
    """One or two lines: what to do about errors of class `cls` in this job."""
    backend, dest, src = job.backend, job.destination, job.source
    local = backend == "local"
    low = example.lower()
    if cls == "auth":
        keys = _KEY_NAMES.get(backend, "the credential variables")
        if backend == "b2" and ("expired_auth_token" in low or "token has expired" in low):
            return (f"B2's session token expired during the run (B2 hands out 24-hour tokens "
                    f"and rclone renews them): not a wrong key; re-run. If every run ends so, "
                    f"check that the key in {_site(job)} still exists")
        if backend == "b2":
            return (f"the B2 key was rejected (a wrong or expired key): check {keys} in "
                    f"{_site(job)} and that the key is not expired, deleted or restricted to "
                    f"another bucket than {bucket(dest)}")
        if backend.startswith("remote:"):
            return (f"{_provider(job)} refused the login: run `rclone config reconnect "
                    f"{backend[7:]}:` or fix its credentials in rclone's config")
        return (f"{_provider(job)} rejected the credentials: check {keys} in {_site(job)}; "
                "for S3 also the key's policy and this host's clock (signatures expire)")
    if cls == "network":
        return (f"{_provider(job) if not local else dest} could not be reached: check DNS, "
                "routes and proxy from this host (`space-mirror check` tries the destination); "
                "the next run continues where this one stopped")
    if cls == "rate-limit":
        return (f"{_provider(job)} throttled the requests: lower --transfers in the job's flags "
                "or add --tpslimit 10; nothing is lost, the next run continues")
    if cls == "quota":
        if "no space left" in low:
            # Whose disk: the path rclone was writing (B2 uploads may stage in /tmp first).
            m = _WRITING.search(example)
            path = m[1] if m else None
            if local and (path is None or names(path, dest)):
                return (f"the destination's disk is full: free space under {dest} "
                        f"(`df -h {dest}`) or grow it; then re-run")
            where = (path.rsplit("/", 1)[0] or "/") if path else "/tmp"
            return (f"this host's disk is full under {where} (`df -h {where}`), not "
                    f"{'the destination' if local else _provider(job)}: rclone writes "
                    "temporary files there ($TMPDIR, else /tmp); free space, or give the unit "
                    "a larger TMPDIR; then re-run")
        if local:
            return (f"the destination's disk is full: free space under {dest} (`df -h {dest}`) "
                    "or grow it; then re-run")
        if backend == "b2":
            return _b2_cap(low, bucket(dest))
        return (f"{_provider(job)} refused for quota: free space in {bucket(dest)} or raise the "
                "account's quota; then re-run")
    if cls == "permission":
        # The source first: rclone's "Failed to copy: failed to open source object: open
        # SRC/x: permission denied" is a copy that failed on the reading side.
        if ("source object" in low or "reading source" in low
                or (names(example, src) and not names(example, dest))):
            return (f"cannot read the source: check the owner and mode of the files named under "
                    f"{src} (the runner needs to read every file)")
        if local and (names(example, dest) or "partial" in low or "failed to copy" in low):
            return (f"cannot write at the destination: make the folders named writable by the "
                    f"runner (root) under {dest}: a read-only mount, an immutable flag "
                    f"(`lsattr`) or mode 0555 folders")
        return (f"{_provider(job)} refused access: check that the key in {_site(job)} may "
                f"write to {bucket(dest)} (its capabilities or bucket policy)")
    if cls == "limit":
        if "max-delete" in low:
            return ("the delete guard stopped the sync at its cap: see what it wanted to delete "
                    "with `space-mirror plan`; if those deletes are right, run `space-mirror "
                    "run --allow-deletes N`")
        return ("the job's own limit ended the run (--max-transfer, or max_duration / "
                "window_end): nothing is wrong; the next run continues where this one stopped")
    if cls == "source-missing":
        return (f"the source {src} is missing or not mounted: check `findmnt {src}` and the "
                "disk; nothing was deleted at the destination")
    if cls == "not-found":
        if "bucket" in low or "nosuchbucket" in low:
            return (f"the bucket {bucket(dest)} does not exist at {_provider(job)}: create it or "
                    "fix the destination")
        if "reading destination" in low:
            return (f"the destination {dest} could not be listed (not found): check that it "
                    "exists and that the job's destination names it; then re-run")
        return (f"a file or folder vanished while rclone worked (something changes {src} during "
                "the sync); re-run, and move jobs that rewrite it out of the sync window")
    if cls == "io":
        if "not a directory" in low or "is a directory" in low:
            return (f"a path is a file at the destination where the source has a folder (or the "
                    f"other way round): rename or remove it under {dest}, then re-run")
        if "input/output error" in low:
            return ("a disk read or write failed (input/output error): check `dmesg` and the "
                    f"disk's SMART status for the disk of {src if names(example, src) else dest}")
        if "source file is being updated" in low:
            return (f"a file under {src} changed while rclone copied it (a database, a VM image, "
                    "a log being written): the next run copies it again; if it changes every "
                    "night, stop its writer during the sync window or exclude it")
        if "differ" in low or "corrupted" in low or "checksum" in low:
            return ("a file changed or was damaged in transit: re-run; if it repeats, check the "
                    "file at the source and run `space-mirror verify`")
        return (f"reading or writing files failed: look at the files named, under {src} and "
                f"{dest}; then re-run")
    if cls == "interrupted":
        return ("the run was stopped (a signal, `systemctl stop`, shutdown): start it again; "
                "it continues where this one stopped")
    return ("read the run's ERROR lines (`space-mirror history`, Enter on the run) and the "
            "exit code's advice")


@dataclass(frozen=True, slots=True)
class ErrorCount:
    """A run's errors, each failing file or cause once, with rclone's attempts apart."""

    classes: tuple[ClassCount, ...]  # distinct files/causes per class, most first
    files: tuple[str, ...]  # failing files, first seen first
    attempts: int | None  # attempts rclone reported as failed (None: none reported)
    max_attempts: int | None  # the --retries it had
    error_lines: int  # ERROR lines counted, retries included (summaries excluded)

    @property
    def causes(self) -> int:
        return sum(c.count for c in self.classes)


def error_count(tally: Tally) -> ErrorCount:
    """A run's errors as the tally counted them (each failing file or cause once)."""
    return ErrorCount(tally.result(), tally.files, tally.attempts, tally.max_attempts,
                      tally.lines)


def count_once(records: Iterable[tuple[str | None, str]]) -> ErrorCount:
    """Count a run's ERROR records `(object, message)` once per failing file or cause.

    rclone retries a failed sync (3 attempts by default) and logs every error again on each
    attempt: 3 files failing three times are 3 causes, not 9. A record names a file by its
    object; one without an object (a whole-remote error) is a cause by its message. The
    `Attempt N/M failed …` summaries give the attempts and count as nothing else."""
    tally = Tally()
    for obj, message in records:
        tally.add_record(obj, message)
    return error_count(tally)


def count_log_lines(lines: Iterable[str]) -> ErrorCount:
    """`count_once` over a run's log lines (JSON or text), e.g. `history.run_log_lines(run)`:
    what the run detail shows instead of one count per retry."""
    parser = LineParser()
    tally = Tally()
    for line in lines:
        for event in parser.feed(line):
            if isinstance(event, LogRecord) and event.is_error:
                tally.add_record(event.object, event.msg)
    for event in parser.flush():
        if isinstance(event, LogRecord) and event.is_error:
            tally.add_record(event.object, event.msg)
    return error_count(tally)


def clean_reason(reason: str) -> str:
    """A reason without rclone's `Attempt N/M failed with K errors and:` summary."""
    text = _ATTEMPT.sub("", reason)
    return _LAST_ERROR.sub("", text).strip()


def reason_line(count: ErrorCount | Sequence[ClassCount], job: JobFacts,
                fallback: str | None = None, width: int | None = None) -> str:
    """The dashboard's reason: `permission ×2 (ro/a.txt: …permission denied) — <remedy>`,
    then `; 3 attempts` when rclone retried. Without classes: the fallback (the end marker's
    reason, cleaned of rclone's Attempt summary), or ''. With `width`, the example is cut
    (never the class, count or remedy) so that the line fits when it can."""
    classes = count.classes if isinstance(count, ErrorCount) else tuple(count)
    if not classes:
        return clean_reason(fallback) if fallback else ""
    main = classes[0]
    others = len(classes) - 1
    head = f"{main.cls} ×{main.count}"
    tail = f" — {remedy(main.cls, job, main.example)}"
    if isinstance(count, ErrorCount) and count.attempts and count.attempts > 1:
        tail += f"; {count.attempts} attempts"
    if others:
        tail += f"; +{others} other class{'es' if others > 1 else ''}"
    example = short_example(main.example)
    if width is not None:
        room = width - len(head) - len(tail) - 3
        if room < 12:
            return f"{head}{tail}"
        if len(example) > room:
            example = example[:room - 1] + "…"
    return f"{head} ({example}){tail}"


def short_example(example: str) -> str:
    # `dirfile/x.txt: Failed to copy: mkdir /dst/dirfile: not a directory`: rclone's
    # "Failed to copy:" adds nothing to the file and the cause.
    return re.sub(r":\s*Failed to (?:copy|move|delete|set[^:]*):\s*", ": ", example, count=1)


# What to do about a difference `verify` found, per class of rclone check's --combined list.
VERIFY_REMEDIES = {
    "missing": ("missing on the destination: the next `space-mirror run` copies it; if it "
                "was synced before, something removed it there"),
    "differ": ("the destination's copy differs (bit rot or a change that kept size and time, "
               "which a sync does not notice): check the source file is right, then re-copy "
               "it with `rclone copy --ignore-times` or remove the copy and `space-mirror run`"),
    "error": ("could not be read or hashed: check the file's permissions and the disk "
              "(`dmesg`), then `space-mirror verify` again"),
}


def verify_class(message: str) -> str:
    """rclone check's ERROR message → missing / differ / error (rclone 1.75.2 logs
    `file not in <remote>` and `md5 differ` / `sizes differ`)."""
    low = message.lower()
    if "file not in " in low:
        return "missing"
    if "differ" in low:
        return "differ"
    return "error"


def verify_remedy(counts: Sequence[tuple[str, int]]) -> str:
    """The remedy for the largest class of differences, `counts` being (class, count)."""
    present = [(cls, n) for cls, n in counts if n]
    if not present:
        return ""
    cls = max(present, key=lambda c: c[1])[0]
    return f"{cls}: {VERIFY_REMEDIES[cls]}"
