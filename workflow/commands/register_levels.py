"""One register for 县乡两级 (county and township people's congresses elected in one round).

A voter registers once in a round and votes in two districts (EL 24, 25, 27 不重登): a
township-level district of the township election and a county-level district of the county
election. Township staff upload their township's register into the township election; each
township district names its county district (`District.county_district_id`), and the same
upload registers each voter in the county election too, in that county district. A change made
once (an upheld appeal, an addition or a removal with its reason) corrects both lists; the
county's list published publishes every township's (workflow/commands/voter_list.py).

A township election shares the county's register when its `parent_election_id` is an election
of the same kind (the round made by `create_round`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, joinedload

from workflow.clock import Clock
from workflow.commands import elections, voter_changes, voter_districts, voter_import, voter_list
from workflow.commands.voter_exports import REASON_NAMES
from workflow.errors import Conflict, DomainError
from workflow.events import DistrictChanged, DistrictLinked, VotersImported
from workflow.rules import ric
from workflow.rules.voter_import import ImportReport
from workflow.rules.voter_rows import DeprivedRow, read_deprived
from workflow.store.audit import record
from workflow.store.models import Election
from workflow.store.voters import (
    AddedReason,
    District,
    RemovedReason,
    SupplementaryChange,
    Voter,
    VoterImport,
    VoterStatus,
)

SHOWN = 5  # conflicting voters named in an error message
EXCLUSION_HEADER = ["姓名", "公民身份号码", "剥夺期限至", "原因"]  # the exclusion list's columns


def county_election(session: Session, election: Election) -> Election | None:
    """The county election whose register a township election shares, or None."""
    if election.parent_election_id is None:
        return None
    parent = session.get(Election, election.parent_election_id)
    if parent is None or parent.kind != election.kind:
        return None
    return parent


def township_elections(session: Session, county_id: int) -> list[Election]:
    """The township elections sharing a county election's register, in id order, each with its
    jurisdiction (joined in the same statement: callers name the townships, and a lazy load
    would cost a query per township)."""
    county = session.get(Election, county_id)
    if county is None:
        return []
    return list(
        session.execute(
            select(Election)
            .options(joinedload(Election.jurisdiction))
            .where(Election.parent_election_id == county_id, Election.kind == county.kind)
            .order_by(Election.id)
        ).scalars()
    )


def sharing(session: Session, election: Election) -> Election | None:
    """The county election whose register this township election shares now: its county
    election once that has districts (before, the township's register stands alone; linking a
    district later registers its voters in the county too)."""
    county = county_election(session, election)
    if county is None:
        return None
    drawn = session.execute(select(District.id).where(District.election_id == county.id).limit(1)).first()
    return county if drawn else None


# -- districts -------------------------------------------------------------------------------------
def _county_district(session: Session, election: Election, county_code: str | None) -> District | None:
    county_code = (county_code or "").strip()
    county = county_election(session, election)
    if not county_code:
        if sharing(session, election) is not None:
            raise DomainError(
                "E_DISTRICT_UNLINKED",
                "县乡两级选举中，乡级选区须注明所属的县级选区（一次登记，两级选区）",
                "county_district",
            )
        return None
    if county is None:
        raise DomainError(
            "E_DISTRICT_INVALID", "本选举不属于县乡两级换届，不能指定县级选区", "county_district"
        )
    return voter_districts.find_district(session, county.id, county_code)


def add_district(
    session: Session,
    election_id: int,
    *,
    code: str,
    name: str,
    seats: int | None = None,
    population: int | None = None,
    area: str | None = None,
    county_district: str | None = None,
    clock: Clock,
    actor: str,
) -> District:
    """Add a district (EL 24, 25); a township district of a round names its county district."""
    election = elections.get_election(session, election_id)
    parent = _county_district(session, election, county_district)
    district = voter_districts.add_district(
        session,
        election_id,
        code=code,
        name=name,
        seats=seats,
        population=population,
        area=area,
        clock=clock,
        actor=actor,
    )
    if parent is not None:
        _link(session, district, parent, clock=clock, actor=actor)
    return district


def _link(session: Session, district: District, parent: District, *, clock: Clock, actor: str) -> None:
    """Link a township district to its county district; voters already registered there are
    registered in the county election too (one register)."""
    before = district.county_district_id
    district.county_district_id = parent.id
    session.flush()
    registered = session.execute(
        select(Voter, District.county_district_id)
        .join(District, District.id == Voter.district_id)
        .where(Voter.district_id == district.id, Voter.status == VoterStatus.ACTIVE)
        .order_by(Voter.id)
    ).all()
    if registered:
        _mirror(
            session,
            session.get(Election, district.election_id),
            session.get(Election, parent.election_id),
            registered,
            f"乡级选区 {district.code} 的选民",
            None,
            clock=clock,
            actor=actor,
        )
    record(
        session,
        DistrictLinked(
            entity_id=f"{district.election_id}/{district.code}",
            before={"county_district_id": before},
            after={"county_election_id": parent.election_id, "county_district": parent.code},
        ),
        actor=actor,
        clock=clock,
    )


def edit_district(
    session: Session,
    election_id: int,
    code: str,
    *,
    name: str,
    seats: int | None,
    population: int | None,
    area: str | None,
    county_district: str | None = None,
    clock: Clock,
    actor: str,
) -> District:
    """Change a district's name, seats (1–3, EL 25), population, scope and county district.
    Refused once the districts or the voter list are published (they are then fixed)."""
    election = elections.get_election(session, election_id)
    for key, what in (
        ("districts_published", "选区划分已公布"),
        (voter_list.LIST_MILESTONE, "选民名单已公布"),
    ):
        milestone = next((m for m in election.milestones if m.key == key), None)
        if milestone is not None and milestone.done_on is not None:
            raise Conflict("E_DISTRICTS_FIXED", f"{what}（{milestone.done_on}），选区不能再修改", "code")
    district = voter_districts.find_district(session, election_id, code)
    if not name.strip():
        raise DomainError("E_DISTRICT_INVALID", "选区名称不能为空", "name")
    if seats is not None and not 1 <= seats <= 3:
        raise DomainError("E_DISTRICT_SEATS", "每一选区选一名至三名代表（选举法第二十五条）", "seats")
    if population is not None and population < 0:
        raise DomainError("E_DISTRICT_INVALID", "选区人口数不能为负数", "population")
    area = voter_districts.clean_area(area, code=code)
    parent = _county_district(session, election, county_district)
    before = {
        "name": district.name,
        "seats": district.seats,
        "population": district.population,
        "area": district.area,
    }
    district.name, district.seats, district.population, district.area = name.strip(), seats, population, area
    session.flush()
    record(
        session,
        DistrictChanged(
            entity_id=f"{election_id}/{code}",
            before=before,
            after={"name": district.name, "seats": seats, "population": population, "area": area},
        ),
        actor=actor,
        clock=clock,
    )
    if parent is not None and district.county_district_id != parent.id:
        in_use = session.execute(select(Voter.id).where(Voter.district_id == district.id).limit(1)).first()
        if district.county_district_id is not None and in_use:
            raise Conflict(
                "E_DISTRICT_IN_USE", f"选区 {code} 已有选民登记，不能改变其所属县级选区", "county_district"
            )
        _link(session, district, parent, clock=clock, actor=actor)
    return district


# -- the township's upload -------------------------------------------------------------------------
def import_township_register(
    session: Session,
    election_id: int,
    header: list[object],
    rows: Iterable[tuple[int, list[object]]],
    *,
    file_name: str,
    clock: Clock,
    actor: str,
    file_sha256: str | None = None,
    district: str | None = None,
    accept_valid: bool = False,
    on_reject: voter_import.RejectSink | None = None,
) -> ImportReport:
    """Import a register into an election (workflow/commands/voter_import.py); for a township
    election of a round, the accepted voters are registered in the county election as well, each
    in the county district of their township district. Someone already registered in the round
    (through another township) is refused: 不重登 (EL 27)."""
    election = elections.get_election(session, election_id)
    _check_linked(session, election)
    report = voter_import.import_voters(
        session,
        election_id,
        header,
        rows,
        file_name=file_name,
        clock=clock,
        actor=actor,
        file_sha256=file_sha256,
        district=district,
        accept_valid=accept_valid,
        on_reject=on_reject,
    )
    _mirror_import(session, election, report, file_name, file_sha256, clock=clock, actor=actor)
    return report


def import_township_register_staged(
    transaction: voter_import.Transaction,
    election_id: int,
    header: list[object],
    rows: Iterable[tuple[int, list[object]]],
    *,
    file_name: str,
    clock: Clock,
    actor: str,
    file_sha256: str | None = None,
    district: str | None = None,
    accept_valid: bool = False,
    on_reject: voter_import.RejectSink | None = None,
    after: Callable[[Session, Election, ImportReport], None] | None = None,
) -> ImportReport:
    """`import_township_register` in short transactions (voter_import.import_staged): the
    district links are checked in the first, the county mirror written in the last, with the
    import's own move (one command: both registers or neither). `after` as import_staged's."""

    def mirrored(session: Session, election: Election, report: ImportReport) -> None:
        _mirror_import(session, election, report, file_name, file_sha256, clock=clock, actor=actor)
        if after is not None:
            after(session, election, report)

    return voter_import.import_staged(
        transaction,
        election_id,
        header,
        rows,
        file_name=file_name,
        clock=clock,
        actor=actor,
        file_sha256=file_sha256,
        district=district,
        accept_valid=accept_valid,
        on_reject=on_reject,
        before=_check_linked,
        after=mirrored,
    )


def _check_linked(session: Session, election: Election) -> None:
    """A township election of a round: every district names its county district first."""
    if sharing(session, election) is None:
        return
    unlinked = (
        session.execute(
            select(District.code)
            .where(District.election_id == election.id, District.county_district_id.is_(None))
            .order_by(District.code)
        )
        .scalars()
        .all()
    )
    if unlinked:
        raise DomainError(
            "E_DISTRICT_UNLINKED",
            f"乡级选区 {'、'.join(unlinked)} 未注明所属县级选区，请先在选区页面补充",
            "county_district",
        )


def _mirror_import(
    session: Session,
    election: Election,
    report: ImportReport,
    file_name: str,
    file_sha256: str | None,
    *,
    clock: Clock,
    actor: str,
) -> None:
    """The import's accepted voters registered in the round's county election as well."""
    county = sharing(session, election)
    if county is None or report.import_id is None:
        return
    rows = session.execute(
        select(Voter, District.county_district_id)
        .join(District, District.id == Voter.district_id)
        .where(Voter.import_id == report.import_id)
        .order_by(Voter.id)
    ).all()
    _mirror(session, election, county, rows, file_name, file_sha256, clock=clock, actor=actor)


def _mirror(
    session: Session,
    township: Election,
    county: Election,
    rows: list,
    file_name: str,
    file_sha256: str | None,
    *,
    clock: Clock,
    actor: str,
) -> None:
    """Register township voters (rows of (Voter, county district id)) in the county election."""
    if not rows:
        return
    hashes = [voter.id_hash for voter, _ in rows]
    taken: dict[str, str] = {}
    for start in range(0, len(hashes), 1000):
        taken.update(
            session.execute(
                select(Voter.id_hash, District.code)
                .join(District, District.id == Voter.district_id)
                .where(Voter.election_id == county.id, Voter.id_hash.in_(hashes[start : start + 1000]))
            ).all()
        )
    if taken:
        clash = [(v.source_row, v.name, taken[v.id_hash]) for v, _ in rows if v.id_hash in taken]
        named = "；".join(
            f"{f'第{row}行 ' if row else ''}{name}（县级选区 {code}）" for row, name, code in clash[:SHOWN]
        )
        more = f" 等 {len(clash)} 人" if len(clash) > SHOWN else ""
        raise Conflict(
            "E_REGISTERED_IN_ROUND",
            f"以下选民已在本轮县级选举中登记，不得重复登记（不重登，选举法第二十七条）：{named}{more}",
            "file",
        )
    mirror = VoterImport(
        election_id=county.id,
        file_name=file_name[:300],
        file_sha256=file_sha256,
        accepted=len(rows),
        at=clock.now(),
        actor=actor,
    )
    session.add(mirror)
    session.flush()
    session.connection().execute(  # Core executemany: the ORM's bulk path costs twice as much here
        insert(Voter.__table__),
        [
            {
                "election_id": county.id,
                "district_id": county_district_id,
                "name": v.name,
                "sex": v.sex,
                "id_number": v.id_number,
                "id_hash": v.id_hash,
                "birth_date": v.birth_date,
                "ethnicity": v.ethnicity,
                "voter_group": v.voter_group,
                "address": v.address,
                "hukou": v.hukou,
                "note": v.note,
                "status": VoterStatus.ACTIVE.value,
                "added_reason": v.added_reason,
                "import_id": mirror.id,
                "source_row": v.source_row,
            }
            for v, county_district_id in rows
        ],
    )
    if voter_list.is_published(county):
        voter_list.supplement_import(session, mirror.id, voter_list.today_for(county, clock))
    record(
        session,
        VotersImported(
            entity_id=str(mirror.id),
            after={
                "election_id": county.id,
                "from_election_id": township.id,
                "file": file_name,
                "sha256": file_sha256,
                "accepted": len(rows),
                "rejected": 0,
                "duplicates": 0,
                "warnings": 0,
            },
        ),
        actor=actor,
        clock=clock,
    )


# -- one change, both lists ------------------------------------------------------------------------
def _twins(session: Session, voter: Voter) -> list[tuple[Election, Voter]]:
    """The same person's registrations in the other level's elections of the round."""
    election = session.get(Election, voter.election_id)
    county = county_election(session, election)
    others = [county] if county is not None else township_elections(session, election.id)
    if not others:
        return []
    by_id = {e.id: e for e in others}
    found = session.execute(
        select(Voter).where(Voter.election_id.in_(list(by_id)), Voter.id_hash == voter.id_hash)
    ).scalars()
    return [(by_id[twin.election_id], twin) for twin in found]


def mirror_addition(
    session: Session,
    voter: Voter,
    *,
    reason: AddedReason,
    clock: Clock,
    actor: str,
    appeal_id: int | None = None,
) -> Voter | None:
    """A voter added to a township list is added to the county list too, in the county district
    of their township district. (An addition made on the county list names no township district:
    the township registers the person itself.)"""
    election = session.get(Election, voter.election_id)
    county = county_election(session, election)
    district = session.get(District, voter.district_id)
    if county is None or district.county_district_id is None:
        return None
    parent = session.get(District, district.county_district_id)
    twin = voter_changes.add_voter(
        session,
        county.id,
        district=parent.code,
        name=voter.name,
        id_number=voter.id_number,
        reason=reason,
        clock=clock,
        actor=actor,
        voter_group=voter.voter_group,
        address=voter.address,
        hukou=voter.hukou,
        ethnicity=voter.ethnicity,
        proof=voter.proof,
        appeal_id=appeal_id,
    )
    return twin


def mirror_removal(
    session: Session,
    voter: Voter,
    *,
    reason: RemovedReason,
    note: str | None,
    clock: Clock,
    actor: str,
    appeal_id: int | None = None,
) -> int:
    """Remove the person from the other level's lists too; the number of lists changed."""
    changed = 0
    for election, twin in _twins(session, voter):
        if twin.status != VoterStatus.ACTIVE:
            continue
        voter_changes.remove_voter(
            session,
            election.id,
            twin.id_number,
            reason=reason,
            note=note,
            clock=clock,
            actor=actor,
            appeal_id=appeal_id,
        )
        changed += 1
    return changed


