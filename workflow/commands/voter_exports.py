"""The register and the published lists as a committee prints them, voter certificates
(选民证, EL 28) and the audit of unmasked identity numbers. Read-only, but for that audit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands import elections
from workflow.commands.voter_changes import find_voter
from workflow.commands.voter_districts import find_district
from workflow.errors import Conflict, DomainError
from workflow.events import FullIdsShown
from workflow.rules import ric
from workflow.rules.voter_rows import SEX_NAMES
from workflow.store.audit import record
from workflow.store.models import Election
from workflow.store.voters import (
    District,
    SupplementaryEntry,
    Voter,
    VoterListEntry,
    VoterListVersion,
    VoterStatus,
)

LIST_KINDS = ("register", "published", "supplementary", "certificates")
CHANGE_NAMES = {"add": "增补", "remove": "删除", "correct": "更正"}
REASON_NAMES = {
    "registered": "登记",
    "newly_18": "新满十八周岁",
    "moved_in": "迁入",
    "migrant": "流动人口（凭户籍地证明）",
    "restored": "恢复政治权利",
    "appeal": "申诉处理",
    "late": "补办选民登记",
    "deceased": "死亡",
    "deprived": "被剥夺政治权利",
    "moved_out": "迁出",
}
PERSON_HEADER = ["姓名", "性别", "年龄", "出生日期", "民族", "选民小组", "住址", "公民身份号码"]
WIDTHS = [6, 10, 5, 5, 12, 8, 14, 30, 22]


@dataclass
class ListView:
    title: str
    header: list[str]
    rows: Iterator[list[object]]
    widths: list[int]


def _shown(number: str, full_ids: bool) -> str:
    return number if full_ids else ric.mask(number)


def person_cells(voter: Voter, election_day: date, full_ids: bool) -> list[object]:
    """The PERSON_HEADER columns of one voter. Without full ID numbers the birth date is shown
    as year and month only, so nothing in the row completes the masked number (PIPL art. 51)."""
    return [
        voter.name,
        SEX_NAMES.get(voter.sex, voter.sex),
        ric.age_on(voter.birth_date, election_day),
        voter.birth_date.isoformat() if full_ids else ric.birth_month(voter.birth_date),
        voter.ethnicity or "",
        voter.voter_group or "",
        voter.address or "",
        _shown(voter.id_number, full_ids),
    ]


@dataclass(frozen=True)
class _Scope:
    """What every list of one election (and maybe one district) shares."""

    election: Election
    chosen: District | None
    name: str  # the district, or the jurisdiction, in the title
    districts: dict[int, District]
    full_ids: bool


def list_view(
    session: Session,
    election_id: int,
    *,
    which: str = "register",
    district: str | None = None,
    full_ids: bool = False,
) -> ListView:
    """Rows as a committee prints them (序号 姓名 性别 年龄 出生日期 民族 选民小组 住址 …)."""
    if which not in LIST_KINDS:
        raise DomainError("E_BAD_LIST", f"名单类型应为 {'、'.join(LIST_KINDS)} 之一", "list")
    election = elections.get_election(session, election_id)
    chosen = find_district(session, election_id, district) if district else None
    scope = _Scope(
        election=election,
        chosen=chosen,
        name=f"{chosen.name}（{chosen.code}）" if chosen else election.jurisdiction.name,
        districts={
            d.id: d
            for d in session.execute(select(District).where(District.election_id == election_id)).scalars()
        },
        full_ids=full_ids,
    )
    if which == "register":
        return _register_view(session, scope)
    if which == "supplementary":
        return _supplementary_view(session, scope)
    return _published_view(session, scope, certificates=which == "certificates")


def _register_view(session: Session, scope: _Scope) -> ListView:
    election = scope.election
    query = select(Voter).where(Voter.election_id == election.id, Voter.status == VoterStatus.ACTIVE)
    if scope.chosen:
        query = query.where(Voter.district_id == scope.chosen.id)
    query = query.order_by(Voter.district_id, func.coalesce(Voter.voter_group, ""), Voter.id)

    def rows() -> Iterator[list[object]]:
        voters = session.execute(query.execution_options(yield_per=2000)).scalars()
        for seq, voter in enumerate(voters, 1):
            yield [
                seq,
                *person_cells(voter, election.anchor_date, scope.full_ids),
                scope.districts[voter.district_id].name,
            ]

    return ListView(
        f"{scope.name}选民登记册（{election.title}）",
        ["序号", *PERSON_HEADER, "选区"],
        rows(),
        [*WIDTHS, 16],
    )


def _latest_versions(session: Session, scope: _Scope) -> list[VoterListVersion]:
    """Each district's newest published version."""
    latest = (
        select(VoterListVersion.district_id, func.max(VoterListVersion.version).label("version"))
        .where(VoterListVersion.election_id == scope.election.id)
        .group_by(VoterListVersion.district_id)
        .subquery()
    )
    versions = select(VoterListVersion).join(
        latest,
        (latest.c.district_id == VoterListVersion.district_id)
        & (latest.c.version == VoterListVersion.version),
    )
    if scope.chosen:
        versions = versions.where(VoterListVersion.district_id == scope.chosen.id)
    return list(session.execute(versions.order_by(VoterListVersion.district_id)).scalars())


