"""Shared set-up for the scheduler tests: the seed's Jingshan election on a moving clock."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from schedules.sweep import SweepResult, sweep
from workflow.clock import FixedClock
from workflow.commands import elections as commands
from workflow.commands import jurisdictions as jurisdiction_commands
from workflow.plan import load_plan
from workflow.store import Database, reminders
from workflow.timeutil import local_instant

ROOT = Path(__file__).resolve().parent.parent
JINGSHAN = ROOT / "examples" / "jingshan_2011.toml"
SWEEP_TIMES = (time(0, 0, 30), time(9, 0, 30))  # just after the overdue and the warning hours
LATE = {"official_candidates_published": date(2011, 10, 14)}  # the committee is late with this one


def contacts(slug: str) -> list[dict]:
    return [
        {
            "name": f"{slug} office",
            "role": "office",
            "email": f"{slug}@example.gov.cn",
            "channels": {"log": True, "email": True},
        }
    ]


def setup_jingshan(db: Database, clock: FixedClock) -> int:
    """荆门市 above 京山县, and the seed's plan created on 2011-08-18 at 10:00 local."""
    clock.set(local_instant(date(2011, 8, 18), time(10, 0)))
    with db.transaction() as session:
        jurisdiction_commands.add_jurisdiction(
            session,
            code="420800",
            name="荆门市",
            level="city",
            parent_code=None,
            clock=clock,
            actor="test",
            contacts=contacts("jingmen"),
        )
        jurisdiction_commands.add_jurisdiction(
            session,
            code="420821",
            name="京山县",
            level="county",
            parent_code="420800",
            clock=clock,
            actor="test",
            contacts=contacts("jingshan"),
        )
        created = commands.create_election(session, load_plan(JINGSHAN), clock=clock, actor="test")
        return created.election.id


def committee_works(db: Database, clock: FixedClock, election_id: int, day: date) -> None:
    """At 17:00 the committee completes what it planned for `day` (late ones on their late day)."""
    clock.set(local_instant(day, time(17, 0)))
    with db.transaction() as session:
        election = commands.get_election(session, election_id)
        kind = commands.kind_of(election)
        for milestone in election.milestones:
            if milestone.settled or kind.milestones[milestone.key].computed:
                continue
            due = LATE.get(milestone.key, milestone.planned_date)
            if due == day:
                commands.complete_milestone(
                    session, election_id, milestone.key, clock=clock, actor="test", on=day
                )


def what(item: dict) -> str:
    """A short label of a sweep item's message: lead7 / due_today / plan_overdue / overdue …"""
    message = item["message"]
    if m := re.search(r"还有 (\d+) 天", message):
        return f"lead{m.group(1)}"
    for tag, label in (
        ("【今日到期】", "due_today"),
        ("【计划逾期】", "plan_overdue"),
        ("【已逾期】", "overdue"),
        ("【督办】", "escalation"),
        ("【阶段推进】", "advanced"),
        ("【阶段受阻】", "blocked"),
    ):
        if message.startswith(tag):
            return label
    raise AssertionError(message)


def flatten(at: datetime, result: SweepResult) -> list[tuple]:
    stamp = at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%m-%d %H:%M")
    rows = []
    for section, items in result.as_dict().items():
        for item in items:
            rows.append(
                (stamp, section, item["milestone_key"], item["phase_from"], item["phase_to"], what(item))
            )
    return rows


def run_days(
    db: Database,
    clock: FixedClock,
    election_id: int,
    first: date,
    last: date,
    *,
    skip: tuple[date, date] | None = None,
    extra: dict[date, time] | None = None,
    check_idempotent: bool = True,
) -> list[tuple]:
    """Sweep at the SWEEP_TIMES of each day (none inside `skip`), the committee working daily."""
    seen: list[tuple] = []
    day = first
    while day <= last:
        down = skip is not None and skip[0] <= day <= skip[1]
        times = () if down else SWEEP_TIMES
        if extra and day in extra:
            times = tuple(sorted({*times, extra[day]}))
        for at in times:
            clock.set(local_instant(day, at))
            seen.extend(flatten(clock.now(), sweep(db, clock, batch=7)))
            if check_idempotent:
                again = sweep(db, clock)
                assert again.as_dict() == {k: [] for k in again.as_dict()}, (day, at)
        committee_works(db, clock, election_id, day)
        day += timedelta(days=1)
    return seen


def start() -> FixedClock:
    return FixedClock(datetime(2011, 8, 18, 2, 0, tzinfo=UTC))


def stage_from(monkeypatch, rows: int) -> None:
    """Make `insert_bulk` stage shared timetables from `rows` rows on (1: always, 10**9: never)."""
    monkeypatch.setattr(reminders, "STAGE_MIN_ROWS", dict.fromkeys(("sqlite", "postgresql"), rows))
