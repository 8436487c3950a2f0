"""The committee dashboard: server-rendered Jinja2 pages in Chinese, no JavaScript build step.
Login with a session cookie; every form carries a CSRF token checked against the session."""

from __future__ import annotations

import asyncio
import secrets
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

import anyio
from fastapi import APIRouter, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from service.api.deps import INT_MAX, SESSION_COOKIE, Admitted, Principal, Svc, Tx, principal_from, services
from service.web.notices import dashboard_notices
from service.web.timeline import build
from workflow.commands import auth
from workflow.commands import elections as commands
from workflow.errors import DomainError, not_found
from workflow.kinds import get_kind
from workflow.machine import Trigger, state_name
from workflow.store.models import Election
from workflow.timeutil import local_date
from workflow.views import elections as election_views
from workflow.views import jurisdictions
from workflow.views.elections import recent_notifications
from workflow.views.overview import list_elections_page, progress

HERE = Path(__file__).resolve().parent
LOGIN_CSRF = "hj_login_csrf"
router = APIRouter(include_in_schema=False)

STATUS_TEXT = {"pending": "待办", "done": "已办结", "overdue": "已逾期", "waived": "已免除"}


class LoginRequired(Exception):
    pass


def mount_static(app) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals["status_text"] = STATUS_TEXT
    templates.env.filters["local_time"] = local_time
    app.state.templates = templates

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired):
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


def local_time(instant, zone: str = "Asia/Shanghai") -> str:
    """An instant (UTC in the database) as the jurisdiction's wall-clock time."""
    if instant is None:
        return "—"
    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def render(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, name, context, status_code=status)


def web_principal(request: Request, session: Session) -> Principal:
    principal = principal_from(request, session, None)
    if principal is None:
        raise LoginRequired()
    request.state.username = principal.username
    return principal


def _safe_next(target: str | None) -> str:
    """A path on this site only: not "//host", nor "/\\host" (browsers read "\\" as "/"), nor
    anything with a control character."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    return target


# -- login --------------------------------------------------------------------------------
@router.get("/login")
def login_form(request: Request, next: str | None = None, error: str | None = None) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", csrf=token, next=_safe_next(next), error=error)
    secure = services(request).settings.cookie_secure
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", secure=secure, max_age=3600)
    return response


def _address(request: Request) -> str:
    return request.client.host if request.client else "-"


async def _in_slot(svc, work):
    """Run `work` in a worker thread while holding the database slot (as `Admitted` does)."""
    async with svc.gate():
        return await anyio.to_thread.run_sync(work)


@router.post("/login")
async def login_submit(
    request: Request,
    svc: Svc,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """Throttled first (no database, no hashing while an attempt must wait), then the user's
    hash read in a short transaction, the Argon2 check in the bounded pool outside the database
    slot, and the session opened in a second short transaction (docs/security.md)."""
    expected = request.cookies.get(LOGIN_CSRF)
    if not expected or not secrets.compare_digest(expected, csrf):
        return render(
            request,
            "login.html",
            403,
            csrf=expected or "",
            next=_safe_next(next),
            error="页面已过期，请重新登录",
        )
    settings = svc.settings
    throttle, address = svc.throttle(), _address(request)
    wait = throttle.retry_after(username, address)
    if wait:
        response = render(
            request,
            "login.html",
            429,
            csrf=expected,
            next=_safe_next(next),
            error=f"登录失败次数过多，请 {wait} 秒后再试",
        )
        response.headers["Retry-After"] = str(wait)
        return response

    def read() -> auth.LoginCandidate:
        with svc.db.reading() as session:
            return auth.login_candidate(session, username)

    candidate = await _in_slot(svc, read)
    ok = await asyncio.get_running_loop().run_in_executor(
        svc.hashing(), auth.password_matches, candidate.password_hash, password
    )
    opened = None
    if ok and candidate.active and candidate.user_id is not None:

        def write() -> auth.OpenedSession | None:
            try:
                with svc.db.transaction() as session:
                    return auth.open_session(
                        session,
                        candidate.user_id,
                        clock=svc.clock,
                        lifetime=timedelta(hours=settings.session_hours),
                    )
            except DomainError:
                return None  # deactivated meanwhile

        opened = await _in_slot(svc, write)
    if opened is None:
        throttle.failed(username, address)
        message = auth.login_refused().message
        return render(request, "login.html", 401, csrf=expected, next=_safe_next(next), error=message)
    throttle.succeeded(username, address)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        opened.cookie,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=settings.session_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF, secure=settings.cookie_secure, httponly=True, samesite="strict")
    return response


@router.api_route("/logout", methods=["GET", "POST"])
def logout(
    request: Request, svc: Svc, _admission: Admitted, csrf: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    """Ends the session on the server whenever the request carries its cookie, with or without
    the form's CSRF token (a forged logout can only log someone out; a refused one would leave a
    session the user believes ended). Only a logout with the token is audited as the user's."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with svc.db.transaction() as session:
            row = auth.web_session(session, cookie, clock=svc.clock)
            if row is not None:
                confirmed = request.method == "POST" and secrets.compare_digest(row.csrf_token, csrf)
                auth.logout(session, cookie, clock=svc.clock, confirmed=confirmed)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, secure=svc.settings.cookie_secure, httponly=True, samesite="lax")
    return response


