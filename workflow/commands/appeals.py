"""Objections to the published voter list (申诉), EL 29.

Filed within 5 days of publication (Civil Code art. 201: the day after publication is day 1,
so published on the 1st, the last day is the 6th); each decided within 3 days of filing (the
decide-by date is stored, and reminder rows are written for the scheduler to fire); the filer
may then sue in court up to E − 5.
"""

from __future__ import annotations

import json
from datetime import date, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands import elections, register_levels, voter_changes, voter_districts, voter_list
from workflow.errors import Conflict, DomainError, not_found
from workflow.events import AppealDecided, AppealFiled
from workflow.rules import ric
from workflow.rules.record_dates import check_appeal_date
from workflow.rules.voter_appeals import (
    CORRECTABLE,
    after_decision,
    check_correction,
    check_decision,
    check_filing,
    correction_details,
    decide_by,
    last_filing_day,
)
from workflow.rules.voter_appeals import court_suit_deadline as suit_deadline
from workflow.rules.voter_list import LIST_MILESTONE
from workflow.rules.voter_rows import CONTROL_REASON, LIMITS, bad_characters, check_text_fields
from workflow.store.audit import record
from workflow.store.models import Election, Reminder, ReminderStatus
from workflow.store.voters import (
    AddedReason,
    Appeal,
    AppealStatus,
    District,
    RemovedReason,
    SupplementaryChange,
    VoterListVersion,
    VoterStatus,
)
from workflow.timeutil import local_instant

CLOSED_MILESTONE = "voter_appeals_closed"
REMINDER_HOUR = time(9, 0)


def window(election: Election) -> tuple[date, date]:
    """(publication date, last day to file); refused before publication."""
    published = election.milestone(LIST_MILESTONE).done_on if _has_list(election) else None
    if published is None:
        raise Conflict("E_LIST_NOT_PUBLISHED", "选民名单尚未公布，不能受理申诉", "election_id")
    return published, last_filing_day(published)


def court_suit_deadline(election: Election) -> date | None:
    return suit_deadline(elections.kind_of(election), election.anchor_date)


def _supplement_dates(session: Session, election_id: int) -> list[date]:
    """Publication dates of the supplementary lists (versions after the first): each opens
    its own five-day window."""
    return list(
        session.execute(
            select(VoterListVersion.published_on)
            .where(VoterListVersion.election_id == election_id, VoterListVersion.version > 1)
            .distinct()
        ).scalars()
    )


def _has_list(election: Election) -> bool:
    return LIST_MILESTONE in elections.kind_of(election).milestones


def file_appeal(
    session: Session,
    election_id: int,
    *,
    filer: str,
    request: str,
    subject_name: str,
    subject_id_number: str | None,
    reason: str,
    clock: Clock,
    actor: str,
    district: str | None = None,
    correction: dict[str, str] | None = None,
    filed_on: date | None = None,
) -> Appeal:
    election = elections.get_election(session, election_id)
    published, _last_day = window(election)
    today = voter_list.today_for(election, clock)
    filed_on = filed_on or today
    check_appeal_date(  # EL 29: before election day
        filed_on, election_day=election.anchor_date, source=elections.kind_of(election).cite("appeals")
    )
    check_filing(
        filed_on=filed_on,
        today=today,
        published=published,
        filer=filer,
        reason=reason,
        subject_name=subject_name,
        request=request,
        supplements=_supplement_dates(session, election_id),
    )
    _check_texts(filer=filer, subject_name=subject_name, reason=reason)
    if correction:
        check_correction(correction)
        correction = check_text_fields(correction, CORRECTABLE, "correction.")
    number = ric.normalize(subject_id_number) if subject_id_number else None
    subject_voter_id, district_id = _subject(session, election_id, request, number, correction, district)
    appeal = Appeal(
        election_id=election_id,
        filer=filer.strip(),
        request=request,
        subject_name=subject_name.strip(),
        subject_id_number=number,
        subject_voter_id=subject_voter_id,
        district_id=district_id,
        correction=json.dumps(correction, ensure_ascii=False) if correction else None,
        reason=reason.strip(),
        filed_on=filed_on,
        decide_by=decide_by(filed_on),
        status=AppealStatus.PENDING,
        created_at=clock.now(),
    )
    session.add(appeal)
    session.flush()
    _write_reminders(session, election, appeal, clock)
    record(
        session,
        AppealFiled(
            entity_id=str(appeal.id),
            after={
                "election_id": election_id,
                "filer": appeal.filer,
                "request": request,
                "subject": appeal.subject_name,
                "subject_id_masked": ric.mask(number) if number else None,
                "filed_on": filed_on,
                "decide_by": appeal.decide_by,
            },
        ),
        actor=actor,
        clock=clock,
    )
    return appeal