def mirror_correction(
    session: Session,
    voter: Voter,
    changes: dict,
    *,
    on: date,
    details: str | None,
    appeal_id: int | None = None,
) -> int:
    """Apply a correction (name, sex, …) to the other level's registration as well."""
    changed = 0
    for election, twin in _twins(session, voter):
        for key, value in changes.items():
            setattr(twin, key, value)
        session.flush()
        voter_list.supplement(
            session,
            election,
            twin,
            SupplementaryChange.CORRECT,
            "appeal",
            on,
            details=details,
            appeal_id=appeal_id,
        )
        changed += 1
    return changed


def add_voter(session: Session, election_id: int, *, clock: Clock, actor: str, **fields) -> Voter:
    """`voter_changes.add_voter` on this list and, for a township of a round, the county's."""
    voter = voter_changes.add_voter(session, election_id, clock=clock, actor=actor, **fields)
    mirror_addition(session, voter, reason=AddedReason(fields["reason"]), clock=clock, actor=actor)
    return voter


def remove_voter(
    session: Session,
    election_id: int,
    id_number: str,
    *,
    reason: RemovedReason,
    note: str | None,
    clock: Clock,
    actor: str,
) -> Voter:
    """`voter_changes.remove_voter` on this list and on the other level's."""
    voter = voter_changes.remove_voter(
        session, election_id, id_number, reason=RemovedReason(reason), note=note, clock=clock, actor=actor
    )
    mirror_removal(session, voter, reason=RemovedReason(reason), note=note, clock=clock, actor=actor)
    return voter


