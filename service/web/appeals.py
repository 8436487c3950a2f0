"""Dashboard: objections to the published voter list (申诉, EL 29) — file within five days of
publication, decide within three days of filing (upheld: the list is corrected, in a 县乡两级
round both levels' lists; rejected: with the reason), and close the appeals once the window has
passed and every appeal is decided. The same use cases as `huanjie appeals …`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from sqlalchemy.orm import Session

from service.api.deps import INT_MAX, Admitted, Principal, Svc, Tx, services
from service.web.steps import page_context, run_form, show
from workflow.commands import appeals, voter_districts
from workflow.errors import DomainError

router = APIRouter(include_in_schema=False)
REQUESTS = {"add": "要求登记", "remove": "要求除名", "correct": "要求更正"}
STATUS = {"pending": "待处理", "upheld": "申诉成立，已更正", "rejected": "驳回"}


@router.get("/elections/{election_id}/appeals")
def appeals_page(
    request: Request, session: Tx, svc: Svc, election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)]
) -> Response:
    context = page_context(request, session, election_id)
    if isinstance(context, Response):
        return context
    caller, election = context
    try:
        listed = appeals.list_appeals(session, election_id, clock=svc.clock)
    except DomainError:  # the list is not published yet: nothing to appeal against
        listed = {"published_on": None, "appeals": [], "pending": 0, "window_open": False}
    return show(
        request,
        "appeals.html",
        election,
        f"/elections/{election_id}/appeals",
        caller=caller,
        listed=listed,
        districts=voter_districts.list_districts(session, election_id),
        requests=REQUESTS,
        status_names=STATUS,
    )


def _back(election_id: int) -> str:
    return f"/elections/{election_id}/appeals"


@router.post("/elections/{election_id}/appeals/file")
def file_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    filer: Annotated[str, Form(max_length=100)] = "",
    request_kind: Annotated[str, Form(max_length=10)] = "",
    subject_name: Annotated[str, Form(max_length=100)] = "",
    subject_id_number: Annotated[str, Form(max_length=40)] = "",
    district: Annotated[str, Form(max_length=40)] = "",
    corrected_name: Annotated[str, Form(max_length=100)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        correction = (
            {"name": corrected_name.strip()} if request_kind == "correct" and corrected_name.strip() else None
        )
        appeal = appeals.file_appeal(
            session,
            election_id,
            filer=filer,
            request=request_kind,
            subject_name=subject_name,
            subject_id_number=subject_id_number.strip() or None,
            reason=reason,
            district=district.strip() or None,
            correction=correction,
            clock=services(request).clock,
            actor=caller.username,
        )
        return f"已受理第 {appeal.id} 号申诉，应于 {appeal.decide_by} 前作出处理决定"

    return run_form(request, election_id, csrf, _back(election_id), work, voters=True)


@router.post("/elections/{election_id}/appeals/{appeal_id}/decide")
def decide_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    appeal_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    outcome: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        if outcome not in ("upheld", "rejected"):
            raise DomainError("E_BAD_OUTCOME", "请选择处理结果：申诉成立或驳回", "outcome")
        if appeals.get_appeal(session, appeal_id).election_id != election_id:
            raise DomainError("E_NOT_FOUND", f"本选举没有第 {appeal_id} 号申诉", "appeal_id")
        appeal = appeals.decide_appeal(
            session,
            appeal_id,
            upheld=outcome == "upheld",
            reason=reason.strip() or None,
            clock=services(request).clock,
            actor=caller.username,
        )
        return f"第 {appeal.id} 号申诉：{STATUS[appeal.status]}（{appeal.decided_on}）"

    return run_form(request, election_id, csrf, _back(election_id), work, voters=True)


@router.post("/elections/{election_id}/appeals/close")
def close_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        milestone = appeals.close_appeals(
            session, election_id, clock=services(request).clock, actor=caller.username
        )
        return f"选民资格申诉处理完毕（{milestone.done_on}）"

    return run_form(request, election_id, csrf, _back(election_id), work, voters=True)
