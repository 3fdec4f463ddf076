"""`space-mirror check`'s B2 lines (called from the pre-flight by one line): what the key
may do, whether a lifecycle rule removes what B2 keeps, and what hard delete on or off
means for getting a deleted file back. Read-only: one b2_authorize_account and one
b2_list_buckets.
"""

from __future__ import annotations

from tui.config import Job
from tui.core import b2audit
from tui.core.remedy import bucket as bucket_of
from tui.ops import b2api, credentials
from tui.ops.preflight import CheckResult, Context

# What a mirror needs of the key, as B2 names it (the B2 web console's key capabilities).
_NEEDED = (("list", "listFiles"), ("write", "writeFiles"), ("delete", "deleteFiles"))


def b2_checks(job: Job, ctx: Context, destination_ok: bool) -> list[CheckResult]:
    """Nothing for other backends, offline, or when the destination did not answer (its
    own line already says why)."""
    if job.backend != "b2" or not destination_ok or ctx.env is None:
        return []
    remote = f":b2:{bucket_of(job.destination)}"
    hard = b2audit.hard_delete_on(job.flags, ctx.env)
    try:
        session = b2api.authorize(ctx.env, timeout=job.remote_timeout)
        info = b2api.bucket_info(session, bucket_of(job.destination))
    except b2api.B2Error as exc:
        detail = credentials.redact(str(exc), ctx.secrets)
        return [CheckResult("B2 key", False, f"cannot read the key's capabilities: {detail}",
                            "check the key in the env file (`space-mirror check` again)")]
    return [_key_capabilities(session.capabilities, hard),
            _lifecycle(info.get("lifecycleRules"), remote),
            _hard_delete(hard, b2audit.lifecycle_cover(info.get("lifecycleRules")))]


def _key_capabilities(caps: tuple[str, ...], hard_delete: bool) -> CheckResult:
    have = [word for word, cap in _NEEDED if cap in caps]
    # A delete without hard delete only hides the file: that is a write.
    needed = [(w, c) for w, c in _NEEDED if hard_delete or c != "deleteFiles"]
    missing = [f"{w} ({c})" for w, c in needed if c not in caps]
    if missing:
        return CheckResult("B2 key", False, f"the key cannot {', '.join(missing)}",
                           "create a key with Read and Write access to the bucket in the B2 web "
                           "console (App Keys) and put it in the env file")
    return CheckResult("B2 key", True, f"may {', '.join(have)}")


def _lifecycle(rules: object, remote: str) -> CheckResult:
    cover = b2audit.lifecycle_cover(rules if isinstance(rules, list) else [])
    if cover.removes_versions and cover.removes_unfinished:
        return CheckResult("B2 lifecycle", True, b2audit.lifecycle_text(cover))
    partial = cover.removes_versions or cover.removes_unfinished
    now = b2audit.lifecycle_text(cover) if partial else "no lifecycle rule"
    return CheckResult(
        "B2 lifecycle", True,
        f"warning: {now}: old versions and unfinished uploads are kept and billed until "
        f"removed by hand (`space-mirror audit` shows them); set one: "
        f"{b2audit.lifecycle_command(remote, cover)}")


def _hard_delete(on: bool, cover: b2audit.LifecycleCover) -> CheckResult:
    if on:
        return CheckResult("B2 hard delete", True,
                           "on: a file deleted from the source is deleted from B2 for good "
                           "at the next sync; the mirror keeps no copy to recover it from")
    if cover.removes_versions:
        keep = f"for {cover.hide_days} day(s), then the lifecycle rule deletes it"
    else:
        keep = "until someone removes it (no lifecycle rule: billed forever)"
    return CheckResult("B2 hard delete", True,
                       f"off: a deleted file is hidden, its last version kept {keep}; recover "
                       "it with `rclone copy --b2-versions` from the mirror")