# -- exclusion on a ground (EL 27) and restoring, on both lists ------------------------------------
def exclude(
    session: Session,
    election_id: int,
    header: list[object],
    rows: Iterable[tuple[int, list[object]]],
    *,
    clock: Clock,
    actor: str,
) -> voter_changes.ExcludeReport:
    """`voter_changes.load_deprived` on this list and, in a round, on the other level's: a
    township's exclusion list is the county's too (one register: the county's copy of a voter
    is removed with the same cited ground, and the person is refused a later registration there);
    a county's goes to each township where a listed person is registered. Each list loaded is
    audited on its own election."""
    rows = list(rows)
    report = voter_changes.load_deprived(session, election_id, header, rows, clock=clock, actor=actor)
    found, _rejected = read_deprived(header, rows)  # the rows the list kept, read once more
    if not found:
        return report
    election = elections.get_election(session, election_id)
    county = sharing(session, election)
    others = [(county, found)] if county is not None else _registered_in_townships(session, election, found)
    for other, listed in others:
        mirrored = voter_changes.load_deprived(
            session,
            other.id,
            EXCLUSION_HEADER,
            [
                (row.row, [row.name, row.id_number, row.until.isoformat() if row.until else None, row.reason])
                for row in listed
            ],
            clock=clock,
            actor=actor,
        )
        if mirrored.loaded or mirrored.removed:
            report.mirrored.append(
                {"election_id": other.id, "loaded": mirrored.loaded, "removed": mirrored.removed}
            )
    return report


