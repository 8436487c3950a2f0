"""/metrics in Prometheus text format. Gauges are read from the database at scrape time (the
database is the source of truth, and every API process reports the same numbers); request
counters are per process. Each app has its own registry: nothing global at import."""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from starlette.requests import Request
from starlette.responses import Response

from workflow.clock import Clock
from workflow.store import Database
from workflow.views.metrics import gauges


class DatabaseCollector:
    def __init__(self, db: Database, clock: Clock):
        self.db = db
        self.clock = clock

    def collect(self):
        now = self.clock.now()
        by_phase = GaugeMetricFamily(
            "huanjie_elections", "Elections by kind and phase", labels=["kind", "phase"]
        )
        due = GaugeMetricFamily("huanjie_reminders_due", "Pending reminders whose time has come")
        backlog = GaugeMetricFamily("huanjie_outbox_backlog", "Notifications waiting to be delivered")
        failed = GaugeMetricFamily("huanjie_delivery_failures", "Notifications parked after the last retry")
        with self.db.reading() as session:
            counted = gauges(session, now)
        for kind, phase, count in counted.elections:
            by_phase.add_metric([kind, phase], count)
        due.add_metric([], counted.reminders_due)
        backlog.add_metric([], counted.outbox_backlog)
        failed.add_metric([], counted.delivery_failures)
        yield from (by_phase, due, backlog, failed)


class Metrics:
    def __init__(self, db: Database, clock: Clock):
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(DatabaseCollector(db, clock))
        self.requests = Counter(
            "huanjie_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "huanjie_http_request_seconds", "HTTP request latency", ["route"], registry=self.registry
        )

    def observe(self, request: Request, status: int, started: float) -> None:
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        self.requests.labels(request.method, path, str(status)).inc()
        self.latency.labels(path).observe(time.perf_counter() - started)

    def response(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)
