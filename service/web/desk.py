"""The dashboard's reminders, outbox and audit pages (times in Asia/Shanghai, milestone names,
failures in Chinese with the detail folded away, a retry button for a parked message, the
audit table with filters and the chain check), and the browser-grade edges: HTML error pages in
Chinese for browser requests (the API keeps problem JSON) and /docs served from an installed
package (swagger-ui-py), so it works with no internet."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlsplit

import swagger_ui
from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from schedules import delivery
from service.api.deps import INT_MAX, Admitted, Tx, services
from service.api.problems import status_of
from service.web.routes import LoginRequired, form_principal, local_time, render, web_principal
from workflow.commands import auth
from workflow.errors import DomainError
from workflow.store.audit import HEAD_ID, ChainReport, Checkpoint, verify
from workflow.store.auth import Role
from workflow.store.models import AuditHead, Notification
from workflow.views.desk import ACTION_TEXT, audit_rows, failure_text, outbox_rows, reminder_rows

router = APIRouter(include_in_schema=False)
SWAGGER_ASSETS = Path(swagger_ui.__file__).resolve().parent / "static"
Id = Annotated[int | None, Query(ge=1, le=INT_MAX)]
STATUS_TEXT = {"pending": "待发送", "sent": "已发送", "failed": "发送失败（已停止重试）"}
REMINDER_STATUS = {"pending": "待触发", "done": "已触发", "cancelled": "已取消", "superseded": "已合并"}


@router.get("/reminders")
def reminders_page(
    request: Request, session: Tx, election: Id = None, status: Annotated[str | None, Query(max_length=12)] = None
) -> HTMLResponse:
    caller = web_principal(request, session)
    if status and status not in REMINDER_STATUS:
        raise DomainError("E_BAD_STATUS", f"未知的状态 {status!r}", "status")
    rows = reminder_rows(session, scope=caller.scope(session), election_id=election, status=status or None)
    return render(
        request, "reminders.html", caller=caller, rows=rows, election=election, chosen=status or "",
        status_text=REMINDER_STATUS,
    )


@router.get("/outbox")
def outbox_page(
    request: Request,
    session: Tx,
    election: Id = None,
    msg: Annotated[str | None, Query(max_length=500)] = None,
    err: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    caller = web_principal(request, session)
    rows = outbox_rows(session, scope=caller.scope(session), election_id=election)
    return render(
        request,
        "outbox.html",
        caller=caller,
        pending=[r for r in rows if r["status"] == "pending"],
        failed=[r for r in rows if r["status"] == "failed"],
        sent=[r for r in rows if r["status"] == "sent"],
        election=election,
        can_write=auth.can_write(caller.user),
        csrf=caller.csrf_token,
        msg=msg,
        err=err,
    )


@router.post("/outbox/{notification_id}/retry")
def retry_form(
    request: Request,
    _admission: Admitted,
    notification_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    svc = services(request)
    try:
        with svc.db.transaction() as session:
            caller = form_principal(request, session, csrf)
            if not auth.can_write(caller.user):
                raise DomainError("E_READ_ONLY", f"「{caller.role_name}」角色不能重发通知", "role")
            row = session.get(Notification, notification_id)
            if row is None or row.jurisdiction_id not in caller.scope(session):
                raise DomainError("E_NOT_FOUND", f"未找到通知 {notification_id}", "id")
            delivery.retry(session, notification_id, clock=svc.clock, actor=caller.username)
    except DomainError as error:
        return RedirectResponse(f"/outbox?err={quote(error.message)}", status_code=303)
    return RedirectResponse(f"/outbox?msg={quote(f'通知 {notification_id} 已重新排队发送')}", status_code=303)


# -- the audit chain's check: incremental on each load, whole on demand -----------------------
AUTO_FULL = 20_000  # a log up to this size is walked whole on the first load (tens of ms)


@dataclass
class ChainCheck:
    """What this process knows of the chain: the prefix verified so far (walked from the start
    at `full_at`, extended by each page load since) and the last whole walk's result."""

    checkpoint: Checkpoint | None
    full_at: datetime
    full_entries: int
    full_ok: bool


_checks: dict[tuple[int, str], ChainCheck] = {}
_checks_lock = threading.Lock()


def _check_key(svc) -> tuple[int, str]:
    return (id(svc.db), str(svc.db.url))


def full_check(session, svc) -> ChainReport:
    """Walk the whole chain (the 完整校验 button, or a small log's first load) and remember it."""
    report = verify(session)
    with _checks_lock:
        _checks[_check_key(svc)] = ChainCheck(report.checkpoint, svc.clock.now(), report.entries, report.ok)
    return report


