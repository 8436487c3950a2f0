"""Corrections of a recorded milestone (the Camunda Cockpit "modify an instance" of the
committee): 撤销办结 (undo a completion or a waiver) and 更正日期 (change the recorded date).

Each takes a required reason, is audited with before and after, rewrites the election's
reminders in the same transaction, and is refused with the reason when a later milestone that
depends on this one is already done (its date or its lawfulness was decided against this one).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands.elections import (
    _milestone,
    _refresh_bounds,
    check_done_date,
    get_election,
    kind_of,
)
from workflow.commands.reminders import write_reminders
from workflow.errors import Conflict, DomainError
from workflow.events import MilestoneRedated, MilestoneReopened
from workflow.kinds import KindSpec
from workflow.machine import FINAL_STATES
from workflow.store.audit import record
from workflow.store.models import Election, Milestone, MilestoneStatus
from workflow.timeutil import local_date


def dependents(kind: KindSpec, key: str) -> list[str]:
    """The milestones that depend on `key`: those it must precede (`before`) and those whose
    statutory bound is counted from it (e.g. EL 29: appeals closed from the list's publication)."""
    spec = kind.milestones[key]
    found = list(spec.before)
    for other_key, other in kind.milestones.items():
        for bound in (other.earliest, other.latest):
            if bound is not None and bound.from_ == key and other_key not in found:
                found.append(other_key)
    return found


def _reason(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise DomainError("E_REASON_REQUIRED", "更正必须说明理由", "reason")
    return reason.strip()


def _check_no_dependent_done(election: Election, kind: KindSpec, milestone: Milestone, action: str) -> None:
    done = [
        election.milestone(k)
        for k in dependents(kind, milestone.key)
        if k in {m.key for m in election.milestones} and election.milestone(k).status == MilestoneStatus.DONE
    ]
    if done:
        names = "、".join(f"「{kind.milestones[m.key].name}」（{m.done_on} 办结）" for m in done)
        raise Conflict(
            "E_DEPENDENT_DONE",
            f"不能{action}「{kind.milestones[milestone.key].name}」：后续节点{names}依赖它且已办结，"
            "请先撤销后续节点的办结",
            "key",
        )


def _load(session: Session, election_id: int, key: str) -> tuple[Election, KindSpec, Milestone]:
    election = get_election(session, election_id, for_update=True)
    kind = kind_of(election)
    milestone = _milestone(election, kind, key)
    if election.state in FINAL_STATES:
        raise Conflict("E_ELECTION_NOT_ACTIVE", "选举已结束或已取消，不能更正节点", "election_id")
    return election, kind, milestone


def _snapshot(milestone: Milestone) -> dict:
    return {
        "status": milestone.status,
        "done_on": milestone.done_on,
        "done_by": milestone.done_by,
        "late": milestone.late,
        "waived_reason": milestone.waived_reason,
    }


def undo_completion(
    session: Session, election_id: int, key: str, *, reason: str, clock: Clock, actor: str
) -> Milestone:
    """撤销办结: a done or waived milestone back to pending (overdue again if its bound passed)."""
    reason = _reason(reason)
    election, kind, milestone = _load(session, election_id, key)
    if not milestone.settled:
        raise Conflict("E_NOT_SETTLED", f"「{kind.milestones[key].name}」尚未办结，无需撤销", "key")
    _check_no_dependent_done(election, kind, milestone, "撤销办结")
    before = _snapshot(milestone)
    today = local_date(clock.now(), election.jurisdiction.timezone)
    milestone.done_on = None
    milestone.done_by = None
    milestone.late = False
    milestone.waived_reason = None
    _refresh_bounds(election, kind)
    overdue = milestone.latest is not None and today > milestone.latest
    milestone.status = MilestoneStatus.OVERDUE if overdue else MilestoneStatus.PENDING
    election.updated_at = clock.now()
    session.flush()
    record(
        session,
        MilestoneReopened(
            entity_id=f"{election.id}/{key}", before=before, after=_snapshot(milestone) | {"reason": reason}
        ),
        actor=actor,
        clock=clock,
    )
    write_reminders(session, election, clock)
    return milestone


def correct_date(
    session: Session,
    election_id: int,
    key: str,
    on: date,
    *,
    reason: str,
    clock: Clock,
    actor: str,
    confirm_early: bool = False,
) -> Milestone:
    """更正日期: the recorded completion date changed, checked like a new completion; lateness
    and the bounds counted from it are recomputed."""
    reason = _reason(reason)
    election, kind, milestone = _load(session, election_id, key)
    if milestone.status != MilestoneStatus.DONE:
        raise Conflict("E_NOT_DONE", f"「{kind.milestones[key].name}」尚未办结，不能更正办结日期", "key")
    if milestone.done_on == on:
        raise DomainError("E_SAME_DATE", f"办结日期已是 {on}，无需更正", "on")
    _check_no_dependent_done(election, kind, milestone, "更正日期")
    today = local_date(clock.now(), election.jurisdiction.timezone)
    check_done_date(election, kind, milestone, on, today, confirm_early=confirm_early)
    before = _snapshot(milestone)
    milestone.done_on = on
    milestone.late = milestone.latest is not None and on > milestone.latest
    _refresh_bounds(election, kind)
    election.updated_at = clock.now()
    session.flush()
    record(
        session,
        MilestoneRedated(
            entity_id=f"{election.id}/{key}", before=before, after=_snapshot(milestone) | {"reason": reason}
        ),
        actor=actor,
        clock=clock,
    )
    write_reminders(session, election, clock)
    return milestone


def unlocks(election: Election, kind: KindSpec, key: str) -> list[str]:
    """What completing `key` unlocks, in words for the confirmation: the milestones that must
    follow it, the bounds counted from it, and the next phase when it is the last requirement."""
    settled = {m.key for m in election.milestones if m.settled}
    lines = [f"可以办理「{kind.milestones[k].name}」" for k in kind.milestones[key].before if k not in settled]
    for other in kind.milestones.values():
        for word, bound in (("最早", other.earliest), ("最迟", other.latest)):
            if bound is not None and bound.from_ == key:
                lines.append(f"「{other.name}」的法定{word}日期将按本办结日期计算")
    for phase in kind.phases:
        if key in phase.requires and all(k in settled or k == key for k in phase.requires):
            lines.append(f"满足进入「{phase.name}」阶段的全部条件")
    return lines
