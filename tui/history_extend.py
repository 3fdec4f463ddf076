"""One night appended to the log: the kept `history` answer (tui/answer_memo.py) grown by
a scan of that night alone, not of the years before it (issue 21).

The memo of an answer that can grow (every run, unfiltered: the table or the JSON) keeps,
beside the printed text, what growing it needs (`offer`): where the live log was read to
and its last bytes there, each run's id before a duplicate's `-N` (runs.named numbers
duplicates across the whole history); for the JSON, the warnings and what the summary of
what repeats reads (RunFacts) of the runs that can still count in it
(persistent.still_counted: each job's runs from its last clean real run on; a few, however
many years the log holds); for the table, each run's cells and the columns' widths.

`extend` grows it when the live log is the one file whose stamp changed, and it grew in
place: the same device and inode, larger, its kept last bytes still there, and a start
marker's line where the kept answer ended. The appended bytes are then scanned as a part of
the file (scan.scan_part: a part that starts at a start marker's line is scanned exactly as
within a whole-file scan, the property the split scan is built and tested on); their runs
are built and named by the assembly's own code (history/runs.py). The JSON's summary is
counted again over the kept facts and the new runs; the table's new lines go above the kept
ones, or, when a cell is wider than its column, the table is drawn again from the kept
cells. The answer is the same text a full read prints (tests/history/
test_history_extend.py: every log shape cut at every run, and real runs whose failures
repeat).

Anything else is the full read: appended bytes that do not begin a run (the last run went
on), a run still open at the end (running or not is the process table's answer), a warning
in what was appended (a whole-file scan counts a file's warnings together), another file
changed, or a memo of an answer that cannot grow.
"""

from __future__ import annotations

import json
import os

from tui.core import filestamp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from tui.answer_memo import Memo
    from tui.core.history.model import Fragment, Run
    from tui.core.history.persistent import Facts
    from tui.history_cli import Printed

HEAD = '{"runs": ['  # how history --json begins (model.json_document), the runs' part next
AFTER_RUNS = '], "persistent": '  # what follows the runs' part
TAIL_BYTES = 64  # the live log's last bytes kept: the same file grew, not a new one
BIG = 64 << 20  # appended bytes from which the scan is split across cores (history/split.py)


def offer(printed: Printed, paths: list[str], log_index: int, before: str) -> bytes:
    """What growing `printed` needs, as the memo keeps it; empty when it cannot grow: the
    log changed while it was read (where its answer ends is then unknown), or is not a
    regular file."""
    from pathlib import Path

    from tui.core.history.files import open_log
    from tui.core.history.persistent import facts_row, still_counted

    history = printed.history
    if history is None or len(history.bases) != len(history.runs):
        return b""
    path, line = paths[log_index], before.split("\n")[log_index]
    stat = filestamp.fields(line)
    if stat is None or filestamp.stamp([path]) != line:
        return b""
    covered = stat[2]
    fd = open_log(Path(path))
    try:
        tail = os.pread(fd, min(TAIL_BYTES, covered), covered - min(TAIL_BYTES, covered))
    finally:
        os.close(fd)
    head: dict[str, Any] = {"log": log_index, "covered": covered, "tail": tail.hex()}
    if printed.rows is not None:  # the table: its cells, oldest first, and their widths
        from tui.history_cli import table_widths

        head.update(table=True, widths=table_widths(printed.rows))
        return _join(head, _compact(history.bases), _compact(printed.rows[::-1]))
    runs_end = printed.out.find(AFTER_RUNS, len(HEAD))
    if not printed.out.startswith(HEAD) or runs_end < 0:
        return b""
    head.update(runs=runs_end - len(HEAD), warnings=[str(w) for w in history.warnings])
    return _join(head, _compact(history.bases),
                 _compact([facts_row(r) for r in still_counted(history.runs)]))


def extend(memo: Memo, now: str) -> tuple[str, bytes] | None:
    """The answer grown by what was appended to the live log, and its memo's new extension
    part; None when only a full read can say (nothing is printed or written then)."""
    head_text, bases_text, third = memo.ext.split(b"\n")
    head = json.loads(head_text)
    i, covered, tail = int(head["log"]), int(head["covered"]), bytes.fromhex(head["tail"])
    was, is_now = memo.stamp.split("\n"), now.split("\n")
    if len(was) != len(is_now) or len(memo.paths) != len(was) or not 0 <= i < len(was):
        return None
    if any(a != b for j, (a, b) in enumerate(zip(was, is_now, strict=True)) if j != i):
        return None
    old, new = filestamp.fields(was[i]), filestamp.fields(is_now[i])
    # The same file (device, inode) with the same mode, grown past what the answer covered.
    if old is None or new is None or old[0:2] != new[0:2] or old[5] != new[5]:
        return None
    size = new[2]
    if size <= covered or covered < len(tail):
        return None
    grown = _scan_appended(memo.paths[i], (new[0], new[1]), covered, size, tail)
    if grown is None:
        return None
    from tui.core.history.runs import runs_appended
    from tui.core.runstate import Outcome

    path, fragments, new_tail = grown
    runs, bases = runs_appended(path, fragments, json.loads(bases_text))
    if any(r.outcome in (Outcome.RUNNING, Outcome.INCOMPLETE) for r in runs):
        return None  # an end marker the scan took and the assembly could not read
    head.update(covered=size, tail=new_tail.hex())
    grow = _grow_table if head.get("table") else _grow_json
    answer = grow(memo.out, head, third, runs)
    if answer is None:
        return None
    out, third = answer
    return out, _join(head, _append(bases_text, bases), third)


