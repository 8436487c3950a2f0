"""Shared helpers of the dashboard's step pages (districts, register, appeals, tallies): the
caller and election of a page, a form run in one transaction through the same use cases as the
CLI, and the result shown back on the page (?msg= / ?err=, the use case's own Chinese message)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from service.api.deps import Principal, services
from service.web.routes import render, web_principal
from workflow.commands import auth
from workflow.commands import elections as commands
from workflow.errors import DomainError, not_found
from workflow.kinds import get_kind
from workflow.rules.voter_list import LIST_MILESTONE
from workflow.store.models import Election

CLOSED_STATES = ("closed", "cancelled", "suspended")


def page_context(
    request: Request, session: Session, election_id: int
) -> tuple[Principal, Election] | Response:
    """The caller and the election of a step page, or not found when out of scope (nothing leaks)."""
    caller = web_principal(request, session)
    election = commands.get_election(session, election_id)
    if not caller.may_see(session, election.jurisdiction_id):
        raise not_found("选举", election_id, "election_id")  # as a missing one: nothing leaks
    return caller, election


def has_register(election: Election) -> bool:
    """Kind-aware: districts, voters and appeals only for kinds with a voter list (EL 28)."""
    return LIST_MILESTONE in get_kind(election.kind).milestones


def step_links(election: Election) -> list[tuple[str, str]]:
    """The step pages the election's kind has (kind-aware: no districts for a party branch)."""
    base = f"/elections/{election.id}"
    links = []
    if has_register(election):
        links += [
            (f"{base}/allocation", "代表名额"),
            (f"{base}/districts", "选区与名额"),
            (f"{base}/register", "选民登记"),
            (f"{base}/appeals", "选民资格申诉"),
        ]
    links += [
        (f"{base}/candidates", "代表候选人" if has_register(election) else "候选人"),
        (f"{base}/mobile-boxes", "流动票箱与监票人"),
        (f"{base}/tallies", "计票录入核对"),
        (f"{base}/results", "选举结果"),
    ]
    return links


def show(request: Request, template: str, election: Election, here: str, **context) -> Response:
    """Render a step page with its navigation and the last form's message."""
    return render(
        request,
        template,
        election=election,
        step_links=step_links(election),
        here=here,
        msg=request.query_params.get("msg"),
        err=request.query_params.get("err"),
        field=request.query_params.get("field"),
        **context,
    )


def form_caller(
    request: Request, session: Session, election_id: int, csrf: str, *, voters: bool
) -> Principal:
    """The logged-in writer of a step form: CSRF token, scope and role checked."""
    caller = web_principal(request, session)
    if not caller.csrf_token or not secrets.compare_digest(caller.csrf_token, csrf):
        raise DomainError("E_CSRF", "页面已过期，请刷新后重试", "csrf")
    election = commands.get_election(session, election_id)
    if not caller.may_see(session, election.jurisdiction_id):
        raise DomainError("E_OUT_OF_SCOPE", "该选举不在本账号管辖范围内", "election_id")
    allowed = auth.can_write_voters(caller.user) if voters else auth.can_write(caller.user)
    if not allowed:
        raise DomainError("E_READ_ONLY", f"「{caller.role_name}」角色不能办理此项工作", "role")
    return caller


def run_form(
    request: Request,
    election_id: int,
    csrf: str,
    back: str,
    work: Callable[[Session, Principal], str | Warning],
    *,
    voters: bool = False,
) -> Response:
    """Run `work` (a use case call returning the Chinese confirmation) in one transaction;
    a DomainError rolls it back and is shown on the page, with the field it names. A `Warning`
    returned (e.g. two tally entries that differ) is committed and shown as a problem."""
    svc = services(request)
    try:
        with svc.db.transaction() as session:
            caller = form_caller(request, session, election_id, csrf, voters=voters)
            text = work(session, caller)
    except DomainError as error:
        return RedirectResponse(
            f"{back}?err={quote(error.message)}&field={quote(error.field or '')}", status_code=303
        )
    if isinstance(text, Warning):  # stored, but the page must show it as a problem
        return RedirectResponse(f"{back}?err={quote(str(text))}", status_code=303)
    return RedirectResponse(f"{back}?msg={quote(text)}", status_code=303)


def whole(value: str, field: str, label: str, *, required: bool = True) -> int | None:
    """A form's whole number, or a DomainError naming the field in Chinese."""
    value = (value or "").strip()
    if not value:
        if required:
            raise DomainError("E_FIELD_REQUIRED", f"请填写「{label}」", field)
        return None
    try:
        number = int(value)
    except ValueError:
        raise DomainError("E_BAD_NUMBER", f"「{label}」应为整数，收到「{value}」", field) from None
    if number < 0:
        raise DomainError("E_BAD_NUMBER", f"「{label}」不能为负数，收到 {number}", field)
    return number


def day(value: str, field: str, label: str) -> date | None:
    """A form's date (an HTML date input sends YYYY-MM-DD), or a DomainError naming the field."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DomainError("E_BAD_DATE", f"「{label}」的日期格式有误：「{value}」（应为 YYYY-MM-DD）", field) from None
