"""`huanjie tokens create|list|revoke`: API tokens (only their hash is stored)."""

from __future__ import annotations

import typer

from service.cli.common import JSON, Reply, run, say
from workflow.commands import auth as auth_commands

app = typer.Typer(help="API 令牌", no_args_is_help=True)


@app.command("create")
def tokens_create(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="用户名"),
    name: str = typer.Option(None, "--name", help="令牌用途说明"),
    as_json: bool = JSON,
) -> None:
    """为用户生成 API 令牌（只显示这一次；库中只存哈希）。"""

    def work(session, cli) -> Reply:
        issued = auth_commands.create_token(session, username, clock=cli.clock, actor=cli.actor, name=name)

        def text() -> None:
            typer.echo(issued.token)
            say("请妥善保存此令牌（Authorization: Bearer …），它只显示这一次。")

        return Reply({"username": issued.username, "token": issued.token, "prefix": issued.prefix}, text)

    run(ctx, as_json, work)


@app.command("list")
def tokens_list(
    ctx: typer.Context,
    username: str = typer.Argument(None, help="只列出该用户的令牌"),
    as_json: bool = JSON,
) -> None:
    """列出 API 令牌（编号、用户、前缀、用途、状态；不显示令牌本身）。"""

    def work(session, cli) -> Reply:
        rows = [
            {
                "id": t.id,
                "username": t.user.username,
                "prefix": t.prefix,
                "name": t.name,
                "created_at": t.created_at,
                "revoked_at": t.revoked_at,
                "usable": t.revoked_at is None and t.user.active,
            }
            for t in auth_commands.list_tokens(session, username)
        ]

        def text() -> None:
            for r in rows:
                status = "可用" if r["usable"] else ("已吊销" if r["revoked_at"] else "账号已停用")
                typer.echo(f"{r['id']}\t{r['username']}\t{r['prefix']}…\t{r['name'] or ''}\t{status}")

        return Reply(rows, text)

    run(ctx, as_json, work, reading=True)


@app.command("revoke")
def tokens_revoke(
    ctx: typer.Context,
    token: str = typer.Argument(..., help="令牌编号或前缀（见 huanjie tokens list）"),
    as_json: bool = JSON,
) -> None:
    """吊销 API 令牌：立即失效，不可恢复（记入审计日志）。"""

    def work(session, cli) -> Reply:
        row, changed = auth_commands.revoke_token(session, token, clock=cli.clock, actor=cli.actor)
        payload = {
            "id": row.id,
            "username": row.user.username,
            "prefix": row.prefix,
            "revoked_at": row.revoked_at,
            "changed": changed,
        }
        if changed:
            text = f"已吊销令牌 {payload['prefix']}…（用户 {payload['username']}）"
        else:
            text = f"令牌 {payload['prefix']}… 此前已吊销，未作修改。"
        return Reply(payload, text)

    run(ctx, as_json, work)
