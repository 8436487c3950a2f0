"""Stored flow of candidates and results, on SQLite and PostgreSQL: nominations, lists,
primaries, conflicts, proxies, mobile boxes, tallies with runoff and tie-break rounds,
publication, qualification review and certificates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from stdnum.cn import ric

from demo.county import progress
from workflow.commands import (
    candidate_committee,
    candidate_lists,
    candidate_nominations,
    candidate_polling,
    candidate_records,
    elections,
)
from workflow.commands import jurisdictions as jurisdiction_commands
from workflow.commands import results as res
from workflow.errors import DomainError
from workflow.plan import load_plan
from workflow.store.audit import verify
from workflow.store.candidates import Candidate, CandidateStatus, Deputy, ListStatus, ResultStatus
from workflow.store.models import AuditEntry

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
A = "tester"


def make_id(seq: int) -> str:
    body = f"42082119800101{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def at(clock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC))


@pytest.fixture
def election(db, clock) -> int:
    """The seed's 2011 Jingshan election, in its nomination phase (2011-09-25)."""
    with db.transaction() as s:
        created = elections.create_election(
            s, load_plan(EXAMPLES / "jingshan_2011.toml"), clock=clock, actor=A
        )
        eid = created.election.id
    at(clock, date(2011, 9, 25))
    with db.transaction() as s:
        progress(s, eid, today=date(2011, 9, 25), clock=clock, actor=A)
        assert elections.get_election(s, eid).state == "nomination"
    return eid


def nominate(
    s, eid, district, name, clock, sex="male", occupation="farmer", party="群众", org="中国共产党", **kw
):
    return candidate_nominations.nominate(
        s,
        eid,
        district,
        name=name,
        sex=sex,
        occupation=occupation,
        party=party,
        nominated_by=kw.pop("nominated_by", "party"),
        nominators=kw.pop("nominators", [org]),
        clock=clock,
        actor=A,
        **kw,
    )


def fill(s, eid, district, names, clock, women=0):
    for i, name in enumerate(names):
        nominate(s, eid, district, name, clock, sex="female" if i < women else "male", org=f"团体{i}")


def test_nominations_limits_and_registry_hook(db, clock, election):
    with db.transaction() as s:
        candidate_nominations.open_district(s, election, "01", seats=2, clock=clock, actor=A)
    with db.transaction() as s:
        ids = [make_id(i) for i in range(1, 11)]
        c = nominate(s, election, "01", "张三", clock, nominated_by="voters", nominators=[], supporters=ids)
        assert c.supporters_checked is None and len(c.supporters) == 10
        nominate(s, election, "01", "李四", clock, nominated_by="voters", nominators=[], supporters=ids)
    # Each of these voters has now backed 2 candidates = the seats: a third is refused (EL 30).
    with pytest.raises(DomainError) as info, db.transaction() as s:
        nominate(s, election, "01", "王五", clock, nominated_by="voters", nominators=[], supporters=ids)
    assert info.value.code == "E_SUPPORTER_LIMIT"
    with db.transaction() as s:
        nominate(s, election, "01", "赵六", clock, org="中国共产党")
        nominate(s, election, "01", "钱七", clock, org="中国共产党")
    with pytest.raises(DomainError) as info, db.transaction() as s:
        nominate(s, election, "01", "孙八", clock, org="中国共产党")
    assert info.value.code == "E_NOMINATOR_LIMIT"
    with pytest.raises(DomainError) as info, db.transaction() as s:
        nominate(s, election, "01", "张三", clock, org="共青团")
    assert info.value.code == "E_DUPLICATE"
    # Withdrawing frees the supporters' and the nominator's places.
    with db.transaction() as s:
        zhang = s.execute(select(Candidate).where(Candidate.name == "张三")).scalar_one()
        candidate_nominations.withdraw(s, election, zhang.id, reason="本人辞谢", clock=clock, actor=A)
        nominate(s, election, "01", "王五", clock, nominated_by="voters", nominators=[], supporters=ids)

    class Registry:
        def district_seats(self, session, election_id, district):
            return 3 if district == "02" else None

        def registered(self, session, election_id, district, id_numbers):
            return {n for n in id_numbers if n != ids[4]}

    with pytest.raises(DomainError) as info, db.transaction() as s:
        candidate_nominations.open_district(
            s, election, "02", seats=2, clock=clock, actor=A, registry=Registry()
        )
    assert info.value.code == "E_SEATS_MISMATCH"
    with db.transaction() as s:
        assert (
            candidate_nominations.open_district(
                s, election, "02", seats=None, clock=clock, actor=A, registry=Registry()
            ).seats
            == 3
        )
    with pytest.raises(DomainError) as info, db.transaction() as s:
        nominate(
            s,
            election,
            "02",
            "周九",
            clock,
            nominated_by="voters",
            nominators=[],
            supporters=ids,
            registry=Registry(),
        )
    assert info.value.code == "E_SUPPORTER_NOT_REGISTERED" and ids[4] not in info.value.message
    with db.transaction() as s:
        new = [make_id(i) for i in range(20, 30)]
        assert nominate(
            s,
            election,
            "02",
            "周九",
            clock,
            nominated_by="voters",
            nominators=[],
            supporters=new,
            registry=Registry(),
        ).supporters_checked
    with db.reading() as s:
        entries = (
            s.execute(select(AuditEntry).where(AuditEntry.action == "candidate.nominated")).scalars().all()
        )
        assert len(entries) == 6
        assert all(ids[0] not in str(e.after) for e in entries)  # ID numbers never whole in the log
        assert verify(s).ok


def test_lists_ratio_primary_and_milestones(db, clock, election):
    with db.transaction() as s:
        candidate_nominations.open_district(s, election, "01", seats=1, clock=clock, actor=A)
        candidate_nominations.open_district(s, election, "02", seats=2, clock=clock, actor=A)
        fill(s, election, "01", ["甲", "乙", "丙"], clock)
        fill(s, election, "02", ["丁", "戊", "己"], clock, women=1)
    at(clock, date(2011, 9, 30))
    with db.transaction() as s:
        report = candidate_lists.publish_preliminary(s, election, clock=clock, actor=A)
        by = {d["district"]: d for d in report["districts"]}
        assert by["01"]["next"] == "consultation_or_primary" and by["02"]["next"] == "official"
        m = elections.get_election(s, election).milestone("preliminary_candidates_published")
        assert m.status == "done" and m.done_on == date(2011, 9, 30)
    with pytest.raises(DomainError) as info, db.transaction() as s:
        nominate(s, election, "01", "庚", clock)
    assert info.value.code == "E_LIST_CLOSED"
    at(clock, date(2011, 10, 10))
    # District 01 has 3 for 1 seat: the official list is refused, naming the district and rule.
    with pytest.raises(DomainError) as info, db.transaction() as s:
        candidate_lists.publish_official(s, election, clock=clock, actor=A)
    assert info.value.code == "E_RATIO_OUT_OF_BOUNDS"
    # A 2011 election: the 2010 text, where the ratio is article 30 ¶2 (2020: article 31 ¶2).
    assert "选区 01" in info.value.message and "选举法第三十条第二款" in info.value.message
    with db.reading() as s:  # nothing half-written
        assert (
            elections.get_election(s, election).milestone("official_candidates_published").status == "pending"
        )
        assert candidate_records.get_list(s, election, "02").status == ListStatus.PRELIMINARY
    with pytest.raises(DomainError) as info, db.transaction() as s:
        candidate_lists.primary(s, election, "01", {"甲": 30, "乙": 30, "丙": 30}, clock=clock, actor=A)
    assert info.value.code == "E_PRIMARY_TIE"
    with db.transaction() as s:
        candidate_lists.primary(s, election, "01", {"甲": 30, "乙": 41, "丙": 12}, clock=clock, actor=A)
        report = candidate_lists.publish_official(s, election, clock=clock, actor=A)
        assert [d["count"] for d in report["districts"]] == [2, 3]
        assert report["districts"][0]["method"] == "primary"
        official = candidate_records.candidates_of(s, election, "01", [CandidateStatus.OFFICIAL])
        assert sorted(c.name for c in official) == ["乙", "甲"]
        assert elections.get_election(s, election).milestone("official_candidates_published").status == "done"
        assert any("妇女" in w for w in report["warnings"])  # 1 of 5 official candidates is a woman
        notice = candidate_lists.published_list(s, election, "official")
        first = notice["districts"][0]
        assert first["published_on"] == date(2011, 10, 10) and [c["name"] for c in first["candidates"]] == [
            "乙",
            "甲",
        ]
        assert first["candidates"][0]["primary_votes"] == 41 and first["candidates"][0]["sex"] == "男"
        prelim = candidate_lists.published_list(s, election, "preliminary")
        assert len(prelim["districts"][0]["candidates"]) == 3 and prelim["districts"][0][
            "published_on"
        ] == date(2011, 9, 30)


def test_conflicts_proxies_and_mobile_boxes(db, clock, election):
    cid = make_id(77)
    with db.transaction() as s:
        candidate_nominations.open_district(s, election, "01", seats=1, clock=clock, actor=A)
        nominate(s, election, "01", "董某", clock, id_number=cid)
        nominate(s, election, "01", "严某", clock, org="共青团")
        member = candidate_committee.add_committee_member(
            s, election, name="董某", role="委员", id_number=cid, clock=clock, actor=A
        )
        candidate_committee.add_committee_member(
            s, election, name="严某", role="副主任", clock=clock, actor=A
        )
        found = {c.candidate: c.certain for c in candidate_committee.conflicts(s, election)}
        assert found == {"董某": True, "严某": False}
        candidate_committee.resign_committee_member(
            s, election, member.id, on=date(2011, 9, 25), clock=clock, actor=A
        )
        assert [c.candidate for c in candidate_committee.conflicts(s, election)] == ["严某"]
    with db.transaction() as s:
        for grantor in (1, 2, 3):
            candidate_polling.record_proxy(
                s,
                election,
                "01",
                grantor_name=f"委托人{grantor}",
                grantor_id=make_id(grantor),
                holder_name="受托人",
                holder_id=make_id(9),
                consent_document=f"WT-{grantor}",
                approved=True,
                clock=clock,
                actor=A,
            )
    with pytest.raises(DomainError) as info, db.transaction() as s:
        candidate_polling.record_proxy(
            s,
            election,
            "01",
            grantor_name="委托人4",
            grantor_id=make_id(4),
            holder_name="受托人",
            holder_id=make_id(9),
            consent_document="WT-4",
            approved=True,
            clock=clock,
            actor=A,
        )
    assert info.value.code == "E_PROXY_LIMIT"
    with pytest.raises(DomainError) as info, db.transaction() as s:
        candidate_polling.record_proxy(
            s,
            election,
            "01",
            grantor_name="受托人",
            grantor_id=make_id(9),
            holder_name="某",
            holder_id=make_id(5),
            consent_document="WT-5",
            approved=True,
            clock=clock,
            actor=A,
        )
    assert info.value.code == "E_PROXY_CHAIN"
    with db.transaction() as s:
        box = candidate_polling.record_mobile_box(
            s,
            election,
            "01",
            label="流动票箱1",
            reason="行动不便的老人",
            scrutineers=["监票甲", "监票乙"],
            staff=["工作人员丙"],
            ballots_issued=12,
            ballots_returned=12,
            clock=clock,
            actor=A,
        )
        assert box.scrutineers == ["监票甲", "监票乙"]
    with pytest.raises(DomainError) as info, db.transaction() as s:
        candidate_polling.record_mobile_box(
            s,
            election,
            "01",
            label="流动票箱2",
            reason="居住分散",
            scrutineers=["监票甲", "董某"],
            clock=clock,
            actor=A,
        )
    assert info.value.code == "E_SCRUTINEER_IS_CANDIDATE"
    with db.reading() as s:
        assert (
            len(candidate_polling.proxies(s, election, "01")) == 3
            and len(candidate_polling.mobile_boxes(s, election)) == 1
        )


def first_round(seats, votes, issued=1000, registered=1500, **kw):
    return {
        "kind": "people_congress",
        "seats": seats,
        "registered_voters": registered,
        "ballots_issued": issued,
        "ballots_returned": issued,
        "invalid_ballots": 0,
        "votes": votes,
        "round": 1,
        **kw,
    }


def doc(elected=(), valid=True, runoff=None, tie=None, unfilled=0):
    return {
        "valid": valid,
        "reasons": [],
        "elected": list(elected),
        "unfilled": unfilled,
        "runoff": runoff,
        "tie_break": tie,
    }


def to_voting_phase(s, eid, clock):
    elections.complete_milestone(s, eid, "voter_appeals_closed", on=date(2011, 9, 28), clock=clock, actor=A)
    progress(s, eid, today=date(2011, 10, 17), clock=clock, actor=A)
    assert elections.get_election(s, eid).state == "voting"


def to_voting(db, clock, eid, districts):
    with db.transaction() as s:
        for code, seats, names in districts:
            candidate_nominations.open_district(s, eid, code, seats=seats, clock=clock, actor=A)
            fill(s, eid, code, names, clock)
    at(clock, date(2011, 9, 30))
    with db.transaction() as s:
        candidate_lists.publish_preliminary(s, eid, clock=clock, actor=A)
    at(clock, date(2011, 10, 10))
    with db.transaction() as s:
        candidate_lists.publish_official(s, eid, clock=clock, actor=A)
    at(clock, date(2011, 10, 18))
    with db.transaction() as s:
        to_voting_phase(s, eid, clock)


def test_rounds_runoff_tie_break_publication_review_certificates(db, clock, election):
    to_voting(db, clock, election, [("01", 2, ["甲", "乙", "丙", "丁"]), ("02", 1, ["戊", "己"])])
    runoff = {"seats": 1, "candidates": ["乙", "丙"], "min_candidates": 2, "max_candidates": 2}
    with db.transaction() as s:
        res.record_counted(
            s,
            election,
            "01",
            first_round(2, {"甲": 600, "乙": 300, "丙": 200, "丁": 100}),
            doc(["甲"], runoff=runoff, unfilled=1),
            clock=clock,
            actor=A,
        )
        assert res.next_vote(s, election, "01")["purpose"] == "runoff"
    # Results cannot be published while a runoff is pending, and a wrong runoff list is refused.
    with pytest.raises(DomainError) as info, db.transaction() as s:
        res.publish_results(s, election, clock=clock, actor=A)
    assert info.value.code == "E_RESULTS_PENDING" and "01" in info.value.message
    with pytest.raises(DomainError) as info, db.transaction() as s:
        res.record_counted(
            s,
            election,
            "01",
            first_round(1, {"乙": 400, "丁": 300}, round=2, runoff_candidates=["乙", "丁"]),
            doc(["乙"]),
            clock=clock,
            actor=A,
        )
    assert info.value.code == "E_BAD_RUNOFF_LIST"
    with db.transaction() as s:
        rec = res.record_counted(
            s,
            election,
            "01",
            first_round(1, {"乙": 400, "丙": 350}, round=2, runoff_candidates=["乙", "丙"]),
            doc(["乙"]),
            clock=clock,
            actor=A,
        )
        assert rec.round == 2 and rec.purpose == "runoff"
        # The runoff is a round of the voting phase: the election did not move or multiply.
        assert elections.get_election(s, election).state == "voting"
        # District 02: a tie at the cut-off → a new vote among the tied.
        res.record_counted(
            s,
            election,
            "02",
            first_round(1, {"戊": 500, "己": 500}),
            doc([], tie={"seats": 1, "candidates": ["己", "戊"]}, unfilled=1),
            clock=clock,
            actor=A,
        )
        res.record_tie_break(s, election, "02", {"戊": 520, "己": 480}, clock=clock, actor=A)
        view = {d["district"]: d for d in res.results_view(s, election)["districts"]}
        assert view["01"]["status"] == ResultStatus.COMPLETE and view["01"]["rounds"] == 2
        assert [e["name"] for e in view["02"]["elected"]] == ["戊"] and view["02"]["rounds"] == 2
    with db.transaction() as s:
        out = res.publish_results(s, election, clock=clock, actor=A)
        assert out["milestone"] == "results_published" and sorted(out["published"]) == ["01", "02"]
        assert elections.get_election(s, election).milestone("results_published").done_on == date(
            2011, 10, 18
        )
    with db.transaction() as s:
        deps = {d.name: d for d in res.deputies(s, election)}
        assert set(deps) == {"甲", "乙", "戊"} and deps["乙"].round == 2 and not deps["甲"].write_in
        with pytest.raises(DomainError) as info:
            assert res.issue_certificates(s, election, clock=clock, actor=A) == []  # none reviewed yet
            res.certificate_data(s, election, deps["甲"].id)
        assert info.value.code == "E_NO_CERTIFICATE"
    with db.transaction() as s:
        res.review_qualification(s, election, deps["甲"].id, valid=True, clock=clock, actor=A)
        res.review_qualification(s, election, deps["乙"].id, valid=True, clock=clock, actor=A)
        with pytest.raises(DomainError):
            res.review_qualification(
                s, election, deps["戊"].id, valid=False, clock=clock, actor=A
            )  # no reason
        res.review_qualification(
            s, election, deps["戊"].id, valid=False, note="贿选查实", clock=clock, actor=A
        )
        issued = res.issue_certificates(s, election, clock=clock, actor=A)
        assert sorted(d.certificate_number for d in issued) == ["420821-2011-0001", "420821-2011-0002"]
        data = res.certificate_data(s, election, deps["乙"].id)
        assert data["elected_on"] == date(2011, 10, 18) and "乙同志于2011年10月18日当选" in data["text"]
        assert res.issue_certificates(s, election, clock=clock, actor=A) == []  # nothing twice
        view = {d["district"]: d for d in res.results_view(s, election)["districts"]}
        assert view["02"]["invalidated"] == 1 and view["01"]["invalidated"] == 0
    with db.reading() as s:
        assert verify(s).ok


def test_void_round_write_in_and_phase_guard(db, clock, election):
    with db.transaction() as s:
        candidate_nominations.open_district(s, election, "01", seats=1, clock=clock, actor=A)
        fill(s, election, "01", ["甲", "乙"], clock)
    at(clock, date(2011, 9, 30))
    with db.transaction() as s:
        candidate_lists.publish_preliminary(s, election, clock=clock, actor=A)
    at(clock, date(2011, 10, 10))
    with db.transaction() as s:
        candidate_lists.publish_official(s, election, clock=clock, actor=A)
    # Still in the nomination phase: counting is refused.
    with pytest.raises(DomainError) as info, db.transaction() as s:
        res.record_counted(s, election, "01", first_round(1, {"甲": 1}), doc(["甲"]), clock=clock, actor=A)
    assert info.value.code == "E_NOT_VOTING"
    at(clock, date(2011, 10, 18))
    with db.transaction() as s:
        to_voting_phase(s, election, clock)
        res.record_counted(
            s, election, "01", first_round(1, {"甲": 1}, issued=700), doc(valid=False), clock=clock, actor=A
        )
        assert res.results_view(s, election)["districts"][0]["status"] == ResultStatus.REVOTE_PENDING
        with pytest.raises(DomainError) as info:
            res.record_counted(s, election, "01", first_round(2, {}), doc(), clock=clock, actor=A)
        assert info.value.code == "E_WRONG_SEATS"
        res.record_counted(
            s,
            election,
            "01",
            first_round(1, {"甲": 100, "某选民": 900}),
            doc(["某选民"]),
            clock=clock,
            actor=A,
        )
        deputy = s.execute(select(Deputy)).scalar_one()
        assert deputy.write_in and deputy.name == "某选民" and deputy.round == 2


@pytest.mark.parametrize(
    ("plan", "seats", "too_few", "enough", "milestone"),
    [
        ("party_branch.toml", 5, 5, 6, "candidates_approved"),  # ≥ 20% more: the seed's 6 for 5
        ("village_committee.toml", 3, 3, 4, "candidates_published"),  # VCL 15: more than seats
    ],
)
def test_other_kinds_official_list_without_preliminary(db, plan, seats, too_few, enough, milestone):
    from workflow.clock import FixedClock

    clock = FixedClock(datetime(2026, 12, 12, 2, tzinfo=UTC))
    with db.transaction() as s:
        jurisdiction_commands.add_jurisdiction(
            s, code="420821", name="京山县", level="county", parent_code=None, clock=clock, actor=A
        )
        eid = elections.create_election(s, load_plan(EXAMPLES / plan), clock=clock, actor=A).election.id
        candidate_nominations.open_district(s, eid, "main", seats=seats, clock=clock, actor=A)
        with pytest.raises(DomainError) as info:
            candidate_lists.publish_preliminary(s, eid, clock=clock, actor=A)
        assert info.value.code == "E_NO_PRELIMINARY_LIST"
        fill(s, eid, "main", [f"候选人{i}" for i in range(too_few)], clock)
    with pytest.raises(DomainError) as info, db.transaction() as s:
        candidate_lists.publish_official(s, eid, clock=clock, actor=A)
    assert info.value.code == "E_RATIO_OUT_OF_BOUNDS" and "选区 main" in info.value.message
    with db.transaction() as s:
        fill(s, eid, "main", [f"另{i}" for i in range(enough - too_few)], clock)
        report = candidate_lists.publish_official(s, eid, clock=clock, actor=A)
        assert report["districts"][0]["count"] == enough and report["milestone"] == milestone
        assert elections.get_election(s, eid).milestone(milestone).status == "done"


def test_residents_committee_allows_uncontested_list(db):
    from workflow.clock import FixedClock

    clock = FixedClock(datetime(2026, 12, 1, 2, tzinfo=UTC))
    with db.transaction() as s:
        eid = elections.create_election(
            s, load_plan(EXAMPLES / "residents_committee.toml"), clock=clock, actor=A
        ).election.id
        candidate_nominations.open_district(s, eid, "community", seats=7, clock=clock, actor=A)
        fill(s, eid, "community", [f"居民{i}" for i in range(7)], clock)
        report = candidate_lists.publish_official(s, eid, clock=clock, actor=A)  # 等额: 7 for 7
        assert report["districts"][0]["ok"] and report["districts"][0]["min_candidates"] == 7
