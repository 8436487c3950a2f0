"""`huanjie serve`: the HTTP API, the dashboard and (by default) the scheduler in one process."""

from __future__ import annotations

import logging
import os

import typer

from config.settings import Settings
from service import logs
from service.cli.common import finish, handled, state
from service.logs import configure
from workflow.store import Database

# Python's own event loop, not uvloop (uvicorn's "auto" choice when it is installed). Measured
# with wrk (100 connections, two client threads) on the status route's quick path: the same
# throughput, but uvloop served some connections late (p99 350–470 ms against a p50 of 11 ms)
# where asyncio's loop stays fair (p99 45–94 ms). See docs/operations.md.
EVENT_LOOP = "asyncio"


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址"),
    port: int = typer.Option(8000, "--port", help="端口"),
    no_scheduler: bool = typer.Option(
        False, "--no-scheduler", help="不在本进程内运行调度器（另起 huanjie worker）"
    ),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, help="API 进程数（>1 时不在进程内运行调度器）"
    ),
    log_format: str = typer.Option(
        "auto",
        "--log-format",
        envvar="HUANJIE_LOG_FORMAT",
        help="日志格式：auto（终端上为中文文本，否则 JSON）、text 或 json",
    ),
    plain_logs: bool = typer.Option(False, "--plain-logs", help="同 --log-format text", hidden=True),
) -> None:
    """启动 HTTP API、工作台和调度器（默认 http://127.0.0.1:8000/）。"""
    # Deferred on purpose: uvicorn and the FastAPI application load only for `serve`, so the
    # other commands (and `huanjie --help`) stay fast.
    import uvicorn

    from service.app import create_app

    cli = state(ctx)
    with handled(False):
        config = configure(logs.check_format("text" if plain_logs else log_format))
    log = logging.getLogger("huanjie.service")
    # Migrated once, here, before any worker process starts; unless operators run Alembic
    # themselves (docs/operations.md).
    db = cli.database() if Settings().migrate_on_start else Database(cli.url())
    settings = Settings(db=db.url, migrate_on_start=False)
    if workers > 1:
        if not no_scheduler:
            log.info("several API processes: the scheduler is not started in them; run `huanjie worker`")
        os.environ["HUANJIE_DB"] = db.url
        os.environ["HUANJIE_MIGRATE_ON_START"] = "false"
        db.dispose()
        from uvicorn.supervisors import Multiprocess

        from service.cli.serve_socket import TcpConfig

        uv_config = TcpConfig(
            "service.app:create_app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=config,
            access_log=False,
            loop=EVENT_LOOP,
        )
        Multiprocess(uv_config, sockets=[uv_config.bind_socket()]).run()
        finish(0)
    app = create_app(settings, db, cli.clock, start_scheduler=not no_scheduler)
    log.info("serving", extra={"url": f"http://{host}:{port}/", "database": db.engine.dialect.name})
    uvicorn.run(app, host=host, port=port, log_config=config, access_log=False, loop=EVENT_LOOP)
    finish(0)
