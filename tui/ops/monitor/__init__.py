"""What runs leave for monitoring, each part called by the engine (tui/ops/run):
    prom.py        the one Prometheus textfile renderer (every .prom file we write)
    reporters.py   the reporters called at a run's start and end: summary and metrics,
                   Healthchecks-style pings, hooks, sd_notify
The summary and run metrics' content is tui/ops/metrics.py; pings tui/ops/ping.py; hooks and
sd_notify tui/ops/notify.py."""