def _subject(
    session: Session,
    election_id: int,
    request: str,
    number: str | None,
    correction: dict[str, str] | None,
    district: str | None,
) -> tuple[int | None, int]:
    """(the registered voter the appeal is about, or None for a request to be added; district)."""
    if request in ("remove", "correct"):
        if not number:
            raise DomainError("E_APPEAL_SUBJECT", "请提供被申诉人的公民身份号码", "subject_id")
        voter = voter_changes.find_voter(session, election_id, number)
        if voter.status != VoterStatus.ACTIVE:
            raise Conflict("E_ALREADY_REMOVED", "被申诉人已不在选民名单上", "subject_id")
        if request == "correct":
            check_correction(correction)
        return voter.id, voter.district_id
    if not number:
        raise DomainError("E_APPEAL_SUBJECT", "请提供请求增列者的公民身份号码", "subject_id")
    parsed = ric.parse(number)
    if isinstance(parsed, ric.IdProblem):
        raise DomainError(parsed.code, parsed.message, "subject_id")
    if not district:
        raise DomainError("E_APPEAL_SUBJECT", "请求增列的申诉须写明选区", "district")
    return None, voter_districts.find_district(session, election_id, district).id


def _write_reminders(session: Session, election: Election, appeal: Appeal, clock: Clock) -> None:
    """Rows the scheduler's sweep fires: 09:00 local the day before the decide-by date and on it."""
    tz = election.jurisdiction.timezone
    for lead in (1, 0):
        day = appeal.decide_by - timedelta(days=lead)
        session.add(
            Reminder(
                election_id=election.id,
                milestone_key=CLOSED_MILESTONE,
                kind="appeal_due",
                lead_days=lead,
                target_date=appeal.decide_by,
                fire_at=local_instant(day, REMINDER_HOUR, tz),
                status=ReminderStatus.PENDING,
                created_at=clock.now(),
                details={"appeal_id": appeal.id, "filer": appeal.filer, "subject": appeal.subject_name},
            )
        )
    session.flush()


def _cancel_reminders(session: Session, appeal: Appeal, clock: Clock) -> None:
    reminders = session.execute(
        select(Reminder).where(
            Reminder.election_id == appeal.election_id,
            Reminder.kind == "appeal_due",
            Reminder.status == ReminderStatus.PENDING,
        )
    ).scalars()
    for reminder in reminders:
        if (reminder.details or {}).get("appeal_id") == appeal.id:
            reminder.status = ReminderStatus.CANCELLED
            reminder.handled_at = clock.now()


_TEXT_LABELS = {"filer": "申诉人", "subject_name": "被申诉人姓名", "reason": "申诉理由"}


def _check_texts(**values: str) -> None:
    """Control characters (NUL, lone surrogates) in an appeal's texts → an error naming the field."""
    for key, value in values.items():
        if value and bad_characters(value):
            raise DomainError("E_BAD_CHARACTERS", f"{_TEXT_LABELS[key]}{CONTROL_REASON}", key)
    for key in ("filer", "subject_name"):  # String(100) columns, like a voter's name
        if len((values.get(key) or "").strip()) > LIMITS["name"]:
            raise DomainError("E_TOO_LONG", f"{_TEXT_LABELS[key]}内容过长（最多 {LIMITS['name']} 字）", key)


