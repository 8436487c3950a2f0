"""A whole county election through every part, on SQLite and PostgreSQL: the seed's Jingshan
2011 schedule (E = 2011-10-18) from creation to closed, on a clock moved day by day, each step
in its own transaction (state reloaded from the database every time).

committee → quotas and districts (from a units CSV) → voters imported (CSV) → voter list
notices → an appeal upheld, supplementary list → appeals closed → nominations (party and ten
voters, checked against the register) → preliminary and official lists → voting with a runoff
→ results notice → congress → closed; the audit chain verifies and every notice shows its rows.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from demo.candidates import tally_input as tally
from demo.voters import HEADER, synthetic_rows
from tests.voters_support import import_file, write_csv
from workflow.clock import FixedClock
from workflow.commands import (
    appeals,
    candidate_committee,
    candidate_lists,
    candidate_nominations,
    districts,
    notices,
    tallies,
    voter_list,
)
from workflow.commands import elections as commands
from workflow.commands import results as res
from workflow.errors import DomainError
from workflow.machine import CLOSED, Trigger
from workflow.plan import load_plan
from workflow.rules import ric
from workflow.rules.units import read_units
from workflow.store.audit import verify
from workflow.store.candidates import Candidate
from workflow.store.models import AuditEntry, MilestoneStatus
from workflow.store.voters import District, Voter, VoterListVersion
from workflow.timeutil import local_instant

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
E = date(2011, 10, 18)
A = "县选举委员会办公室"
UNITS = [  # code, name, population: 6 seats by equal proportions → 3, 2, 1
    ("420821-01", "新市镇选区", 30000),
    ("420821-02", "永兴镇选区", 20000),
    ("420821-03", "宋河镇选区", 10000),
]
SEATS = {"420821-01": 3, "420821-02": 2, "420821-03": 1}
COMMITTEE = [("董烈宏", "主任"), ("严欣友", "副主任"), ("夏朝阳", "委员")]
ID_PATTERN = re.compile(r"\d{17}[\dX]")


def at(day: date) -> datetime:
    return local_instant(day, time(10, 0))


class Run:
    """The test's committee office: a database, a clock moved day by day, one transaction a step."""

    def __init__(self, db, clock: FixedClock):
        self.db, self.clock = db, clock
        self.election_id: int | None = None

    def day(self, day: date) -> None:
        assert at(day) >= self.clock.now(), "time only moves forward"
        self.clock.set(at(day))

    def step(self, fn, *args, **kwargs):
        with self.db.transaction() as session:
            return fn(session, *args, clock=self.clock, actor=A, **kwargs)

    def notice(self, template: str, district: str | None = None):
        """Publish a notice as HTML (fast, deterministic) and return (published, html)."""
        published = self.step(
            notices.publish_notice, self.election_id, template, fmt="html", district=district
        )
        with self.db.reading() as session:
            from workflow.store.notices import Notice

            stored = session.get(Notice, published.notice.id)
            html = stored.content.decode("utf-8")
            assert not ID_PATTERN.search(html), f"{template}: an ID number is printed"
        return published, html

    def advance(self, target: str) -> None:
        with self.db.transaction() as session:
            decision = commands.transition(
                session, self.election_id, Trigger.ADVANCE, clock=self.clock, actor=A
            )
        assert decision.target == target

    def refused(self, *missing: str) -> None:
        with pytest.raises(commands.TransitionRefused) as refused, self.db.transaction() as session:
            commands.transition(session, self.election_id, Trigger.ADVANCE, clock=self.clock, actor=A)
        assert {r.milestone for r in refused.value.decision.refusals} == set(missing)

    def state(self) -> str:
        with self.db.reading() as session:
            return commands.get_election(session, self.election_id).state

    def milestone(self, key: str):
        with self.db.reading() as session:
            m = commands.get_election(session, self.election_id).milestone(key)
            return m.status, m.done_on


