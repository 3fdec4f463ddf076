"""Next timer runs for the overview: systemd's answer when it is there, nothing otherwise."""

from __future__ import annotations

from datetime import UTC, datetime

from tui.ops.systemd import next_timer_runs, timer_unit_name


def test_no_systemctl_answer_means_no_timers() -> None:
    assert next_timer_runs(lambda argv: None) == {}
    assert next_timer_runs(lambda argv: "not json") == {}
    assert next_timer_runs(lambda argv: '{"unit": "x"}') == {}


def test_the_json_list_is_read_by_unit() -> None:
    # The shape of `systemctl list-timers --output=json` (systemd 252): times in µs.
    out = ('[{"next": 1764061200000000, "left": 1, "last": null, "passed": null,'
           f' "unit": "{timer_unit_name("home")}", "activates": "space-mirror-home.service"}},'
           ' {"next": null, "unit": "idle.timer"}]')
    seen: list[list[str]] = []

    def run(argv: list[str]) -> str:
        seen.append(argv)
        return out

    found = next_timer_runs(run)
    assert found == {"space-mirror-home.timer": datetime(2025, 11, 25, 9, 0, tzinfo=UTC)}
    assert seen and seen[0][:2] == ["systemctl", "list-timers"]
