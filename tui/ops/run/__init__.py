"""The one run engine: every command that starts rclone (run, verify, plan) goes through it.

Composed, not inherited (borgmatic's hooks, resticprofile's receivers):
    context.py    RunContext: what a run knows while it goes (options, state, verdict inputs)
    journal.py    Journal: stdout, stderr (the journal under systemd) and the log's markers,
                  every write through safefile, secrets redacted
    locking.py    the job's lock and run folder, taken the same way by every command
    rclone.py     RcloneProcess: one rclone under the lock, its output into a file, followed,
                  stopped with one policy (SIGCONT+SIGTERM, grace, SIGKILL)
    watchdog.py   the stall and max_duration limits
    partials.py   what a stopped rclone left at the destination, counted the same way always
    verdict.py    how a run ended, in one sentence that says only what is true
    sync.py       `space-mirror run`: lock → pre-flight → guards → rclone → end marker → reporters
Reporters (summary, metrics, hooks, pings, sd_notify) live in tui/ops/monitor/.
"""
