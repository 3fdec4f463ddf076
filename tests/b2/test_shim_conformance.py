"""The B2 shim speaks each B2 operation rclone 1.75.2's b2 backend uses, as B2 does: real
rclone against it, one test per operation (the shim records which calls rclone made, so
each test also proves the operation it is named after was exercised)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sm_testkit import digest_tree, make_tree_at

from tests.b2.conftest import LARGE, killed_large_upload
from tests.b2.shim import BUCKET, B2Shim, control

DEST = f":b2:{BUCKET}"
Rclone = Callable[..., subprocess.CompletedProcess[str]]


def ok(r: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert r.returncode == 0, r.stderr[-3000:]
    return r


def lsjson(rclone: Rclone, *extra: str) -> list[dict[str, object]]:
    out: list[dict[str, object]] = json.loads(ok(rclone("lsjson", "-R", "--files-only",
                                                        *extra, DEST)).stdout)
    return sorted(out, key=lambda e: str(e["Path"]))


def live(b2: B2Shim) -> dict[str, int]:
    return {v["fileName"]: v["size"] for v in b2.dump() if v["action"] == "upload"}


def test_authorize_list_and_upload_keep_names_sizes_and_modtimes(
        b2: B2Shim, b2_rclone: Rclone, tmp_path: Path) -> None:
    src = make_tree_at(tmp_path / "src", {"a.txt": b"hello", "d/e/f.bin": 3000,
                                          "odd name %+ é ü.txt": b"x", "d/#1 (copy).md": b"y"})
    ok(b2_rclone("sync", str(src), DEST))
    calls = b2.calls()
    assert calls[0] == "b2_authorize_account"
    assert {"b2_list_buckets", "b2_get_upload_url", "b2_upload_file"} <= set(calls)
    assert live(b2) == {"a.txt": 5, "d/e/f.bin": 3000, "odd name %+ é ü.txt": 1,
                        "d/#1 (copy).md": 1}
    # Modification times survive (the lowercased src_last_modified_millis info key): a
    # second sync finds nothing to do and rclone check finds no difference.
    second = ok(b2_rclone("sync", str(src), DEST, "-v"))
    assert "Copied" not in second.stderr and "Updated modification" not in second.stderr
    ok(b2_rclone("check", str(src), DEST))


def test_list_file_names_folds_folders_with_the_delimiter(b2: B2Shim, b2_rclone: Rclone,
                                                          tmp_path: Path) -> None:
    src = make_tree_at(tmp_path / "src", {"top.txt": b"1", "d/a": b"2", "d/sub/b": b"3",
                                          "e/c": b"4"})
    ok(b2_rclone("sync", str(src), DEST))
    top = ok(b2_rclone("lsf", DEST)).stdout.split()
    assert top == ["d/", "e/", "top.txt"]
    assert ok(b2_rclone("lsf", f"{DEST}/d")).stdout.split() == ["a", "sub/"]
    # Paging: pages of 7 entries, with and without --fast-list.
    many = make_tree_at(tmp_path / "many", {f"p/{i:03d}": b"z" for i in range(25)})
    ok(b2_rclone("copy", str(many), f"{DEST}/p"))
    b2.state.max_page = 7
    for listing in ((), ("--fast-list",)):
        names = ok(b2_rclone("lsf", "-R", "--files-only", *listing, DEST)).stdout.split()
        assert len(names) == 4 + 25 and len(set(names)) == len(names)


def test_large_file_goes_up_in_parts(b2: B2Shim, b2_rclone: Rclone, tmp_path: Path) -> None:
    src = make_tree_at(tmp_path / "src", {"big.bin": LARGE})
    ok(b2_rclone("sync", str(src), DEST))
    calls = b2.calls()
    assert calls.count("b2_upload_part") == 3
    assert {"b2_start_large_file", "b2_get_upload_part_url", "b2_finish_large_file"} <= set(calls)
    assert live(b2) == {"big.bin": LARGE}
    ok(b2_rclone("check", str(src), DEST))


def test_download_by_id_whole_and_ranged(b2: B2Shim, b2_rclone: Rclone,
                                         tmp_path: Path) -> None:
    text = "".join(f"line {i}\n" for i in range(2000))
    src = make_tree_at(tmp_path / "src", {"x/data.bin": 50_000, "big.bin": LARGE,
                                          "x/text.txt": text})
    ok(b2_rclone("sync", str(src), DEST))
    back = tmp_path / "back"
    ok(b2_rclone("copy", DEST, str(back)))
    assert digest_tree(back) == digest_tree(src)
    part = ok(b2_rclone("cat", "--offset", "100", "--count", "10", f"{DEST}/x/text.txt"))
    assert part.stdout == text[100:110]
    assert "download" in b2.calls()


def test_head_file_answers_existence(b2: B2Shim, b2_rclone: Rclone, tmp_path: Path) -> None:
    src = make_tree_at(tmp_path / "src", {"one.txt": b"abc"})
    ok(b2_rclone("copy", str(src), DEST))
    entry = json.loads(ok(b2_rclone("lsjson", "--stat", f"{DEST}/one.txt")).stdout)
    assert entry["Size"] == 3
    # As on B2: a name with no file is taken for a (virtual) directory.
    missing = json.loads(ok(b2_rclone("lsjson", "--stat", f"{DEST}/nope.txt")).stdout)
    assert missing["IsDir"] is True
    assert "head_file" in b2.calls()


def test_delete_without_hard_delete_hides_and_keeps_the_version(
        b2: B2Shim, b2_rclone: Rclone, tmp_path: Path) -> None:
    src = make_tree_at(tmp_path / "src", {"keep": b"k", "gone.txt": b"12345"})
    ok(b2_rclone("sync", str(src), DEST))
    (src / "gone.txt").unlink()
    ok(b2_rclone("sync", str(src), DEST, env={"RCLONE_B2_HARD_DELETE": "false"}))
    assert "b2_hide_file" in b2.calls()
    actions = [(v["fileName"], v["action"], v["size"]) for v in b2.dump()]
    assert ("gone.txt", "hide", 0) in actions and ("gone.txt", "upload", 5) in actions
    assert [e["Path"] for e in lsjson(b2_rclone)] == ["keep"]
    versions = [str(e["Path"]) for e in lsjson(b2_rclone, "--b2-versions")]
    assert len(versions) == 2 and any(p.startswith("gone-v") for p in versions)


def test_hard_delete_removes_the_version_and_cleanup_the_old_ones(
        b2: B2Shim, b2_rclone: Rclone, tmp_path: Path) -> None:
    src = make_tree_at(tmp_path / "src", {"keep": b"k", "gone.txt": b"12345",
                                          "over.txt": b"one"})
    ok(b2_rclone("sync", str(src), DEST))
    (src / "over.txt").write_bytes(b"two!")
    ok(b2_rclone("sync", str(src), DEST))  # an overwrite: a second version
    assert [v["size"] for v in b2.dump() if v["fileName"] == "over.txt"] == [4, 3]
    (src / "gone.txt").unlink()
    ok(b2_rclone("sync", str(src), DEST, env={"RCLONE_B2_HARD_DELETE": "true"}))
    assert "b2_delete_file_version" in b2.calls()
    assert "gone.txt" not in {v["fileName"] for v in b2.dump()}
    assert "b2_hide_file" not in b2.calls()
    before = len(b2.calls())
    ok(b2_rclone("cleanup", DEST))  # rclone's own: deletes every old version
    assert "b2_list_file_versions" in b2.calls()[before:]
    assert [(v["fileName"], v["size"]) for v in b2.dump()] == [("keep", 1), ("over.txt", 4)]


def test_hard_delete_of_an_overwritten_file_brings_its_old_version_back(
        b2: B2Shim, b2_rclone: Rclone, tmp_path: Path) -> None:
    """B2's semantics, which rclone's hard delete inherits: deleting the newest version of
    a file that has older ones makes the next older one current again. The next sync
    deletes that one too; until then the mirror shows the file's old content."""
    src = make_tree_at(tmp_path / "src", {"keep": b"k", "f.txt": b"old"})
    ok(b2_rclone("sync", str(src), DEST))
    (src / "f.txt").write_bytes(b"newer")
    ok(b2_rclone("sync", str(src), DEST))
    (src / "f.txt").unlink()
    ok(b2_rclone("sync", str(src), DEST, env={"RCLONE_B2_HARD_DELETE": "true"}))
    assert live(b2) == {"keep": 1, "f.txt": 3}
    ok(b2_rclone("sync", str(src), DEST, env={"RCLONE_B2_HARD_DELETE": "true"}))
    assert live(b2) == {"keep": 1}
    assert [v["fileName"] for v in b2.dump()] == ["keep"]


