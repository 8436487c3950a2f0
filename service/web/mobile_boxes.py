"""Dashboard, the voting step: mobile ballot boxes (流动票箱) and their scrutineers — the form of
`huanjie candidates mobile-boxes add`, with the scrutineers' declared family ties to candidates.
The use case (workflow/commands/candidate_polling.record_mobile_box) refuses a candidate or a
candidate's close relative as a scrutineer, too few scrutineers or staff (the kind's and the
province's numbers, cited from the kind data), in one transaction with its audit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from sqlalchemy.orm import Session

from service.api.deps import INT_MAX, Admitted, Principal, Tx, services
from service.web.candidates import _items
from service.web.steps import page_context, run_form, show, whole
from workflow.commands import candidate_polling, candidate_records
from workflow.commands.candidate_records import ACTIVE, rules_for
from workflow.errors import DomainError
from workflow.rules.candidates import CLOSE_RELATIVES

router = APIRouter(include_in_schema=False)
TIES = 4  # rows for declared ties on the form (a blank row is skipped)


def _page(election_id: int) -> str:
    return f"/elections/{election_id}/mobile-boxes"


@router.get("/elections/{election_id}/mobile-boxes")
def mobile_boxes_page(
    request: Request, session: Tx, election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)]
) -> Response:
    context = page_context(request, session, election_id)
    if isinstance(context, Response):
        return context
    caller, election = context
    rules = rules_for(election)
    lists = candidate_records.district_lists(session, election_id)
    candidates = {
        lst.district: [c.name for c in candidate_records.candidates_of(session, election_id, lst.district, ACTIVE)]
        for lst in lists
    }
    return show(
        request,
        "mobile_boxes.html",
        election,
        _page(election_id),
        caller=caller,
        lists=lists,
        candidates=candidates,
        names=sorted({n for names in candidates.values() for n in names}),
        boxes=[candidate_polling.mobile_box_view(b) for b in candidate_polling.mobile_boxes(session, election_id)],
        min_scrutineers=rules.mobile_box_min_scrutineers,
        min_staff=rules.mobile_box_min_staff,
        box_cited=rules.mobile_box_source or "",
        conflict_cited=rules.cite("scrutineer_conflict") or "",
        relations=sorted(CLOSE_RELATIVES),
        ties=TIES,
    )


def _ties(people: list[str], candidates: list[str], relations: list[str]) -> list[tuple[str, str, str]]:
    """The form's rows (监票人, 候选人, 关系) as the command's `--relative` ties; a row filled in
    part is refused naming it, as the CLI refuses a malformed `--relative`."""
    ties = []
    for n, row in enumerate(zip(people, candidates, relations, strict=False), start=1):
        parts = [p.strip() for p in row]
        if not any(parts):
            continue
        if not all(parts):
            raise DomainError(
                "E_BAD_RELATIVE", f"亲属关系第 {n} 行应同时填写监票人、候选人和关系", "relative"
            )
        ties.append((parts[0], parts[1], parts[2]))
    return ties


@router.post("/elections/{election_id}/mobile-boxes/add")
def add_box_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    district: Annotated[str, Form(max_length=64)] = "",
    label: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    scrutineers: Annotated[str, Form(max_length=2000)] = "",
    staff: Annotated[str, Form(max_length=2000)] = "",
    voters: Annotated[str, Form(max_length=10)] = "",
    issued: Annotated[str, Form(max_length=10)] = "",
    returned: Annotated[str, Form(max_length=10)] = "",
    tie_scrutineer: Annotated[list[str] | None, Form(max_length=100)] = None,
    tie_candidate: Annotated[list[str] | None, Form(max_length=100)] = None,
    tie_relation: Annotated[list[str] | None, Form(max_length=20)] = None,
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        if not label.strip():
            raise DomainError("E_FIELD_REQUIRED", "请填写「票箱编号」", "label")
        ties = _ties(tie_scrutineer or [], tie_candidate or [], tie_relation or [])
        box = candidate_polling.record_mobile_box(
            session,
            election_id,
            district,
            label=label.strip(),
            reason=reason,
            scrutineers=_items(scrutineers),
            staff=_items(staff),
            voters_served=whole(voters, "voters", "使用流动票箱的选民数", required=False),
            ballots_issued=whole(issued, "issued", "发出选票数", required=False),
            ballots_returned=whole(returned, "returned", "收回选票数", required=False),
            relatives=ties,
            clock=services(request).clock,
            actor=caller.username,
        )
        return f"已登记选区 {district} 流动票箱 {box.label}（监票人：{'、'.join(box.scrutineers)}）"

    return run_form(request, election_id, csrf, _page(election_id), work)
