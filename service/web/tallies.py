"""Dashboard: tallies keyed in by one clerk and checked by a second (双人录入核对,
workflow/commands/tally_entry.py). Each district with an official list shows the vote it needs
next (first vote, runoff or tie-break; EL 44–45), the entries so far and, after a mismatch, the
fields where they differ; the count is recorded once two people's entries agree."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.api.deps import INT_MAX, Admitted, Principal, Tx, services
from service.web.steps import page_context, run_form, show, whole
from workflow.commands import elections, results, tally_entry
from workflow.errors import DomainError
from workflow.rules.results import PURPOSE_NAMES, RUNOFF
from workflow.store.candidates import Candidate, CandidateStatus, DistrictList, ListStatus

router = APIRouter(include_in_schema=False)
FIGURES = [
    ("registered_voters", "选民数"),
    ("ballots_issued", "发出选票数"),
    ("ballots_returned", "收回选票数"),
    ("invalid_ballots", "无效票数"),
]


def _candidates(session: Session, election_id: int, district: str, pending: dict) -> list[str]:
    if pending.get("candidates"):
        return list(pending["candidates"])
    return list(
        session.execute(
            select(Candidate.name)
            .where(
                Candidate.election_id == election_id,
                Candidate.district == district,
                Candidate.status == CandidateStatus.OFFICIAL,
            )
            .order_by(Candidate.id)
        ).scalars()
    )


def _lists(session: Session, election_id: int) -> list[DistrictList]:
    return list(
        session.execute(
            select(DistrictList)
            .where(DistrictList.election_id == election_id, DistrictList.status == ListStatus.OFFICIAL)
            .order_by(DistrictList.district)
        ).scalars()
    )


@router.get("/elections/{election_id}/tallies")
def tallies_page(
    request: Request, session: Tx, election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)]
) -> Response:
    context = page_context(request, session, election_id)
    if isinstance(context, Response):
        return context
    caller, election = context
    rows = []
    for lst in _lists(session, election_id):
        pending = results.next_vote(session, election_id, lst.district)
        row = {"district": lst.district, "name": lst.name, "seats": lst.seats, "pending": pending}
        if pending:
            row["purpose"] = PURPOSE_NAMES[pending["purpose"]]
            row["candidates"] = _candidates(session, election_id, lst.district, pending)
            row["state"] = tally_entry.entry_state(session, election_id, lst.district)
        else:
            row["deputies"] = [d.name for d in results.deputies(session, election_id, lst.district)]
        rows.append(row)
    return show(
        request,
        "tallies.html",
        election,
        f"/elections/{election_id}/tallies",
        caller=caller,
        rows=rows,
        figures=FIGURES,
    )


@router.post("/elections/{election_id}/tallies/{district}/enter")
async def enter_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    district: Annotated[str, PathParam(max_length=64)],
) -> Response:
    form = await request.form()
    fields = {k: str(v)[:40] for k, v in form.items() if isinstance(v, str)}
    back = f"/elections/{election_id}/tallies"

    def work(session: Session, caller: Principal) -> str | Warning:
        election_kind = elections.get_election(session, election_id).kind
        pending = results.next_vote(session, election_id, district)
        if pending is None:
            raise DomainError("E_DISTRICT_DONE", f"选区 {district} 的选举已完成，不能再登记计票", "district")
        names = _candidates(session, election_id, district, pending)
        data = {"kind": election_kind, "seats": pending["seats"]}
        for key, label in FIGURES:
            data[key] = whole(fields.get(key, ""), key, label)
        data["votes"] = {
            name: whole(fields.get(f"vote_{i}", ""), f"vote_{i}", f"{name}得票数")
            for i, name in enumerate(names)
        }
        data["round"] = 2 if pending["purpose"] == RUNOFF else 1
        if pending["purpose"] == RUNOFF:
            data["runoff_candidates"] = names
        outcome = tally_entry.enter(
            session, election_id, district, data, clock=services(request).clock, actor=caller.username
        )
        if outcome.status == tally_entry.ACCEPTED:
            elected = "、".join(outcome.result["elected"]) or "无人"
            return f"选区 {district} 两次录入一致，计票已确认：当选 {elected}"
        if outcome.status == tally_entry.MISMATCH:
            diff = "；".join(f"{d['label']} {d['first']} ≠ {d['second']}" for d in outcome.differences)
            return Warning(f"选区 {district} 两次录入不一致，计票未确认：{diff}。请核对选票后重新录入")
        return f"选区 {district} 已录入，待另一名工作人员录入核对"

    return run_form(request, election_id, fields.get("csrf", ""), back, work)
