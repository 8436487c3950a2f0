"""The demo county: the seed's Jingshan schedule (2011, statute 2010) run to its end, the same
county's current round in progress, a few townships, a party branch and a residents' committee.

Every record is made through the same commands staff use, so the demo is also a smoke test of
the whole engine. With `registers` (the default) the county election also gets its districts and
voters, and the elections their candidates (and, for 2011, results).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from demo.candidates import add_demo_candidates
from demo.voters import add_demo_voters
from workflow.clock import Clock
from workflow.commands import elections as commands
from workflow.commands import jurisdictions as jurisdiction_commands
from workflow.commands import notice_settings, register_levels, seat_allocation
from workflow.machine import Trigger
from workflow.plan import JurisdictionRef, PhaseWindow, Plan, load_plan
from workflow.store.models import Jurisdiction
from workflow.store.voters import District
from workflow.timeutil import local_date

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
COUNTY = "420821"

JURISDICTIONS = [
    # code, name, level, parent, committee contacts
    ("420000", "湖北省", "province", None),
    ("420800", "荆门市", "city", "420000"),
    (COUNTY, "京山县", "county", "420800"),
    ("420821100", "新市镇", "township", COUNTY),
    ("420821101", "永兴镇", "township", COUNTY),
    ("420821102", "宋河镇", "township", COUNTY),
    ("420821103", "坪坝镇", "township", COUNTY),
    ("420821100-001", "新市镇阳光社区", "community", "420821100"),
    ("420821-DZB-01", "京山县市场监督管理局机关党支部", "party_org", COUNTY),
]


@dataclass
class DemoResult:
    created: bool
    elections: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _contacts(code: str, name: str) -> list[dict]:
    slug = code.replace("-", "").lower()
    return [
        {
            "name": f"{name}选举委员会办公室",
            "role": "office",
            "email": f"xjw{slug}@example.gov.cn",
            "channels": {"log": True, "email": f"xjw{slug}@example.gov.cn"},
        },
    ]


def _shifted(
    plan: Plan,
    new_anchor: date,
    title: str,
    statute: str | None,
    jurisdiction: JurisdictionRef,
    parent: int | None = None,
) -> Plan:
    delta = new_anchor - plan.anchor
    return Plan(
        kind=plan.kind,
        title=title,
        jurisdiction=jurisdiction,
        anchor=new_anchor,
        statute=statute,
        milestones={k: v + delta for k, v in plan.milestones.items()},
        phases={
            k: PhaseWindow(w.start + delta if w.start else None, w.end + delta if w.end else None)
            for k, w in plan.phases.items()
        },
        parent_election=parent,
    )


def progress(session: Session, election_id: int, *, today: date, clock: Clock, actor: str) -> None:
    """Complete every milestone planned on or before `today` on its planned date and advance
    phase by phase as far as the guards allow: what a diligent committee would have done."""
    while True:
        election = commands.get_election(session, election_id)
        kind = commands.kind_of(election)
        for milestone in election.milestones:
            spec = kind.milestones[milestone.key]
            if (
                not milestone.settled
                and not spec.computed
                and milestone.planned_date
                and milestone.planned_date <= today
                and milestone.phase == election.state
            ):
                commands.complete_milestone(
                    session, election_id, milestone.key, clock=clock, actor=actor, on=milestone.planned_date
                )
        election = commands.get_election(session, election_id)
        if election.state not in kind.phase_keys:
            return
        windows = election.phase_windows or {}
        target = commands.machine_for(kind).next_phase(election.state)
        window = windows.get(target) if target else None
        if window and window[0] and date.fromisoformat(window[0]) > today:
            return
        if not commands.decide(election, Trigger.ADVANCE).allowed:
            return
        commands.transition(session, election_id, Trigger.ADVANCE, clock=clock, actor=actor)


def next_election_day(today: date, days_ahead: int = 45) -> date:
    """A Sunday about `days_ahead` days from today (counties usually vote on a weekend)."""
    day = today + timedelta(days=days_ahead)
    return day + timedelta(days=(6 - day.weekday()) % 7)


def build_demo(session: Session, *, clock: Clock, actor: str = "demo", registers: bool = True) -> DemoResult:
    """The demo county; `registers=False` leaves out the voters and candidates (the engine only)."""
    if session.execute(select(Jurisdiction.id).where(Jurisdiction.code == COUNTY)).first():
        return DemoResult(created=False, notes=["演示数据已存在，未重复创建。"])
    result = DemoResult(created=True)
    for code, name, level, parent in JURISDICTIONS:
        jurisdiction_commands.add_jurisdiction(
            session,
            code=code,
            name=name,
            level=level,
            parent_code=parent,
            clock=clock,
            actor=actor,
            contacts=_contacts(code, name),
        )
    # Notice settings of the committees: the 届次 each congress elects this round (第二十届), and
    # the party branch's higher organisation (its 请示 go there).
    for code, _name, level, _parent in JURISDICTIONS:
        if level in ("county", "township"):
            notice_settings.update_settings(
                session, jurisdiction_commands.find_jurisdiction(session, code), congress_term=20, clock=clock, actor=actor
            )
    notice_settings.update_settings(
        session,
        jurisdiction_commands.find_jurisdiction(session, "420821-DZB-01"),
        superior_org="中共京山县市场监督管理局机关委员会",
        clock=clock,
        actor=actor,
    )
    today = local_date(clock.now())

    # 1. The seed's own schedule, 2011, run to its end.
    seed = load_plan(EXAMPLES / "jingshan_2011.toml")
    created = commands.create_election(session, seed, clock=clock, actor=actor)
    progress(session, created.election.id, today=min(today, date(2011, 12, 31)), clock=clock, actor=actor)
    result.elections["jingshan_2011"] = created.election.id

    # 2. The current round: the same schedule moved to an election day ~45 days ahead.
    election_day = next_election_day(today)
    county_ref = JurisdictionRef(COUNTY)
    current = _shifted(
        seed, election_day, f"京山县{election_day.year}年县级人民代表大会代表换届选举", "2020", county_ref
    )
    county = commands.create_election(session, current, clock=clock, actor=actor)
    progress(session, county.election.id, today=today, clock=clock, actor=actor)
    result.elections["county"] = county.election.id
    # Its townships: one round, the same dates, under the county election.
    townships = [code for code, _name, level, parent in JURISDICTIONS if parent == COUNTY and level == "township"]
    round_plan = _shifted(
        seed,
        election_day,
        f"{election_day.year}年乡级人民代表大会代表换届选举",
        "2020",
        county_ref,
        parent=county.election.id,
    )
    made = commands.create_round(
        session, round_plan, townships, clock=clock, actor=actor, title_format="{name}{title}"
    )
    for election in made.elections:
        progress(session, election.id, today=today, clock=clock, actor=actor)
        result.elections[election.jurisdiction.code] = election.id

    # 3. A party branch whose term ends in about a month, and a residents' committee.
    branch_seed = load_plan(EXAMPLES / "party_branch.toml")
    term_ends = today + timedelta(days=35)
    branch = _shifted(branch_seed, term_ends, branch_seed.title, None, JurisdictionRef("420821-DZB-01"))
    made = commands.create_election(session, branch, clock=clock, actor=actor)
    progress(session, made.election.id, today=today, clock=clock, actor=actor)
    result.elections["party_branch"] = made.election.id

    rc_seed = load_plan(EXAMPLES / "residents_committee.toml")
    rc_day = next_election_day(today, 25)
    rc = _shifted(
        rc_seed,
        rc_day,
        f"新市镇阳光社区{rc_day.year}年居民委员会换届选举",
        None,
        JurisdictionRef("420821100-001"),
    )
    # The 2007 example published its list 19 days ahead; the 2025 law in force on the demo's
    # election day asks for 20 (RCL 2025 art. 17): a day earlier.
    rc.milestones["voter_list_published"] = min(rc.milestones["voter_list_published"], rc_day - timedelta(days=20))
    made = commands.create_election(session, rc, clock=clock, actor=actor)
    progress(session, made.election.id, today=today, clock=clock, actor=actor)
    result.elections["residents_committee"] = made.election.id

    if registers:
        add_demo_voters(session, result, clock=clock, actor=actor)  # first: districts come from it
        add_demo_candidates(session, result, clock=clock, actor=actor)
        _record_seats(session, result.elections["county"], clock=clock, actor=actor)
    return result


def _record_seats(session: Session, county_id: int, *, clock: Clock, actor: str) -> None:
    """The provincial standing committee's decision on the county's total (EL 13), as the law gives it for the
    townships' registered population (EL 12), so the quota notice prints the total and the
    townships' shares (EL 15) that `huanjie quota` and the allocation page give."""
    towns = [t.id for t in register_levels.township_elections(session, county_id)]
    population = session.execute(
        select(func.coalesce(func.sum(District.population), 0)).where(District.election_id.in_(towns))
    ).scalar_one()
    election = commands.get_election(session, county_id)
    law = seat_allocation.statutory(election, int(population))
    if not population or law is None:
        return
    seat_allocation.record_decision(
        session,
        county_id,
        total=law["seats"],
        document=f"鄂人常〔{local_date(clock.now()).year}〕3号",
        population=int(population),
        clock=clock,
        actor=actor,
    )

