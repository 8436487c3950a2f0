"""The daily digest: one message per committee with its elections' overdue and coming deadlines.

Its idempotency key holds the committee and the local date, so several workers (or a restart
at 08:05) never send a committee two digests for one day.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from schedules.notify import Outbox, committee_recipients
from workflow.clock import Clock
from workflow.kinds import kind_of_election
from workflow.machine import FINAL_STATES, state_name
from workflow.store import Database
from workflow.store.audit import HEAD_ID
from workflow.store.models import AuditHead, Election, MilestoneStatus
from workflow.timeutil import local_date

log = logging.getLogger("huanjie.digest")

HORIZON_DAYS = 7  # what is due within a week goes into the digest
# The audit chain's head goes to every county committee each day (with its digest), so that a
# later rewrite of what was already recorded shows against the head the county holds.
HEAD_LEVEL = "county"


def head_line(session) -> str:
    """The audit chain head as of now, for the county's records (docs/security.md)."""
    head = session.get(AuditHead, HEAD_ID)
    if head is None:
        return "审计链头：尚无记录"
    return f"审计链头：第 {head.seq} 条，哈希 {head.hash}（密钥 {head.key_id or '无'}；请留存，用于核对审计日志）"


@dataclass(frozen=True)
class DigestItem:
    election_id: int | None
    message: str

    def as_dict(self) -> dict:
        return {
            "election_id": self.election_id,
            "milestone_key": None,
            "phase_from": None,
            "phase_to": None,
            "message": self.message,
        }


def election_lines(election: Election, today) -> list[str]:
    """The digest lines of one election (empty when nothing is overdue, due soon or blocked)."""
    kind = kind_of_election(election)  # the variant's milestones are its rows
    lines: list[str] = []
    for m in election.milestones:
        spec = kind.milestones[m.key]
        if m.settled or spec.computed:
            continue
        target = m.planned_date or m.latest
        if m.status == MilestoneStatus.OVERDUE:
            lines.append(f"  · 已逾期：「{spec.name}」（法定最迟 {m.latest}）")
        elif target is not None and target < today:
            lines.append(f"  · 计划逾期：「{spec.name}」（计划 {target}）")
        elif target is not None and target <= today + timedelta(days=HORIZON_DAYS):
            lines.append(f"  · {(target - today).days} 天后到期：「{spec.name}」（{target}）")
    if election.blocked_reasons:
        lines.append("  · 阶段受阻：" + "；".join(election.blocked_reasons))
    if lines:
        lines.insert(0, f"{election.title}（当前阶段：{state_name(kind, election.state)}）")
    return lines


def write_digests(db: Database, clock: Clock) -> int:
    """Write today's digest for every committee with something to report; return how many."""
    now = clock.now()
    written = 0
    with db.transaction() as session:
        elections = session.execute(
            select(Election)
            .where(Election.state.not_in(list(FINAL_STATES)))
            .options(selectinload(Election.milestones), selectinload(Election.jurisdiction))
            .order_by(Election.jurisdiction_id, Election.id)
        ).scalars()
        by_jurisdiction: dict[int, list[str]] = {}
        zones: dict[int, str] = {}
        counties: set[int] = set()
        for election in elections:
            today = local_date(now, election.jurisdiction.timezone)
            lines = election_lines(election, today)
            county = election.jurisdiction.level == HEAD_LEVEL
            if lines or county:
                by_jurisdiction.setdefault(election.jurisdiction_id, []).extend(lines)
                zones[election.jurisdiction_id] = election.jurisdiction.timezone
            if county:
                counties.add(election.jurisdiction_id)
        outbox = Outbox(session, now)
        head = head_line(session) if counties else ""
        for jurisdiction_id, lines in by_jurisdiction.items():
            today = local_date(now, zones[jurisdiction_id])
            if jurisdiction_id in counties:
                lines = [*(lines or ["（今日无逾期或临近的节点）"]), head]
            body = f"【每日工作提示】{today}\n" + "\n".join(lines)
            item = DigestItem(None, body)
            recipients = committee_recipients(session, jurisdiction_id)
            code = recipients[0].jurisdiction_code if recipients else jurisdiction_id
            outbox.add(
                f"digest:{code}:{today.isoformat()}", None, recipients, "digest", item, subject="每日工作提示"
            )
            written += 1
        outbox.flush()
    log.info("digest: %d committees", written)
    return written
