"""The seed's own job on B2, end to end: `space-mirror run` (a subprocess) with `:b2:BUCKET`,
`--fast-list --transfers 16 --track-renames`, hard delete on (the seed's default), and the
credentials from an env file under the seed's names; real rclone against the B2 shim."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from sm_testkit import REPO, JobFiles, assert_no_canary, rclone_children, wait_until

from tests.b2.conftest import LARGE
from tests.b2.shim import B2Shim
from tui.config import load_job
from tui.core.markers import Marker, MarkerKind, parse_marker
from tui.core.remedy import remedy

Run = Callable[..., subprocess.CompletedProcess[str]]


def markers(job: JobFiles) -> list[Marker]:
    return [m for m in (parse_marker(ln) for ln in job.log_text().splitlines()) if m]


def end_marker(job: JobFiles) -> Marker:
    ends = [m for m in markers(job) if m.kind is not MarkerKind.START]
    assert ends, job.log_text()[-2000:]
    return ends[-1]


def live(b2: B2Shim) -> dict[str, int]:
    return {v["fileName"]: v["size"] for v in b2.dump() if v["action"] == "upload"}


def sizes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_size
            for p in root.rglob("*") if p.is_file()}


def last_run(run_cli: Run, job: JobFiles) -> dict[str, object]:
    r = run_cli("--config", str(job.config), "history", "--json")
    assert r.returncode == 0, r.stderr
    runs: list[dict[str, object]] = json.loads(r.stdout)["runs"]
    # Oldest first, in log order: two runs can start within the same second, so their
    # times cannot say which is the last.
    return runs[-1]


def test_seed_job_mirrors_renames_and_hard_deletes(b2: B2Shim, b2_job: Callable[..., JobFiles],
                                                   make_tree: Callable[..., Path],
                                                   run_cli: Run) -> None:
    job = b2_job()
    make_tree(job.source, {"a.txt": 1000, "photos/b.jpg": 20_000, "photos/big.bin": LARGE,
                           "docs/c.md": "hello", "docs/old.txt": "bye"})
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr + job.log_text()[-3000:]
    assert live(b2) == sizes(job.source)
    end = end_marker(job)
    assert end.kind is MarkerKind.COMPLETE and end.fields["transfers"] == "5"
    assert_no_canary(r.stdout, r.stderr, job.log_text(), job.summary.read_text(),
                     job.metrics.read_text())

    # A rename is a server-side copy (--track-renames), a delete is a hard delete.
    (job.source / "photos/b.jpg").rename(job.source / "photos/renamed.jpg")
    (job.source / "docs/old.txt").unlink()
    before = len(b2.calls())
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr
    calls = b2.calls()[before:]
    assert "b2_copy_file" in calls and "b2_upload_file" not in calls
    assert "b2_hide_file" not in calls and "b2_delete_file_version" in calls
    assert live(b2) == sizes(job.source)
    assert {v["action"] for v in b2.dump()} == {"upload"}  # no hidden version left behind
    end = end_marker(job)
    # On B2 a rename is a copy and a delete, and rclone counts that delete too.
    assert end.fields["deletes"] == "2" and end.fields["renames"] == "1"


def test_delete_guard_stops_deletes_on_b2(b2: B2Shim, b2_job: Callable[..., JobFiles],
                                          make_tree: Callable[..., Path], run_cli: Run) -> None:
    job = b2_job(max_delete=1)
    make_tree(job.source, {f"f{i}.txt": 100 + i for i in range(6)})
    assert run_cli("--config", str(job.config), "run").returncode == 0
    for i in range(4):
        (job.source / f"f{i}.txt").unlink()
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode != 0
    assert len(live(b2)) >= 5  # at most the one allowed delete happened
    assert "delete" in end_marker(job).fields["reason"]


def test_stall_is_stopped_and_the_next_run_succeeds(b2: B2Shim,
                                                    b2_job: Callable[..., JobFiles],
                                                    make_tree: Callable[..., Path],
                                                    run_cli: Run) -> None:
    job = b2_job(stall_timeout=3, abort_grace=3)
    make_tree(job.source, {"a.bin": 50_000, "b.bin": 60_000})
    b2.stall(at="b2_upload_file")  # B2 stops answering once the first upload starts
    r = run_cli("--config", str(job.config), "run", timeout=90)
    assert r.returncode == 79, r.stderr + job.log_text()[-2000:]
    assert end_marker(job).fields["reason"].startswith("no progress for 3s")
    b2.unstall()
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr
    assert live(b2) == sizes(job.source)


def test_sigkill_during_a_large_upload_then_the_next_run(
        b2: B2Shim, b2_job: Callable[..., JobFiles], make_tree: Callable[..., Path],
        cli_env: dict[str, str]) -> None:
    job = b2_job()
    make_tree(job.source, {"big.bin": LARGE, "small.txt": "s"})
    b2.delay("b2_upload_part", 20)  # the parts hang: the kill lands mid-file
    proc = subprocess.Popen([sys.executable, "-m", "tui", "--config", str(job.config), "run"],
                            env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, stdin=subprocess.DEVNULL, cwd=str(REPO))
    try:
        wait_until(lambda: "b2_start_large_file" in b2.calls(), 30, "the large upload")
        for kid in rclone_children(proc.pid):
            kid.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0
    assert_no_canary(out, err, job.log_text())
    assert end_marker(job).kind is not MarkerKind.COMPLETE
    assert [v["fileName"] for v in b2.dump() if v["action"] == "start"] == ["big.bin"]
    b2.delay("b2_upload_part", 0)
    r = subprocess.run([sys.executable, "-m", "tui", "--config", str(job.config), "run"],
                       env=cli_env, capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL, cwd=str(REPO))
    assert r.returncode == 0, r.stderr
    assert live(b2) == sizes(job.source)
    # B2 keeps the killed upload's parts as an unfinished large file (billed) until a
    # cleanup or a lifecycle rule removes it: the next sync does not.
    assert [v["fileName"] for v in b2.dump() if v["action"] == "start"] == ["big.bin"]
    assert not [p for p in psutil.process_iter(["cmdline"])
                if str(job.source) in " ".join(p.info["cmdline"] or [])]


@pytest.mark.parametrize(("op", "status", "code", "retry_after"), [
    ("b2_upload_file", 503, "service_unavailable", None),
    ("b2_upload_part", 429, "too_many_requests", 1),
])
def test_throttling_bursts_are_ridden_out(b2: B2Shim, b2_job: Callable[..., JobFiles],
                                          make_tree: Callable[..., Path], run_cli: Run,
                                          op: str, status: int, code: str,
                                          retry_after: int | None) -> None:
    job = b2_job()
    make_tree(job.source, {"a.txt": 10, "b.txt": 20, "big.bin": LARGE})
    b2.inject(op, status, code, count=2, retry_after=retry_after)
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr + job.log_text()[-2000:]
    assert live(b2) == sizes(job.source)
    assert b2.calls().count(op) >= {"b2_upload_file": 2, "b2_upload_part": 3}[op] + 2


@pytest.mark.parametrize(("code", "message", "remedy"), [
    ("storage_cap_exceeded", "Cannot upload files, storage cap exceeded.",
     "raise the storage cap"),
    ("transaction_cap_exceeded", "Transaction cap exceeded.", "raise the transaction cap"),
])
def test_cap_exceeded_fails_at_once_with_its_class_and_remedy(
        b2: B2Shim, b2_job: Callable[..., JobFiles], make_tree: Callable[..., Path],
        run_cli: Run, code: str, message: str, remedy: str) -> None:
    job = b2_job()
    make_tree(job.source, {"a.txt": 10, "b.txt": 20})
    b2.inject("b2_upload_file", 403, code, count=1000, message=message)
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 7, r.stderr + job.log_text()[-2000:]
    assert "Fatal error received - not attempting retries" in job.log_text()
    last = last_run(run_cli, job)
    # The main class; the fatal error also cancels the uploads in flight, whose errors
    # ("context canceled", a 403 whose body was lost) are classed apart.
    classes = last["error_classes"]
    assert isinstance(classes, list) and classes[0]["class"] == "quota", classes
    reason = end_marker(job).fields["reason"]
    assert remedy in reason and "Caps & Alerts" in reason, reason
    assert_no_canary(r.stdout, r.stderr, job.log_text())


def test_wrong_key_is_refused_before_rclone_syncs(b2: B2Shim, b2_job: Callable[..., JobFiles],
                                                  b2_env: Path, make_tree: Callable[..., Path],
                                                  run_cli: Run) -> None:
    b2_env.write_text(b2_env.read_text().replace("CANARY-SECRET-91bd", "CANARY-WRONG-0000"))
    job = b2_job()
    make_tree(job.source, {"a": 1})
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 78
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "auth" in lines[0] and "Traceback" not in r.stderr
    assert "a wrong or expired key" in lines[0] and "B2_APPLICATION_KEY" in lines[0], lines[0]
    assert "CANARY-WRONG-0000" not in r.stderr + job.log_text()
    assert "b2_upload_file" not in b2.calls()


def test_key_expiring_mid_run_is_renewed(b2: B2Shim, b2_job: Callable[..., JobFiles],
                                         make_tree: Callable[..., Path], run_cli: Run) -> None:
    """A token (not the key) expiring in the middle of a sync: rclone re-authorises."""
    job = b2_job()
    make_tree(job.source, {f"f{i}.txt": 10 + i for i in range(8)})
    b2.inject("b2_upload_file", 401, "expired_auth_token", count=1,
              message="Authorization token has expired")
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 0, r.stderr + job.log_text()[-2000:]
    assert live(b2) == sizes(job.source)
    assert b2.calls().count("b2_authorize_account") >= 3  # pre-flight, sync, renewal


def test_download_cap_stops_a_downloading_verify_with_its_remedy(
        b2: B2Shim, b2_job: Callable[..., JobFiles], make_tree: Callable[..., Path],
        run_cli: Run) -> None:
    """Only downloads count against B2's download cap: `verify --download` is what hits it."""
    job = b2_job()
    make_tree(job.source, {"a.txt": 10, "b.txt": 20})
    assert run_cli("--config", str(job.config), "run").returncode == 0
    b2.inject("download", 403, "download_cap_exceeded", count=1000,
              message="Cannot download file, download bandwidth or transaction (Class B) cap "
                      "exceeded.")
    r = run_cli("--config", str(job.config), "verify", "--download", "--sample", "100")
    assert r.returncode != 0, r.stdout
    assert "download" in b2.calls()
    classes = last_run(run_cli, job)["error_classes"]
    assert isinstance(classes, list) and classes[0]["class"] == "quota", classes
    # What the run detail and dashboard advise for that real line (verify's own end marker
    # counts differences; its reason is the verify's, not a remedy).
    advice = remedy("quota", load_job(job.config, job.name), classes[0]["example"])
    assert "download cap" in advice and "Caps & Alerts" in advice, advice
