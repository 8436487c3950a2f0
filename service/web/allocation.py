"""Dashboard: seat allocation (代表名额分配) — record the total decided by the standing committee
with its document number and population base (EL 12), see the townships' shares (EL 15: by
population, at least one each) and go on to the districts of one to three seats (EL 25)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from sqlalchemy.orm import Session

from service.api.deps import INT_MAX, Admitted, Principal, Tx, services
from service.web.steps import page_context, run_form, show, whole
from workflow.commands import seat_allocation
from workflow.errors import DomainError

router = APIRouter(include_in_schema=False)


@router.get("/elections/{election_id}/allocation")
def allocation_page(
    request: Request, session: Tx, election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)]
) -> Response:
    context = page_context(request, session, election_id)
    if isinstance(context, Response):
        return context
    caller, election = context
    return show(
        request,
        "allocation.html",
        election,
        f"/elections/{election_id}/allocation",
        caller=caller,
        view=seat_allocation.allocation(session, election_id),
    )


@router.post("/elections/{election_id}/allocation/decision")
def decision_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    total: Annotated[str, Form(max_length=10)] = "",
    document: Annotated[str, Form(max_length=100)] = "",
    population: Annotated[str, Form(max_length=12)] = "",
    decided_on: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        on = None
        if decided_on.strip():
            try:
                on = date.fromisoformat(decided_on.strip())
            except ValueError:
                raise DomainError(
                    "E_BAD_DATE", f"决定日期格式有误：{decided_on}（应为 YYYY-MM-DD）", "decided_on"
                ) from None
        row = seat_allocation.record_decision(
            session,
            election_id,
            total=whole(total, "total", "代表总名额"),
            document=document,
            population=whole(population, "population", "人口基数"),
            decided_on=on,
            clock=services(request).clock,
            actor=caller.username,
        )
        return f"已记录代表总名额 {row.total} 名（{row.document}，人口基数 {row.population}）"

    return run_form(request, election_id, csrf, f"/elections/{election_id}/allocation", work)
