"""`huanjie serve`, `huanjie users add|deactivate|activate`, `huanjie tokens create|list|revoke`: the
HTTP service and its logins."""

from __future__ import annotations

import logging
import os
import secrets

import typer

from service.cli.common import finish, handled, print_json, say, state
from workflow.commands import auth as auth_commands
from workflow.store.auth import ROLE_NAMES, Role

users_app = typer.Typer(help="登录账号", no_args_is_help=True)
tokens_app = typer.Typer(help="API 令牌", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="以 JSON 输出到标准输出")
ROLES_HELP = "；".join(f"{r.value}＝{ROLE_NAMES[r]}" for r in Role)


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
    plain_logs: bool = typer.Option(False, "--plain-logs", help="日志用纯文本而非 JSON"),
) -> None:
    """启动 HTTP API、工作台和调度器（默认 http://127.0.0.1:8000/）。"""
    import uvicorn

    from service.app import create_app
    from service.logs import configure
    from service.settings import ServiceSettings

    cli = state(ctx)
    config = configure(json_logs=not plain_logs)
    log = logging.getLogger("huanjie.service")
    if ServiceSettings().migrate_on_start:
        db = cli.database()  # migrated once, here, before any worker process starts
    else:  # operators run Alembic themselves (docs/operations.md)
        from workflow.store import Database
        from workflow.store.db import default_url

        db = Database(cli.db_url or os.environ.get("HUANJIE_DB") or default_url())
    settings = ServiceSettings(db=db.url, migrate_on_start=False)
    if workers > 1:
        if not no_scheduler:
            log.info("several API processes: the scheduler is not started in them; run `huanjie worker`")
        os.environ["HUANJIE_DB"] = db.url
        os.environ["HUANJIE_MIGRATE_ON_START"] = "false"
        db.dispose()
        uvicorn.run(
            "service.app:create_app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=config,
            access_log=False,
        )
        finish(0)
    app = create_app(settings, db, cli.clock, start_scheduler=not no_scheduler)
    log.info("serving", extra={"url": f"http://{host}:{port}/", "database": db.engine.dialect.name})
    uvicorn.run(app, host=host, port=port, log_config=config, access_log=False)
    finish(0)


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="用户名"),
    role: str = typer.Option(..., "--role", help=ROLES_HELP),
    jurisdiction: str = typer.Option(..., "--jurisdiction", help="管辖的行政区划代码（含下级）"),
    password: str = typer.Option(
        None, "--password", help="密码（至少 8 个字符；省略时生成随机密码并显示一次）"
    ),
    display_name: str = typer.Option(None, "--name", help="显示名称"),
    exists_ok: bool = typer.Option(False, "--exists-ok", help="用户已存在时不报错、不修改"),
    as_json: bool = JSON,
) -> None:
    """添加登录账号（角色限定在一个行政区域及其下级）。"""
    cli = state(ctx)
    generated = password is None
    password = password if password is not None else secrets.token_urlsafe(12)
    with handled(as_json), cli.database().transaction() as session:
        existing = auth_commands.find_user(session, username)
        if existing is not None and exists_ok:
            payload = {"username": username, "created": False, "role": existing.role}
        else:
            user = auth_commands.add_user(
                session,
                username=username,
                role=role,
                jurisdiction_code=jurisdiction,
                password=password,
                clock=cli.clock,
                actor=cli.actor,
                display_name=display_name,
            )
            payload = {"username": username, "created": True, "role": user.role, "jurisdiction": jurisdiction}
            if generated:
                payload["password"] = password
    if as_json:
        print_json(payload)
    elif payload["created"]:
        say(f"已添加用户 {username}（{ROLE_NAMES[Role(payload['role'])]}，{jurisdiction}）")
        if generated:
            typer.echo(password)
            say("以上为随机生成的密码，只显示这一次。")
    else:
        say(f"用户 {username} 已存在，未修改。")
    finish(0)


@tokens_app.command("create")
def tokens_create(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="用户名"),
    name: str = typer.Option(None, "--name", help="令牌用途说明"),
    as_json: bool = JSON,
) -> None:
    """为用户生成 API 令牌（只显示这一次；库中只存哈希）。"""
    cli = state(ctx)
    with handled(as_json), cli.database().transaction() as session:
        issued = auth_commands.create_token(session, username, clock=cli.clock, actor=cli.actor, name=name)
    if as_json:
        print_json({"username": issued.username, "token": issued.token, "prefix": issued.prefix})
    else:
        typer.echo(issued.token)
        say("请妥善保存此令牌（Authorization: Bearer …），它只显示这一次。")
    finish(0)


@tokens_app.command("list")
def tokens_list(
    ctx: typer.Context,
    username: str = typer.Argument(None, help="只列出该用户的令牌"),
    as_json: bool = JSON,
) -> None:
    """列出 API 令牌（编号、用户、前缀、用途、状态；不显示令牌本身）。"""
    cli = state(ctx)
    with handled(as_json), cli.database().reading() as session:
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
    if as_json:
        print_json(rows)
    else:
        for r in rows:
            status = "可用" if r["usable"] else ("已吊销" if r["revoked_at"] else "账号已停用")
            typer.echo(f"{r['id']}\t{r['username']}\t{r['prefix']}…\t{r['name'] or ''}\t{status}")
    finish(0)


@tokens_app.command("revoke")
def tokens_revoke(
    ctx: typer.Context,
    token: str = typer.Argument(..., help="令牌编号或前缀（见 huanjie tokens list）"),
    as_json: bool = JSON,
) -> None:
    """吊销 API 令牌：立即失效，不可恢复（记入审计日志）。"""
    cli = state(ctx)
    with handled(as_json), cli.database().transaction() as session:
        row, changed = auth_commands.revoke_token(session, token, clock=cli.clock, actor=cli.actor)
        payload = {"id": row.id, "username": row.user.username, "prefix": row.prefix,
                   "revoked_at": row.revoked_at, "changed": changed}  # fmt: skip
    if as_json:
        print_json(payload)
    elif changed:
        say(f"已吊销令牌 {payload['prefix']}…（用户 {payload['username']}）")
    else:
        say(f"令牌 {payload['prefix']}… 此前已吊销，未作修改。")
    finish(0)


def _set_active(ctx: typer.Context, username: str, active: bool, as_json: bool) -> None:
    cli = state(ctx)
    with handled(as_json), cli.database().transaction() as session:
        changed = auth_commands.set_user_active(session, username, active, clock=cli.clock, actor=cli.actor)
    if as_json:
        print_json({"username": username, "active": active, "changed": changed})
    elif not changed:
        say(f"用户 {username} 已是{'启用' if active else '停用'}状态，未作修改。")
    elif active:
        say(f"已重新启用用户 {username}（其未吊销的令牌恢复可用）")
    else:
        say(f"已停用用户 {username}：工作台登录已全部退出，API 令牌不再可用")
    finish(0)


@users_app.command("deactivate")
def users_deactivate(
    ctx: typer.Context, username: str = typer.Argument(..., help="用户名"), as_json: bool = JSON
) -> None:
    """停用登录账号（如人员调离）：立即退出所有登录，令牌失效；记录保留。"""
    _set_active(ctx, username, False, as_json)


@users_app.command("activate")
def users_activate(
    ctx: typer.Context, username: str = typer.Argument(..., help="用户名"), as_json: bool = JSON
) -> None:
    """重新启用已停用的登录账号。"""
    _set_active(ctx, username, True, as_json)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
