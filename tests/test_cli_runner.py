"""The CLI's shared runner (service/cli/common.py): one transaction per command, a domain error
rolls back and exits 2 with its document, the answer is printed as JSON on stdout or as text on
stderr, with its exit code."""

from __future__ import annotations

import json

import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from service.cli.common import JSON, CliState, Reply, offline, run, say
from workflow.errors import DomainError
from workflow.store.models import Jurisdiction


def _app(db_url: str | None = None) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root(ctx: typer.Context) -> None:
        ctx.obj = CliState(db_url=db_url)

    @app.command("answer")
    def answer(no: bool = typer.Option(False, "--no"), as_json: bool = JSON) -> None:
        def lines() -> None:
            typer.echo("data")
            say("说明")

        offline(as_json, lambda: Reply({"answer": "no" if no else "yes"}, lines, 1 if no else 0))

    @app.command("refuse")
    def refuse(as_json: bool = JSON) -> None:
        def work() -> Reply:
            raise DomainError("E_TEST", "不行", "thing")

        offline(as_json, work)

    @app.command("write")
    def write(ctx: typer.Context, fail: bool = typer.Option(False, "--fail"), as_json: bool = JSON) -> None:
        def work(session, cli) -> Reply:
            session.add(Jurisdiction(code="429999", name="测试乡", level="township"))
            session.flush()
            if fail:
                raise DomainError("E_TEST", "写到一半", None)
            return Reply({"written": 1}, "已写入")

        run(ctx, as_json, work)

    return app


def _invoke(app: typer.Typer, *args: str):
    return CliRunner().invoke(app, list(args))


def test_text_goes_where_the_command_prints_it_and_json_is_one_document():
    result = _invoke(_app(), "answer")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "data\n", "说明\n")
    result = _invoke(_app(), "answer", "--no", "--json")
    assert (result.exit_code, json.loads(result.stdout), result.stderr) == (1, {"answer": "no"}, "")


def test_a_domain_error_exits_2_with_its_document():
    result = _invoke(_app(), "refuse", "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {"error": {"code": "E_TEST", "message": "不行", "field": "thing"}}
    result = _invoke(_app(), "refuse")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", "错误：不行（字段：thing） [E_TEST]\n")


def test_one_transaction_committed_or_rolled_back_whole(db):
    def count() -> int:
        with db.reading() as session:
            return session.execute(select(func.count(Jurisdiction.id))).scalar_one()

    before = count()
    result = _invoke(_app(db.url), "write", "--fail", "--json")
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["code"] == "E_TEST"
    assert count() == before
    result = _invoke(_app(db.url), "write")
    assert (result.exit_code, result.stderr) == (0, "已写入\n")
    assert count() == before + 1
