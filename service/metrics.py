"""/metrics in Prometheus text format. Gauges are read from the database at scrape time (the
database is the source of truth, and every API process reports the same numbers); request
counters are per process. Each app has its own registry: nothing global at import."""

from __future__ import annotations

import ipaddress
import math
import secrets
import threading
import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from starlette.requests import Request
from starlette.responses import Response

from workflow.clock import Clock
from workflow.store import Database
from workflow.views.metrics import gauges


class DatabaseCollector:
    """The gauges, read from the database at most once per `max_age` seconds: scrapes in
    between share the last reading, so scrapers cannot keep the database slot busy."""

    def __init__(self, db: Database, clock: Clock, max_age: float = 0.0):
        self.db = db
        self.clock = clock
        self.max_age = max_age
        self._counted = None
        self._read_at = -math.inf
        self._lock = threading.Lock()

    def stale(self) -> bool:
        return self._counted is None or time.monotonic() - self._read_at >= self.max_age

    def refresh(self) -> None:
        with self._lock:
            if not self.stale():
                return
            with self.db.reading() as session:
                self._counted = gauges(session, self.clock.now())
            self._read_at = time.monotonic()

    def collect(self):
        by_phase = GaugeMetricFamily(
            "huanjie_elections", "Elections by kind and phase", labels=["kind", "phase"]
        )
        due = GaugeMetricFamily("huanjie_reminders_due", "Pending reminders whose time has come")
        backlog = GaugeMetricFamily("huanjie_outbox_backlog", "Notifications waiting to be delivered")
        failed = GaugeMetricFamily("huanjie_delivery_failures", "Notifications parked after the last retry")
        self.refresh()
        counted = self._counted
        for kind, phase, count in counted.elections:
            by_phase.add_metric([kind, phase], count)
        due.add_metric([], counted.reminders_due)
        backlog.add_metric([], counted.outbox_backlog)
        failed.add_metric([], counted.delivery_failures)
        yield from (by_phase, due, backlog, failed)


class Metrics:
    def __init__(self, db: Database, clock: Clock, max_age: float = 0.0):
        self.registry = CollectorRegistry(auto_describe=False)
        self.gauges = DatabaseCollector(db, clock, max_age)
        self.registry.register(self.gauges)
        self.requests = Counter(
            "huanjie_http_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "huanjie_http_request_seconds", "HTTP request latency", ["route"], registry=self.registry
        )
        # (method, route, status) → the counter's and the histogram's children: `labels()` takes a
        # lock and builds its key on every call; the set of routes is small and fixed.
        self._children: dict[tuple[str, str, int], tuple] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            if len(self._children) > 10_000:  # methods are client-chosen: keep it bounded
                self._children.clear()
            children = (self.requests.labels(method, route, str(status)), self.latency.labels(route))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def response(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


def scrape_allowed(request: Request, token: str | None) -> bool:
    """/metrics is for the monitoring system only: with a token set, callers must send
    "Authorization: Bearer <token>"; without one, only loopback callers are served."""
    if token:
        given = request.headers.get("authorization", "")
        return secrets.compare_digest(given.encode(), f"Bearer {token}".encode())
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