def _registered_in_townships(
    session: Session, county: Election, found: list[DeprivedRow]
) -> list[tuple[Election, list[DeprivedRow]]]:
    """A county list's rows per township election of the round where the person is registered."""
    towns = township_elections(session, county.id)
    if not towns:
        return []
    by_hash = {ric.id_hash(row.id_number): row for row in found}
    registered: dict[int, list[DeprivedRow]] = {}
    for town_id, id_hash in session.execute(
        select(Voter.election_id, Voter.id_hash)
        .where(Voter.election_id.in_([t.id for t in towns]), Voter.id_hash.in_(list(by_hash)))
        .order_by(Voter.id)
    ):
        registered.setdefault(town_id, []).append(by_hash[id_hash])
    return [(town, registered[town.id]) for town in towns if town.id in registered]


def restore_voter(
    session: Session,
    election_id: int,
    id_number: str,
    *,
    ended_on: date,
    document: str,
    clock: Clock,
    actor: str,
) -> Voter:
    """A voter removed on a ground comes back once it has ended (rights restored, the detention
    or suspension lifted, EL 27): the exclusion list's term ends the day before `ended_on`, and
    the voter is registered again (`reason=restored`, the document as proof), refused while the
    exclusion still covers election day. In a round, the other level's list too: its exclusion
    term ended and its copy of the voter registered again, each audited."""
    document = (document or "").strip()
    if not document:
        raise DomainError("E_FIELD_REQUIRED", "请填写恢复依据（文书及文号）", "document")
    voter = voter_changes.find_voter(session, election_id, id_number)
    if voter.status == VoterStatus.ACTIVE:
        raise Conflict("E_NOT_REMOVED", f"{ric.mask(voter.id_number)} 仍在选民名单上，无须恢复", "id_number")
    if voter.removed_reason != RemovedReason.DEPRIVED.value:
        raise Conflict(
            "E_NOT_EXCLUDED",
            f"{ric.mask(voter.id_number)} 因「{REASON_NAMES.get(voter.removed_reason, voter.removed_reason)}」除名，"
            "不是因被剥夺政治权利或停止行使选举权利除名；重新登记请用「增补选民」",
            "id_number",
        )
    proof = f"{ended_on} 起恢复：{document}"
    targets = [(session.get(Election, election_id), voter)]
    targets += [
        (other, twin)
        for other, twin in _twins(session, voter)
        if twin.status != VoterStatus.ACTIVE and twin.removed_reason == RemovedReason.DEPRIVED.value
    ]
    for election, person in targets:
        if person.id_number in voter_changes.exclusion_notes(session, election):
            voter_changes.load_deprived(
                session,
                election.id,
                ["姓名", "公民身份号码", "剥夺期限至"],
                [(1, [person.name, person.id_number, (ended_on - timedelta(days=1)).isoformat()])],
                clock=clock,
                actor=actor,
            )
    for election, person in targets:
        voter_changes.add_voter(
            session,
            election.id,
            district=session.get(District, person.district_id).code,
            name=person.name,
            id_number=person.id_number,
            reason=AddedReason.RESTORED,
            voter_group=person.voter_group,
            address=person.address,
            hukou=person.hukou,
            ethnicity=person.ethnicity,
            proof=proof,
            clock=clock,
            actor=actor,
        )
    return voter


