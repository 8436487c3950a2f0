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
from workflow.commands import elections
from workflow.commands import voters as registry
from workflow.errors import Conflict, DomainError, not_found
from workflow.events import Recorded
from workflow.rules import ric
from workflow.store.audit import record
from workflow.store.models import Election, Reminder, ReminderStatus
from workflow.store.voters import (
    AddedReason,
    Appeal,
    AppealStatus,
    District,
    RemovedReason,
    SupplementaryChange,
    VoterStatus,
)
from workflow.timeutil import local_instant

FILING_DAYS = 5  # EL 29: 在选民名单公布之日起五日内
DECISION_DAYS = 3  # EL 29: 应在三日内作出处理决定
COURT_DAYS = 5  # EL 29: 可以在选举日的五日以前向人民法院起诉
CLOSED_MILESTONE = "voter_appeals_closed"
REQUESTS = ("add", "remove", "correct")
CORRECTABLE = {
    "name": "姓名",
    "voter_group": "选民小组",
    "address": "住址",
    "ethnicity": "民族",
    "hukou": "户籍地",
}
REMINDER_HOUR = time(9, 0)


def window(election: Election) -> tuple[date, date]:
    """(publication date, last day to file); refused before publication."""
    published = election.milestone(registry.LIST_MILESTONE).done_on if _has_list(election) else None
    if published is None:
        raise Conflict("E_LIST_NOT_PUBLISHED", "选民名单尚未公布，不能受理申诉", "election_id")
    return published, published + timedelta(days=FILING_DAYS)


def court_suit_deadline(election: Election) -> date:
    return election.anchor_date - timedelta(days=COURT_DAYS)


def _has_list(election: Election) -> bool:
    return registry.LIST_MILESTONE in elections.kind_of(election).milestones


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
    published, last_day = window(election)
    today = registry.today_for(election, clock)
    filed_on = filed_on or today
    if filed_on > today:
        raise DomainError("E_DATE_IN_FUTURE", f"申诉日期 {filed_on} 晚于今天 {today}", "on")
    if filed_on < published:
        raise DomainError("E_APPEAL_BEFORE_PUBLICATION", f"申诉日期早于选民名单公布日期 {published}", "on")
    if filed_on > last_day:
        raise DomainError(
            "E_APPEAL_WINDOW_CLOSED",
            f"申诉期限已过：选民名单于 {published} 公布，应在 {last_day} 以前提出（选举法第二十九条）",
            "on",
        )
    if not filer.strip() or not reason.strip() or not subject_name.strip():
        raise DomainError("E_APPEAL_INCOMPLETE", "申诉须写明申诉人、被申诉事项涉及的人员和理由", "reason")
    if request not in REQUESTS:
        raise DomainError(
            "E_APPEAL_REQUEST", "申诉请求应为 add（增列）、remove（除名）或 correct（更正）", "request"
        )
    subject_voter_id = None
    district_id = None
    number = ric.normalize(subject_id_number) if subject_id_number else None
    if request in ("remove", "correct"):
        if not number:
            raise DomainError("E_APPEAL_SUBJECT", "请提供被申诉人的公民身份号码", "subject_id")
        voter = registry.find_voter(session, election_id, number)
        if voter.status != VoterStatus.ACTIVE:
            raise Conflict("E_ALREADY_REMOVED", "被申诉人已不在选民名单上", "subject_id")
        subject_voter_id = voter.id
        district_id = voter.district_id
        if request == "correct" and (not correction or not set(correction) <= set(CORRECTABLE)):
            allowed = "、".join(f"{k}（{v}）" for k, v in CORRECTABLE.items())
            raise DomainError("E_APPEAL_CORRECTION", f"更正申诉须写明更正的项目：{allowed}", "correction")
    else:
        if not number:
            raise DomainError("E_APPEAL_SUBJECT", "请提供请求增列者的公民身份号码", "subject_id")
        parsed = ric.parse(number)
        if isinstance(parsed, ric.IdProblem):
            raise DomainError(parsed.code, parsed.message, "subject_id")
        if not district:
            raise DomainError("E_APPEAL_SUBJECT", "请求增列的申诉须写明选区", "district")
        district_id = registry.find_district(session, election_id, district).id
    decide_by = filed_on + timedelta(days=DECISION_DAYS)
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
        decide_by=decide_by,
        status=AppealStatus.PENDING,
        created_at=clock.now(),
    )
    session.add(appeal)
    session.flush()
    _write_reminders(session, election, appeal, clock)
    record(
        session,
        Recorded(
            action="appeal.filed",
            entity="appeal",
            entity_id=str(appeal.id),
            after={
                "election_id": election_id,
                "filer": appeal.filer,
                "request": request,
                "subject": appeal.subject_name,
                "subject_id_masked": ric.mask(number) if number else None,
                "filed_on": filed_on,
                "decide_by": decide_by,
            },
        ),
        actor=actor,
        clock=clock,
    )
    return appeal


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
    today = registry.today_for(election, clock)
    decided_on = decided_on or today
    if decided_on > today:
        raise DomainError("E_DATE_IN_FUTURE", f"处理日期 {decided_on} 晚于今天 {today}", "on")
    if decided_on < appeal.filed_on:
        raise DomainError("E_DATE_BEFORE_FILING", f"处理日期早于申诉日期 {appeal.filed_on}", "on")
    if not upheld and not (reason and reason.strip()):
        raise DomainError("E_REASON_REQUIRED", "驳回申诉必须说明理由", "reason")
    note = (reason or "").strip() or None
    if upheld:
        if appeal.request == "add":
            district = session.get(District, appeal.district_id)
            voter = registry.add_voter(
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
        elif appeal.request == "remove":
            registry.remove_voter(
                session,
                appeal.election_id,
                appeal.subject_id_number,
                reason=RemovedReason.APPEAL,
                note=note or appeal.reason,
                clock=clock,
                actor=actor,
                appeal_id=appeal.id,
            )
        else:
            voter = registry.find_voter(session, appeal.election_id, appeal.subject_id_number)
            changes = json.loads(appeal.correction or "{}")
            before = {key: getattr(voter, key) for key in changes}
            for key, value in changes.items():
                setattr(voter, key, value)
            session.flush()
            details = "；".join(f"{CORRECTABLE[k]}：{before[k] or '空'} → {v}" for k, v in changes.items())
            registry._supplement(
                session,
                election,
                voter,
                SupplementaryChange.CORRECT,
                "appeal",
                decided_on,
                details=details,
                appeal_id=appeal.id,
            )
    appeal.status = AppealStatus.UPHELD if upheld else AppealStatus.REJECTED
    appeal.decision_reason = note
    appeal.decided_on = decided_on
    appeal.decided_by = actor
    appeal.late = decided_on > appeal.decide_by
    _cancel_reminders(session, appeal, clock)
    session.flush()
    record(
        session,
        Recorded(
            action="appeal.decided",
            entity="appeal",
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
    }


def list_appeals(session: Session, election_id: int, *, clock: Clock) -> dict:
    election = elections.get_election(session, election_id)
    published, last_day = window(election)
    today = registry.today_for(election, clock)
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
    today = registry.today_for(election, clock)
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
    return elections.complete_milestone(
        session, election_id, CLOSED_MILESTONE, clock=clock, actor=actor, on=on
    )
