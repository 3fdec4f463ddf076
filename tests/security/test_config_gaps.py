"""Issue 11, row 10: config values that crashed every command, checked the wrong folder or
could never guard anything are refused with one line that says what to do."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.parametrize(("key", "value", "words"), [
    ("remote_timeout", float("nan"), "number"),
    ("hook_timeout", float("inf"), "number"),
    ("source", "", "source is empty"),
    ("sentinel", "/etc/passwd", "inside the source"),
    ("sentinel", "../outside/.mounted", "inside the source"),
    ("min_source_ratio", 5, "above 1"),
])
def test_row10_bad_values_are_one_line_errors(sec_job, run_cli, key: str, value: object,
                                              words: str) -> None:
    job = sec_job(**{key: value})
    for command in (["check", "--offline"], ["run"], ["history"]):
        r = run_cli("--config", str(job.config), *command)
        assert r.returncode == 64, (command, r.returncode, r.stdout, r.stderr)
        lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and words in lines[0] and key in lines[0], lines
        assert "Traceback" not in r.stderr
    assert not job.dest.exists()


def test_row10_huge_env_file_is_named(sec_job, run_cli, reachable: Path) -> None:
    env_file = reachable / "huge.env"
    env_file.write_text("".join(f"VAR_{i}={'x' * 90}\n" for i in range(110_000)))  # ~10 MB
    env_file.chmod(0o600)
    job = sec_job(env_file=str(env_file))
    (job.source / "a").write_text("a")
    r = run_cli("--config", str(job.config), "run")
    assert r.returncode == 78, (r.returncode, r.stderr)
    assert str(env_file) in r.stderr and "KiB" in r.stderr
    assert "Argument list too long" not in r.stderr and "Traceback" not in r.stderr
    assert not job.dest.exists()
