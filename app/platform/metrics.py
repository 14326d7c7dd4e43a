"""Prometheus metrics (API.md, "What integrators may rely on"): requests by route and
status, latency, decisions by purpose and outcome, and gauges read from the database at
each scrape. Labels are route templates and vocabulary values only, never an id, a path
or any other value a request carried.

Several worker processes (uvicorn `--workers`) each count their own requests; with
`PROMETHEUS_MULTIPROC_DIR` set (`ieys serve` and the image set it) a scrape of any worker
adds up every worker's counts. Gauges read from the database are the same whichever
instance answers, so they are computed at the scrape, never counted in a process.
"""

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REQUESTS: Final = Counter(
    "ieys_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ("method", "route", "status"),
    registry=None,
)
LATENCY: Final = Histogram(
    "ieys_http_request_duration_seconds",
    "Time from a request's arrival to its answer, by method and route template.",
    ("method", "route"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=None,
)
DECISIONS: Final = Counter(
    "ieys_decisions",
    "Lawful-basis decisions, by declared purpose, outcome and reason.",
    ("purpose", "outcome", "reason"),
    registry=None,
)

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST

Gauges = Callable[[], Mapping[str, tuple[str, float]]]
"""Name -> (help, value), read when scraped."""


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def observe_decision(purpose: str, *, allowed: bool, reason: str) -> None:
    DECISIONS.labels(purpose, "allowed" if allowed else "denied", reason).inc()


class _DatabaseGauges(Collector):
    def __init__(self, read: Gauges) -> None:
        self._read = read

    def collect(self) -> Iterable[GaugeMetricFamily]:
        for name, (description, value) in self._read().items():
            yield GaugeMetricFamily(name, description, value=value)


def render(read_gauges: Gauges) -> bytes:
    """The exposition text: this process's (or every worker's) counts and the gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for collector in (REQUESTS, LATENCY, DECISIONS):
            registry.register(collector)
    registry.register(_DatabaseGauges(read_gauges))
    return generate_latest(registry)