def test_track_renames_copies_server_side(b2: B2Shim, b2_rclone: Rclone,
                                          tmp_path: Path) -> None:
    src = make_tree_at(tmp_path / "src", {"old/small.txt": 4000, "old/big.bin": LARGE})
    ok(b2_rclone("sync", str(src), DEST, "--track-renames"))
    (src / "new").mkdir()
    (src / "old/small.txt").rename(src / "new/small.txt")
    (src / "old/big.bin").rename(src / "new/big.bin")
    before = len(b2.calls())
    ok(b2_rclone("sync", str(src), DEST, "--track-renames", "--b2-copy-cutoff", "5M",
                 env={"RCLONE_B2_HARD_DELETE": "true"}))
    calls = b2.calls()[before:]
    assert "b2_copy_file" in calls and "b2_copy_part" in calls
    assert "b2_upload_file" not in calls and "b2_upload_part" not in calls
    # The copies' ids are known to the bucket: the old names were deleted after the copy.
    assert live(b2) == {"new/small.txt": 4000, "new/big.bin": LARGE}
    assert {v["fileName"] for v in b2.dump()} == {"new/small.txt", "new/big.bin"}
    ok(b2_rclone("check", str(src), DEST))


def test_lifecycle_rule_is_stored_and_applied_on_the_fake_clock(
        b2: B2Shim, b2_rclone: Rclone, tmp_path: Path) -> None:
    src = make_tree_at(tmp_path / "src", {"a": b"1", "b": b"22"})
    ok(b2_rclone("sync", str(src), DEST))
    (src / "b").unlink()
    ok(b2_rclone("sync", str(src), DEST, env={"RCLONE_B2_HARD_DELETE": "false"}))
    shown = json.loads(ok(b2_rclone("backend", "lifecycle", DEST)).stdout or "[]")
    assert shown == []
    ok(b2_rclone("backend", "lifecycle", DEST, "-o", "daysFromHidingToDeleting=1",
                 "-o", "daysFromStartingToCancelingUnfinishedLargeFiles=2"))
    rules = b2.lifecycle_rules()
    assert rules[0]["daysFromHidingToDeleting"] == 1
    assert "b2_update_bucket" in b2.calls()
    shown = json.loads(ok(b2_rclone("backend", "lifecycle", DEST)).stdout)
    assert shown[0]["daysFromHidingToDeleting"] == 1
    assert b2.advance_days(0.5) == []  # not yet a day
    removed = b2.advance_days(1)
    assert len(removed) == 2  # the hidden version and then its lone hide marker
    assert [v["fileName"] for v in b2.dump()] == ["a"]


