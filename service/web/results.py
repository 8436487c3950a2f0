"""Dashboard: results (选举结果, EL 46), the qualification review (代表资格审查, EL 47) and the
certificates (当选证书) — the same use cases as `huanjie results …`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from sqlalchemy.orm import Session

from service.api.deps import INT_MAX, Admitted, Principal, Tx, services
from service.web.steps import page_context, run_form, show
from workflow.commands import results
from workflow.errors import DomainError

router = APIRouter(include_in_schema=False)
STATUS = {
    "awaiting": "待计票",
    "revote_pending": "须重新投票",
    "runoff_pending": "须另行选举",
    "tie_break_pending": "票数相等，须再次投票",
    "complete": "选举完成",
}
QUALIFICATION = {"pending": "待审查", "confirmed": "资格有效", "invalid": "当选无效"}


@router.get("/elections/{election_id}/results")
def results_page(
    request: Request, session: Tx, election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)]
) -> Response:
    context = page_context(request, session, election_id)
    if isinstance(context, Response):
        return context
    caller, election = context
    return show(
        request,
        "results.html",
        election,
        f"/elections/{election_id}/results",
        caller=caller,
        view=results.results_view(session, election_id),
        status_names=STATUS,
        qualification_names=QUALIFICATION,
    )


def _back(election_id: int) -> str:
    return f"/elections/{election_id}/results"


@router.post("/elections/{election_id}/results/publish")
def publish_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        results.publish_results(session, election_id, clock=services(request).clock, actor=caller.username)
        return "已公布选举结果"

    return run_form(request, election_id, csrf, _back(election_id), work)


@router.post("/elections/{election_id}/results/{deputy_id}/review")
def review_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    deputy_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    outcome: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        if outcome not in ("valid", "invalid"):
            raise DomainError(
                "E_BAD_OUTCOME", "请选择审查结论：资格有效或当选无效（选举法第四十七条）", "outcome"
            )
        deputy = results.review_qualification(
            session,
            election_id,
            deputy_id,
            valid=outcome == "valid",
            note=note.strip() or None,
            clock=services(request).clock,
            actor=caller.username,
        )
        return f"{deputy.name}：{QUALIFICATION[deputy.qualification]}"

    return run_form(request, election_id, csrf, _back(election_id), work)


@router.post("/elections/{election_id}/results/certificates")
def certificates_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        issued = results.issue_certificates(
            session, election_id, clock=services(request).clock, actor=caller.username
        )
        return f"已颁发当选证书 {len(issued)} 份"

    return run_form(request, election_id, csrf, _back(election_id), work)
