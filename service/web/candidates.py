"""Dashboard: candidates (代表候选人) — open a district's list, nominations by parties and
organisations and by ten or more voters (EL 30; joint nominators are checked against the
register), the preliminary list (EL 31), consultation (协商, EL 32) or a primary (预选, EL 32 ¶2:
the official candidates by the order of primary votes) and the official list. The same use cases
as `huanjie candidates …`."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from sqlalchemy.orm import Session

from service.api.deps import INT_MAX, Admitted, Principal, Tx, services
from service.web.steps import day, page_context, run_form, show, whole
from workflow.commands import candidate_lists, candidate_nominations, candidate_records, voter_districts
from workflow.commands.candidate_lists import SEX_NAMES
from workflow.commands.candidate_records import rules_for
from workflow.errors import DomainError
from workflow.rules.candidates import NOMINATOR_NAMES, OCCUPATION_NAMES, ratio_bounds
from workflow.store.candidates import CandidateStatus

router = APIRouter(include_in_schema=False)
STATUS = {
    "nominated": "已推荐",
    "preliminary": "初步候选人",
    "official": "正式候选人",
    "not_selected": "未列入正式名单",
    "withdrawn": "已撤回",
}
LIST_STATUS = {"open": "推荐中", "preliminary": "已公布初步名单", "official": "已公布正式名单"}


@router.get("/elections/{election_id}/candidates")
def candidates_page(
    request: Request, session: Tx, election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)]
) -> Response:
    context = page_context(request, session, election_id)
    if isinstance(context, Response):
        return context
    caller, election = context
    lists = []
    candidate_rules = rules_for(election)
    for lst in candidate_records.district_lists(session, election_id):
        people = candidate_records.candidates_of(session, election_id, lst.district)
        # How many official candidates the kind allows (EL 31: the primary's default is the most).
        least, most = ratio_bounds(candidate_rules, lst.seats) if lst.seats >= 1 else (0, None)
        lists.append(
            {
                "list": lst,
                "status": LIST_STATUS.get(lst.status, lst.status),
                "people": people,
                "bounds": (least, most),
            }
        )
    opened = {item["list"].district for item in lists}
    districts = [d for d in voter_districts.list_districts(session, election_id) if d["code"] not in opened]
    return show(
        request,
        "candidates.html",
        election,
        f"/elections/{election_id}/candidates",
        caller=caller,
        lists=lists,
        unopened=districts,
        status_names=STATUS,
        sexes=SEX_NAMES,
        occupations=OCCUPATION_NAMES,
        nominators=NOMINATOR_NAMES,
    )


def _back(election_id: int) -> str:
    return f"/elections/{election_id}/candidates"


def _items(text: str) -> list[str]:
    """Names or numbers typed one a line, or separated by commas or 、."""
    return [item.strip() for item in re.split(r"[\n,，、;；]+", text or "") if item.strip()]


@router.post("/elections/{election_id}/candidates/open")
def open_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    district: Annotated[str, Form(max_length=64)] = "",
    seats: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        lst = candidate_nominations.open_district(
            session,
            election_id,
            district,
            seats=whole(seats, "seats", "应选名额", required=False),
            clock=services(request).clock,
            actor=caller.username,
        )
        return f"已开始选区 {lst.district} 的代表候选人推荐（应选 {lst.seats} 名）"

    return run_form(request, election_id, csrf, _back(election_id), work)


@router.post("/elections/{election_id}/candidates/nominate")
def nominate_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    district: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
    sex: Annotated[str, Form(max_length=10)] = "",
    occupation: Annotated[str, Form(max_length=20)] = "",
    party: Annotated[str, Form(max_length=60)] = "",
    ethnicity: Annotated[str, Form(max_length=20)] = "",
    birth_date: Annotated[str, Form(max_length=20)] = "",
    education: Annotated[str, Form(max_length=20)] = "",
    nominated_by: Annotated[str, Form(max_length=20)] = "",
    nominators: Annotated[str, Form(max_length=2000)] = "",
    supporters: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        candidate = candidate_nominations.nominate(
            session,
            election_id,
            district,
            name=name,
            sex=sex,
            occupation=occupation,
            party=party.strip() or None,
            ethnicity=ethnicity.strip() or None,
            birth_date=day(birth_date, "birth_date", "出生日期"),
            education=education.strip() or None,
            nominated_by=nominated_by,
            nominators=_items(nominators),
            supporters=_items(supporters),
            clock=services(request).clock,
            actor=caller.username,
        )
        return f"已记录选区 {district} 的代表候选人推荐：{candidate.name}（{NOMINATOR_NAMES.get(nominated_by, nominated_by)}）"

    return run_form(request, election_id, csrf, _back(election_id), work)


@router.post("/elections/{election_id}/candidates/preliminary")
def preliminary_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        report = candidate_lists.publish_preliminary(
            session, election_id, clock=services(request).clock, actor=caller.username
        )
        return f"已公布代表候选人初步名单（{len(report.get('districts', []))} 个选区）"

    return run_form(request, election_id, csrf, _back(election_id), work)


@router.post("/elections/{election_id}/candidates/{district}/consult")
async def consult_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    district: Annotated[str, PathParam(max_length=64)],
) -> Response:
    form = await request.form()
    keep = [str(v)[:100] for v in form.getlist("keep")]

    def work(session: Session, caller: Principal) -> str:
        candidate_lists.consult(
            session, election_id, district, keep, clock=services(request).clock, actor=caller.username
        )
        return f"选区 {district} 经协商确定正式代表候选人：{'、'.join(keep)}"

    return run_form(request, election_id, str(form.get("csrf", ""))[:100], _back(election_id), work)


def primary_votes(names: list[str], counts: list[str]) -> dict[str, int]:
    """The primary's form: one vote count per preliminary candidate, each required and a whole
    number (the CLI's `--votes 姓名=票数` rule; the form's wording names the field)."""
    votes: dict[str, int] = {}
    for name, count in zip(names, counts, strict=False):
        name, count = name.strip(), count.strip()
        if not count:
            raise DomainError("E_FIELD_REQUIRED", f"请填写「{name} 的预选得票」", "votes")
        if not count.isdigit():
            raise DomainError("E_BAD_VOTES", f"「{name} 的预选得票」应为整数，收到「{count}」", "votes")
        votes[name] = int(count)
    if not votes:
        raise DomainError("E_FIELD_REQUIRED", "请填写各初步候选人的预选得票", "votes")
    return votes


@router.post("/elections/{election_id}/candidates/{district}/primary")
async def primary_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    district: Annotated[str, PathParam(max_length=64)],
) -> Response:
    """预选 (EL 32 ¶2): the official candidates by the order of primary votes; a tie across the
    cut-off is refused (vote again among the tied)."""
    form = await request.form()
    names = [str(v)[:100] for v in form.getlist("name")][:500]
    counts = [str(v)[:12] for v in form.getlist("votes")][:500]
    size_text = str(form.get("size", ""))[:10]

    def work(session: Session, caller: Principal) -> str:
        candidate_lists.primary(
            session,
            election_id,
            district,
            primary_votes(names, counts),
            size=whole(size_text, "size", "正式候选人人数", required=False),
            clock=services(request).clock,
            actor=caller.username,
        )
        kept = [
            c.name
            for c in candidate_records.candidates_of(
                session, election_id, district, [CandidateStatus.PRELIMINARY]
            )
        ]
        return f"选区 {district} 预选确定：{'、'.join(kept)}"

    return run_form(request, election_id, str(form.get("csrf", ""))[:100], _back(election_id), work)


@router.post("/elections/{election_id}/candidates/official")
def official_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        report = candidate_lists.publish_official(
            session, election_id, clock=services(request).clock, actor=caller.username
        )
        return f"已公布正式代表候选人名单（{len(report.get('districts', []))} 个选区）"

    return run_form(request, election_id, csrf, _back(election_id), work)
