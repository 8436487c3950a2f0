"""Dashboard: users and API tokens for the county admin (县选举委员会管理员) — add a login for
its own subtree, create a token (shown once), revoke a token, deactivate or reactivate a user.
The same use cases as `huanjie users …` / `huanjie tokens …`."""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from service.api.deps import Admitted, Principal, Tx, services
from service.web.routes import render, web_principal
from workflow.commands import auth
from workflow.errors import DomainError
from workflow.store.auth import ROLE_NAMES, Role, User
from workflow.store.models import Jurisdiction

router = APIRouter(include_in_schema=False)
PAGE = "/users"


def _admin(request: Request, session: Session, csrf: str | None = None) -> Principal:
    caller = web_principal(request, session)
    if csrf is not None and (not caller.csrf_token or not secrets.compare_digest(caller.csrf_token, csrf)):
        raise DomainError("E_CSRF", "页面已过期，请刷新后重试", "csrf")
    if caller.user.role != Role.COUNTY_ADMIN:
        raise DomainError("E_FORBIDDEN", "只有县选举委员会管理员可以管理用户和令牌", "role")
    return caller


def _in_scope(session: Session, caller: Principal, username: str) -> User:
    user = auth.find_user(session, username.strip())
    if user is None or user.jurisdiction_id not in caller.scope(session):
        raise DomainError("E_NOT_FOUND", f"未找到用户：{username}", "username")
    return user


@router.get(PAGE)
def users_page(request: Request, session: Tx, msg: str | None = None, err: str | None = None) -> Response:
    caller = web_principal(request, session)
    if caller.user.role != Role.COUNTY_ADMIN:
        return render(
            request, "error.html", 403, caller=caller, message="只有县选举委员会管理员可以管理用户和令牌。"
        )
    return _page(request, session, caller, msg=msg, err=err)


def _page(request: Request, session: Session, caller: Principal, status: int = 200, **extra) -> Response:
    scope = caller.scope(session)
    users = list(
        session.execute(
            select(User)
            .where(User.jurisdiction_id.in_(scope))
            .options(selectinload(User.jurisdiction))
            .order_by(User.id)
        ).scalars()
    )
    ids = {u.id for u in users}
    tokens = [t for t in auth.list_tokens(session) if t.user_id in ids]
    places = list(
        session.execute(
            select(Jurisdiction).where(Jurisdiction.id.in_(scope)).order_by(Jurisdiction.code)
        ).scalars()
    )
    return render(
        request,
        "users.html",
        status,
        caller=caller,
        users=users,
        tokens=tokens,
        places=places,
        roles=[(r.value, ROLE_NAMES[r]) for r in Role],
        role_names={r.value: ROLE_NAMES[r] for r in Role},
        **extra,
    )


def _run(request: Request, csrf: str, work) -> Response:
    svc = services(request)
    try:
        with svc.db.transaction() as session:
            caller = _admin(request, session, csrf)
            text = work(session, caller)
    except DomainError as error:
        return RedirectResponse(f"{PAGE}?err={quote(error.message)}", status_code=303)
    return RedirectResponse(f"{PAGE}?msg={quote(text)}", status_code=303)


@router.post(f"{PAGE}/add")
def add_form(
    request: Request,
    _admission: Admitted,
    csrf: Annotated[str, Form(max_length=100)] = "",
    username: Annotated[str, Form(max_length=100)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    jurisdiction: Annotated[str, Form(max_length=32)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        place = session.execute(
            select(Jurisdiction).where(Jurisdiction.code == jurisdiction)
        ).scalar_one_or_none()
        if place is None or place.id not in caller.scope(session):
            raise DomainError(
                "E_OUT_OF_SCOPE", f"行政区划 {jurisdiction} 不在本账号管辖范围内", "jurisdiction"
            )
        user = auth.add_user(
            session,
            username=username,
            role=role,
            jurisdiction_code=jurisdiction,
            password=password or None,
            display_name=display_name.strip() or None,
            clock=services(request).clock,
            actor=caller.username,
        )
        return f"已添加用户 {user.username}（{ROLE_NAMES[Role(user.role)]}，{place.name}）"

    return _run(request, csrf, work)


@router.post(f"{PAGE}/token")
def token_form(
    request: Request,
    _admission: Admitted,
    csrf: Annotated[str, Form(max_length=100)] = "",
    username: Annotated[str, Form(max_length=100)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """The token is shown on this response only (its hash is stored), never in a URL."""
    svc = services(request)
    try:
        with svc.db.transaction() as session:
            caller = _admin(request, session, csrf)
            user = _in_scope(session, caller, username)
            issued = auth.create_token(
                session, user.username, name=name.strip() or None, clock=svc.clock, actor=caller.username
            )
    except DomainError as error:
        return RedirectResponse(f"{PAGE}?err={quote(error.message)}", status_code=303)
    with svc.db.reading() as session:
        caller = web_principal(request, session)
        return _page(
            request,
            session,
            caller,
            issued=issued,
            msg=f"已为 {issued.username} 创建令牌，请立即复制保存，离开本页后不再显示",
        )


@router.post(f"{PAGE}/revoke")
def revoke_form(
    request: Request,
    _admission: Admitted,
    csrf: Annotated[str, Form(max_length=100)] = "",
    token: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        found = next(
            (t for t in auth.list_tokens(session) if str(t.id) == token.strip() or t.prefix == token.strip()),
            None,
        )
        if found is None or found.user.jurisdiction_id not in caller.scope(session):
            raise DomainError("E_NOT_FOUND", f"未找到令牌：{token}", "token")
        row, changed = auth.revoke_token(
            session, str(found.id), clock=services(request).clock, actor=caller.username
        )
        return f"已吊销令牌 {row.prefix}…" if changed else f"令牌 {row.prefix}… 此前已吊销"

    return _run(request, csrf, work)


@router.post(f"{PAGE}/active")
def active_form(
    request: Request,
    _admission: Admitted,
    csrf: Annotated[str, Form(max_length=100)] = "",
    username: Annotated[str, Form(max_length=100)] = "",
    active: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        user = _in_scope(session, caller, username)
        if user.id == caller.user.id:
            raise DomainError("E_SELF", "不能停用当前登录的账号", "username")
        auth.set_user_active(
            session, user.username, active == "1", clock=services(request).clock, actor=caller.username
        )
        return f"已{'启用' if active == '1' else '停用'}用户 {user.username}"

    return _run(request, csrf, work)