def test_unfinished_large_file_is_listed_and_cleaned_up(
        b2: B2Shim, b2_rclone: Rclone, rclone_bin: Path, cli_env: dict[str, str],
        tmp_path: Path) -> None:
    src = make_tree_at(tmp_path / "src", {"huge.bin": LARGE})
    killed_large_upload(b2, rclone_bin, cli_env, src)
    starts = [v for v in b2.dump() if v["action"] == "start"]
    assert len(starts) == 1 and starts[0]["fileName"] == "huge.bin"
    assert lsjson(b2_rclone) == []  # not a file anyone can see
    # rclone's cleanup keeps unfinished files younger than max-age (24h by default).
    before = len(b2.calls())
    ok(b2_rclone("backend", "cleanup", DEST))
    assert [v["action"] for v in b2.dump()] == ["start"]
    assert "b2_list_file_versions" in b2.calls()[before:], b2.calls()[before:]
    before = len(b2.calls())
    ok(b2_rclone("backend", "cleanup", DEST, "-o", "max-age=0s"))
    # rclone deletes the start marker's version, which cancels the large file on B2.
    assert "b2_delete_file_version" in b2.calls()[before:]
    assert b2.dump() == []


def test_expired_token_is_renewed(b2: B2Shim, b2_rclone: Rclone, tmp_path: Path) -> None:
    src = make_tree_at(tmp_path / "src", {f"f{i}": b"x" * i for i in range(1, 6)})
    ok(b2_rclone("copy", str(src / "f1"), DEST))
    b2.expire_tokens()
    ok(b2_rclone("copy", str(src), DEST))
    assert b2.calls().count("b2_authorize_account") >= 2
    assert len(live(b2)) == 5


