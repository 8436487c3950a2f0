"""Dashboard: the voter register of an election (选民登记) — voters per district, additions and
removals with their reasons (EL 27), publishing the list (EL 28) and, in a 县乡两级 round, the
county's totals per township and district (one register for both levels:
workflow/commands/register_levels.py). Uploads stay on the election page (service/web/voters.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from sqlalchemy.orm import Session

from service.api.deps import INT_MAX, Admitted, Principal, Svc, Tx, services
from service.web.register_law import law_sections
from service.web.steps import page_context, run_form, show
from workflow.commands import auth, elections, register_levels, voter_list
from workflow.commands.voter_exports import REASON_NAMES
from workflow.errors import DomainError
from workflow.rules.voter_rows import registration_closes
from workflow.store.voters import AddedReason, RemovedReason
from workflow.views.voters import voters_status

router = APIRouter(include_in_schema=False)
ADD_REASONS = [r.value for r in AddedReason if r not in (AddedReason.APPEAL,)]
REMOVE_REASONS = [r.value for r in RemovedReason if r is not RemovedReason.APPEAL]


@router.get("/elections/{election_id}/register")
def register_page(
    request: Request, session: Tx, svc: Svc, election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)]
) -> Response:
    context = page_context(request, session, election_id)
    if isinstance(context, Response):
        return context
    caller, election = context
    status = voters_status(session, election, clock=svc.clock)
    county = register_levels.county_election(session, election)
    towns = register_levels.township_elections(session, election.id) if county is None else []
    return show(
        request,
        "register.html",
        election,
        f"/elections/{election_id}/register",
        caller=caller,
        reg=status,
        county=county,
        round=register_levels.round_totals(session, election.id) if towns else None,
        add_reasons=[(r, REASON_NAMES[r]) for r in ADD_REASONS],
        remove_reasons=[(r, REASON_NAMES[r]) for r in REMOVE_REASONS],
        can_upload=auth.can_write_voters(caller.user),
        law=law_sections(session, election),
        closes=registration_closes(elections.kind_of(election), election.anchor_date),
    )


def _reason(kind, value: str, allowed: list[str], label: str):
    if value not in allowed:
        raise DomainError("E_BAD_REASON", f"请选择{label}（选举法第二十七条）", "reason")
    return kind(value)


def _back(election_id: int) -> str:
    return f"/elections/{election_id}/register"


@router.post("/elections/{election_id}/register/add")
def add_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    district: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
    id_number: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=20)] = "",
    voter_group: Annotated[str, Form(max_length=100)] = "",
    proof: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        voter = register_levels.add_voter(
            session,
            election_id,
            district=district,
            name=name,
            id_number=id_number,
            reason=_reason(AddedReason, reason, ADD_REASONS, "登记原因"),
            voter_group=voter_group.strip() or None,
            proof=proof.strip() or None,
            clock=services(request).clock,
            actor=caller.username,
        )
        return f"已登记选民 {voter.name}（选区 {district}）"

    return run_form(request, election_id, csrf, _back(election_id), work, voters=True)


@router.post("/elections/{election_id}/register/remove")
def remove_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    id_number: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        voter = register_levels.remove_voter(
            session,
            election_id,
            id_number,
            reason=_reason(RemovedReason, reason, REMOVE_REASONS, "除名原因"),
            note=note.strip() or None,
            clock=services(request).clock,
            actor=caller.username,
        )
        return f"已将 {voter.name} 除名（{REASON_NAMES[voter.removed_reason]}）"

    return run_form(request, election_id, csrf, _back(election_id), work, voters=True)


@router.post("/elections/{election_id}/register/publish")
def publish_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        published = voter_list.publish(
            session, election_id, clock=services(request).clock, actor=caller.username
        )
        what = "补正名单" if published.supplementary else "选民名单"
        count = sum(d["changes"] if published.supplementary else d["voters"] for d in published.districts)
        return f"已公布{what}（{published.published_on}，{len(published.districts)} 个选区，{count} 人次）"

    return run_form(request, election_id, csrf, _back(election_id), work, voters=True)
