"""A simulated province for the command centre's tests and benchmark: N counties of M
townships each, one county election per county and one township round under it (the Jingshan
plan moved to a common election day), a share of the townships behind, made through the same
commands staff use."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from demo.county import _shifted
from workflow.clock import Clock
from workflow.commands import elections as commands
from workflow.commands import jurisdictions as jurisdiction_commands
from workflow.plan import JurisdictionRef, load_plan
from workflow.timeutil import local_date

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PROVINCE = "990000"


@dataclass
class Province:
    code: str
    counties: list[str] = field(default_factory=list)
    elections: list[int] = field(default_factory=list)


def build_province(
    session: Session,
    *,
    clock: Clock,
    counties: int,
    townships: int,
    actor: str = "sim",
    seed: int = 12,
    election_day: date | None = None,
) -> Province:
    """The province 990000 with `counties` × `townships` township elections plus one election
    per county. About half of the committees have formed (done on the plan's date); the rest of
    the calendar is left as it is, so some milestones are overdue, some due soon."""
    rng = random.Random(seed)
    today = local_date(clock.now())
    election_day = election_day or today + timedelta(days=25)
    plan = load_plan(EXAMPLES / "jingshan_2011.toml")
    province = Province(PROVINCE)
    jurisdiction_commands.add_jurisdiction(
        session, code=PROVINCE, name="模拟省", level="province", parent_code=None, clock=clock, actor=actor
    )
    for c in range(counties):
        county = f"99{c + 1:04d}"
        jurisdiction_commands.add_jurisdiction(
            session, code=county, name=f"模拟{c + 1}县", level="county", parent_code=PROVINCE,
            clock=clock, actor=actor,
        )
        codes = []
        for t in range(townships):
            code = f"{county}{t + 1:03d}"
            contacts = [{"name": "办公室", "role": "office", "channels": {"log": True}}]
            jurisdiction_commands.add_jurisdiction(
                session, code=code, name=f"模拟{c + 1}县第{t + 1}镇", level="township", parent_code=county,
                clock=clock, actor=actor, contacts=contacts,
            )
            codes.append(code)
        province.counties.append(county)
        ref = JurisdictionRef(county)
        made = commands.create_election(
            session,
            _shifted(plan, election_day, f"模拟{c + 1}县人民代表大会代表换届选举", "2020", ref),
            clock=clock,
            actor=actor,
            accept_violations="模拟数据",
        )
        province.elections.append(made.election.id)
        round_plan = _shifted(plan, election_day, "乡级人民代表大会代表换届选举", "2020", ref, parent=made.election.id)
        created = commands.create_round(
            session, round_plan, codes, clock=clock, actor=actor, title_format="{name}{title}",
            accept_violations="模拟数据",
        )
        province.elections += [e.id for e in created.elections]
        for election in [made.election, *created.elections]:
            formed = election.milestone("election_committee_formed")
            if rng.random() < 0.5 and formed.planned_date and formed.planned_date <= today:
                commands.complete_milestone(
                    session, election.id, "election_committee_formed", clock=clock, actor=actor,
                    on=formed.planned_date,
                )
    return province
