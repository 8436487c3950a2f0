"""A synthetic province for benchmarks and tests: one province, its counties, each county's
townships, every one with its own election committee (contacts). Everything is made through the
commands staff use (`add_jurisdiction`, `create_election`, `create_round`).

Two ways to run elections on it, over the same jurisdictions:
- `create_province_round`: the seed's plan as it is, as a 县乡两级 round over every county and
  township (sweep, listings and query-count tests; `bench/province.py`, `bench/sweep.py`'s shape).
  A real province of this shape: 102 counties and 1,224 townships = 1,326 elections.
- `build_province`: the command centre's province (grid tests and `bench/grid.py`): the seed's
  plan moved to a common election day, one election per county and its township round under it,
  about half of the committees formed, so some milestones are overdue and some due soon.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from demo.county import _shifted
from workflow.clock import Clock
from workflow.commands import elections as commands
from workflow.commands import jurisdictions as jurisdiction_commands
from workflow.plan import JurisdictionRef, Plan, load_plan
from workflow.store import Database
from workflow.timeutil import local_date

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PROVINCE = "430000"


@dataclass
class Province:
    code: str
    counties: list[str] = field(default_factory=list)
    townships: list[str] = field(default_factory=list)
    elections: list[int] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.counties) + len(self.townships)

    def townships_of(self, county: str) -> list[str]:
        return [t for t in self.townships if t[: len(county)] == county]


def office_contacts(code: str) -> list[dict]:
    """A committee's office, logged and e-mailed."""
    return [
        {
            "name": "办公室",
            "role": "office",
            "email": f"xjw{code}@example.gov.cn",
            "channels": {"log": True, "email": True},
        }
    ]


def add_jurisdictions(
    session: Session,
    clock: Clock,
    *,
    counties: int,
    townships_per_county: int,
    code: str = PROVINCE,
    actor: str = "bench",
    contacts: Callable[[str], list[dict]] = office_contacts,
) -> Province:
    """The province's jurisdictions (not its elections). County codes are the province's first
    two digits and a number, township codes the county's and a number."""
    province = Province(code)

    def add(code: str, name: str, level: str, parent: str | None) -> None:
        jurisdiction_commands.add_jurisdiction(
            session, code=code, name=name, level=level, parent_code=parent,
            clock=clock, actor=actor, contacts=contacts(code),
        )  # fmt: skip

    add(code, f"模拟省{code[:2]}", "province", None)
    for c in range(1, counties + 1):
        county = f"{code[:2]}{c:04d}"
        add(county, f"第{c}县", "county", code)
        province.counties.append(county)
        for t in range(1, townships_per_county + 1):
            township = f"{county}{t:03d}"
            add(township, f"第{c}县第{t}镇", "township", county)
            province.townships.append(township)
    return province


def add_province(
    db: Database, clock: Clock, *, counties: int = 102, townships_per_county: int = 12, code: str = PROVINCE
) -> Province:
    """`add_jurisdictions` in one transaction of its own."""
    with db.transaction() as session:
        return add_jurisdictions(
            session, clock, counties=counties, townships_per_county=townships_per_county, code=code
        )


def seed_plan() -> Plan:
    return load_plan(EXAMPLES / "jingshan_2011.toml")


def create_province_round(db: Database, clock: Clock, province: Province, plan: Plan | None = None) -> list[int]:
    """The whole round — every county and every township — in one transaction."""
    plan = plan or seed_plan()
    with db.transaction() as session:
        counties = commands.create_round(
            session, plan, province.counties, clock=clock, actor="bench", title_format="{name}{title}"
        )
        townships = commands.create_round(
            session, plan, province.townships, clock=clock, actor="bench", title_format="{name}{title}"
        )
        province.elections = [e.id for e in counties.elections + townships.elections]
    return province.elections


def build_province(
    session: Session,
    *,
    clock: Clock,
    counties: int,
    townships: int,
    actor: str = "sim",
    seed: int = 12,
    election_day: date | None = None,
    code: str = PROVINCE,
) -> Province:
    """`counties` × `townships` township elections plus one election per county, on a common
    election day (25 days on by default). About half of the committees have formed (done on the
    plan's date); the rest of the calendar is left as it is, so some milestones are overdue,
    some due soon."""
    rng = random.Random(seed)
    today = local_date(clock.now())
    election_day = election_day or today + timedelta(days=25)
    plan = seed_plan()
    province = add_jurisdictions(
        session, clock, counties=counties, townships_per_county=townships, code=code, actor=actor
    )
    for c, county in enumerate(province.counties, start=1):
        ref = JurisdictionRef(county)
        made = commands.create_election(
            session,
            _shifted(plan, election_day, f"第{c}县人民代表大会代表换届选举", "2020", ref),
            clock=clock,
            actor=actor,
            accept_violations="模拟数据",
        )
        province.elections.append(made.election.id)
        round_plan = _shifted(plan, election_day, "乡级人民代表大会代表换届选举", "2020", ref, parent=made.election.id)
        created = commands.create_round(
            session, round_plan, province.townships_of(county), clock=clock, actor=actor,
            title_format="{name}{title}", accept_violations="模拟数据",
        )  # fmt: skip
        province.elections += [e.id for e in created.elections]
        for election in [made.election, *created.elections]:
            formed = election.milestone("election_committee_formed")
            if rng.random() < 0.5 and formed.planned_date and formed.planned_date <= today:
                commands.complete_milestone(
                    session, election.id, "election_committee_formed", clock=clock, actor=actor,
                    on=formed.planned_date,
                )  # fmt: skip
    return province