def get_appeal(session: Session, appeal_id: int) -> Appeal:
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise not_found("申诉", appeal_id, "appeal_id")
    return appeal


def decide_appeal(
    session: Session,
    appeal_id: int,
    *,
    upheld: bool,
    reason: str | None,
    clock: Clock,
    actor: str,
    decided_on: date | None = None,
) -> Appeal:
    """Record the committee's decision. Upheld: the list is corrected and the change goes to
    the supplementary list. Rejected: the reason is required and recorded."""
    appeal = get_appeal(session, appeal_id)
    if appeal.status != AppealStatus.PENDING:
        raise Conflict("E_APPEAL_DECIDED", f"此申诉已于 {appeal.decided_on} 处理", "appeal_id")
    election = elections.get_election(session, appeal.election_id)
    today = voter_list.today_for(election, clock)
    decided_on = decided_on or today
    note = check_decision(
        decided_on=decided_on, today=today, filed_on=appeal.filed_on, upheld=upheld, reason=reason
    )
    if upheld:
        _carry_out(session, election, appeal, decided_on, note, clock=clock, actor=actor)
    appeal.status = AppealStatus.UPHELD if upheld else AppealStatus.REJECTED
    appeal.decision_reason = note
    appeal.decided_on = decided_on
    appeal.decided_by = actor
    appeal.late = decided_on > appeal.decide_by
    _cancel_reminders(session, appeal, clock)
    session.flush()
    record(
        session,
        AppealDecided(
            entity_id=str(appeal.id),
            before={"status": AppealStatus.PENDING.value},
            after={
                "status": appeal.status,
                "reason": note,
                "decided_on": decided_on,
                "late": appeal.late,
                "court_suit_deadline": court_suit_deadline(election),
            },
        ),
        actor=actor,
        clock=clock,
    )
    return appeal


def _carry_out(
    session: Session,
    election: Election,
    appeal: Appeal,
    decided_on: date,
    note: str | None,
    *,
    clock: Clock,
    actor: str,
) -> None:
    """An upheld appeal changes the register: the person is added, removed or corrected."""
    if appeal.request == "add":
        district = session.get(District, appeal.district_id)
        voter = voter_changes.add_voter(
            session,
            appeal.election_id,
            district=district.code,
            name=appeal.subject_name,
            id_number=appeal.subject_id_number,
            reason=AddedReason.APPEAL,
            clock=clock,
            actor=actor,
            appeal_id=appeal.id,
        )
        appeal.subject_voter_id = voter.id
        # 县乡两级: decided once, both lists corrected (workflow/commands/register_levels.py).
        register_levels.mirror_addition(
            session, voter, reason=AddedReason.APPEAL, clock=clock, actor=actor, appeal_id=appeal.id
        )
    elif appeal.request == "remove":
        removed = voter_changes.remove_voter(
            session,
            appeal.election_id,
            appeal.subject_id_number,
            reason=RemovedReason.APPEAL,
            note=note or appeal.reason,
            clock=clock,
            actor=actor,
            appeal_id=appeal.id,
        )
        register_levels.mirror_removal(
            session,
            removed,
            reason=RemovedReason.APPEAL,
            note=note or appeal.reason,
            clock=clock,
            actor=actor,
            appeal_id=appeal.id,
        )
    else:
        voter = voter_changes.find_voter(session, appeal.election_id, appeal.subject_id_number)
        # The same checks as an imported row: an appeal filed before they existed may hold a
        # blank name, a formula or an over-long value; it is refused with the field named.
        changes = check_text_fields(json.loads(appeal.correction or "{}"), CORRECTABLE, "correction.")
        before = {key: getattr(voter, key) for key in changes}
        for key, value in changes.items():
            setattr(voter, key, value)
        session.flush()
        voter_list.supplement(
            session,
            election,
            voter,
            SupplementaryChange.CORRECT,
            "appeal",
            decided_on,
            details=correction_details(before, changes),
            appeal_id=appeal.id,
        )
        register_levels.mirror_correction(
            session, voter, changes, on=decided_on, details=correction_details(before, changes), appeal_id=appeal.id
        )