@pytest.mark.parametrize(("status", "code", "retry_after"), [
    (503, "service_unavailable", None), (429, "too_many_requests", 1)])
def test_injected_throttling_is_retried(b2: B2Shim, b2_rclone: Rclone, tmp_path: Path,
                                        status: int, code: str, retry_after: int | None) -> None:
    src = make_tree_at(tmp_path / "src", {"a": b"1", "b": b"2"})
    b2.inject("b2_upload_file", status, code, count=2, retry_after=retry_after)
    r = ok(b2_rclone("copy", str(src), DEST, "-v", "--low-level-retries", "5"))
    assert live(b2) == {"a": 1, "b": 1}
    assert b2.calls().count("b2_upload_file") >= 4  # two refused, two stored
    assert "ERROR" not in r.stderr


def test_retry_after_is_honoured(b2: B2Shim, b2_rclone: Rclone, tmp_path: Path) -> None:
    src = make_tree_at(tmp_path / "src", {"a": b"1"})
    b2.inject("b2_upload_file", 429, "too_many_requests", count=1, retry_after=3)
    ok(b2_rclone("copy", str(src), DEST))
    first, second = b2.call_times("b2_upload_file")
    # rclone waited as B2 asked (its own pacer alone waits about 1 s after a 429).
    assert second - first >= 2.9


def test_cap_exceeded_is_fatal_at_once(b2: B2Shim, b2_rclone: Rclone, tmp_path: Path) -> None:
    src = make_tree_at(tmp_path / "src", {"a": b"1"})
    b2.inject("b2_upload_file", 403, "storage_cap_exceeded", count=100,
              message="Cannot upload files, storage cap exceeded.")
    r = b2_rclone("copy", str(src), DEST, "--retries", "3")
    assert r.returncode == 7, r.stderr[-2000:]
    assert "storage_cap_exceeded" in r.stderr
    assert b2.calls().count("b2_upload_file") == 1  # never retried


def test_controls_over_http(b2: B2Shim, b2_rclone: Rclone, tmp_path: Path) -> None:
    """The same controls for a test that drives the shim from another process."""
    src = make_tree_at(tmp_path / "src", {"a": b"1"})
    control(b2.url, "inject", op="b2_upload_file", status=503, code="service_unavailable",
            count=1)
    ok(b2_rclone("copy", str(src), DEST))
    assert control(b2.url, "calls").count("b2_upload_file") == 2
    assert [v["fileName"] for v in control(b2.url, "dump")] == ["a"]
    control(b2.url, "reset")
    assert control(b2.url, "dump") == []
