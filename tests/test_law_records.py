"""Issue 14's follow-ups, kept as records by the use cases (CLI and dashboard alike), on SQLite
and PostgreSQL: a mobile box's declared scrutineer–candidate ties (EL 43 ¶2) stored with the box,
listed and audited; exclusion on a ground (EL 27) and restoring applied to both lists of a 县乡两级
round; a village migrant's application date (VCL 2018 art. 13 ¶2 (三) / 2025 art. 16 ¶2 (三))."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from demo.county import EXAMPLES, build_demo
from service.cli import app
from tests.test_candidates_store import A, election, nominate  # noqa: F401  (fixture)
from tests.test_law_web import _alert, _audits, _box, _migrant
from tests.test_web_steps import web  # noqa: F401  (fixture)
from tests.voters_support import make_election, number, write_csv
from workflow.clock import FixedClock
from workflow.commands import (
    candidate_nominations,
    candidate_polling,
    elections,
    register_levels,
    voter_changes,
    voter_districts,
)
from workflow.errors import DomainError
from workflow.kinds import resolve_kind
from workflow.plan import load_plan
from workflow.rules import ric
from workflow.rules.voter_rows import check_village_migrant
from workflow.store import Database
from workflow.store.candidates import MobileBox
from workflow.store.models import AuditEntry
from workflow.store.voters import AddedReason, DeprivedPerson, District, Voter, VoterStatus


# -- a mobile box's declared ties (EL 43 ¶2) ---------------------------------------------------------
def test_a_mobile_box_keeps_its_declared_ties_and_audits_them(db, clock, election):  # noqa: F811
    with db.transaction() as s:
        candidate_nominations.open_district(s, election, "01", seats=1, clock=clock, actor=A)
        nominate(s, election, "01", "董某", clock)
        box = candidate_polling.record_mobile_box(
            s,
            election,
            "01",
            label="流动票箱1",
            reason="行动不便的老人",
            scrutineers=["监票甲", "监票乙"],
            staff=["工作人员丙"],
            relatives=[
                (" 监票甲", "董某", "表兄 "),
                ("工作人员丙", "董某", "配偶"),
                ("监票甲", "董某", "表兄"),
            ],
            clock=clock,
            actor=A,
        )
        box_id = box.id
    ties = [
        {"person": "监票甲", "candidate": "董某", "relationship": "表兄"},
        {"person": "工作人员丙", "candidate": "董某", "relationship": "配偶"},
    ]
    with db.reading() as s:
        stored = s.get(MobileBox, box_id)
        assert stored.relatives == ties
        assert candidate_polling.mobile_box_view(stored)["relatives"] == ties
        audited = s.execute(
            select(AuditEntry.after).where(
                AuditEntry.action == "mobile_box.recorded", AuditEntry.entity_id == str(box_id)
            )
        ).scalar_one()
    assert audited["relatives"] == ties
    # a close relative scrutinising is refused, nothing stored
    with pytest.raises(DomainError) as err, db.transaction() as s:
        candidate_polling.record_mobile_box(
            s,
            election,
            "01",
            label="流动票箱2",
            reason="居住分散",
            scrutineers=["监票甲", "监票乙"],
            relatives=[("监票乙", "董某", "儿子")],
            clock=clock,
            actor=A,
        )
    assert err.value.code == "E_SCRUTINEER_IS_RELATIVE"
    with db.reading() as s:
        assert [b.label for b in candidate_polling.mobile_boxes(s, election)] == ["流动票箱1"]


def test_the_mobile_box_page_lists_the_declared_ties(web):  # noqa: F811
    county = web.ids["county"]
    page = f"/elections/{county}/mobile-boxes"
    web.login("admin")
    audits = _audits(web, "mobile_box.recorded")
    done = web.post(
        page,
        f"{page}/add",
        _box(
            tie_scrutineer=["监票乙", "监票丙"],
            tie_candidate=["王建国", "王建国"],
            tie_relation=["表兄", "同事"],
        ),
    )
    assert _alert(done).startswith("good:已登记选区 420821-01 流动票箱 流动1号")
    assert "监票乙是候选人王建国的表兄；监票丙是候选人王建国的同事" in done
    assert _audits(web, "mobile_box.recorded") == audits + 1


# -- exclusion and restoring in a 县乡两级 round (EL 27) ---------------------------------------------
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.fixture
def round_ids(db) -> dict[str, int]:
    with db.transaction() as s:
        return build_demo(s, clock=FixedClock(NOW)).elections


def _registration(s, election_id: int, id_number: str) -> Voter:
    return s.execute(
        select(Voter).where(Voter.election_id == election_id, Voter.id_hash == ric.id_hash(id_number))
    ).scalar_one()


def _first_voter(s, election_id: int) -> tuple[str, str]:
    return s.execute(
        select(Voter.name, Voter.id_number)
        .where(Voter.election_id == election_id, Voter.status == VoterStatus.ACTIVE)
        .order_by(Voter.id)
        .limit(1)
    ).one()


def _entries(s, action: str) -> list[tuple[str, dict]]:
    return list(
        s.execute(
            select(AuditEntry.entity_id, AuditEntry.after)
            .where(AuditEntry.action == action)
            .order_by(AuditEntry.id)
        )
    )


EXCLUSION = ["姓名", "公民身份号码", "剥夺期限至", "原因"]


def test_excluding_a_township_voter_removes_the_county_copy_and_restoring_brings_both_back(db, round_ids):
    town, county = round_ids["420821101"], round_ids["county"]
    clock = FixedClock(NOW)
    with db.transaction() as s:
        name, id_number = _first_voter(s, town)
        loaded_before = len(_entries(s, "voters.deprived_loaded"))
        report = register_levels.exclude(
            s,
            town,
            EXCLUSION,
            [(2, [name, id_number, None, "人民检察院决定羁押期间停止行使选举权利"])],
            clock=clock,
            actor=A,
        )
    assert [r["name"] for r in report.removed] == [name]
    assert [(m["election_id"], [r["name"] for r in m["removed"]]) for m in report.mirrored] == [
        (county, [name])
    ]
    with db.reading() as s:
        here, there = _registration(s, town, id_number), _registration(s, county, id_number)
        assert (here.status, there.status) == (VoterStatus.REMOVED, VoterStatus.REMOVED)
        assert here.removed_reason == there.removed_reason == "deprived"
        assert here.removed_note == there.removed_note and "若干规定》第四项" in there.removed_note
        listed = s.execute(
            select(DeprivedPerson.election_id).where(DeprivedPerson.id_hash == ric.id_hash(id_number))
        )
        assert sorted(listed.scalars()) == sorted([town, county])
        audited = _entries(s, "voters.deprived_loaded")[loaded_before:]
        assert sorted(entity for entity, _after in audited) == sorted([str(town), str(county)])
    # the county list refuses the person too, citing the ground
    with pytest.raises(DomainError) as err, db.transaction() as s:
        district = s.get(District, _registration(s, county, id_number).district_id).code
        voter_changes.add_voter(
            s,
            county,
            district=district,
            name=name,
            id_number=id_number,
            reason=AddedReason.MOVED_IN,
            clock=clock,
            actor=A,
        )
    assert err.value.code == "E_VOTER_DEPRIVED" and "停止行使选举权利" in err.value.message
    # restoring while the suspension still covers election day is refused, nothing changes
    with pytest.raises(DomainError) as err, db.transaction() as s:
        register_levels.restore_voter(
            s,
            town,
            id_number,
            ended_on=date(2027, 2, 1),
            document="京检解除〔2027〕1号",
            clock=clock,
            actor=A,
        )
    assert err.value.code == "E_VOTER_DEPRIVED"
    with db.transaction() as s:
        added_before = len(_entries(s, "voter.added"))
        register_levels.restore_voter(
            s,
            town,
            id_number,
            ended_on=date(2026, 12, 20),
            document="京检解除〔2026〕9号决定书",
            clock=clock,
            actor=A,
        )
    with db.reading() as s:
        for election_id in (town, county):
            voter = _registration(s, election_id, id_number)
            assert (voter.status, voter.added_reason, voter.removed_reason) == (
                VoterStatus.ACTIVE,
                "restored",
                None,
            )
            assert voter.proof == "2026-12-20 起恢复：京检解除〔2026〕9号决定书"
        terms = s.execute(
            select(DeprivedPerson.until).where(DeprivedPerson.id_hash == ric.id_hash(id_number))
        )
        assert list(terms.scalars()) == [date(2026, 12, 19)] * 2
        restored = [after["reason"] for _entity, after in _entries(s, "voter.added")[added_before:]]
        assert restored == ["restored", "restored"]


def test_excluding_on_the_county_list_removes_the_townships_copy(db, round_ids):
    town, county = round_ids["420821102"], round_ids["county"]
    clock = FixedClock(NOW)
    with db.transaction() as s:
        name, id_number = _first_voter(s, town)
        stranger = ric.make_number("420821", date(1970, 1, 1), 9, "M")
        report = register_levels.exclude(
            s,
            county,
            EXCLUSION,
            [
                (2, [name, id_number, "2029-06-30", "判处有期徒刑并附加剥夺政治权利"]),
                (3, ["外人", stranger, None, None]),
            ],
            clock=clock,
            actor=A,
        )
    assert report.loaded == 2 and [m["election_id"] for m in report.mirrored] == [town]
    with db.reading() as s:
        assert _registration(s, town, id_number).status == VoterStatus.REMOVED
        assert _registration(s, county, id_number).status == VoterStatus.REMOVED
        # only the township where the person is registered gets the row
        rows = s.execute(select(DeprivedPerson.election_id, DeprivedPerson.id_hash)).all()
        assert sorted(rows) == sorted(
            [
                (county, ric.id_hash(id_number)),
                (county, ric.id_hash(stranger)),
                (town, ric.id_hash(id_number)),
            ]
        )
    with db.transaction() as s:
        register_levels.restore_voter(
            s, county, id_number, ended_on=date(2026, 12, 1), document="刑满释放证明", clock=clock, actor=A
        )
    with db.reading() as s:
        assert _registration(s, town, id_number).status == VoterStatus.ACTIVE
        assert _registration(s, county, id_number).status == VoterStatus.ACTIVE


def test_a_voter_excluded_on_the_township_form_leaves_the_county_list(web):  # noqa: F811
    county, town = web.ids["county"], web.ids["420821101"]
    page = f"/elections/{town}/register"
    with web.db.transaction() as s:
        name, id_number = _first_voter(s, town)
    web.login("admin")
    done = web.post(
        page,
        f"{page}/exclude",
        {
            "name": name,
            "id_number": id_number,
            "ground": "deprived",
            "body": "京山县人民法院",
            "document": "（2026）鄂0821刑初12号判决书",
        },
    )
    assert _alert(done).startswith(f"good:已将 {name}")
    with web.db.transaction() as s:
        assert _registration(s, county, id_number).status == VoterStatus.REMOVED
    back = web.post(
        page,
        f"{page}/restore",
        {"id_number": id_number, "ended_on": "2026-12-20", "document": "刑满释放证明"},
    )
    assert _alert(back).startswith(f"good:已恢复 {name}")
    with web.db.transaction() as s:
        assert _registration(s, county, id_number).status == VoterStatus.ACTIVE


def test_the_cli_excludes_and_restores(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    database = Database(url)
    database.migrate()
    election_id = make_election(database, FixedClock(datetime(2011, 8, 20, 2, tzinfo=UTC)))
    database.dispose()
    person = number(date(1960, 1, 1), 7)
    write_csv(tmp_path / "v.csv", ["姓名", "身份证号", "选区"], [["甲某", person, "01"]])
    assert cli(url, "voters", "import", str(tmp_path / "v.csv"), "--election", str(election_id))[0] == 0
    listed = write_csv(tmp_path / "x.csv", EXCLUSION, [["甲某", person, "", "精神病患者，经选举委员会确认"]])
    code, out = cli(url, "voters", "exclude", str(listed), "--election", str(election_id), "--json")
    doc = json.loads(out)
    assert code == 0 and [r["name"] for r in doc["removed"]] == ["甲某"] and doc["mirrored"] == []
    args = (
        "voters",
        "restore",
        person,
        "--election",
        str(election_id),
        "--document",
        "选举委员会确认〔2011〕2号",
    )
    code, out = cli(url, *args, "--ended-on", "2011-13-01", "--json")
    assert code == 2 and json.loads(out)["error"]["field"] == "ended_on"
    code, out = cli(url, *args, "--ended-on", "2011-09-01", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["proof"] == "2011-09-01 起恢复：选举委员会确认〔2011〕2号", out
    code, out = cli(url, *args, "--ended-on", "2011-09-01", "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "E_NOT_REMOVED"


def cli(url, *args) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--db", url, "--actor", "registrar-1", *args])
    return result.exit_code, result.stdout


# -- a village migrant's application date (VCL 2018 art. 13 ¶2 (三) / 2025 art. 16 ¶2 (三)) -----------
def _check(**given):
    k = resolve_kind("village_committee", jurisdiction="420821101-201", on=date(2026, 12, 20))
    args = {"since": date(2024, 1, 1), "basis": None, "applied": False, "consent": "2026-11-05 村民代表会议"}
    return check_village_migrant(k.law, k.citations, on=date(2026, 11, 30), **{**args, **given})


def test_the_application_date_is_checked_against_the_consent_and_today():
    assert "本人 2026-11-02 申请；2026-11-05 村民代表会议同意" in _check(
        applied_on=date(2026, 11, 2), consent_on=date(2026, 11, 5)
    )
    assert "本人 2026-11-05 申请" in _check(applied_on=date(2026, 11, 5), consent_on=date(2026, 11, 5))
    for given, code in (
        (
            {"applied_on": date(2026, 11, 6), "consent_on": date(2026, 11, 5)},
            "E_MIGRANT_APPLIED_AFTER_CONSENT",
        ),
        ({"applied_on": date(2026, 12, 1)}, "E_MIGRANT_APPLIED_LATER"),
    ):
        with pytest.raises(DomainError) as err:
            _check(**given)
        assert (err.value.code, err.value.field) == (code, "applied_on")
        assert "（村委会组织法第十六条第二款第三项）" in err.value.message


@pytest.fixture
def village(db) -> int:
    plan = load_plan(EXAMPLES / "village_committee.toml")
    clock = FixedClock(NOW)
    with db.transaction() as s:
        election_id = elections.create_election(s, plan, clock=clock, actor=A).election.id
        voter_districts.add_district(s, election_id, code="01", name="第一组", clock=clock, actor=A)
    return election_id


def _migrant_args(**given) -> dict:
    return {
        "district": "01",
        "name": "外来甲",
        "id_number": number(date(1980, 3, 3), 5, "F", area="330102"),
        "reason": AddedReason.MIGRANT,
        "resident_since": date(2024, 5, 1),
        "consent": "2026-11-05 村民代表会议",
        "consent_on": date(2026, 11, 5),
        **given,
    }


def test_the_application_date_is_stored_on_the_voter_record(db, village):
    clock = FixedClock(NOW)
    with pytest.raises(DomainError) as err, db.transaction() as s:
        register_levels.add_voter(
            s, village, **_migrant_args(applied_on=date(2026, 11, 9)), clock=clock, actor=A
        )
    assert err.value.code == "E_MIGRANT_APPLIED_AFTER_CONSENT"
    with db.reading() as s:
        assert s.execute(select(Voter.id).where(Voter.election_id == village)).first() is None
    with db.transaction() as s:
        register_levels.add_voter(
            s, village, **_migrant_args(applied_on=date(2026, 11, 2)), clock=clock, actor=A
        )
    with db.reading() as s:
        voter = s.execute(select(Voter).where(Voter.election_id == village)).scalar_one()
        assert voter.applied_on == date(2026, 11, 2) and "本人 2026-11-02 申请" in voter.proof
        audited = _entries(s, "voter.added")[-1][1]
    assert "本人 2026-11-02 申请" in audited["proof"]


def test_the_migrant_form_refuses_an_application_after_the_consent(web):  # noqa: F811
    plan = load_plan(EXAMPLES / "village_committee.toml")
    plan = replace(plan, jurisdiction=replace(plan.jurisdiction, parent="420821101"))
    with web.db.transaction() as s:
        village_id = elections.create_election(s, plan, clock=web.clock, actor="t").election.id
        voter_districts.add_district(s, village_id, code="01", name="第一组", clock=web.clock, actor="t")
    page = f"/elections/{village_id}/register"
    web.login("admin")
    for applied, words in (("2026-11-06", "晚于会议同意日期 2026-11-05"), ("2026-12-01", "晚于今天")):
        response = web.client.post(
            f"{page}/migrant",
            data={"csrf": web.csrf(page), **_migrant(applied_on=applied)},
            follow_redirects=False,
        )
        assert response.status_code == 303 and "field=applied_on" in response.headers["location"]
        assert words in _alert(web.client.get(response.headers["location"]).text)
        assert web.count(select(func.count()).select_from(Voter).where(Voter.election_id == village_id)) == 0


def test_the_cli_takes_the_application_date(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    database = Database(url)
    database.migrate()
    with database.transaction() as s:
        village_id = elections.create_election(
            s, load_plan(EXAMPLES / "village_committee.toml"), clock=FixedClock(NOW), actor=A
        ).election.id
        voter_districts.add_district(s, village_id, code="01", name="第一组", clock=FixedClock(NOW), actor=A)
    today = date.today()
    person = number(date(1980, 3, 3), 5, "F", area="330102")
    args = (
        "voters", "add", "--election", str(village_id), "--district", "01", "--name", "外来甲", "--id", person,
        "--reason", "migrant", "--resident-since", str(today.replace(year=today.year - 3)),
        "--consent", "村民代表会议", "--consent-on", str(today - timedelta(days=5)), "--json",
    )  # fmt: skip
    code, out = cli(url, *args, "--applied-on", str(today - timedelta(days=4)))
    assert code == 2 and json.loads(out)["error"]["code"] == "E_MIGRANT_APPLIED_AFTER_CONSENT"
    code, out = cli(url, *args, "--applied-on", str(today - timedelta(days=10)))
    assert code == 0, out
    with database.reading() as s:
        assert s.execute(select(Voter.applied_on)).scalar_one() == today - timedelta(days=10)
    database.dispose()