def appeal_dict(appeal: Appeal, election: Election) -> dict:
    return {
        "id": appeal.id,
        "filer": appeal.filer,
        "request": appeal.request,
        "subject": appeal.subject_name,
        "subject_id_masked": ric.mask(appeal.subject_id_number) if appeal.subject_id_number else None,
        "reason": appeal.reason,
        "correction": json.loads(appeal.correction) if appeal.correction else None,
        "filed_on": appeal.filed_on,
        "decide_by": appeal.decide_by,
        "status": appeal.status,
        "decision_reason": appeal.decision_reason,
        "decided_on": appeal.decided_on,
        "late": appeal.late,
        "court_suit_deadline": court_suit_deadline(election),
        "after_decision": after_decision(elections.kind_of(election)),
    }


def list_appeals(session: Session, election_id: int, *, clock: Clock) -> dict:
    election = elections.get_election(session, election_id)
    published, last_day = window(election)
    today = voter_list.today_for(election, clock)
    appeals = session.execute(
        select(Appeal).where(Appeal.election_id == election_id).order_by(Appeal.id)
    ).scalars()
    items = [appeal_dict(a, election) for a in appeals]
    return {
        "published_on": published,
        "filing_ends": last_day,
        "window_open": today <= last_day,
        "court_suit_deadline": court_suit_deadline(election),
        "pending": sum(1 for a in items if a["status"] == AppealStatus.PENDING),
        "overdue": [a["id"] for a in items if a["status"] == AppealStatus.PENDING and today > a["decide_by"]],
        "appeals": items,
    }


def close_appeals(session: Session, election_id: int, *, clock: Clock, actor: str, on: date | None = None):
    """Complete `voter_appeals_closed` once the filing window has closed and every appeal is
    decided (CONTRACTS.md)."""
    election = elections.get_election(session, election_id)
    _published, last_day = window(election)
    today = voter_list.today_for(election, clock)
    if today <= last_day:
        raise Conflict("E_APPEAL_WINDOW_OPEN", f"申诉期至 {last_day} 届满，届满后方可办结", "election_id")
    pending = (
        session.execute(
            select(Appeal.id).where(Appeal.election_id == election_id, Appeal.status == AppealStatus.PENDING)
        )
        .scalars()
        .all()
    )
    if pending:
        ids = "、".join(str(i) for i in pending)
        raise Conflict("E_APPEALS_PENDING", f"尚有申诉未处理：{ids}", "election_id")
    decided = session.execute(
        select(Appeal.decided_on)
        .where(Appeal.election_id == election_id)
        .order_by(Appeal.decided_on.desc())
        .limit(1)
    ).scalar_one_or_none()
    if on is None:
        on = max(last_day, decided) if decided else last_day
    closed = elections.complete_milestone(
        session, election_id, CLOSED_MILESTONE, clock=clock, actor=actor, on=on
    )
    # 县乡两级: the townships sharing this register close with it when their own appeals allow
    # (each check above runs before anything is written, so a refusal changes nothing).
    for town in register_levels.township_elections(session, election_id):
        milestone = next((m for m in town.milestones if m.key == CLOSED_MILESTONE), None)
        if milestone is None or milestone.settled or not _has_list(town) or town.milestone(LIST_MILESTONE).done_on is None:
            continue
        try:
            close_appeals(session, town.id, clock=clock, actor=actor)
        except DomainError:
            continue
    return closed
