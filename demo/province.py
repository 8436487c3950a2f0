"""A synthetic province for benchmarks and query-count tests: one province, its counties, each
county's townships, every one with its own election committee (contacts), and the seed's plan
run as a 县乡两级 round over all of them — one election per county and per township, each with its
own jurisdiction and committee (the shape `bench/sweep.py`'s shared 100 jurisdictions hid).

A real province of this shape: 102 counties and 1,224 townships = 1,326 elections.
Everything is made through the commands staff use (`add_jurisdiction`, `create_round`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from workflow.clock import Clock
from workflow.commands import elections as commands
from workflow.commands import jurisdictions as jurisdiction_commands
from workflow.plan import Plan, load_plan
from workflow.store import Database

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


def _contacts(code: str) -> list[dict]:
    return [
        {
            "name": "办公室",
            "role": "office",
            "email": f"xjw{code}@example.gov.cn",
            "channels": {"log": True, "email": True},
        }
    ]


def add_province(
    db: Database, clock: Clock, *, counties: int = 102, townships_per_county: int = 12, code: str = PROVINCE
) -> Province:
    """The province's jurisdictions (not its elections), in one transaction. County codes are
    the province's first two digits and a number, township codes the county's and a number."""
    province = Province(code)
    with db.transaction() as session:

        def add(code: str, name: str, level: str, parent: str | None) -> None:
            jurisdiction_commands.add_jurisdiction(
                session, code=code, name=name, level=level, parent_code=parent,
                clock=clock, actor="bench", contacts=_contacts(code),
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