def test_whole_county_election(db, tmp_path):
    clock = FixedClock(at(date(2011, 8, 25)))
    run = Run(db, clock)

    # -- creation, committee (EL 10) -------------------------------------------------------------
    with db.transaction() as session:
        plan = load_plan(EXAMPLES / "jingshan_2011.toml")
        run.election_id = commands.create_election(session, plan, clock=clock, actor=A).election.id
    eid = run.election_id
    run.refused("election_committee_formed", "quotas_allocated")
    run.day(date(2011, 8, 26))
    for name, role in COMMITTEE:
        run.step(
            candidate_committee.add_committee_member,
            eid,
            name=name,
            role=role,
            appointed_on=date(2011, 8, 26),
        )
    published, html = run.notice("election_committee_formed")
    assert published.milestone_completed == "election_committee_formed"
    assert all(name in html and role in html for name, role in COMMITTEE)

    # -- quotas and districts (EL 12, 15, 25, 26) ---------------------------------------------
    run.day(date(2011, 9, 3))
    units_csv = write_csv(tmp_path / "units.csv", ["code", "name", "population"], [list(u) for u in UNITS])
    units = read_units(units_csv.read_text(encoding="utf-8-sig"))
    plan_ = districts.plan_from_units(units, 6, graph=False)
    applied = run.step(districts.apply_districts, eid, plan_["districts"], method=plan_["method"])
    assert {d["code"]: d["seats"] for d in applied["districts"]} == SEATS
    assert run.milestone("quotas_allocated")[0] == MilestoneStatus.PENDING  # applying completes nothing
    published, html = run.notice("quota_allocation")
    assert published.milestone_completed == "quotas_allocated"
    assert "代表名额共6名" in html and "城乡人口数相同" in html and '<td class="left">新市镇选区</td>' in html and "60000" in html
    run.day(date(2011, 9, 4))
    run.advance("registration")
    run.day(date(2011, 9, 10))
    published, html = run.notice("districts_published")
    assert published.milestone_completed == "districts_published"
    assert "共划分为3个选区" in html and all(code in html for code in SEATS)
    run.refused("voter_list_published")
    with pytest.raises(DomainError) as caught:  # the division is published: fixed (EL 25-28)
        run.step(districts.apply_districts, eid, plan_["districts"])
    assert caught.value.code == "E_DISTRICTS_FIXED"

    # -- voter registration (EL 27) -------------------------------------------------------------
    run.day(date(2011, 9, 12))
    rows = list(synthetic_rows(200, election_day=E, districts=list(SEATS), seed=11))
    report = import_file(db, clock, eid, write_csv(tmp_path / "voters.csv", HEADER, rows))
    assert report.committed and report.accepted == 200 and not report.rejected
    by_district: dict[str, list[list]] = {code: [r for r in rows if r[6] == code] for code in SEATS}

    # -- the voter list: one notice per district; the last one publishes the list (EL 28) ------
    run.day(date(2011, 9, 20))
    for i, code in enumerate(SEATS):
        published, html = run.notice("voter_list", district=code)
        last = i == len(SEATS) - 1
        assert published.milestone_completed == ("voter_list_published" if last else None)
        people = by_district[code]
        assert f"共{len(people)}人" in html
        assert all(f"<td>{r[1]}</td>" in html for r in people)
        assert not any(r[8] in html for r in people)  # no address
    assert run.milestone("voter_list_published") == (MilestoneStatus.DONE, date(2011, 9, 20))
    with db.reading() as session:  # frozen as version 1 in the same transaction
        versions = (
            session.execute(select(VoterListVersion).where(VoterListVersion.election_id == eid))
            .scalars()
            .all()
        )
        assert {v.version for v in versions} == {1} and sum(v.voters for v in versions) == 200

    run.day(date(2011, 9, 21))
    run.advance("nomination")

    # -- an appeal (EL 29): filed, upheld, supplementary list and notice, closed --------------
    newcomer = ric.make_number("420821", date(1990, 5, 5), 7, "F")
    run.day(date(2011, 9, 22))
    appeal = run.step(
        appeals.file_appeal,
        eid,
        filer="陈明",
        request="add",
        subject_name="陈秀兰",
        subject_id_number=newcomer,
        district="420821-02",
        reason="本人户籍在本镇，名单遗漏",
    )
    appeal_id = appeal.id
    run.day(date(2011, 9, 23))
    run.step(appeals.decide_appeal, appeal_id, upheld=True, reason="经核实属实")
    with pytest.raises(DomainError) as caught:  # the filing window is still open (until 09-25)
        run.step(appeals.close_appeals, eid)
    assert caught.value.code == "E_APPEAL_WINDOW_OPEN"
    supplement = run.step(voter_list.publish, eid)
    assert supplement.supplementary and [d["code"] for d in supplement.districts] == ["420821-02"]
    published, html = run.notice("voter_list_supplement", district="420821-02")
    assert "陈秀兰" in html and "增补" in html and "申诉处理" in html
    run.day(date(2011, 9, 26))
    run.refused("preliminary_candidates_published", "official_candidates_published", "voter_appeals_closed")
    closed = run.step(appeals.close_appeals, eid)
    assert closed.key == "voter_appeals_closed" and closed.done_on == date(2011, 9, 25)

    # -- nominations (EL 30) against the register ----------------------------------------------
    for code in SEATS:  # seats come from the District table
        assert run.step(candidate_nominations.open_district, eid, code, seats=None).seats == SEATS[code]
    plan_people = {  # code → [(name, sex, by, nominator)]; the last one by ten voters
        "420821-01": [
            ("周建国", "male", "party", "中国共产党京山县委员会"),
            ("吴秀兰", "female", "party", "中国共产党京山县委员会"),
            ("郑海", "male", "organisation", "京山县总工会"),
            ("孙丽", "female", "organisation", "京山县妇女联合会"),
            ("钱卫东", "male", "voters", None),
        ],
        "420821-02": [
            ("李春生", "male", "party", "中国共产党京山县委员会"),
            ("王凤英", "female", "organisation", "京山县总工会"),
            ("赵德明", "male", "voters", None),
        ],
        "420821-03": [
            ("刘海燕", "female", "party", "中国共产党京山县委员会"),
            ("陈光明", "male", "voters", None),
        ],
    }
    supporters = {code: [r[3] for r in by_district[code][:10]] for code in SEATS}
    with pytest.raises(DomainError) as caught:  # voters of another district cannot nominate here
        run.step(
            candidate_nominations.nominate,
            eid,
            "420821-01",
            name="钱卫东",
            sex="male",
            occupation="farmer",
            nominated_by="voters",
            supporters=supporters["420821-02"],
        )
    assert caught.value.code == "E_SUPPORTER_NOT_REGISTERED"
    for code, people in plan_people.items():
        for n, (name, sex, by, nominator) in enumerate(people):
            extra = {"supporters": supporters[code]} if by == "voters" else {"nominators": [nominator]}
            candidate = run.step(
                candidate_nominations.nominate,
                eid,
                code,
                name=name,
                sex=sex,
                occupation=["farmer", "worker", "technician"][n % 3],
                nominated_by=by,
                party="中国共产党" if by == "party" else "群众",
                ethnicity="汉族",
                birth_date=date(1965 + n, 3, 1),
                **extra,
            )
            if by == "voters":
                assert candidate.supporters_checked is True

    run.day(date(2011, 9, 30))
    result = run.step(candidate_lists.publish_preliminary, eid)
    assert {d["district"]: d["next"] for d in result["districts"]} == dict.fromkeys(SEATS, "official")
    published, html = run.notice("preliminary_candidates")
    assert published.milestone_completed is None and "此前已办结" in published.milestone_note
    assert all(name in html for people in plan_people.values() for name, *_ in people)
    run.refused("official_candidates_published")  # appeals are closed; the official list is not out
    run.day(date(2011, 10, 10))
    run.step(candidate_lists.publish_official, eid)
    published, html = run.notice("official_candidates", district="420821-01")
    assert "正式代表候选人5名" in html and "周建国" in html and "李春生" not in html

    # -- voting (EL 44, 45): one runoff ------------------------------------------------------
    run.day(date(2011, 10, 11))
    run.advance("voting")
    with pytest.raises(DomainError) as caught:  # candidates are closed once voting begins
        run.step(
            candidate_nominations.nominate,
            eid,
            "420821-03",
            name="某某",
            sex="male",
            occupation="farmer",
            nominated_by="party",
            nominators=["中国共产党京山县委员会"],
        )
    assert caught.value.code == "E_TOO_LATE"
    run.day(E)
    run.step(commands.complete_milestone, eid, "election_day")
    run.refused("results_published")
    with db.reading() as session:
        registered = dict(
            session.execute(
                select(District.code, func.count(Voter.id))
                .join(Voter, Voter.district_id == District.id)
                .where(District.election_id == eid, Voter.status == "active")
                .group_by(District.code)
            ).all()
        )
    assert sum(registered.values()) == 201  # 200 imported, one added on appeal
    shares = {"420821-01": [78, 64, 45, 38, 20], "420821-02": [71, 58, 30], "420821-03": [66, 31]}
    for code, seats in SEATS.items():
        names = [name for name, *_ in plan_people[code]]
        run.step(tallies.record, eid, code, tally(seats, names, shares[code], registered[code]))
    with db.reading() as session:
        pending = res.next_vote(session, eid, "420821-01")
    assert pending["purpose"] == "runoff" and pending["seats"] == 1
    with pytest.raises(DomainError) as caught:  # results wait for the runoff
        run.notice("results")
    assert caught.value.code == "E_RESULTS_PENDING"
    chosen = pending["candidates"][: pending["max_candidates"]]
    run.step(tallies.record, eid, "420821-01", tally(1, chosen, [52, 41], registered["420821-01"], 2, chosen))
    published, html = run.notice("results")
    assert published.milestone_completed == "results_published"
    for code in SEATS:
        assert f"登记选民{registered[code]}人" in html
    elected = ["周建国", "吴秀兰", chosen[0], "李春生", "王凤英", "刘海燕"]
    assert all(name in html for name in elected) and "陈光明" not in html
    run.step(res.publish_results, eid)  # marks the districts published; the milestone is done

    # -- the congress and the close -------------------------------------------------------------
    run.day(date(2011, 10, 19))
    run.advance("congress")
    run.day(date(2011, 11, 30))
    # EL 47 ¶2 (2010 text: the qualification review) before the first session.
    run.step(commands.complete_milestone, eid, "deputies_qualified")
    run.step(commands.complete_milestone, eid, "congress_convened")
    run.advance(CLOSED)

    with db.reading() as session:
        election = commands.get_election(session, eid)
        assert election.state == CLOSED
        assert not any(m.late for m in election.milestones if m.status == MilestoneStatus.DONE)
        deputies = {d.name for d in res.deputies(session, eid)}
        assert deputies == set(elected)
        assert session.execute(select(func.count()).select_from(Candidate)).scalar_one() == 10
        assert verify(session).ok
        actions = set(session.execute(select(AuditEntry.action)).scalars())
    assert {
        "districts.applied",
        "voters.imported",
        "voter_list.published",
        "appeal.decided",
        "candidate.nominated",
        "notice.published",
        "election.transition",
    } <= actions