def _grow_json(out: str, head: dict[str, Any], facts_text: bytes,
               runs: list[Run]) -> tuple[str, bytes] | None:
    """`history --json` with `runs` joined to its runs, the summary counted again; and the
    facts that can still count."""
    from tui.core.history.model import json_document, runs_json
    from tui.core.history.persistent import (
        RunFacts,
        facts_row,
        persistent_summary,
        still_counted,
    )

    n = int(head["runs"])
    if not out.startswith(HEAD) or not out.startswith(AFTER_RUNS, len(HEAD) + n):
        return None
    # Only the runs that can still count are kept (persistent.still_counted).
    facts = [RunFacts(row) for row in json.loads(facts_text)]
    kept_facts: list[Facts] = [*facts, *runs]
    summary = persistent_summary(kept_facts)
    kept = out[len(HEAD):len(HEAD) + n]
    added = runs_json(runs)
    joined = f"{kept}, {added}" if kept else added
    grown = json_document(joined, summary.as_json(), head["warnings"])
    head["runs"] = len(joined)
    counted = still_counted(kept_facts)
    if len(counted) == len(kept_facts):  # the kept rows are not encoded again
        return grown, _append(facts_text, [facts_row(r) for r in runs])
    return grown, _compact([facts_row(r) for r in counted])


def _grow_table(out: str, head: dict[str, Any], rows_text: bytes,
                runs: list[Run]) -> tuple[str, bytes] | None:
    """`history`'s table with `runs` on top. While no column gets wider, the kept lines
    stay as they are; else the whole table is drawn again from the kept cells."""
    from tui.history_cli import table_footer, table_line, table_rows, table_text, table_widths

    new_rows = table_rows(runs[::-1])
    widths = head["widths"]
    count = out.count("\n") - 2  # the header and the count are one line each
    header_end = out.find("\n") + 1
    footer = out.rfind("\n", 0, len(out) - 1) + 1
    if count < 0 or header_end <= 0 or footer < header_end:
        return None
    wider = table_widths(new_rows, widths)
    if wider == widths:
        added = "".join(table_line(row, widths) + "\n" for row in new_rows)
        grown = (out[:header_end] + added + out[header_end:footer]
                 + table_footer(count + len(new_rows)))
    else:
        every = [tuple(r) for r in json.loads(rows_text)[::-1]]
        grown = table_text([*new_rows, *every])
        head["widths"] = wider
    return grown, _append(rows_text, [list(r) for r in new_rows[::-1]])


def _scan_appended(name: str, identity: tuple[int, int], covered: int, size: int,
                   tail: bytes) -> tuple[Path, list[Fragment], bytes] | None:
    """(path, fragments, the new last bytes) of [covered, size) of the log, when they are
    whole runs appended to the same file; else None."""
    from pathlib import Path

    from tui.core.history.files import LogBytes, open_log
    from tui.core.history.scan import is_start_line, scan_part

    path = Path(name)
    fd = open_log(path)
    try:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != identity or st.st_size < size:
            return None  # replaced, or cut (copytruncate) and written again, since the stat
        buf = LogBytes(fd, size)
        if buf[covered - len(tail):covered] != tail or not is_start_line(buf, covered, size):
            return None
        if size - covered < BIG:
            part = scan_part(name, buf, covered, size)
            frags, complaints = part.fragments, bool(part.warnings or part.dropped)
        else:  # a full re-sync's night: on every core, as the full read would scan it
            from tui.core.history.split import scan_range

            scan = scan_range(name, buf, covered, size)
            frags, complaints = scan.fragments, bool(scan.warnings)
        new_tail = buf[size - min(TAIL_BYTES, size):size]
    finally:
        os.close(fd)
    if complaints or not frags or any(f.start_line is None or f.end_line is None
                                      for f in frags):
        return None
    return path, frags, new_tail


def _compact(value: Any) -> bytes:
    # ASCII: a file name that is not UTF-8 (a lone surrogate here) comes back as it went.
    return json.dumps(value, separators=(",", ":")).encode()


def _append(array: bytes, items: list[Any]) -> bytes:
    """A JSON array's text with `items` added at its end."""
    if not items:
        return array
    more = _compact(items)
    return more if array == b"[]" else array[:-1] + b"," + more[1:]


def _join(head: dict[str, Any], bases: bytes, facts: bytes) -> bytes:
    """Three lines: where the answer stands, each run's id base, each run's facts."""
    return b"\n".join((_compact(head), bases, facts))
