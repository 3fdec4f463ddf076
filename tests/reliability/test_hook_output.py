"""Issue 11, row 12: a hook that prints without end is read into a bounded buffer (its last
64 KiB), so the runner's memory stays flat whatever the hook prints."""

from __future__ import annotations

import tracemalloc

from tui.ops.monitor import hooks as notify


async def test_row12_hook_output_is_bounded() -> None:
    # 64 MiB of output, then a last line that must be kept.
    command = "head -c 67108864 /dev/zero | tr '\\0' 'x'; echo; echo THE-END"
    tracemalloc.start()
    try:
        result = await notify.run_hook(command, {}, {"PATH": "/usr/bin:/bin"}, 120)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0, result.problem
    assert peak < 8 * 1024 * 1024, f"the runner held {peak} bytes of hook output"
    assert len(result.output.encode()) == notify.HOOK_OUTPUT_KEPT
    assert result.output.rstrip().endswith("THE-END")
