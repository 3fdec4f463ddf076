"""The plan of a sync: what a dry run says the real sync would copy, delete and rename.

Built from rclone's `--dry-run --use-json-log` lines, never from their text: every skipped
action is one NOTICE line whose `skipped` field names it (`copy`, `delete`, `move to NEW`),
with `object` (the path) and `size`. Directory actions (`remove directory`, `set directory
modification time`, `make directory`) and metadata-only actions are not file actions: they
are counted, not listed.

A dry run that hits an error is retried whole by rclone (`Attempt 1/3 failed …`), printing
every skipped action again; the builder keys actions by path, so a retry never counts twice.
Pure: no I/O, no textual, no rich.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from tui.core.logline import LogRecord, StatsUpdate, decode, parse_line
from tui.core.markers import unquote
from tui.core.runstate import IO_ERRORS_SKIP_DELETES

MOVE_PREFIX = "move to "
RENAMED_FROM = "Renamed from "
# Skipped actions that touch directories or metadata only: not a file the sync changes.
NOT_FILE_ACTIONS = frozenset({
    "set directory modification time",
    "remove directory",
    "make directory",
    "set modification time",
    "update modification time",
    "set metadata",
})
MAX_ERROR_WARNINGS = 5


@dataclass(frozen=True, slots=True)
class PlanFile:
    path: str
    size: int | None  # None when rclone did not know it (-1, or no size field)


@dataclass(frozen=True, slots=True)
class PlanRename:
    source: str  # where the file is at the destination now
    target: str  # where the sync will move it
    size: int | None


@dataclass(frozen=True)
class Plan:
    copies: tuple[PlanFile, ...] = ()
    deletes: tuple[PlanFile, ...] = ()
    renames: tuple[PlanRename, ...] = ()
    warnings: tuple[str, ...] = ()
    other_actions: int = 0  # directory and metadata actions
    complete: bool = True  # False when the dry run failed: the lists may be short
    # The delete guard for the real run, filled in by the planner (None = not computed).
    delete_guard: int | None = None
    delete_guard_why: str = ""
    # What a delete does to the data on this destination, when it is not a plain delete
    # (B2: permanent with hard delete, else a hidden version kept until a lifecycle rule).
    delete_meaning: str | None = None

    @property
    def copy_bytes(self) -> int:
        return sum(f.size for f in self.copies if f.size is not None)

    @property
    def delete_bytes(self) -> int:
        return sum(f.size for f in self.deletes if f.size is not None)

    @property
    def delete_bytes_known(self) -> bool:
        return all(f.size is not None for f in self.deletes)

    @property
    def rename_bytes(self) -> int:
        return sum(r.size for r in self.renames if r.size is not None)

    @property
    def exceeds_guard(self) -> bool:
        return self.delete_guard is not None and len(self.deletes) > self.delete_guard

    @property
    def empty(self) -> bool:
        return not (self.copies or self.deletes or self.renames)

    def with_warning(self, text: str) -> Plan:
        return replace(self, warnings=(*self.warnings, text))

    def to_json(self) -> dict[str, Any]:
        """The shape `space-mirror plan --json` prints (and nothing more)."""
        return {
            "copy": {"count": len(self.copies), "bytes": self.copy_bytes,
                     "files": [f.path for f in self.copies]},
            "delete": {"count": len(self.deletes), "bytes": self.delete_bytes,
                       "files": [f.path for f in self.deletes],
                       **({"meaning": self.delete_meaning} if self.delete_meaning else {})},
            "rename": {"count": len(self.renames),
                       "files": [[r.source, r.target] for r in self.renames]},
            "warnings": list(self.warnings),
        }


def top_folder(path: str) -> str:
    """'photos/2024/a.jpg' → 'photos'; 'readme.md' → '' (the top of the tree)."""
    head, sep, _ = path.partition("/")
    return head if sep else ""


def group_by_top(paths: Iterable[str]) -> dict[str, list[str]]:
    """Paths grouped by their top-level folder, folders sorted, '' (top level files) first."""
    groups: dict[str, list[str]] = {}
    for p in paths:
        groups.setdefault(top_folder(p), []).append(p)
    return {k: sorted(groups[k]) for k in sorted(groups)}


@dataclass
class PlanBuilder:
    """Feed it parsed events in log order; `build()` returns the Plan."""

    _copies: dict[str, PlanFile] = field(default_factory=dict)
    _deletes: dict[str, PlanFile] = field(default_factory=dict)
    _renames: dict[str, PlanRename] = field(default_factory=dict)
    _other: set[tuple[str, str]] = field(default_factory=set)
    _unknown: dict[str, int] = field(default_factory=dict)
    _errors: list[str] = field(default_factory=list)
    _error_count: int = 0
    _deletes_skipped: bool = False
    _fatal: bool = False
    # rclone before 1.64 (Debian 12's 1.60.1) logs a dry-run move as `skipped: "move"`, with
    # no target, then `Renamed from "OLD"` on the new name: {old path: size} until then.
    _moves_without_target: dict[str, int | None] = field(default_factory=dict)

    def feed_line(self, line: str) -> None:
        event = parse_line(line)
        if isinstance(event, LogRecord):
            self.feed(event)
        elif isinstance(event, StatsUpdate) and event.stats.fatal_error:
            self._fatal = True

    def feed(self, rec: LogRecord) -> None:
        if rec.skipped is not None:
            self._skipped(rec)
            return
        if rec.msg.startswith(RENAMED_FROM) and rec.object:
            old = unquote(rec.msg[len(RENAMED_FROM):].strip())
            if old in self._moves_without_target:
                size = self._moves_without_target.pop(old)
                self._renames[old] = PlanRename(old, rec.object, size)
            return
        if rec.is_error:
            self._error_count += 1
            if rec.msg.startswith(IO_ERRORS_SKIP_DELETES):
                self._deletes_skipped = True
            elif (not rec.msg.startswith(("Attempt ", "not deleting directories"))
                  and rec.text not in self._errors):
                self._errors.append(rec.text)

    def _skipped(self, rec: LogRecord) -> None:
        action = rec.skipped or ""
        path = rec.object or ""
        size = rec.size if rec.size is not None and rec.size >= 0 else None
        if action == "copy":
            self._copies[path] = PlanFile(path, size)
        elif action == "delete":
            self._deletes[path] = PlanFile(path, size)
        elif action.startswith(MOVE_PREFIX):
            self._renames[path] = PlanRename(path, action[len(MOVE_PREFIX):], size)
        elif action == "move":
            self._moves_without_target[path] = size
        elif action in NOT_FILE_ACTIONS:
            self._other.add((action, path))
        else:
            self._unknown[action] = self._unknown.get(action, 0) + 1

    def build(self, exit_code: int | None = 0) -> Plan:
        warnings: list[str] = []
        if self._moves_without_target:  # never named their new path: said, not guessed
            self._unknown["move"] = self._unknown.get("move", 0) + len(
                self._moves_without_target)
            self._moves_without_target.clear()
        if exit_code not in (None, 0):
            warnings.append(f"the dry run ended with exit code {exit_code}: "
                            "the lists below may be incomplete")
        if self._deletes_skipped:
            warnings.append("rclone hit errors and skipped every delete ('not deleting files "
                            "as there were IO errors'); the real sync would delete nothing "
                            "until the errors are fixed, so this plan lists no deletes")
        if self._error_count:
            shown = self._errors[:MAX_ERROR_WARNINGS]
            more = len(self._errors) - len(shown)
            warnings.append(f"{self._error_count} error line(s) in the dry run"
                            + (f"; first: {'; '.join(shown)}" if shown else "")
                            + (f" (and {more} more)" if more > 0 else ""))
        for action, n in sorted(self._unknown.items()):
            warnings.append(f"{n} skipped action(s) of a kind this plan does not list: {action!r}")
        return Plan(
            copies=tuple(sorted(self._copies.values(), key=lambda f: f.path)),
            deletes=tuple(sorted(self._deletes.values(), key=lambda f: f.path)),
            renames=tuple(sorted(self._renames.values(), key=lambda r: r.source)),
            warnings=tuple(warnings),
            other_actions=len(self._other),
            complete=exit_code in (None, 0) and not self._fatal,
        )




def build_plan(lines: Iterable[str | bytes], exit_code: int | None = 0) -> Plan:
    """The plan from a dry run's log lines (any other lines in between are ignored)."""
    builder = PlanBuilder()
    for line in lines:
        builder.feed_line(decode(line) if isinstance(line, bytes) else line.rstrip("\r\n"))
    return builder.build(exit_code)
