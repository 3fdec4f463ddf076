#!/usr/bin/env bash
# Runs the date-sensitive suites on each of the seven weekdays (faketime), at a time of day
# late in the UTC day, and once in a far-east timezone (UTC+14, where the local date is a
# day ahead): CI runs on any day, in any zone, so a test that reads the clock must not care.
# Usage: scripts/time-matrix.sh [pytest args…]   (default: tests/history tests/unit)
#
# The runs go JOBS at a time (default 2, this machine's cores), each into its own report,
# printed in order once all have ended: one after another, the matrix took a third of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
JOBS="${JOBS:-2}"
if ! command -v faketime >/dev/null 2>&1; then
    echo "time-matrix: faketime is missing: apt-get install faketime" >&2
    exit 2
fi
# libfaketime 0.9.10 fakes the monotonic clock too, and then threading.Event.wait(timeout)
# never returns (and with FAKETIME_DONT_FAKE_MONOTONIC, time.sleep fails with EINVAL): the
# dashboard's sampler thread waits on an event, so the Pilot suites cannot run under it.
# Every suite that does not start the dashboard runs here; the Pilot suites are checked at
# UTC+14 with the real clock (`TZ=Pacific/Kiritimati make test` passes whole).
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(tests/history tests/unit)
reports=$(mktemp -d "${TMPDIR:-/tmp}/time-matrix.XXXXXX")
trap 'rm -rf "$reports"' EXIT

labels=() zones=() stamps=() suites=()
add() { labels+=("$1"); zones+=("$2"); stamps+=("$3"); suites+=("$4"); }
# The longest run first, beside the others: the runner's suites wait on rclone more than
# they use a core.
if [ $# -eq 0 ]; then
    add "the runner's suites on a Sunday night, 2026-12-06 23:30 UTC" UTC \
        "2026-12-06 23:30:00" "tests/integration tests/safety"
fi
# 2026-11-30 is a Monday; 23:30 UTC is already the next day east of UTC.
for day in 30 01 02 03 04 05 06; do
    month=12; [ "$day" = 30 ] && month=11
    stamp="2026-$month-$day 23:30:00"
    add "$stamp UTC ($(date -u -d "$stamp" +%A))" UTC "$stamp" "${targets[*]}"
done
add "Pacific/Kiritimati (UTC+14)" Pacific/Kiritimati "" "${targets[*]}"

# One run into reports/N, its exit status into reports/N.rc.
run_one() {
    local i=$1 rc=0
    local -a cmd=(env "TZ=${zones[$i]}")
    [ -z "${stamps[$i]}" ] || cmd+=(faketime "${stamps[$i]}")
    # shellcheck disable=SC2086  # the suites are words
    # Each run its own temporary folder: pytest prunes the numbered ones of other sessions.
    "${cmd[@]}" "$PY" -m pytest -q -p no:cacheprovider --basetemp="$reports/tmp-$i" \
        ${suites[$i]} >"$reports/$i" 2>&1 || rc=$?
    echo "$rc" >"$reports/$i.rc"
}

running=0
for i in "${!labels[@]}"; do
    run_one "$i" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait

failed=0
for i in "${!labels[@]}"; do
    echo "== ${labels[$i]}"
    grep -E "^FAILED|^ERROR|[0-9] (passed|failed)" "$reports/$i" || tail -20 "$reports/$i"
    [ "$(cat "$reports/$i.rc" 2>/dev/null || echo 1)" = 0 ] || failed=1
done
exit "$failed"
