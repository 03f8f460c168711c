"""What the gateway tells operators: Prometheus metrics (prometheus_client) and readiness.

Metrics, one registry per app (so several apps in one test process do not collide), served at
`/metrics` together with prometheus_client's default registry (process metrics and
`kernel.metrics`' solver time):

    muni_graphql_requests_total{outcome}            ok | errors | timeout | refused
    muni_graphql_request_seconds                    histogram, whole GraphQL requests
    muni_graphql_operations_total{operation,outcome}  per root field; outcome is the union member
                                                    returned (Ride, RateLimited, ...) or error
    muni_graphql_operation_seconds{operation}       histogram, per root field
    muni_position / muni_head / muni_lag{kind,name} every reading (relays, consumers, projections)
    muni_consumer_messages{name,outcome}            applied / skipped / ignored / parked

Labels never carry what a client chose (operation names sent by clients are unbounded): root
field names come from the schema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# Imported for its registration in the default registry (the solver-time hook).
from kernel import metrics as _process_metrics  # noqa: F401

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from prometheus_client.core import Metric

    from gateway.readings import Reading

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The gateway's metrics. `readings` is called at every scrape (it may block)."""

    def __init__(self, readings: Callable[[], Iterable[Reading]] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "muni_graphql_requests",
            "GraphQL HTTP requests by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "muni_graphql_request_seconds",
            "Time to answer a GraphQL request.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.operations = Counter(
            "muni_graphql_operations",
            "Root fields resolved, by field and by the type answered (or error).",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.operation_seconds = Histogram(
            "muni_graphql_operation_seconds",
            "Time to resolve a root field.",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        if readings is not None:
            self.registry.register(ReadingsCollector(readings))

    def render(self) -> bytes:
        """The exposition text of this registry and the process-wide one."""
        return generate_latest(self.registry) + generate_latest(REGISTRY)


class ReadingsCollector(Collector):
    """Turns readings into gauges at scrape time."""

    def __init__(self, readings: Callable[[], Iterable[Reading]]) -> None:
        self._readings = readings

    def describe(self) -> Iterable[Metric]:
        return []  # the families depend on what runs; nothing to check at registration

    def collect(self) -> Iterable[Metric]:
        labels = ["kind", "name"]
        position = GaugeMetricFamily("muni_position", "Where a log follower is.", labels=labels)
        head = GaugeMetricFamily("muni_head", "The end of the log it follows.", labels=labels)
        lag = GaugeMetricFamily("muni_lag", "How far behind the end it is.", labels=labels)
        up = GaugeMetricFamily(
            "muni_reading_up", "1 if the reading could be taken, else 0.", labels=labels
        )
        messages = GaugeMetricFamily(
            "muni_consumer_messages",
            "Messages a consumer in this process handled since it started, by outcome.",
            labels=["name", "outcome"],
        )
        for reading in self._readings():
            key = [reading.kind, reading.name]
            up.add_metric(key, 0 if reading.error else 1)
            if reading.error:
                continue
            position.add_metric(key, reading.position)
            head.add_metric(key, reading.head)
            lag.add_metric(key, reading.lag)
            for outcome, count in reading.counts.items():
                messages.add_metric([reading.name, outcome], count)
        return [position, head, lag, up, messages]