def _published_view(session: Session, scope: _Scope, *, certificates: bool) -> ListView:
    found = _latest_versions(session, scope)
    if not found:
        raise DomainError("E_NOT_PUBLISHED", "选民名单尚未公布", "list")
    election = scope.election
    election_day = election.anchor_date

    district_of = {version.id: scope.districts[version.district_id] for version in found}
    # Every district's latest list in one query (not one per district): by district, then list number.
    query = (
        select(VoterListEntry.version_id, VoterListEntry.seq, Voter)
        .join(Voter, Voter.id == VoterListEntry.voter_id)
        .join(VoterListVersion, VoterListVersion.id == VoterListEntry.version_id)
        .where(VoterListEntry.version_id.in_(list(district_of)))
        .order_by(VoterListVersion.district_id, VoterListEntry.seq)
        .execution_options(yield_per=2000)
    )

    def rows() -> Iterator[list[object]]:
        for version_id, seq, voter in session.execute(query):
            district = district_of[version_id]
            if not certificates:
                yield [seq, *person_cells(voter, election_day, scope.full_ids), district.name]
            else:
                yield [
                    certificate_number(election.id, district.code, seq),
                    voter.name,
                    SEX_NAMES.get(voter.sex, voter.sex),
                    ric.age_on(voter.birth_date, election_day),
                    district.name,
                    voter.voter_group or "",
                    _shown(voter.id_number, scope.full_ids),
                    election_day.isoformat(),
                ]

    if not certificates:
        dates = sorted({v.published_on for v in found})
        label = "、".join(f"{d.isoformat()}" for d in dates)
        return ListView(
            f"{scope.name}选民名单（{election.title}，{label} 公布）",
            ["序号", *PERSON_HEADER, "选区"],
            rows(),
            [*WIDTHS, 16],
        )
    return ListView(
        f"{scope.name}选民证（{election.title}）",
        ["选民证号", "姓名", "性别", "年龄", "选区", "选民小组", "公民身份号码", "选举日"],
        rows(),
        [22, 10, 5, 5, 16, 14, 22, 12],
    )


def _supplementary_view(session: Session, scope: _Scope) -> ListView:
    election = scope.election
    query = (
        select(SupplementaryEntry, Voter)
        .join(Voter, Voter.id == SupplementaryEntry.voter_id)
        .where(SupplementaryEntry.election_id == election.id)
        .order_by(SupplementaryEntry.district_id, SupplementaryEntry.id)
    )
    if scope.chosen:
        query = query.where(SupplementaryEntry.district_id == scope.chosen.id)

    def rows() -> Iterator[list[object]]:
        for seq, (entry, voter) in enumerate(session.execute(query), 1):
            yield [
                seq,
                CHANGE_NAMES.get(entry.change, entry.change),
                *person_cells(voter, election.anchor_date, scope.full_ids),
                scope.districts[entry.district_id].name,
                REASON_NAMES.get(entry.reason, entry.reason)
                + (f"：{entry.details}" if entry.details else ""),
                entry.on.isoformat(),
                "已公布" if entry.version_id else "待公布",
            ]

    return ListView(
        f"{scope.name}选民补正名单（{election.title}）",
        ["序号", "类别", *PERSON_HEADER, "选区", "原因", "日期", "状态"],
        rows(),
        [6, 6, *WIDTHS[1:], 16, 20, 12, 8],
    )


def certificate_number(election_id: int, district_code: str, seq: int) -> str:
    """选民证号: election, district and the voter's list number, stable across versions."""
    return f"{election_id}-{district_code}-{seq:05d}"


def certificate(session: Session, election_id: int, id_number: str, *, full_ids: bool = False) -> dict:
    """The data printed on one voter's certificate (选民证, EL 28)."""
    election = elections.get_election(session, election_id)
    voter = find_voter(session, election_id, id_number)
    if voter.status != VoterStatus.ACTIVE:
        raise Conflict("E_NOT_A_VOTER", "此人已除名，不发选民证", "id_number")
    district = session.get(District, voter.district_id)
    seq = session.execute(
        select(VoterListEntry.seq)
        .join(VoterListVersion, VoterListVersion.id == VoterListEntry.version_id)
        .where(VoterListEntry.voter_id == voter.id)
        .order_by(VoterListVersion.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    if seq is None:
        raise Conflict(
            "E_NOT_PUBLISHED", "此选民尚未列入已公布的选民名单（或补正名单），暂不能发证", "id_number"
        )
    return {
        "certificate_no": certificate_number(election_id, district.code, seq),
        "election": election.title,
        "election_day": election.anchor_date,
        "name": voter.name,
        "sex": SEX_NAMES.get(voter.sex, voter.sex),
        "age": ric.age_on(voter.birth_date, election.anchor_date),
        "district": {"code": district.code, "name": district.name},
        "voter_group": voter.voter_group,
        "list_number": seq,
        "id_number": _shown(voter.id_number, full_ids),
    }


def audit_full_ids(session: Session, election_id: int, *, what: str, clock: Clock, actor: str) -> None:
    """Unmasked identity numbers were shown to a registrar: that is recorded."""
    record(
        session,
        FullIdsShown(
            entity_id=str(election_id),
            after={"what": what},
        ),
        actor=actor,
        clock=clock,
    )
