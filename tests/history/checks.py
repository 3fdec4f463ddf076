"""Compare a scanned run with what its scenario expects."""

from __future__ import annotations

from tests.history.realruns import Expect
from tui.core.history import Run


def check_run(run: Run, exp: Expect, legacy: bool) -> None:
    where = f"run {run.id}"
    assert str(run.outcome) == exp["outcome"], where
    assert run.exit_code == exp["exit_code"], where
    for key in ("transfers", "deletes", "renames", "errors"):
        if key in exp:
            assert getattr(run, key) == exp[key], f"{where}: {key}"
    if "bytes" in exp:
        assert run.bytes is not None, where
        want = exp["bytes"]
        assert isinstance(want, int)
        if legacy:  # text stats are humanised ("5.859 KiB")
            assert abs(run.bytes - want) <= want * 0.01, where
        else:
            assert run.bytes == want, where
    if "classes" in exp:
        assert {c.cls for c in run.error_classes} == set(exp["classes"]), where  # type: ignore[call-overload]
        for c in run.error_classes:
            assert c.count >= 1 and c.example, where
    if "failed_files" in exp:
        assert set(run.failed_files) == set(exp["failed_files"]), where  # type: ignore[call-overload]
    assert run.deletes_skipped == bool(exp.get("deletes_skipped", False)), where
