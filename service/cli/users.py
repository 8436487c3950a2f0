"""`huanjie users add|deactivate|activate`: the service's logins."""

from __future__ import annotations

import secrets

import typer

from service.cli.common import JSON, Reply, run, say
from workflow.commands import auth as auth_commands
from workflow.store.auth import ROLE_NAMES, Role

app = typer.Typer(help="登录账号", no_args_is_help=True)
ROLES_HELP = "；".join(f"{r.value}＝{ROLE_NAMES[r]}" for r in Role)


@app.command("add")
def users_add(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="用户名"),
    role: str = typer.Option(..., "--role", help=ROLES_HELP),
    jurisdiction: str = typer.Option(..., "--jurisdiction", help="管辖的行政区划代码（含下级）"),
    password: str = typer.Option(
        None, "--password", help="密码（至少 10 个字符，不能是常用密码；省略时生成随机密码并显示一次）"
    ),
    display_name: str = typer.Option(None, "--name", help="显示名称"),
    exists_ok: bool = typer.Option(False, "--exists-ok", help="用户已存在时不报错、不修改"),
    as_json: bool = JSON,
) -> None:
    """添加登录账号（角色限定在一个行政区域及其下级）。"""
    generated = password is None
    password = password if password is not None else secrets.token_urlsafe(12)

    def work(session, cli) -> Reply:
        existing = auth_commands.find_user(session, username)
        if existing is not None and exists_ok:
            return Reply(
                {"username": username, "created": False, "role": existing.role},
                f"用户 {username} 已存在，未修改。",
            )
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

        def text() -> None:
            say(f"已添加用户 {username}（{ROLE_NAMES[Role(payload['role'])]}，{jurisdiction}）")
            if generated:
                typer.echo(password)
                say("以上为随机生成的密码，只显示这一次。")

        return Reply(payload, text)

    run(ctx, as_json, work)


def _set_active(ctx: typer.Context, username: str, active: bool, as_json: bool) -> None:
    def work(session, cli) -> Reply:
        changed = auth_commands.set_user_active(session, username, active, clock=cli.clock, actor=cli.actor)
        if not changed:
            text = f"用户 {username} 已是{'启用' if active else '停用'}状态，未作修改。"
        elif active:
            text = f"已重新启用用户 {username}（其未吊销的令牌恢复可用）"
        else:
            text = f"已停用用户 {username}：工作台登录已全部退出，API 令牌不再可用"
        return Reply({"username": username, "active": active, "changed": changed}, text)

    run(ctx, as_json, work)


@app.command("deactivate")
def users_deactivate(
    ctx: typer.Context, username: str = typer.Argument(..., help="用户名"), as_json: bool = JSON
) -> None:
    """停用登录账号（如人员调离）：立即退出所有登录，令牌失效；记录保留。"""
    _set_active(ctx, username, False, as_json)


@app.command("activate")
def users_activate(
    ctx: typer.Context, username: str = typer.Argument(..., help="用户名"), as_json: bool = JSON
) -> None:
    """重新启用已停用的登录账号。"""
    _set_active(ctx, username, True, as_json)
