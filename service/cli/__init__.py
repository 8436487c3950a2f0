"""The `huanjie` command line. Each area of the project adds its commands in its own module
and registers them in `_register` below."""

from __future__ import annotations

import importlib

import typer

from service.cli.common import CliState

app = typer.Typer(
    name="huanjie",
    help="换届选举工作编排：选举计划、法定期限、阶段推进、公告。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    db: str = typer.Option(
        None, "--db", help="数据库 URL（默认：用户数据目录下的 SQLite 文件，或环境变量 HUANJIE_DB）"
    ),
    actor: str = typer.Option(
        None, "--actor", help="记入审计日志的操作人（默认：HUANJIE_ACTOR 或系统用户名）"
    ),
) -> None:
    cli = CliState(db_url=db)
    if actor:
        cli.actor = actor
    ctx.obj = cli


# Each part of the project adds its commands in service/cli/<part>.py with register(app).
PARTS = ("core", "demo", "tally", "outbox", "districts", "candidates", "notices", "voters", "service", "scheduler", "integration")


def _register() -> None:
    for part in PARTS:
        importlib.import_module(f"service.cli.{part}").register(app)


_register()


def main() -> None:
    app()
