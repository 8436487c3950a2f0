"""催办 (chasing a township): a message to the committee naming the milestone, its bound and
the days left or overdue, through the committee's configured channels (the outbox of
`schedules/delivery.py`: DingTalk, WeCom, e-mail, webhook).

At most once per milestone per day: the outbox rows' idempotency keys carry the local date, and
a milestone already chased today is reported as such and sends nothing. Each chase that queued
messages is audited (`milestone.chased`; the grid counts them). A committee without any channel
is reported as such: nothing is queued and nothing pretends to be sent.

It lives beside the delivery (the scheduler layer) because the use-case layer may not import
the outbox's fan-out rule (`contact_channels`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from schedules.delivery import contact_channels, enqueue
from workflow.clock import Clock
from workflow.errors import DomainError
from workflow.events import MilestoneChased
from workflow.kinds import kind_of_election
from workflow.store.audit import record
from workflow.store.models import Election, Notification
from workflow.timeutil import local_date
from workflow.views.grid import DUE_SOON, OVERDUE, cell_state

SENT = "sent"
ALREADY = "already"
NO_CHANNEL = "no_channel"
NOTHING = "nothing"
OUTCOME_TEXT = {
    SENT: "已催办",
    ALREADY: "今天已催办过，未重复发送",
    NO_CHANNEL: "该委员会未配置任何通知渠道，未能催办",
    NOTHING: "没有需要催办的节点",
}


@dataclass(frozen=True)
class ChaseResult:
    election_id: int
    jurisdiction: str
    key: str | None
    milestone: str | None
    outcome: str
    channels: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        what = f"「{self.milestone}」" if self.milestone else ""
        via = f"（{'、'.join(self.channels)}）" if self.channels else ""
        return f"{self.jurisdiction}{what}：{OUTCOME_TEXT[self.outcome]}{via}"


def chase_key(election_id: int, key: str, on: date) -> str:
    return f"chase|{election_id}|{key}|{on.isoformat()}"


def _message(election: Election, name: str, latest: date | None, planned: date | None, today: date) -> tuple[str, str]:
    bound = latest or planned
    word = "法定最迟" if latest else "计划"
    if bound is None:
        when = "尚无期限"
    elif today > bound:
        when = f"{word} {bound}，已逾期 {(today - bound).days} 天"
    else:
        when = f"{word} {bound}，剩余 {(bound - today).days} 天"
    subject = f"【催办】{election.jurisdiction.name}：{name}（{when}）"
    body = (
        f"{election.title}\n请抓紧办理「{name}」：{when}。\n"
        f"办结后请在换届选举工作台登记办结日期。（{today} 县选举委员会办公室催办）"
    )
    return subject, body


def chase(
    session: Session,
    targets: Iterable[tuple[int, str | None]],
    *,
    clock: Clock,
    actor: str,
) -> list[ChaseResult]:
    """Chase (election id, milestone key) pairs; a key of None chases every overdue or
    due-soon milestone of that election (a row). One transaction, the caller's."""
    wanted: dict[int, list[str | None]] = {}
    for election_id, key in targets:
        wanted.setdefault(int(election_id), []).append(key)
    if not wanted:
        raise DomainError("E_NOTHING_SELECTED", "请至少选择一个选举或节点", "targets")
    elections = {
        e.id: e
        for e in session.scalars(
            select(Election)
            .where(Election.id.in_(list(wanted)))
            .options(selectinload(Election.milestones), joinedload(Election.jurisdiction, innerjoin=True))
        )
    }
    missing = [i for i in wanted if i not in elections]
    if missing:
        raise DomainError("E_NOT_FOUND", f"未找到选举：{'、'.join(map(str, missing))}", "targets")
    results: list[ChaseResult] = []
    for election_id, keys in wanted.items():
        election = elections[election_id]
        results += _chase_election(session, election, keys, clock=clock, actor=actor)
    return results


def _chase_election(
    session: Session, election: Election, keys: list[str | None], *, clock: Clock, actor: str
) -> list[ChaseResult]:
    kind = kind_of_election(election)  # the variant's milestones are its rows
    today = local_date(clock.now(), election.jurisdiction.timezone)
    lead = max(kind.reminders.lead_days, default=0)
    by_key = {m.key: m for m in election.milestones}
    settled = {m.key for m in election.milestones if m.settled}
    chosen: list[str] = []
    for key in keys:
        if key is None:
            for m in election.milestones:
                spec = kind.milestones[m.key]
                if spec.computed or m.settled:
                    continue
                before_open = any(k not in settled for k, s in kind.milestones.items() if m.key in s.before)
                state, _ = cell_state(m, before_open, today, lead, True, False)
                if state in (OVERDUE, DUE_SOON) and m.key not in chosen:
                    chosen.append(m.key)
        elif key not in by_key:
            raise DomainError("E_UNKNOWN_MILESTONE", f"{kind.name}没有节点 {key!r}", "key")
        elif key not in chosen:
            chosen.append(key)
    name = election.jurisdiction.name
    if not chosen:
        return [ChaseResult(election.id, name, None, None, NOTHING)]
    channels = tuple(dict.fromkeys(channel for _, channel, _ in contact_channels(election.jurisdiction)))
    results = []
    for key in chosen:
        m = by_key[key]
        spec = kind.milestones[key]
        if m.settled:
            results.append(ChaseResult(election.id, name, key, spec.name, NOTHING))
            continue
        if not channels:
            results.append(ChaseResult(election.id, name, key, spec.name, NO_CHANNEL))
            continue
        prefix = chase_key(election.id, key, today)
        already = session.scalar(
            select(Notification.id).where(Notification.idempotency_key.startswith(prefix + "|")).limit(1)
        )
        if already is not None:
            results.append(ChaseResult(election.id, name, key, spec.name, ALREADY))
            continue
        subject, body = _message(election, spec.name, m.latest, m.planned_date, today)
        rows = enqueue(
            session,
            key=prefix,
            jurisdiction=election.jurisdiction,
            category="chase",
            subject=subject,
            body=body,
            clock=clock,
            election_id=election.id,
            payload={"milestone": key, "latest": m.latest.isoformat() if m.latest else None, "on": today.isoformat()},
        )
        record(
            session,
            MilestoneChased(
                entity_id=f"{election.id}/{key}",
                after={"on": today, "channels": list(channels), "notifications": [r.id for r in rows]},
            ),
            actor=actor,
            clock=clock,
        )
        results.append(ChaseResult(election.id, name, key, spec.name, SENT, channels))
    return results
