#!/usr/bin/env bash
# Runs the date-sensitive suites on each of the seven weekdays (faketime), at a time of day
# late in the UTC day, and once in a far-east timezone (UTC+14, where the local date is a
# day ahead): CI runs on any day, in any zone, so a test that reads the clock must not care.
# Usage: scripts/time-matrix.sh [pytest args…]   (default: tests/history tests/unit)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
if ! command -v faketime >/dev/null 2>&1; then
    echo "time-matrix: faketime is missing: apt-get install faketime" >&2
    exit 2
fi
# libfaketime 0.9.10 fakes the monotonic clock too, and then threading.Event.wait(timeout)
# never returns (and with FAKETIME_DONT_FAKE_MONOTONIC, time.sleep fails with EINVAL): the
# dashboard's sampler thread waits on an event, so the Pilot suites cannot run under it.
# Every suite that does not start the dashboard runs here; the whole suite runs at UTC+14.
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(tests/history tests/unit)
# 2026-11-30 is a Monday; 23:30 UTC is already the next day east of UTC.
for day in 30 01 02 03 04 05 06; do
    month=12; [ "$day" = 30 ] && month=11
    stamp="2026-$month-$day 23:30:00"
    echo "== $stamp UTC ($(date -u -d "$stamp" +%A))"
    TZ=UTC faketime "$stamp" "$PY" -m pytest -q -p no:cacheprovider "${targets[@]}" \
        | grep -E "^FAILED|^ERROR|[0-9] (passed|failed)"
done
if [ $# -eq 0 ]; then
    echo "== the runner's suites on a Sunday night, 2026-12-06 23:30 UTC"
    TZ=UTC faketime "2026-12-06 23:30:00" "$PY" -m pytest -q -p no:cacheprovider \
        tests/integration tests/safety | grep -E "^FAILED|^ERROR|[0-9] (passed|failed)"
fi
echo "== Pacific/Kiritimati (UTC+14)"
TZ=Pacific/Kiritimati "$PY" -m pytest -q -p no:cacheprovider "${targets[@]}" \
    | grep -E "^FAILED|^ERROR|[0-9] (passed|failed)"