# -- county view --------------------------------------------------------------------------
OVERVIEW_PAGE = 100  # elections per page of the overview; every one reachable by the pager


@router.get("/")
def county_view(
    request: Request,
    session: Tx,
    svc: Svc,
    jurisdiction: str | None = None,
    page: Annotated[int, Query(ge=1, le=INT_MAX)] = 1,
) -> HTMLResponse:
    caller = web_principal(request, session)
    scope = caller.scope(session)
    root = caller.user.jurisdiction
    narrowed = None
    if jurisdiction:
        found = jurisdictions.by_code(session, jurisdiction[:32])
        if found is not None and found.id in scope:
            root, narrowed = found, auth.subtree_ids(session, found.id)
    listing = list_elections_page(
        session,
        scope=scope,
        jurisdiction_ids=narrowed,
        limit=OVERVIEW_PAGE,
        offset=(page - 1) * OVERVIEW_PAGE,
        overview=True,
    )
    today = local_date(svc.clock.now(), root.timezone)
    rows = []
    for e in listing.items:
        kind = get_kind(e.kind)
        rows.append(
            {
                "e": e,
                "kind_name": kind.name,
                "state_name": state_name(kind, e.state),
                "p": progress(e, today),
            }
        )
    return render(
        request,
        "county.html",
        caller=caller,
        root=root,
        rows=rows,
        today=today,
        total=listing.total,
        listing=listing,
        jurisdiction=jurisdiction if narrowed is not None else None,
    )


# -- election view ------------------------------------------------------------------------
@router.get("/elections/{election_id}")
def election_page(
    request: Request,
    session: Tx,
    svc: Svc,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    msg: str | None = None,
    err: str | None = None,
) -> HTMLResponse:
    caller = web_principal(request, session)
    election = commands.get_election(session, election_id)
    if not caller.may_see(session, election.jurisdiction_id):
        raise not_found("选举", election_id, "election_id")  # as a missing one: nothing leaks
    kind = commands.kind_of(election)  # as it applies: a province's variant adds milestones
    today = local_date(svc.clock.now(), election.jurisdiction.timezone)
    view = election_views.describe(election)
    numbers = {m["key"]: i + 1 for i, m in enumerate(view["milestones"])}
    for m in view["milestones"]:
        m["n"] = numbers[m["key"]]
        m["phase_name"] = kind.phase(m["phase"]).name
        m["overdue_now"] = (
            m["status"] == "pending"
            and m["applicable"]
            and m["latest"]
            and today > date.fromisoformat(m["latest"])
        )
        m["plan_late"] = (
            m["status"] == "pending"
            and m["applicable"]
            and not m["overdue_now"]
            and m["planned"]
            and today > date.fromisoformat(m["planned"])
        )
    warnings = recent_notifications(session, election_id, limit=50)
    notices = dashboard_notices(session, election)
    return render(
        request,
        "election.html",
        caller=caller,
        election=election,
        view=view,
        kind=kind,
        today=today,
        p=progress(election, today),
        timeline=build(election, kind, today, numbers),
        warnings=warnings,
        notices=notices,
        next_name=state_name(kind, view["next"]["target"]) if view["next"] and view["next"]["target"] else "",
        can_write=auth.can_write(caller.user) and election.state not in ("closed", "cancelled", "suspended"),
        can_upload_voters=auth.can_write_voters(caller.user)
        and election.state not in ("closed", "cancelled"),
        voting_started=commands.voting_started(session, election, today)
        if view.get("voting_method")
        else None,
        msg=msg,
        err=err,
    )