# -- what the county sees --------------------------------------------------------------------------
def round_totals(session: Session, county_id: int) -> dict:
    """Per township: its districts with their county district and active voters; per county
    district: the voters registered through the townships."""
    county = elections.get_election(session, county_id)
    towns = township_elections(session, county.id)
    counts = dict(
        session.execute(
            select(Voter.district_id, func.count())
            .where(
                Voter.election_id.in_([county.id, *(t.id for t in towns)]), Voter.status == VoterStatus.ACTIVE
            )
            .group_by(Voter.district_id)
        ).all()
    )
    county_districts = list(
        session.execute(
            select(District).where(District.election_id == county.id).order_by(District.code)
        ).scalars()
    )
    county_code = {d.id: d.code for d in county_districts}
    townships = []
    for town in towns:
        districts = list(
            session.execute(
                select(District).where(District.election_id == town.id).order_by(District.code)
            ).scalars()
        )
        rows = [
            {
                "code": d.code,
                "name": d.name,
                "seats": d.seats,
                "county_district": county_code.get(d.county_district_id),
                "voters": counts.get(d.id, 0),
            }
            for d in districts
        ]
        townships.append(
            {
                "election_id": town.id,
                "name": town.jurisdiction.name,
                "published": voter_list.is_published(town),
                "districts": rows,
                "voters": sum(r["voters"] for r in rows),
            }
        )
    return {
        "election_id": county.id,
        "townships": townships,
        "county_districts": [
            {"code": d.code, "name": d.name, "seats": d.seats, "voters": counts.get(d.id, 0)}
            for d in county_districts
        ],
        "voters": sum(counts.get(d.id, 0) for d in county_districts),
    }
