"""Elections as staff see them: one election described (status, milestones, what blocks the
next phase), lists of elections, and the latest warnings beside an election."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflow.commands.elections import decide, kind_of
from workflow.kinds import KindSpec, get_kind
from workflow.machine import Refusal, Trigger, machine_for, state_name
from workflow.rules import voting_method
from workflow.store.models import Election, Jurisdiction, Notification
from workflow.timetable import not_applicable


def recent_notifications(session: Session, election_id: int, limit: int = 50) -> list[Notification]:
    """The election's latest warnings (outbox rows), newest first."""
    return list(
        session.execute(
            select(Notification)
            .where(Notification.election_id == election_id)
            .order_by(Notification.created_at.desc())
            .limit(limit)
        ).scalars()
    )


def refusal_dicts(refusals: tuple[Refusal, ...]) -> list[dict]:
    return [r.as_dict() for r in refusals]


def list_elections(
    session: Session, *, jurisdiction: str | None = None, state: str | None = None, kind: str | None = None
) -> list[Election]:
    """The elections with their jurisdictions and milestones, in three statements whatever
    their number (`describe` reads the milestones: one lazy load each was 1,330 statements for
    a province)."""
    query = (
        select(Election)
        .options(selectinload(Election.jurisdiction), selectinload(Election.milestones))
        .order_by(Election.id)
    )
    if jurisdiction:
        query = query.join(Election.jurisdiction).where(Jurisdiction.code == jurisdiction)
    if state:
        query = query.where(Election.state == state)
    if kind:
        query = query.where(Election.kind == kind)
    return list(session.execute(query).scalars())


def list_rows(
    session: Session, *, jurisdiction: str | None = None, state: str | None = None, kind: str | None = None
) -> list[dict]:
    """The short list (`elections list`): identity, phase and version of each election, from
    ONE Core query — no ORM objects, no milestones, no guard evaluation."""
    query = (
        select(
            Election.id,
            Election.kind,
            Election.title,
            Election.anchor_date,
            Election.state,
            Election.version,
            Jurisdiction.code,
            Jurisdiction.name,
            Jurisdiction.level,
        )
        .join(Jurisdiction, Election.jurisdiction_id == Jurisdiction.id)
        .order_by(Election.id)
    )
    if jurisdiction:
        query = query.where(Jurisdiction.code == jurisdiction)
    if state:
        query = query.where(Election.state == state)
    if kind:
        query = query.where(Election.kind == kind)
    rows = []
    for r in session.execute(query):
        spec = get_kind(r.kind)
        rows.append(
            {
                "id": r.id,
                "kind": r.kind,
                "title": r.title,
                "jurisdiction": {"code": r.code, "name": r.name, "level": r.level},
                "anchor_date": r.anchor_date.isoformat(),
                "state": r.state,
                "state_name": state_name(spec, r.state),
                "version": r.version,
            }
        )
    return rows


def describe(election: Election, today: date | None = None) -> dict:
    """Everything staff need to see about one election, JSON-friendly."""
    kind = kind_of(election)
    next_decision = decide(election, Trigger.ADVANCE) if election.state in kind.phase_keys else None
    waiting = not_applicable(kind, election.milestones)
    milestones = []
    for m in election.milestones:
        spec = kind.milestones[m.key]
        milestones.append(
            {
                "key": m.key,
                "name": spec.name,
                "phase": m.phase,
                "planned": m.planned_date.isoformat() if m.planned_date else None,
                "earliest": m.earliest.isoformat() if m.earliest else None,
                "latest": m.latest.isoformat() if m.latest else None,
                "status": m.status,
                "done_on": m.done_on.isoformat() if m.done_on else None,
                "done_by": m.done_by,
                "late": m.late,
                "waived_reason": m.waived_reason,
                "computed": spec.computed,
                "rule": spec.rule,
                # False: an approval whose trigger has not arisen (不适用; workflow/timetable.py)
                "applicable": m.key not in waiting,
            }
        )
    return {
        "id": election.id,
        "kind": election.kind,
        "kind_name": kind.name,
        "kind_version": election.kind_version,
        "title": election.title,
        "jurisdiction": {
            "code": election.jurisdiction.code,
            "name": election.jurisdiction.name,
            "level": election.jurisdiction.level,
        },
        kind.anchor: election.anchor_date.isoformat(),
        "anchor_date": election.anchor_date.isoformat(),
        "statute": election.statute,
        "state": election.state,
        "state_name": state_name(kind, election.state),
        "version": election.version,
        "parent_election_id": election.parent_election_id,
        "phase_windows": election.phase_windows,
        "phase_entered_on": election.phase_entered_on,
        "blocked_reasons": election.blocked_reasons,
        "next": None
        if next_decision is None
        else {
            "target": next_decision.target or machine_for(kind).next_phase(election.state),
            "allowed": next_decision.allowed,
            "refusals": refusal_dicts(next_decision.refusals),
        },
        "milestones": milestones,
    } | voting_method_view(election, kind)


def voting_method_view(election: Election, kind: KindSpec) -> dict:
    """{"voting_method": {key, name, rule, choices}} where the kind offers several ways of
    voting (RCL 2018 art. 8, 2025 art. 14); nothing for the other kinds."""
    offered = voting_method.choices(kind)
    if not offered:
        return {}
    key = election.voting_method or voting_method.ALL
    cite = kind.cite("voting_method")
    words = kind.texts.get("elected_by", "")
    return {
        "voting_method": {
            "key": key,
            "name": offered.get(key, key),
            "rule": f"{cite}：{words}" if cite and words else cite or words,
            "choices": [{"key": k, "name": n} for k, n in offered.items()],
        }
    }