@router.post("/elections/{election_id}/voting-method")
def voting_method_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    voting_method: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    """The election's voting method (RCL 2018 art. 8, 2025 art. 14), until voting starts."""
    svc = services(request)
    back = f"/elections/{election_id}"
    try:
        with svc.db.transaction() as session:
            caller = _form_caller(request, session, election_id, csrf)
            if not voting_method.strip():
                raise DomainError("E_FIELD_REQUIRED", "请选择「选举方式」", "voting_method")
            election = commands.set_voting_method(
                session, election_id, voting_method, clock=svc.clock, actor=caller.username
            )
            chosen = election_views.voting_method_view(election, commands.kind_of(election))["voting_method"]
            text = f"选举方式已设定为「{chosen['name']}」（{chosen['rule']}）"
    except DomainError as error:
        return RedirectResponse(f"{back}?err={quote(error.message)}#voting-method", status_code=303)
    return RedirectResponse(f"{back}?msg={quote(text)}#voting-method", status_code=303)


@router.post("/elections/{election_id}/advance")
def advance_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    svc = services(request)
    back = f"/elections/{election_id}"
    try:
        with svc.db.transaction() as session:
            caller = _form_caller(request, session, election_id, csrf)
            decision = commands.transition(
                session, election_id, Trigger.ADVANCE, clock=svc.clock, actor=caller.username
            )
            kind = commands.kind_of(commands.get_election(session, election_id))
            text = f"已进入「{state_name(kind, decision.target)}」阶段"
    except DomainError as error:
        return RedirectResponse(f"{back}?err={quote(error.message)}", status_code=303)
    return RedirectResponse(f"{back}?msg={quote(text)}", status_code=303)


def form_principal(request: Request, session: Session, csrf: str) -> Principal:
    """The logged-in caller of a dashboard form, its CSRF token checked."""
    caller = web_principal(request, session)
    if not caller.csrf_token or not secrets.compare_digest(caller.csrf_token, csrf):
        raise DomainError("E_CSRF", "页面已过期，请刷新后重试", "csrf")
    return caller


def _form_caller(request: Request, session: Session, election_id: int, csrf: str) -> Principal:
    """The logged-in writer of a dashboard form, with its CSRF token and scope checked."""
    caller = form_principal(request, session, csrf)
    election: Election = commands.get_election(session, election_id)
    if not caller.may_see(session, election.jurisdiction_id):  # the same answer as a missing one
        raise not_found("选举", election_id, "election_id")
    if not auth.can_write(caller.user):
        raise DomainError("E_READ_ONLY", f"「{caller.role_name}」角色不能修改选举", "role")
    return caller


@router.post("/elections/{election_id}/milestones/{key}/complete")
def complete_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    key: Annotated[str, PathParam(max_length=60)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    on: Annotated[str, Form(max_length=20)] = "",
    confirm_early: Annotated[str, Form(max_length=5)] = "",
    back: Annotated[str, Form(max_length=300)] = "",
    confirm: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    svc = services(request)
    # The milestone page posts here too and wants its answer there (service/web/grid.py).
    page = back if back.startswith(f"/elections/{election_id}/") and "//" not in back else None
    back = page or f"/elections/{election_id}"
    try:
        with svc.db.transaction() as session:
            caller = _form_caller(request, session, election_id, csrf)
            election = commands.get_election(session, election_id)
            if page and not confirm:  # the milestone page's form says what completing unlocks
                raise DomainError("E_CONFIRMATION_REQUIRED", "请勾选确认后再办结", "confirm")
            done_on = None
            if on.strip():
                try:
                    done_on = date.fromisoformat(on.strip())
                except ValueError:
                    raise DomainError(
                        "E_BAD_DATE", f"办结日期格式有误：{on}（应为 YYYY-MM-DD）", "on"
                    ) from None
            m = commands.complete_milestone(
                session,
                election_id,
                key,
                clock=svc.clock,
                actor=caller.username,
                on=done_on,
                confirm_early=bool(confirm_early),
            )
            name = commands.kind_of(election).milestones[key].name
            text = f"已办结「{name}」（{m.done_on}）" + ("，已超过法定期限" if m.late else "")
    except DomainError as error:
        return RedirectResponse(
            f"{back}?err={quote(error.message)}{'' if page else '#m-' + quote(key)}", status_code=303
        )
    return RedirectResponse(f"{back}?msg={quote(text)}{'' if page else '#m-' + quote(key)}", status_code=303)
