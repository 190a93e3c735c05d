"""What the database costs, for Prometheus: every command the driver sends (a round trip),
how long it took, which failed, and how often the embedded database had to be started again.

Counted by a PyMongo command listener that `store.database.connect` gives every client, so no
query can escape it. Under `credgraph serve --workers N` each worker counts into the directory
named by `PROMETHEUS_MULTIPROC_DIR` and `/metrics` adds them up.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram
from pymongo import monitoring

COMMANDS = Counter(
    "credgraph_database_commands",
    "Commands sent to the database (round trips), by command name.",
    ["command"],
)
FAILURES = Counter(
    "credgraph_database_command_failures",
    "Commands the database answered with an error or never answered, by command name.",
    ["command"],
)
DURATION = Histogram(
    "credgraph_database_command_duration_seconds",
    "How long each database command took, as the driver saw it.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
EMBEDDED_RESTARTS = Counter(
    "credgraph_embedded_restarts",
    "Times this process found the embedded database gone and started it again.",
)
# The driver's own handshakes and heartbeats are not the application's round trips.
_UNCOUNTED = frozenset(
    {"hello", "ismaster", "isMaster", "saslStart", "saslContinue", "endSessions"}
)


class CommandMetrics(monitoring.CommandListener):
    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.command_name not in _UNCOUNTED:
            COMMANDS.labels(event.command_name).inc()
            DURATION.observe(event.duration_micros / 1e6)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        if event.command_name not in _UNCOUNTED:
            COMMANDS.labels(event.command_name).inc()
            FAILURES.labels(event.command_name).inc()
            DURATION.observe(event.duration_micros / 1e6)
