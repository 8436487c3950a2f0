"""Dashboard, voter register page (选民登记), the forms of issue 14's rules a clerk could reach
only through `huanjie voters …`:

- a village election's migrant voter (户籍不在本村的公民: residence, the person's application and
  the consent of the villagers' meeting or representatives; the kind's `migrant` citation);
- excluding a person from the list on a ground (deprived of political rights, suspended while
  detained by decision of the procuratorate or court, confirmed incapacity), with the deciding
  body and its document: the exclusion list of `huanjie voters exclude`, one person at a time
  (`register_levels.exclude`: in a 县乡两级 round, on both levels' lists);
- restoring an excluded voter once the exclusion has ended (`huanjie voters restore`).

Each form runs the same use cases as the CLI in one transaction (service/web/steps.run_form);
the rules, their refusals and their citations are the use cases' and the kind's."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.api.deps import INT_MAX, Admitted, Principal, services
from service.web.steps import day, run_form
from workflow.commands import elections as commands
from workflow.commands import register_levels, voter_changes
from workflow.errors import Conflict, DomainError
from workflow.rules import ric
from workflow.rules.voter_rows import exclusion_ground
from workflow.store.models import Election
from workflow.store.voters import AddedReason, District, RemovedReason, Voter, VoterStatus

router = APIRouter(include_in_schema=False)

# The bodies whose consent admits a migrant to a village election (the kind's `migrant` article).
CONSENT_BODIES = ("村民会议", "村民代表会议")
# The exclusion list's 原因 for each ground: words `exclusion_ground` reads back as that ground.
GROUNDS = {
    "deprived": "被剥夺政治权利",
    "suspended": "被羁押期间停止行使选举权利",
    "incapacity": "精神病患者不能行使选举权利",
}
GROUND_BODIES = {  # who decides, as a hint in the form
    "deprived": "人民法院（判决）",
    "suspended": "人民检察院或者人民法院（决定）",
    "incapacity": "选举委员会（确认）",
}
EXCLUSION_HEADER = ["姓名", "公民身份号码", "剥夺期限至", "原因"]
SHOWN = 200  # excluded voters listed on the page


def _back(election_id: int) -> str:
    return f"/elections/{election_id}/register"  # run_form appends ?msg= / ?err=: no #fragment


def _cited(citations, key: str) -> str:
    text = citations.get(key, "")
    return f"（{text}）" if text else ""


def law_sections(session: Session, election: Election) -> dict:
    """The register page's context for these forms: the migrant rule of the kind (None where the
    kind has none), the grounds with their citations, and the voters removed on a ground."""
    kind = commands.kind_of(election)
    migrant = None
    if "migrant_min_years" in kind.law:
        migrant = {
            "years": int(kind.law["migrant_min_years"]),
            "bases": [str(b) for b in kind.law.get("migrant_bases", ())],
            "cited": kind.citations.get("migrant", ""),
            "bodies": CONSENT_BODIES,
        }
    grounds = [
        (key, GROUNDS[key], GROUND_BODIES[key], kind.citations.get(f"exclusion_{key}", "")) for key in GROUNDS
    ]
    rows = session.execute(
        select(Voter.name, Voter.id_number, Voter.removed_on, Voter.removed_note, District.code)
        .join(District, District.id == Voter.district_id)
        .where(
            Voter.election_id == election.id,
            Voter.status == VoterStatus.REMOVED,
            Voter.removed_reason == RemovedReason.DEPRIVED.value,
        )
        .order_by(Voter.removed_on.desc(), Voter.id)
        .limit(SHOWN)
    ).all()
    excluded = [
        {"name": name, "id_masked": ric.mask(number), "on": on, "note": note, "district": code}
        for name, number, on, note, code in rows
    ]
    return {"migrant": migrant, "grounds": grounds, "excluded": excluded}


def _required(value: str, field: str, label: str, cited: str = "") -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError("E_FIELD_REQUIRED", f"请填写「{label}」{cited}", field)
    return value


def _date(value: str, field: str, label: str, cited: str) -> date | None:
    try:
        return day(value, field, label)
    except DomainError as error:
        raise DomainError(error.code, f"{error.message}{cited}", field) from None


# -- a village election's migrant voter ---------------------------------------------------------
@router.post("/elections/{election_id}/register/migrant")
def migrant_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    district: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
    id_number: Annotated[str, Form(max_length=40)] = "",
    voter_group: Annotated[str, Form(max_length=100)] = "",
    address: Annotated[str, Form(max_length=200)] = "",
    basis: Annotated[str, Form(max_length=40)] = "",
    resident_since: Annotated[str, Form(max_length=20)] = "",
    applied_on: Annotated[str, Form(max_length=20)] = "",
    consent_body: Annotated[str, Form(max_length=20)] = "",
    consent_on: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """VCL 2018 art. 13 ¶2 (三) / 2025 art. 16 ¶2 (三) through `add_voter(reason=migrant)`: the
    use case checks the residence, the application and the consent, and cites the kind's
    article. The application date is kept on the voter record (refused after the consent or in
    the future); the meeting and its date become the consent it records."""

    def work(session: Session, caller: Principal) -> str:
        election = commands.get_election(session, election_id)
        kind = commands.kind_of(election)
        cited = _cited(kind.citations, "migrant")
        if "migrant_min_years" not in kind.law:
            raise DomainError(
                "E_NOT_A_VILLAGE_RULE",
                "户籍不在本村的公民经村民会议同意参加选举，仅适用于村民委员会选举；流动人口请用「增补选民」并提交户籍地证明",
                "reason",
            )
        since = _date(resident_since, "resident_since", "居住起始日期", cited)
        applied = _date(applied_on, "applied_on", "本人申请日期", cited)
        agreed = _date(consent_on, "consent_on", "会议同意日期", cited)
        body = consent_body.strip()
        if body and body not in CONSENT_BODIES:
            raise DomainError("E_BAD_CONSENT_BODY", f"「同意的会议」应为{'或'.join(CONSENT_BODIES)}{cited}", "consent")
        if body and agreed is None:
            raise DomainError("E_CONSENT_DATE_REQUIRED", f"请填写「会议同意日期」{cited}", "consent_on")
        consent = f"{agreed} {body}" if body and agreed else ""
        voter = register_levels.add_voter(
            session,
            election_id,
            district=district,
            name=name,
            id_number=id_number,
            reason=AddedReason.MIGRANT,
            voter_group=voter_group.strip() or None,
            address=address.strip() or None,
            resident_since=since,
            basis=basis.strip() or None,
            applied_on=applied,
            consent=consent,
            consent_on=agreed,
            clock=services(request).clock,
            actor=caller.username,
        )
        return f"已登记户籍不在本村的选民 {voter.name}（选区 {district}）：{voter.proof}"

    return run_form(request, election_id, csrf, _back(election_id), work, voters=True)


# -- exclusion on a ground, and restoring ----------------------------------------------------------
@router.post("/elections/{election_id}/register/exclude")
def exclude_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
    id_number: Annotated[str, Form(max_length=40)] = "",
    ground: Annotated[str, Form(max_length=20)] = "",
    body: Annotated[str, Form(max_length=100)] = "",
    document: Annotated[str, Form(max_length=200)] = "",
    until: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """One person onto the exclusion list (`huanjie voters exclude`, `load_deprived`): a registered
    voter is removed with the ground and its citation as the note; a later registration is refused."""

    def work(session: Session, caller: Principal) -> str:
        election = commands.get_election(session, election_id)
        citations = commands.kind_of(election).citations
        if ground not in GROUNDS:
            raise DomainError(
                "E_BAD_GROUND",
                "请选择不列入选民名单的事由：被剥夺政治权利、羁押期间停止行使选举权利或精神病患者不能行使选举权利",
                "ground",
            )
        cited = _cited(citations, f"exclusion_{ground}")
        person = _required(name, "name", "姓名", cited)
        number = _required(id_number, "id_number", "公民身份号码", cited)
        decided_by = _required(body, "body", "决定机关", cited)
        paper = _required(document, "document", "决定文书及文号", cited)
        ends = _date(until, "until", "期限至", cited)
        reason = f"{GROUNDS[ground]}：{decided_by}{paper}"
        if exclusion_ground(reason) != ground:  # the list's 原因 must read back as the ground chosen
            raise DomainError(
                "E_BAD_GROUND", f"「决定机关」「决定文书及文号」所写与所选事由「{GROUNDS[ground]}」不符{cited}", "document"
            )
        report = register_levels.exclude(
            session,
            election_id,
            EXCLUSION_HEADER,
            [(1, [person, number, ends.isoformat() if ends else None, reason])],
            clock=services(request).clock,
            actor=caller.username,
        )
        if report.rejected:
            raise DomainError("E_VOTER_INVALID", "；".join(r["reason"] for r in report.rejected), "id_number")
        masked = ric.mask(ric.normalize(number))
        if report.removed:
            return f"已将 {person}（{masked}）从选民名单除名：{GROUNDS[ground]}（{decided_by}{paper}）{cited}"
        if not report.loaded:
            raise Conflict("E_ALREADY_EXCLUDED", f"{masked} 已在不列入选民名单的名单上，期限未变", "id_number")
        if ric.normalize(number) not in voter_changes.exclusion_notes(session, election):
            raise DomainError(  # the term ends before election day: the use case excludes no one
                "E_EXCLUSION_ENDS_BEFORE_ELECTION",
                f"「期限至」{ends} 早于选举日 {election.anchor_date}，选举日其仍有选举权利，不予除名{cited}",
                "until",
            )
        return f"已将 {person}（{masked}）记入名单：{GROUNDS[ground]}{cited}；此人目前不在选民名单上，期限内不予登记"

    return run_form(request, election_id, csrf, _back(election_id), work, voters=True)


@router.post("/elections/{election_id}/register/restore")
def restore_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    id_number: Annotated[str, Form(max_length=40)] = "",
    ended_on: Annotated[str, Form(max_length=20)] = "",
    document: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A voter removed on a ground comes back once it has ended (rights restored, the detention
    or suspension lifted): `register_levels.restore_voter` ends the exclusion list's term the day
    before `ended_on` and registers the voter again (in a round, on both levels' lists), refused
    while the exclusion still covers election day."""

    def work(session: Session, caller: Principal) -> str:
        clock = services(request).clock
        commands.get_election(session, election_id)
        number = _required(id_number, "id_number", "公民身份号码")
        ended = _date(ended_on, "ended_on", "恢复日期", "")
        if ended is None:
            raise DomainError("E_FIELD_REQUIRED", "请填写「恢复日期」（剥夺政治权利期满或停止行使选举权利的决定解除之日）", "ended_on")
        paper = _required(document, "document", "恢复依据（文书及文号）")
        voter = register_levels.restore_voter(
            session, election_id, number, ended_on=ended, document=paper, clock=clock, actor=caller.username
        )
        district = session.get(District, voter.district_id).code
        return f"已恢复 {voter.name}（{ric.mask(voter.id_number)}）的选民登记（选区 {district}）"

    return run_form(request, election_id, csrf, _back(election_id), work, voters=True)