def chain_status(session, svc) -> tuple[ChainReport | None, ChainCheck | None, int]:
    """The page's chain line at the cost of the entries added since the last check: the keyed
    head is checked against the newest entry every time, the entries after the verified prefix
    are walked; a log never walked whole (and too big to walk on a page load) reports None."""
    head = session.get(AuditHead, HEAD_ID)
    size = head.seq if head is not None else 0
    with _checks_lock:
        known = _checks.get(_check_key(svc))
    if known is None:
        if size > AUTO_FULL:
            return None, None, size
        report = full_check(session, svc)
        with _checks_lock:
            return report, _checks.get(_check_key(svc)), size
    report = verify(session, since=known.checkpoint) if known.checkpoint is not None else verify(session)
    if report.ok:
        with _checks_lock:
            known.checkpoint = report.checkpoint
    return report, known, size


@router.get("/audit")
def audit_page(
    request: Request,
    session: Tx,
    election: Id = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=60)] = None,
    day: Annotated[str | None, Query(max_length=10)] = None,
    msg: Annotated[str | None, Query(max_length=500)] = None,
    err: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    caller = web_principal(request, session)
    svc = services(request)
    on = None
    if day:
        try:
            on = date.fromisoformat(day)
        except ValueError:
            raise DomainError("E_BAD_DATE", f"日期格式有误：{day}（应为 YYYY-MM-DD）", "day") from None
    rows, total = audit_rows(
        session,
        scope=caller.scope(session),
        with_users=caller.user.role == Role.COUNTY_ADMIN,
        election_id=election,
        actor=actor or None,
        action=action or None,
        day=on,
        zone=caller.user.jurisdiction.timezone,
    )
    chain, check, size = chain_status(session, svc)
    return render(
        request,
        "audit.html",
        caller=caller,
        rows=rows,
        total=total,
        chain=chain,
        check=check,
        size=size,
        full_at=local_time(check.full_at, caller.user.jurisdiction.timezone) if check else None,
        can_check=caller.user.role == Role.COUNTY_ADMIN,
        actions=ACTION_TEXT,
        f={"election": election or "", "actor": actor or "", "action": action or "", "day": day or ""},
        msg=msg,
        err=err,
    )


@router.post("/audit/verify")
def audit_verify_form(
    request: Request, _admission: Admitted, csrf: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    """完整校验: walk the whole chain from its first entry (a change inside the verified prefix
    is found only this way); the county admin's, as it reads every entry."""
    svc = services(request)
    try:
        with svc.db.reading() as session:
            caller = form_principal(request, session, csrf)
            if caller.user.role != Role.COUNTY_ADMIN:
                raise DomainError("E_READ_ONLY", f"「{caller.role_name}」角色不能发起完整校验", "role")
            report = full_check(session, svc)
    except DomainError as error:
        return RedirectResponse(f"/audit?err={quote(error.message)}#chain", status_code=303)
    if report.ok:
        return RedirectResponse(f"/audit?msg={quote(f'完整校验通过：共 {report.entries} 条记录')}#chain", status_code=303)
    return RedirectResponse(f"/audit?err={quote('完整校验失败：' + (report.reason or ''))}#chain", status_code=303)


# -- browser-grade edges ------------------------------------------------------------------
def wants_html(request: Request) -> bool:
    """A browser navigating to a page: the dashboard's, or an API address opened as a page (a
    notice preview link); the API called by a program keeps its problem JSON."""
    if "text/html" not in request.headers.get("accept", ""):
        return False
    path = request.url.path
    if path in ("/openapi.json", "/healthz", "/metrics"):
        return False
    return not path.startswith("/api/") or request.headers.get("sec-fetch-mode") == "navigate"


def _back_link(request: Request) -> str | None:
    """The page the browser came from, when it is one of ours (a plain link: the CSP forbids a
    javascript: one)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or not referer.path.startswith("/") or referer.path == request.url.path:
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status, caller=None, message=message, code=status, back=_back_link(request))


def install(app: FastAPI) -> None:
    """HTML error pages for browsers on top of the problem handlers (service/api/problems.py),
    and /docs from local assets. Call after `problems.install`."""
    app.state.templates.env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    app.state.templates.env.filters["failure_text"] = failure_text
    previous = dict(app.exception_handlers)

    def wrap(exc_class, to_page):
        fallback = previous.get(exc_class)

        async def handler(request: Request, error):
            if isinstance(error, LoginRequired) or not wants_html(request) or fallback is None:
                return await fallback(request, error)
            return error_page(request, *to_page(error))

        app.add_exception_handler(exc_class, handler)

    wrap(DomainError, lambda e: (status_of(e), e.message))
    wrap(RequestValidationError, lambda e: (422, "地址中的参数有误，请检查链接是否完整。"))
    wrap(
        StarletteHTTPException,
        lambda e: (
            e.status_code,
            {404: "未找到该页面：链接可能已失效或输入有误。", 405: "不支持该操作方式。"}.get(
                e.status_code, f"请求未能完成（{e.status_code}）。"
            ),
        ),
    )
    wrap(Exception, lambda e: (500, "服务器内部错误，已记录日志。请稍后重试，或联系系统管理员。"))

    app.mount("/docs-assets", StaticFiles(directory=SWAGGER_ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} · 接口文档",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )
