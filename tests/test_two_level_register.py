"""One register for 县乡两级 (EL 24, 25, 27): a voter registered once in a round belongs to a
township district and a county district; the county's list published publishes the townships';
an appeal decided once corrects both lists; the county sees totals per township and district."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from demo.county import build_demo
from demo.voters import DEMO_VOTERS, HEADER, synthetic_rows
from workflow.clock import FixedClock
from workflow.commands import appeals, elections, register_levels, voter_districts, voter_list
from workflow.errors import DomainError
from workflow.store.voters import District, SupplementaryEntry, Voter, VoterListVersion, VoterStatus
from workflow.views.overview import progress

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
TOWNS = ("420821100", "420821101", "420821102", "420821103")


def _demo(db) -> dict[str, int]:
    with db.transaction() as s:
        return build_demo(s, clock=FixedClock(NOW)).elections


def _active(s, election_id: int) -> dict[str, str]:
    """id_hash → district code of the active voters of an election."""
    return dict(
        s.execute(
            select(Voter.id_hash, District.code)
            .join(District, District.id == Voter.district_id)
            .where(Voter.election_id == election_id, Voter.status == VoterStatus.ACTIVE)
        ).all()
    )


def test_demo_townships_share_the_county_register(db):
    ids = _demo(db)
    with db.transaction() as s:
        county = _active(s, ids["county"])
        assert len(county) == DEMO_VOTERS
        parent_of = dict(
            s.execute(
                select(District.code, District.county_district_id).where(
                    District.election_id.in_([ids[t] for t in TOWNS])
                )
            ).all()
        )
        code_of = dict(s.execute(select(District.id, District.code)).all())
        seen: set[str] = set()
        for town in TOWNS:
            registered = _active(s, ids[town])
            assert registered, f"township {town} has no voters"
            assert not seen & set(registered), "a voter registered in two townships"
            seen |= set(registered)
            for id_hash, township_district in registered.items():
                # the same person, in the county district their township district lies in
                assert county[id_hash] == code_of[parent_of[township_district]]
        assert seen == set(county)
        totals = register_levels.round_totals(s, ids["county"])
    assert [t["name"] for t in totals["townships"]] == ["新市镇", "永兴镇", "宋河镇", "坪坝镇"]
    assert sum(t["voters"] for t in totals["townships"]) == totals["voters"] == DEMO_VOTERS
    by_county = {d["code"]: d["voters"] for d in totals["county_districts"]}
    for town in totals["townships"]:
        assert all(1 <= d["seats"] <= 3 and d["county_district"] in by_county for d in town["districts"])
    summed: dict[str, int] = {}
    for town in totals["townships"]:
        for d in town["districts"]:
            summed[d["county_district"]] = summed.get(d["county_district"], 0) + d["voters"]
    assert summed == by_county


def test_county_list_published_publishes_every_township_list_no_false_overdue(db):
    ids = _demo(db)
    month_on = NOW + timedelta(days=30)
    with db.transaction() as s:
        county = elections.get_election(s, ids["county"])
        planned = county.milestone("voter_list_published").planned_date
        voter_list.publish(s, ids["county"], clock=FixedClock(month_on), actor="县选举委员会", on=planned)
    with db.transaction() as s:
        for town in TOWNS:
            election = elections.get_election(s, ids[town])
            assert election.milestone("voter_list_published").done_on == planned
            districts = s.execute(select(func.count()).where(District.election_id == ids[town])).scalar_one()
            versions = s.execute(
                select(func.count()).where(
                    VoterListVersion.election_id == ids[town], VoterListVersion.version == 1
                )
            ).scalar_one()
            assert versions == districts > 0  # a list per district for each level
            overdue = [o["key"] for o in progress(election, month_on.date())["overdue"]]
            assert "voter_list_published" not in overdue
    # appeals closed once for the round, after the filing window (EL 29)
    after_window = datetime.combine(planned + timedelta(days=6), datetime.min.time(), UTC) + timedelta(
        hours=2
    )
    with db.transaction() as s:
        appeals.close_appeals(s, ids["county"], clock=FixedClock(after_window), actor="县选举委员会")
    with db.transaction() as s:
        for town in TOWNS:
            election = elections.get_election(s, ids[town])
            assert election.milestone("voter_appeals_closed").done_on is not None
            assert progress(election, month_on.date())["overdue"] == []


def _published(db, ids) -> tuple[date, FixedClock]:
    with db.transaction() as s:
        planned = elections.get_election(s, ids["county"]).milestone("voter_list_published").planned_date
        at = datetime.combine(planned, datetime.min.time(), UTC) + timedelta(hours=2)
        voter_list.publish(s, ids["county"], clock=FixedClock(at), actor="县选举委员会", on=planned)
    return planned, FixedClock(at + timedelta(days=1))


def test_an_appeal_decided_once_corrects_both_lists(db):
    ids = _demo(db)
    _planned, day_after = _published(db, ids)
    town = ids["420821101"]
    with db.transaction() as s:
        subject = s.execute(
            select(Voter).where(Voter.election_id == town).order_by(Voter.id).limit(1)
        ).scalar_one()
        number, name, id_hash = subject.id_number, subject.name, subject.id_hash
        removal = appeals.file_appeal(
            s,
            town,
            filer="李明",
            request="remove",
            subject_name=name,
            subject_id_number=number,
            reason="已迁出本镇",
            clock=day_after,
            actor="永兴镇选举委员会",
        ).id
        fix = s.execute(
            select(Voter).where(Voter.election_id == town).order_by(Voter.id).offset(1).limit(1)
        ).scalar_one()
        correction = appeals.file_appeal(
            s,
            town,
            filer=fix.name,
            request="correct",
            subject_name=fix.name,
            subject_id_number=fix.id_number,
            reason="姓名登记有误",
            correction={"name": "欧阳修"},
            clock=day_after,
            actor="永兴镇选举委员会",
        ).id
        fixed_hash = fix.id_hash
    with db.transaction() as s:
        appeals.decide_appeal(s, removal, upheld=True, reason=None, clock=day_after, actor="永兴镇选举委员会")
        appeals.decide_appeal(
            s, correction, upheld=True, reason=None, clock=day_after, actor="永兴镇选举委员会"
        )
    with db.transaction() as s:
        both = s.execute(select(Voter.election_id, Voter.status).where(Voter.id_hash == id_hash)).all()
        assert sorted(both) == sorted([(town, VoterStatus.REMOVED), (ids["county"], VoterStatus.REMOVED)])
        names = s.execute(select(Voter.election_id, Voter.name).where(Voter.id_hash == fixed_hash)).all()
        assert sorted(names) == sorted([(town, "欧阳修"), (ids["county"], "欧阳修")])
        entries = s.execute(
            select(SupplementaryEntry.election_id, SupplementaryEntry.change).where(
                SupplementaryEntry.appeal_id.in_([removal, correction])
            )
        ).all()
        assert sorted(entries) == sorted(
            [(town, "remove"), (ids["county"], "remove"), (town, "correct"), (ids["county"], "correct")]
        )


def test_a_voter_registered_in_another_township_is_refused_and_nothing_changes(db):
    ids = _demo(db)
    with db.transaction() as s:
        other = s.execute(
            select(Voter).where(Voter.election_id == ids["420821100"]).order_by(Voter.id).limit(1)
        ).scalar_one()
        row = [
            1,
            other.name,
            "男" if other.sex == "M" else "女",
            other.id_number,
            "汉族",
            other.birth_date.isoformat(),
            "420821103-01",
            "第1组",
            "坪坝镇坪坝社区",
            "坪坝镇坪坝社区",
        ]
        before = s.execute(select(func.count()).select_from(Voter)).scalar_one()
    with pytest.raises(DomainError) as refused, db.transaction() as s:
        register_levels.import_township_register(
            s,
            ids["420821103"],
            HEADER,
            [(2, row)],
            file_name="坪坝镇补充登记.xlsx",
            clock=FixedClock(NOW),
            actor="坪坝镇选举委员会",
        )
    assert refused.value.code == "E_REGISTERED_IN_ROUND"
    assert "第2行" in refused.value.message and "不重登" in refused.value.message
    with db.transaction() as s:
        assert s.execute(select(func.count()).select_from(Voter)).scalar_one() == before


def test_a_township_district_must_name_its_county_district(db):
    ids = _demo(db)
    with pytest.raises(DomainError) as refused, db.transaction() as s:
        register_levels.add_district(
            s,
            ids["420821103"],
            code="420821103-09",
            name="晏店村选区",
            seats=1,
            clock=FixedClock(NOW),
            actor="坪坝镇选举委员会",
        )
    assert refused.value.code == "E_DISTRICT_UNLINKED" and refused.value.field == "county_district"
    with db.transaction() as s:
        district = register_levels.add_district(
            s,
            ids["420821103"],
            code="420821103-09",
            name="晏店村选区",
            seats=1,
            county_district="420821-08",
            clock=FixedClock(NOW),
            actor="坪坝镇选举委员会",
        )
        assert s.get(District, district.county_district_id).code == "420821-08"


def test_a_township_register_made_before_the_county_districts_joins_the_county_when_linked(db):
    clock = FixedClock(NOW)
    with db.transaction() as s:
        ids = build_demo(s, clock=clock, registers=False).elections
    town = ids["420821103"]
    with db.transaction() as s:
        register_levels.add_district(
            s, town, code="P1", name="坪坝选区", seats=2, clock=clock, actor="坪坝镇"
        )
        day = elections.get_election(s, town).anchor_date
        rows = list(enumerate(synthetic_rows(5, election_day=day, districts=["P1"]), start=2))
        report = register_levels.import_township_register(
            s, town, HEADER, rows, file_name="坪坝镇.csv", clock=clock, actor="坪坝镇"
        )
        assert report.accepted == 5 and _active(s, ids["county"]) == {}  # no county districts yet
        voter_districts.add_district(
            s, ids["county"], code="420821-08", name="坪坝镇选区", seats=2, clock=clock, actor="县"
        )
    with pytest.raises(DomainError) as unlinked, db.transaction() as s:
        register_levels.import_township_register(
            s, town, HEADER, rows, file_name="坪坝镇.csv", clock=clock, actor="坪坝镇"
        )
    assert unlinked.value.code == "E_DISTRICT_UNLINKED" and "P1" in unlinked.value.message
    with db.transaction() as s:
        register_levels.edit_district(
            s,
            town,
            "P1",
            name="坪坝选区",
            seats=2,
            population=None,
            area=None,
            county_district="420821-08",
            clock=clock,
            actor="坪坝镇",
        )
    with db.transaction() as s:
        county = _active(s, ids["county"])
        assert set(county) == set(_active(s, town)) and len(county) == 5
        assert set(county.values()) == {"420821-08"}
