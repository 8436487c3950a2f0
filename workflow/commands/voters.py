"""Voter registration commands: districts, import, exclusions, additions and removals,
publication with frozen versions, the supplementary list, certificates and export rows.

Rules: EL 4 (18 or over, not deprived), EL 27 (registration by district, once; additions and
removals before each election), EL 28 (list published E − 20; 选民证), EL 29 (objections).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Date, Integer, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands import elections
from workflow.errors import Conflict, DomainError, not_found
from workflow.events import Recorded
from workflow.rules import ric
from workflow.rules.voter_rows import SEX_NAMES, RowChecker, check_row, map_headers
from workflow.store.audit import record
from workflow.store.models import Election
from workflow.store.voters import (
    AddedReason,
    DeprivedPerson,
    District,
    RemovedReason,
    SupplementaryChange,
    SupplementaryEntry,
    Voter,
    VoterImport,
    VoterListEntry,
    VoterListVersion,
    VoterStatus,
)
from workflow.timeutil import local_date

LIST_MILESTONE = "voter_list_published"
CHUNK = 5000
AREA_MAX = 2000  # 选区范围: a district's villages, communities or units, printed in the 选区划分公告
VOTER_COLUMNS = (
    "election_id",
    "district_id",
    "name",
    "sex",
    "id_number",
    "id_hash",
    "birth_date",
    "ethnicity",
    "voter_group",
    "address",
    "hukou",
    "note",
    "status",
    "added_reason",
    "import_id",
    "source_row",
)


def today_for(election: Election, clock: Clock) -> date:
    return local_date(clock.now(), election.jurisdiction.timezone)


# -- districts ------------------------------------------------------------------------------
def clean_area(area: str | None, *, code: str | None = None) -> str | None:
    """A district's scope (选区范围) as stored: stripped, empty as None, at most AREA_MAX
    characters (EL 25: districts are divided by residence area or by production/work units)."""
    area = (area or "").strip() or None
    if area is not None and len(area) > AREA_MAX:
        which = f"选区 {code} 的选区范围" if code else "选区范围"
        raise DomainError(
            "E_DISTRICT_INVALID", f"{which}不能超过 {AREA_MAX} 个字符（现为 {len(area)} 个）", "area"
        )
    return area


def add_district(
    session: Session,
    election_id: int,
    *,
    code: str,
    name: str,
    seats: int | None = None,
    population: int | None = None,
    area: str | None = None,
    clock: Clock,
    actor: str,
) -> District:
    elections.get_election(session, election_id)
    code = code.strip()
    if not code or not name.strip():
        raise DomainError("E_DISTRICT_INVALID", "选区代码和名称不能为空", "code")
    if seats is not None and not 1 <= seats <= 3:
        raise DomainError("E_DISTRICT_SEATS", "每一选区选一名至三名代表（选举法第二十五条）", "seats")
    area = clean_area(area)
    exists = session.execute(
        select(District.id).where(District.election_id == election_id, District.code == code)
    ).first()
    if exists:
        raise Conflict("E_DUPLICATE", f"选区代码 {code} 已存在", "code")
    district = District(
        election_id=election_id, code=code, name=name.strip(), seats=seats, population=population, area=area
    )
    session.add(district)
    session.flush()
    record(
        session,
        Recorded(
            action="district.added",
            entity="district",
            entity_id=f"{election_id}/{code}",
            after={
                "code": code,
                "name": district.name,
                "seats": seats,
                "population": population,
                "area": area,
            },
        ),
        actor=actor,
        clock=clock,
    )
    return district


def list_districts(session: Session, election_id: int) -> list[dict]:
    counts = dict(
        session.execute(
            select(Voter.district_id, func.count())
            .where(Voter.election_id == election_id, Voter.status == VoterStatus.ACTIVE)
            .group_by(Voter.district_id)
        ).all()
    )
    districts = session.execute(
        select(District).where(District.election_id == election_id).order_by(District.code)
    ).scalars()
    return [
        {
            "code": d.code,
            "name": d.name,
            "seats": d.seats,
            "population": d.population,
            "area": d.area,
            "voters": counts.get(d.id, 0),
        }
        for d in districts
    ]


def find_district(session: Session, election_id: int, code: str) -> District:
    district = session.execute(
        select(District).where(District.election_id == election_id, District.code == code)
    ).scalar_one_or_none()
    if district is None:
        raise not_found("选区", code, "district")
    return district


def _district_lookup(session: Session, election_id: int) -> dict[str, int]:
    lookup: dict[str, int] = {}
    for district_id, code, name in session.execute(
        select(District.id, District.code, District.name).where(District.election_id == election_id)
    ):
        lookup.setdefault(name, district_id)
        lookup[code] = district_id  # a code wins over another district's identical name
    return lookup


# -- deprived of political rights -------------------------------------------------------------
def deprived_numbers(session: Session, election: Election) -> set[str]:
    """Numbers deprived on election day (EL 4); a term ending before it has been served."""
    rows = session.execute(
        select(DeprivedPerson.id_number, DeprivedPerson.until).where(
            DeprivedPerson.election_id == election.id
        )
    )
    return {number for number, until in rows if until is None or until >= election.anchor_date}


@dataclass
class ExcludeReport:
    loaded: int = 0
    unchanged: int = 0
    removed: list[dict] = field(default_factory=list)  # registered voters taken off
    rejected: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "loaded": self.loaded,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "rejected": self.rejected,
        }


def load_deprived(
    session: Session,
    election_id: int,
    header: list[object],
    rows: Iterable[tuple[int, list[object]]],
    *,
    clock: Clock,
    actor: str,
) -> ExcludeReport:
    """Load the deprived-of-rights list (columns 姓名, 公民身份号码, optional 剥夺期限至 / 原因).
    Anyone on it who is registered is removed (EL 27: 依照法律被剥夺政治权利的人 … 除名)."""
    election = elections.get_election(session, election_id)
    headers = map_headers(header)
    if "id_number" not in headers.index:
        raise DomainError("E_MISSING_COLUMN", "名单缺少「公民身份号码」列", "file")
    extra = {str(c).strip(): i for i, c in enumerate(header) if c is not None}
    until_at = next((extra[h] for h in ("剥夺期限至", "剥夺政治权利至", "期限至") if h in extra), None)
    reason_at = next((extra[h] for h in ("原因", "事由", "备注") if h in extra), None)
    known = {
        number: person
        for person in session.execute(
            select(DeprivedPerson).where(DeprivedPerson.election_id == election_id)
        ).scalars()
        for number in [person.id_number]
    }
    report = ExcludeReport()
    written = headers.written["id_number"]
    for row_number, cells in rows:
        if not any(c not in (None, "") for c in cells):
            continue
        number = ric.normalize(cells[headers.index["id_number"]])
        parsed = ric.parse(number)
        if isinstance(parsed, ric.IdProblem):
            report.rejected.append({"row": row_number, "column": written, "reason": parsed.message})
            continue
        until = None
        if until_at is not None and until_at < len(cells) and cells[until_at] not in (None, ""):
            from workflow.rules.voter_rows import parse_birth

            parts = parse_birth(cells[until_at])
            if parts is None or parts[2] is None:
                report.rejected.append(
                    {"row": row_number, "column": str(header[until_at]), "reason": "期限日期无法识别"}
                )
                continue
            until = date(*parts)
        name_at = headers.index.get("name")
        name = str(cells[name_at]).strip() if name_at is not None and cells[name_at] else None
        reason = str(cells[reason_at]).strip() if reason_at is not None and cells[reason_at] else None
        person = known.get(number)
        if person is not None and person.until == until:
            report.unchanged += 1
        elif person is not None:
            person.until = until
            report.loaded += 1
        else:
            person = DeprivedPerson(
                election_id=election_id,
                id_number=number,
                id_hash=ric.id_hash(number),
                name=name,
                until=until,
                reason=reason,
            )
            session.add(person)
            known[number] = person
            report.loaded += 1
    session.flush()
    deprived = deprived_numbers(session, election)
    today = today_for(election, clock)
    if deprived:
        registered = session.execute(
            select(Voter).where(Voter.election_id == election_id, Voter.status == VoterStatus.ACTIVE)
        ).scalars()
        for voter in registered:
            if voter.id_number in deprived:
                _remove(session, election, voter, RemovedReason.DEPRIVED, "依法被剥夺政治权利", today)
                report.removed.append({"id_masked": ric.mask(voter.id_number), "name": voter.name})
    if report.loaded or report.removed:
        record(
            session,
            Recorded(
                action="voters.deprived_loaded",
                entity="election",
                entity_id=str(election_id),
                after={"loaded": report.loaded, "removed": [r["id_masked"] for r in report.removed]},
            ),
            actor=actor,
            clock=clock,
        )
    return report


# -- import ------------------------------------------------------------------------------------
@dataclass
class ImportReport:
    accepted: int = 0
    unchanged: int = 0  # already registered in the same district (a re-import)
    warnings: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    committed: bool = False
    import_id: int | None = None

    def as_dict(self) -> dict:
        return {
            "accepted": self.accepted,
            "unchanged": self.unchanged,
            "warnings": self.warnings,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "committed": self.committed,
        }


class ImportRejected(Exception):
    """Rows were rejected and --accept-valid was not given: the caller rolls back (exit 1)."""

    def __init__(self, report: ImportReport):
        super().__init__("import rejected")
        self.report = report


def _bulk_insert(session: Session, rows: list[tuple]) -> None:
    """Core executemany on SQLite; COPY on PostgreSQL (the same transaction)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY voters ({', '.join(VOTER_COLUMNS)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join("?" for _ in VOTER_COLUMNS)
    connection.exec_driver_sql(
        f"INSERT INTO voters ({', '.join(VOTER_COLUMNS)}) VALUES ({placeholders})",
        [(*row[:6], row[6].isoformat(), *row[7:]) for row in rows],
    )


def import_voters(
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
    reason: AddedReason = AddedReason.REGISTERED,
) -> ImportReport:
    """Validate, deduplicate and insert rows in the caller's transaction.

    Raises ImportRejected (the caller rolls back) when rows were rejected and `accept_valid` is
    false. Duplicates are not rejections: the first registration stands (不重登, EL 27)."""
    election = elections.get_election(session, election_id)
    headers = map_headers(header)
    if headers.missing:
        names = {"name": "姓名", "id_number": "公民身份号码"}
        missing = "、".join(names[m] for m in headers.missing)
        raise DomainError("E_MISSING_COLUMN", f"文件缺少必需的列：{missing}", "file")
    lookup = _district_lookup(session, election_id)
    default_district_id = None
    if district is not None:
        default_district_id = lookup.get(district)
        if default_district_id is None:
            raise not_found("选区", district, "district")
    elif "district" not in headers.index:
        raise DomainError(
            "E_MISSING_COLUMN", "文件没有「选区」列：请用 --district 指定这些选民所在的选区", "district"
        )
    report = ImportReport()
    for _position, header_text in headers.unknown:
        report.warnings.append({"row": 1, "column": header_text, "reason": "无法识别的列，已忽略"})
    for _position, header_text in headers.repeated:
        report.warnings.append(
            {"row": 1, "column": header_text, "reason": "重复的列，已忽略（以第一列为准）"}
        )

    existing: dict[str, int] = dict(
        session.execute(
            select(Voter.id_number, Voter.district_id).where(Voter.election_id == election_id)
        ).all()
    )
    removed = set(
        session.execute(
            select(Voter.id_number).where(
                Voter.election_id == election_id, Voter.status == VoterStatus.REMOVED
            )
        ).scalars()
    )
    deprived = deprived_numbers(session, election)
    cutoff = ric.adult_cutoff(election.anchor_date)
    checker = RowChecker(headers, election_day=election.anchor_date, cutoff=cutoff)
    seen: dict[str, int] = {}  # number → first row in this file
    repeats: dict[str, list[int]] = {}  # number → later rows
    against_register: dict[str, list[int]] = {}  # number → rows of someone registered elsewhere
    district_column = headers.written.get("district", "选区")
    id_column = headers.written["id_number"]
    pending: list[tuple] = []
    import_row: VoterImport | None = None
    import_id: int | None = None
    inserting = True

    def flush() -> None:
        nonlocal import_row
        if not pending:
            return
        if inserting:
            _bulk_insert(session, pending)
        pending.clear()

    for row_number, cells in rows:
        if not any(c not in (None, "") for c in cells):
            continue  # blank rows between blocks are common
        data, warnings, errors = checker(cells)
        for issue in warnings:
            report.warnings.append({"row": row_number, "column": issue.column, "reason": issue.reason})
        if errors:
            for issue in errors:
                report.rejected.append({"row": row_number, "column": issue.column, "reason": issue.reason})
            if not accept_valid:
                inserting = False
            continue
        number = data["id_number"]
        if number in deprived:
            report.rejected.append(
                {
                    "row": row_number,
                    "column": id_column,
                    "reason": "依法被剥夺政治权利，不列入选民名单（选举法第四条）",
                }
            )
            if not accept_valid:
                inserting = False
            continue
        district_id = default_district_id
        if data["district"] is not None:
            district_id = lookup.get(data["district"])
            if district_id is None:
                report.rejected.append(
                    {
                        "row": row_number,
                        "column": district_column,
                        "reason": f"选区「{data['district']}」不存在（请先用 huanjie districts add 添加）",
                    }
                )
                if not accept_valid:
                    inserting = False
                continue
        elif district_id is None:
            report.rejected.append({"row": row_number, "column": district_column, "reason": "选区为空"})
            if not accept_valid:
                inserting = False
            continue
        first = seen.get(number)
        if first is not None:
            repeats.setdefault(number, []).append(row_number)
            continue
        seen[number] = row_number
        registered_in = existing.get(number)
        if registered_in is not None:
            if registered_in == district_id:
                report.unchanged += 1
                if number in removed:
                    # A removal is a decision with a reason: a file does not undo it silently.
                    report.warnings.append(
                        {
                            "row": row_number,
                            "column": id_column,
                            "reason": "此人已除名，未恢复登记（如需恢复请用 huanjie voters add）",
                        }
                    )
            else:
                against_register.setdefault(number, []).append(row_number)
            continue
        if import_row is None:
            import_row = VoterImport(
                election_id=election_id,
                file_name=file_name[:300],
                file_sha256=file_sha256,
                at=clock.now(),
                actor=actor,
            )
            session.add(import_row)
            session.flush()
            import_id = import_row.id
        pending.append(
            (
                election_id,
                district_id,
                data["name"],
                data["sex"],
                number,
                ric.id_hash(number),
                data["birth_date"],
                data["ethnicity"],
                data["voter_group"],
                data["address"],
                data["hukou"],
                data["note"],
                VoterStatus.ACTIVE.value,
                reason.value,
                import_id,
                row_number,
            )
        )
        report.accepted += 1
        if len(pending) >= CHUNK:
            flush()
    flush()

    codes = {district_id: code for code, district_id in _codes(session, election_id)}
    for number, later in repeats.items():
        if number in against_register:
            continue  # reported once below, with every row of this file
        report.duplicates.append({"id_masked": ric.mask(number), "rows": [seen[number], *later]})
    for number, found_rows in against_register.items():
        report.duplicates.append(
            {
                "id_masked": ric.mask(number),
                "rows": found_rows + repeats.get(number, []),
                "registered_in": codes.get(existing[number]),
            }
        )
    report.duplicates.sort(key=lambda d: d["rows"][0])
    if report.rejected and not accept_valid:
        raise ImportRejected(report)
    if import_row is not None:
        import_row.accepted = report.accepted
        import_row.rejected = len(report.rejected)
        import_row.duplicates = len(report.duplicates)
        import_row.warnings = len(report.warnings)
        report.import_id = import_row.id
        if _is_published(election):
            # After publication every addition goes to the supplementary list (补正名单).
            _supplement_from_import(session, election, import_row.id, today_for(election, clock))
        record(
            session,
            Recorded(
                action="voters.imported",
                entity="voter_import",
                entity_id=str(import_row.id),
                after={
                    "election_id": election_id,
                    "file": file_name,
                    "sha256": file_sha256,
                    "accepted": report.accepted,
                    "rejected": len(report.rejected),
                    "duplicates": len(report.duplicates),
                    "warnings": len(report.warnings),
                },
            ),
            actor=actor,
            clock=clock,
        )
    report.committed = True
    return report


def _codes(session: Session, election_id: int) -> list[tuple[str, int]]:
    return list(
        session.execute(select(District.code, District.id).where(District.election_id == election_id))
    )


def _supplement_from_import(session: Session, election: Election, import_id: int, on: date) -> None:
    session.execute(
        insert(SupplementaryEntry).from_select(
            ["election_id", "district_id", "voter_id", "change", "reason", "on"],
            select(
                Voter.election_id,
                Voter.district_id,
                Voter.id,
                literal(SupplementaryChange.ADD.value),
                Voter.added_reason,
                literal(on, Date),
            ).where(Voter.import_id == import_id),
        )
    )


# -- single additions and removals ---------------------------------------------------------------
def _is_published(election: Election) -> bool:
    try:
        return election.milestone(LIST_MILESTONE).done_on is not None
    except KeyError:
        return False


def find_voter(session: Session, election_id: int, number: str) -> Voter:
    number = ric.normalize(number)
    voter = session.execute(
        select(Voter).where(Voter.election_id == election_id, Voter.id_hash == ric.id_hash(number))
    ).scalar_one_or_none()
    if voter is None:
        raise not_found("选民", ric.mask(number), "id_number")
    return voter


def _supplement(
    session: Session,
    election: Election,
    voter: Voter,
    change: SupplementaryChange,
    reason: str,
    on: date,
    *,
    details: str | None = None,
    appeal_id: int | None = None,
) -> None:
    if not _is_published(election):
        return
    session.add(
        SupplementaryEntry(
            election_id=election.id,
            district_id=voter.district_id,
            voter_id=voter.id,
            change=change.value,
            reason=reason,
            details=details,
            on=on,
            appeal_id=appeal_id,
        )
    )


def add_voter(
    session: Session,
    election_id: int,
    *,
    district: str,
    name: str,
    id_number: str,
    reason: AddedReason,
    clock: Clock,
    actor: str,
    voter_group: str | None = None,
    address: str | None = None,
    hukou: str | None = None,
    ethnicity: str | None = None,
    proof: str | None = None,
    appeal_id: int | None = None,
) -> Voter:
    """Register one voter (newly 18, moved in, migrant with proof, rights restored; EL 27)."""
    election = elections.get_election(session, election_id)
    target = find_district(session, election_id, district)
    reason = AddedReason(reason)
    if reason is AddedReason.MIGRANT and not (proof and proof.strip()):
        # Provincial rule (seed): migrants register with proof from their home district.
        raise DomainError(
            "E_PROOF_REQUIRED", "流动人口在现居住地登记，须提交户籍地选区的选民资格证明", "proof"
        )
    header = ["姓名", "公民身份号码"]
    record_data, _warnings, errors = check_row(
        [name, id_number],
        map_headers(header),
        election_day=election.anchor_date,
        cutoff=ric.adult_cutoff(election.anchor_date),
    )
    if errors:
        raise DomainError("E_VOTER_INVALID", "；".join(e.reason for e in errors), "id_number")
    number = record_data["id_number"]
    if number in deprived_numbers(session, election):
        raise DomainError(
            "E_VOTER_DEPRIVED", "依法被剥夺政治权利，不能登记为选民（选举法第四条）", "id_number"
        )
    existing = session.execute(
        select(Voter).where(Voter.election_id == election_id, Voter.id_hash == ric.id_hash(number))
    ).scalar_one_or_none()
    today = today_for(election, clock)
    if existing is not None and existing.status == VoterStatus.ACTIVE:
        code = session.get(District, existing.district_id).code
        raise Conflict(
            "E_ALREADY_REGISTERED", f"此人已在选区 {code} 登记，不得重复登记（不重登）", "id_number"
        )
    before = None
    if existing is not None:
        # Registered before and removed (e.g. moved out and back): the same row comes back.
        before = {"status": existing.status, "district": existing.district_id}
        voter = existing
        voter.status = VoterStatus.ACTIVE
        voter.district_id = target.id
        voter.name = record_data["name"]
        voter.removed_reason = voter.removed_on = voter.removed_note = None
        voter.added_reason = reason.value
    else:
        voter = Voter(
            election_id=election_id,
            district_id=target.id,
            name=record_data["name"],
            sex=record_data["sex"],
            id_number=number,
            id_hash=ric.id_hash(number),
            birth_date=record_data["birth_date"],
            status=VoterStatus.ACTIVE,
            added_reason=reason.value,
        )
        session.add(voter)
    voter.voter_group = voter_group
    voter.address = address
    voter.hukou = hukou
    voter.ethnicity = ethnicity
    voter.proof = proof
    session.flush()
    _supplement(session, election, voter, SupplementaryChange.ADD, reason.value, today, appeal_id=appeal_id)
    record(
        session,
        Recorded(
            action="voter.added",
            entity="voter",
            entity_id=str(voter.id),
            before=before,
            after={
                "id_masked": ric.mask(number),
                "district": target.code,
                "reason": reason.value,
                "proof": proof,
            },
        ),
        actor=actor,
        clock=clock,
    )
    return voter


def _remove(
    session: Session,
    election: Election,
    voter: Voter,
    reason: RemovedReason,
    note: str | None,
    on: date,
    appeal_id: int | None = None,
) -> None:
    voter.status = VoterStatus.REMOVED
    voter.removed_reason = reason.value
    voter.removed_on = on
    voter.removed_note = note
    session.flush()
    _supplement(
        session,
        election,
        voter,
        SupplementaryChange.REMOVE,
        reason.value,
        on,
        details=note,
        appeal_id=appeal_id,
    )


def remove_voter(
    session: Session,
    election_id: int,
    id_number: str,
    *,
    reason: RemovedReason,
    clock: Clock,
    actor: str,
    note: str | None = None,
    appeal_id: int | None = None,
) -> Voter:
    """Take a voter off the list with a reason (deceased, deprived, moved out; EL 27)."""
    election = elections.get_election(session, election_id)
    voter = find_voter(session, election_id, id_number)
    if voter.status != VoterStatus.ACTIVE:
        raise Conflict("E_ALREADY_REMOVED", f"此选民已于 {voter.removed_on} 除名", "id_number")
    reason = RemovedReason(reason)
    _remove(session, election, voter, reason, note, today_for(election, clock), appeal_id)
    record(
        session,
        Recorded(
            action="voter.removed",
            entity="voter",
            entity_id=str(voter.id),
            before={"status": VoterStatus.ACTIVE.value},
            after={
                "status": voter.status,
                "reason": reason.value,
                "note": note,
                "id_masked": ric.mask(voter.id_number),
            },
        ),
        actor=actor,
        clock=clock,
    )
    return voter


# -- publication ---------------------------------------------------------------------------------
@dataclass
class Published:
    supplementary: bool
    published_on: date
    districts: list[dict]

    def as_dict(self) -> dict:
        return {
            "supplementary": self.supplementary,
            "published_on": self.published_on,
            "districts": self.districts,
            "voters": sum(d["voters"] for d in self.districts),
        }


def publish(
    session: Session, election_id: int, *, clock: Clock, actor: str, on: date | None = None
) -> Published:
    """First call: complete `voter_list_published` (EL 28) and freeze version 1 of each
    district's list. Later calls publish the supplementary list: a new version of each
    district with pending changes, keeping everyone's list number (and 选民证 number)."""
    election = elections.get_election(session, election_id, for_update=True)
    kind = elections.kind_of(election)
    if LIST_MILESTONE not in kind.milestones:
        raise DomainError("E_NO_VOTER_LIST", f"{kind.name}没有「公布选民名单」节点", "election_id")
    districts = list(
        session.execute(
            select(District).where(District.election_id == election_id).order_by(District.code)
        ).scalars()
    )
    if not districts:
        raise DomainError("E_NO_DISTRICTS", "尚未设置选区，不能公布选民名单", "election_id")
    now = clock.now()
    frozen = session.execute(
        select(VoterListVersion.id).where(VoterListVersion.election_id == election_id).limit(1)
    ).first()
    if not frozen:
        active = session.execute(
            select(func.count()).where(Voter.election_id == election_id, Voter.status == VoterStatus.ACTIVE)
        ).scalar_one()
        if not active:
            raise DomainError("E_NO_VOTERS", "尚未登记选民，不能公布选民名单", "election_id")
        if _is_published(election):
            # The voter-list notices completed the milestone (workflow/providers.py): freeze
            # version 1 as of that day; changes recorded meanwhile are already in it.
            published_on = election.milestone(LIST_MILESTONE).done_on
            session.execute(
                delete(SupplementaryEntry).where(
                    SupplementaryEntry.election_id == election_id, SupplementaryEntry.version_id.is_(None)
                )
            )
        else:
            milestone = elections.complete_milestone(
                session, election_id, LIST_MILESTONE, clock=clock, actor=actor, on=on
            )
            published_on = milestone.done_on
        out = []
        for district in districts:
            version = VoterListVersion(
                election_id=election_id,
                district_id=district.id,
                version=1,
                published_on=published_on,
                voters=0,
                created_at=now,
            )
            session.add(version)
            session.flush()
            ordered = select(
                literal(version.id, Integer),
                func.row_number().over(order_by=(func.coalesce(Voter.voter_group, ""), Voter.id)),
                Voter.id,
            ).where(Voter.district_id == district.id, Voter.status == VoterStatus.ACTIVE)
            session.execute(insert(VoterListEntry).from_select(["version_id", "seq", "voter_id"], ordered))
            version.voters = session.execute(
                select(func.count()).where(VoterListEntry.version_id == version.id)
            ).scalar_one()
            out.append(
                {
                    "code": district.code,
                    "name": district.name,
                    "version": 1,
                    "voters": version.voters,
                    "changes": 0,
                }
            )
        session.flush()
        record(
            session,
            Recorded(
                action="voter_list.published",
                entity="election",
                entity_id=str(election_id),
                after={"published_on": published_on, "districts": {d["code"]: d["voters"] for d in out}},
            ),
            actor=actor,
            clock=clock,
        )
        return Published(False, published_on, out)

    today = today_for(election, clock)
    published_on = on or today
    if published_on > today:
        raise DomainError("E_DATE_IN_FUTURE", f"公布日期 {published_on} 晚于今天 {today}", "on")
    pending = list(
        session.execute(
            select(SupplementaryEntry)
            .where(SupplementaryEntry.election_id == election_id, SupplementaryEntry.version_id.is_(None))
            .order_by(SupplementaryEntry.id)
        ).scalars()
    )
    if not pending:
        raise DomainError("E_NOTHING_TO_PUBLISH", "选民名单已公布，且没有待公布的补正", "election_id")
    by_district: dict[int, list[SupplementaryEntry]] = {}
    for entry in pending:
        by_district.setdefault(entry.district_id, []).append(entry)
    out = []
    for district in districts:
        changes = by_district.get(district.id)
        if not changes:
            continue
        previous = session.execute(
            select(VoterListVersion)
            .where(VoterListVersion.district_id == district.id)
            .order_by(VoterListVersion.version.desc())
            .limit(1)
        ).scalar_one_or_none()
        number = previous.version + 1 if previous else 1
        version = VoterListVersion(
            election_id=election_id,
            district_id=district.id,
            version=number,
            published_on=published_on,
            voters=0,
            changes=len(changes),
            created_at=now,
        )
        session.add(version)
        session.flush()
        kept: dict[int, int] = {}
        if previous is not None:
            kept = dict(
                session.execute(
                    select(VoterListEntry.voter_id, VoterListEntry.seq)
                    .join(Voter, Voter.id == VoterListEntry.voter_id)
                    .where(
                        VoterListEntry.version_id == previous.id,
                        Voter.status == VoterStatus.ACTIVE,
                        Voter.district_id == district.id,
                    )
                ).all()
            )
        active = session.execute(
            select(Voter.id)
            .where(Voter.district_id == district.id, Voter.status == VoterStatus.ACTIVE)
            .order_by(Voter.id)
        ).scalars()
        next_seq = max(kept.values(), default=0)
        if previous is not None:
            next_seq = max(
                next_seq,
                session.execute(
                    select(func.coalesce(func.max(VoterListEntry.seq), 0)).where(
                        VoterListEntry.version_id == previous.id
                    )
                ).scalar_one(),
            )
        rows = []
        for voter_id in active:
            seq = kept.get(voter_id)
            if seq is None:
                next_seq += 1
                seq = next_seq
            rows.append({"version_id": version.id, "seq": seq, "voter_id": voter_id})
        if rows:
            session.execute(insert(VoterListEntry), rows)
        version.voters = len(rows)
        for entry in changes:
            entry.version_id = version.id
        out.append(
            {
                "code": district.code,
                "name": district.name,
                "version": number,
                "voters": len(rows),
                "changes": len(changes),
            }
        )
    session.flush()
    record(
        session,
        Recorded(
            action="voter_list.supplement_published",
            entity="election",
            entity_id=str(election_id),
            after={"published_on": published_on, "districts": {d["code"]: d["changes"] for d in out}},
        ),
        actor=actor,
        clock=clock,
    )
    return Published(True, published_on, out)


# -- views: lists, certificates, export ------------------------------------------------------------
LIST_KINDS = ("register", "published", "supplementary", "certificates")
CHANGE_NAMES = {"add": "增补", "remove": "删除", "correct": "更正"}
REASON_NAMES = {
    "registered": "登记",
    "newly_18": "新满十八周岁",
    "moved_in": "迁入",
    "migrant": "流动人口（凭户籍地证明）",
    "restored": "恢复政治权利",
    "appeal": "申诉处理",
    "deceased": "死亡",
    "deprived": "被剥夺政治权利",
    "moved_out": "迁出",
}


@dataclass
class ListView:
    title: str
    header: list[str]
    rows: Iterator[list[object]]
    widths: list[int]


def _shown(number: str, full_ids: bool) -> str:
    return number if full_ids else ric.mask(number)


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
    election_day = election.anchor_date
    scope = f"{chosen.name}（{chosen.code}）" if chosen else election.jurisdiction.name
    districts = {
        d.id: d
        for d in session.execute(select(District).where(District.election_id == election_id)).scalars()
    }
    person_header = ["姓名", "性别", "年龄", "出生日期", "民族", "选民小组", "住址", "公民身份号码"]

    def person(v: Voter) -> list[object]:
        return [
            v.name,
            SEX_NAMES.get(v.sex, v.sex),
            ric.age_on(v.birth_date, election_day),
            v.birth_date.isoformat(),
            v.ethnicity or "",
            v.voter_group or "",
            v.address or "",
            _shown(v.id_number, full_ids),
        ]

    widths = [6, 10, 5, 5, 12, 8, 14, 30, 22]
    if which == "register":
        query = select(Voter).where(Voter.election_id == election_id, Voter.status == VoterStatus.ACTIVE)
        if chosen:
            query = query.where(Voter.district_id == chosen.id)
        query = query.order_by(Voter.district_id, func.coalesce(Voter.voter_group, ""), Voter.id)

        def register_rows() -> Iterator[list[object]]:
            for seq, voter in enumerate(
                session.execute(query.execution_options(yield_per=2000)).scalars(), 1
            ):
                yield [seq, *person(voter), districts[voter.district_id].name]

        return ListView(
            f"{scope}选民登记册（{election.title}）",
            ["序号", *person_header, "选区"],
            register_rows(),
            [*widths, 16],
        )
    latest = (
        select(VoterListVersion.district_id, func.max(VoterListVersion.version).label("version"))
        .where(VoterListVersion.election_id == election_id)
        .group_by(VoterListVersion.district_id)
        .subquery()
    )
    versions = select(VoterListVersion).join(
        latest,
        (latest.c.district_id == VoterListVersion.district_id)
        & (latest.c.version == VoterListVersion.version),
    )
    if chosen:
        versions = versions.where(VoterListVersion.district_id == chosen.id)
    found = list(session.execute(versions.order_by(VoterListVersion.district_id)).scalars())
    if which in ("published", "certificates"):
        if not found:
            raise DomainError("E_NOT_PUBLISHED", "选民名单尚未公布", "list")

        def published_rows() -> Iterator[list[object]]:
            for version in found:
                district_row = districts[version.district_id]
                query = (
                    select(VoterListEntry.seq, Voter)
                    .join(Voter, Voter.id == VoterListEntry.voter_id)
                    .where(VoterListEntry.version_id == version.id)
                    .order_by(VoterListEntry.seq)
                    .execution_options(yield_per=2000)
                )
                for seq, voter in session.execute(query):
                    if which == "published":
                        yield [seq, *person(voter), district_row.name]
                    else:
                        yield [
                            certificate_number(election_id, district_row.code, seq),
                            voter.name,
                            SEX_NAMES.get(voter.sex, voter.sex),
                            ric.age_on(voter.birth_date, election_day),
                            district_row.name,
                            voter.voter_group or "",
                            _shown(voter.id_number, full_ids),
                            election_day.isoformat(),
                        ]

        dates = sorted({v.published_on for v in found})
        if which == "published":
            label = "、".join(f"{d.isoformat()}" for d in dates)
            return ListView(
                f"{scope}选民名单（{election.title}，{label} 公布）",
                ["序号", *person_header, "选区"],
                published_rows(),
                [*widths, 16],
            )
        return ListView(
            f"{scope}选民证（{election.title}）",
            ["选民证号", "姓名", "性别", "年龄", "选区", "选民小组", "公民身份号码", "选举日"],
            published_rows(),
            [22, 10, 5, 5, 16, 14, 22, 12],
        )
    query = (
        select(SupplementaryEntry, Voter)
        .join(Voter, Voter.id == SupplementaryEntry.voter_id)
        .where(SupplementaryEntry.election_id == election_id)
        .order_by(SupplementaryEntry.district_id, SupplementaryEntry.id)
    )
    if chosen:
        query = query.where(SupplementaryEntry.district_id == chosen.id)

    def supplementary_rows() -> Iterator[list[object]]:
        for seq, (entry, voter) in enumerate(session.execute(query), 1):
            yield [
                seq,
                CHANGE_NAMES.get(entry.change, entry.change),
                *person(voter),
                districts[entry.district_id].name,
                REASON_NAMES.get(entry.reason, entry.reason)
                + (f"：{entry.details}" if entry.details else ""),
                entry.on.isoformat(),
                "已公布" if entry.version_id else "待公布",
            ]

    return ListView(
        f"{scope}选民补正名单（{election.title}）",
        ["序号", "类别", *person_header, "选区", "原因", "日期", "状态"],
        supplementary_rows(),
        [6, 6, *widths[1:], 16, 20, 12, 8],
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
        Recorded(
            action="voters.full_ids_shown",
            entity="election",
            entity_id=str(election_id),
            after={"what": what},
        ),
        actor=actor,
        clock=clock,
    )
