"""The plan builder over dry-run lines recorded from the real rclone 1.75.2
(tests/fixtures/plan/README.md says how), and the pure guard arithmetic."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tui.config import Job
from tui.core.plan import Plan, PlanFile, build_plan, group_by_top, top_folder
from tui.ops.guards import baseline, deletes, source

FIXTURES = Path(__file__).parent.parent / "fixtures" / "plan"


def _lines(name: str) -> list[str]:
    return (FIXTURES / name).read_text(encoding="utf-8").splitlines()


def test_mixed_dry_run() -> None:
    plan = build_plan(_lines("dry_run_mixed.jsonl"))
    assert plan.to_json() == {
        "copy": {"count": 2, "bytes": 12, "files": ["a/new.txt", "top.txt"]},
        "delete": {"count": 1, "bytes": 500, "files": ["c/x.bin"]},
        "rename": {"count": 1, "files": [["a/f3.bin", "a/f3-renamed.bin"]]},
        "warnings": [],
    }
    assert plan.renames[0].size == 3000
    # `remove directory c` is a directory action: counted, not listed as a delete.
    assert plan.other_actions == 1
    assert plan.complete


def test_folders_dry_run_groups_by_top_level_folder() -> None:
    plan = build_plan(_lines("dry_run_folders.jsonl"))
    assert [f.path for f in plan.copies] == ["docs/c.txt", "readme.md", "videos/v.mp4"]
    assert [(f.path, f.size) for f in plan.deletes] == [("docs/a.txt", 2),
                                                        ("music box/song.flac", 7000)]
    assert [(r.source, r.target) for r in plan.renames] == [
        ("photos/2024/img1.jpg", "photos/2024/img1-moved.jpg")]
    assert plan.copy_bytes == 15 + 1234 + 4
    assert plan.delete_bytes == 7002 and plan.delete_bytes_known
    # Directory modification times (docs, photos/2024, the root) are not file actions.
    assert plan.other_actions >= 2
    assert group_by_top(f.path for f in plan.copies) == {
        "": ["readme.md"], "docs": ["docs/c.txt"], "videos": ["videos/v.mp4"]}


def test_io_errors_and_retries_do_not_double_count() -> None:
    # Two attempts (`--retries 2`): every skipped copy is printed twice.
    lines = _lines("dry_run_io_errors.jsonl")
    assert sum('"skipped":"copy"' in ln for ln in lines) == 8
    plan = build_plan(lines, exit_code=0)
    assert len(plan.copies) == 4
    assert plan.deletes == ()  # rclone skipped every delete
    assert any("not deleting files as there were IO errors" in w for w in plan.warnings)
    assert any("input/output error" in w for w in plan.warnings)


def test_failed_dry_run_is_marked_incomplete() -> None:
    plan = build_plan(_lines("dry_run_mixed.jsonl"), exit_code=3)
    assert not plan.complete
    assert plan.warnings[0].startswith("the dry run ended with exit code 3")


def test_bytes_input_and_unknown_sizes() -> None:
    raw = [ln.encode() for ln in _lines("dry_run_mixed.jsonl")]
    assert build_plan(raw).to_json() == build_plan(_lines("dry_run_mixed.jsonl")).to_json()
    plan = Plan(deletes=(PlanFile("a", None), PlanFile("b", 5)))
    assert plan.delete_bytes == 5 and not plan.delete_bytes_known


def test_json_shape_is_exact() -> None:
    data = json.loads(json.dumps(build_plan(_lines("dry_run_folders.jsonl")).to_json()))
    assert list(data) == ["copy", "delete", "rename", "warnings"]
    assert list(data["copy"]) == ["count", "bytes", "files"]
    assert list(data["delete"]) == ["count", "bytes", "files"]
    assert list(data["rename"]) == ["count", "files"]


@pytest.mark.parametrize(("path", "top"), [("a/b/c", "a"), ("x", ""), ("music box/s", "music box")])
def test_top_folder(path: str, top: str) -> None:
    assert top_folder(path) == top


JOB = Job(name="g", source="/nonexistent-src", destination="/nonexistent-dst")


@pytest.mark.parametrize(("changes", "dest", "allow", "limit", "why"), [
    ({}, 1000, None, 500, "default 50% of 1000 destination files"),
    ({}, 3, None, 1, "default 50% of 3 destination files"),
    ({"max_delete": 20}, 1000, None, 20, "max_delete = 20"),
    ({"max_delete": 20}, None, None, 20, "max_delete = 20"),
    ({"max_delete_percent": 10.0}, 1000, None, 100, "max_delete_percent 10% of 1000"),
    ({"max_delete": 200, "max_delete_percent": 10.0}, 1000, None, 100, "max_delete_percent"),
    ({"max_delete": 50, "max_delete_percent": 10.0}, 1000, None, 50, "max_delete = 50"),
    ({}, None, None, 0, "unknown destination file count"),
    ({"max_delete": 5}, 1000, 900, 900, "--allow-deletes 900"),
    ({}, 1000, 3, 3, "--allow-deletes 3"),
])
def test_delete_guard(changes: dict[str, object], dest: int | None, allow: int | None,
                      limit: int, why: str) -> None:
    guard = deletes.delete_guard(replace(JOB, **changes), dest, allow)  # type: ignore[arg-type]
    assert guard.limit == limit
    assert why in guard.why


def test_summary_fields_carry_the_baseline_forward() -> None:
    prev = baseline.Baseline(100, 100, "r1")
    failed = baseline.summary_fields(prev, "r2", synced_ok=False, source_files=3)
    assert failed == {"source_files": 3, "last_success_run_id": "r1",
                      "last_success_source_files": 100, "last_success_dest_files": 100,
                      "interrupted_since_success": 0}
    ok = baseline.summary_fields(prev, "r3", synced_ok=True, source_files=90)
    assert ok["last_success_run_id"] == "r3" and ok["last_success_dest_files"] == 90


def test_interrupted_runs_are_counted_until_a_success(tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    base = baseline.Baseline(100, 100, "r1")
    for run_id in ("r2", "r3"):
        fields = baseline.summary_fields(base, run_id, synced_ok=False, source_files=100,
                                       interrupted=True)
        summary.write_text(json.dumps(fields))
        base = baseline.read_baseline(summary)
    assert base.interrupted == 2 and base.run_id == "r1"
    fields = baseline.summary_fields(base, "r4", synced_ok=True, source_files=100)
    assert fields["interrupted_since_success"] == 0


@pytest.mark.parametrize(("flags", "interrupted", "extra"), [
    ((), 0, 0),
    ((), 1, 4),  # rclone's default --transfers 4
    (("--transfers", "16"), 1, 16),
    (("--transfers=8",), 2, 16),
    (("--transfers", "16"), 9, 48),  # at most three interrupted runs are counted
])
def test_uncountable_partial_files_raise_the_cap_by_an_estimate(
        flags: tuple[str, ...], interrupted: int, extra: int) -> None:
    """A destination whose partial files cannot be counted: up to --transfers per
    interrupted run, said as an estimate ("may have left")."""
    job = replace(JOB, flags=flags)
    left = deletes.PartialsLeft(None, interrupted)
    guard = deletes.delete_guard(job, 0, None, left)
    assert guard.limit == extra  # 50% of an empty mirror is 0: only the allowance remains
    if extra:
        assert "may have left" in guard.why
    # An operator's explicit --allow-deletes N stays exactly N.
    assert deletes.delete_guard(job, 0, 7, left).limit == 7


@pytest.mark.parametrize(("found", "interrupted", "extra", "why"), [
    (0, 2, 0, None),  # issue 18: "+ 8 for partial files left by 2 interrupted runs" was false
    (3, 1, 3, "+ 3 for the partial files at the destination"),
    (1, 6, 1, "+ 1 for the partial file at the destination"),
])
def test_counted_partial_files_raise_the_cap_by_exactly_their_number(
        found: int, interrupted: int, extra: int, why: str | None) -> None:
    job = replace(JOB, flags=("--transfers", "16"))
    guard = deletes.delete_guard(job, 0, None, deletes.PartialsLeft(found, interrupted))
    assert guard.limit == extra
    if why is None:
        assert "partial" not in guard.why
    else:
        assert why in guard.why


def test_read_baseline_tolerates_garbage(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    assert baseline.read_baseline(path) == baseline.Baseline()
    path.write_text("[1, 2]")
    assert baseline.read_baseline(path) == baseline.Baseline()
    path.write_text(json.dumps({"last_success_source_files": True,
                                "last_success_dest_files": 7, "last_success_run_id": 5}))
    assert baseline.read_baseline(path) == baseline.Baseline(None, 7, None)


def test_count_files_skips_symlinks_and_counts_nested(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f").write_text("x")
    (tmp_path / "g").write_text("y")
    (tmp_path / "link").symlink_to(tmp_path / "g")
    (tmp_path / "dirlink").symlink_to(tmp_path / "a")
    assert source.count_files(tmp_path) == 2


@pytest.mark.parametrize("module", ["tui.core.plan", "tui.ops.guards.source",
                                    "tui.ops.guards.deletes", "tui.ops.guards.baseline",
                                    "tui.ops.planner", "tui.plan_cli"])
def test_no_textual_or_rich_below_the_app(module: str) -> None:
    import subprocess
    import sys

    code = (f"import sys, {module}; "
            "print(','.join(m for m in ('textual', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == ""
