"""The FastAPI app factory: API routers, dashboard, metrics, health. No import-time globals:
the database, the clock and the settings are given to `create_app`, so tests swap them.

Other parts add their API as routers in `service/api/<area>.py` and include them in `create_app`.
"""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.requests import Request

from config.settings import Settings
from service.api import (
    calendar,
    candidates,
    elections,
    grid,
    jurisdictions,
    notices,
    problems,
    records,
    voters,
)
from service.api.deps import Services
from service.api.schemas.common import Health
from service.guards import RequestGuard, SecurityHeaders
from service.metrics import Metrics, scrape_allowed
from service.sanitize import InputHygiene
from service.web import allocation as web_allocation
from service.web import appeals as web_appeals
from service.web import candidates as web_candidates
from service.web import desk as web_desk
from service.web import districts as web_districts
from service.web import grid as web_grid
from service.web import mobile_boxes as web_mobile_boxes
from service.web import notice_pages as web_notice_pages
from service.web import register as web_register
from service.web import register_law as web_register_law
from service.web import render_jobs as web_render_jobs
from service.web import results as web_results
from service.web import routes as web_routes
from service.web import tallies as web_tallies
from service.web import users as web_users
from service.web import voters as web_voters
from workflow.clock import Clock, SystemClock
from workflow.store import Database
from workflow.store.db import HotReadUnavailable, default_url

log = logging.getLogger("huanjie.service")
access = logging.getLogger("huanjie.access")


class RequestLog:
    """Pure ASGI middleware: one structured log line and the metrics for every request (the
    route's path template read from the scope, nothing parsed again)."""

    def __init__(self, app, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None)
            self.metrics.observe(scope["method"], route or "unmatched", status, seconds)
            if access.isEnabledFor(logging.INFO):
                state = scope.get("state")
                access.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "route": route,
                        "status": status,
                        "ms": round(seconds * 1000, 2),
                        "user": state.get("username") if state else None,
                    },
                )


def _start_scheduler(db: Database, clock: Clock):
    """The scheduler's jobs (sweep, digest, delivery) in this process."""
    # Deferred on purpose: APScheduler is heavy and optional, and an app built without the
    # scheduler (tests, several API workers beside one scheduler process) need not load it.
    from schedules.runner import start_scheduler

    scheduler = start_scheduler(db, clock)
    log.info("scheduler started")
    return scheduler


def create_app(
    settings: Settings | None = None,
    db: Database | None = None,
    clock: Clock | None = None,
    *,
    start_scheduler: bool = False,
) -> FastAPI:
    settings = settings or Settings()
    if db is None:
        db = Database(settings.db or default_url())
        if settings.migrate_on_start:
            db.migrate()
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        scheduler = _start_scheduler(db, clock) if start_scheduler else None
        services = app.state.services
        if start_scheduler:  # the serving process: render jobs a stopped process left behind
            pool = services.renders()
            if pool is not None:
                pool.resume()
            else:
                log.info("render jobs are left to render workers (render_runner = worker)")
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown()
            if services._renders is not None:
                services._renders.shutdown()

    app = FastAPI(
        title="huanjie 换届选举工作编排",
        version="1.0",
        description="选举计划、法定期限、阶段推进、提醒与审计。错误以 RFC 9457 problem details 返回。",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,  # served from local assets by service/web/desk.py (works offline)
        redoc_url=None,
    )
    app.state.services = Services(db=db, clock=clock, settings=settings)
    metrics = Metrics(db, clock, settings.metrics_cache_seconds)
    app.state.metrics = metrics
    problems.install(app)
    ping = db.hot_reads.prepare(text("SELECT 1"))

    @app.get(
        "/healthz",
        tags=["operations"],
        summary="健康检查（数据库可连接）",
        response_model=Health,
        responses={503: {"description": "数据库不可连接", "model": Health}},
    )
    async def healthz() -> JSONResponse:
        # One statement on the hot-read connection, in the event loop (the load balancer asks
        # often); without it (in-memory SQLite, or the connection just failed), one through the
        # pool under the gate, as any request.
        try:
            db.hot_reads.first(ping, {})
        except HotReadUnavailable:
            async with app.state.services.gate():
                if not await anyio.to_thread.run_sync(pooled_ping):
                    return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": db.engine.dialect.name})

    def pooled_ping() -> bool:
        try:
            with db.reading() as session:
                session.execute(text("SELECT 1"))
        except Exception:
            log.exception("health check failed")
            return False
        return True

    @app.get("/metrics", tags=["operations"], summary="Prometheus 指标", include_in_schema=False)
    async def prometheus(request: Request):
        # Behind a token or loopback only; the database read is cached (docs/security.md).
        if not scrape_allowed(request, settings.metrics_token):
            return problems.problem(404, "E_NOT_FOUND", "未找到该地址", None, request.url.path)
        if metrics.gauges.stale():
            async with app.state.services.gate():
                await anyio.to_thread.run_sync(metrics.gauges.refresh)
        return metrics.response()

    for module in (
        jurisdictions,
        elections,
        calendar,
        records,
        voters,
        candidates,
        notices,
        grid,
        web_routes,
        web_voters,
        web_grid,
        web_desk,
        web_allocation,
        web_districts,
        web_register,
        web_register_law,
        web_appeals,
        web_candidates,
        web_mobile_boxes,
        web_tallies,
        web_results,
        web_users,
        web_notice_pages,
        web_render_jobs,
    ):
        app.include_router(module.router)
    web_routes.mount_static(app)
    web_desk.install(app)  # HTML error pages for browsers, /docs offline
    # Innermost: the status read's quick path, before the router (service/api/elections.py).
    app.add_middleware(elections.QuickStatus, services=app.state.services)
    app.add_middleware(InputHygiene)  # NUL, controls, lone surrogates → 422 naming the field
    # Then, inside out: the guard (body limit, credentials before the body), then the headers,
    # then the request log around everything.
    app.add_middleware(
        RequestGuard, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes
    )
    app.add_middleware(SecurityHeaders, hsts=True)
    app.add_middleware(RequestLog, metrics=metrics)
    return app


def create_app_from_env() -> FastAPI:
    """For `uvicorn --factory service.app:create_app_from_env` with several worker processes."""
    return create_app(Settings())
