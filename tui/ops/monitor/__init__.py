"""What runs leave for monitoring, each part called by the engine (tui/ops/run):
    prom.py             the one Prometheus textfile renderer (every .prom file we write)
    reporters.py        the reporters called at a run's start and end: Summary (the JSON
                        summary and the textfile), Ping, Hook, SdNotify, Notify
    metrics.py          the summary and the run's textfile: what they hold
    live_metrics.py     the live series while a sync runs (metrics_interval)
    verify_metrics.py   a verify's textfile
    ping.py             Healthchecks-style pings
    hooks.py            on_success / on_failure hooks and systemd's sd_notify
    notify_apprise.py   notifications through Apprise, once per change of state
"""
