"""The seams between parts: `districts apply`, the voter-table registry behind nominations, the
notice providers' rows (masked, no addresses), and the voter list frozen by its notices."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from service.cli import app
from tests.voters_support import LIST_DAY, import_file, make_election, noon, synthetic_csv, write_csv
from workflow.clock import FixedClock
from workflow.commands import candidate_nominations, notices, voter_changes, voter_list
from workflow.commands import districts as cmd
from workflow.commands.notice_data import PROVIDERS
from workflow.commands.voter_registry import VoterTables
from workflow.errors import DomainError
from workflow.rules.candidates import mask_id
from workflow.rules.units import Unit
from workflow.store import Database
from workflow.store.audit import verify
from workflow.store.models import AuditEntry
from workflow.store.voters import District, VoterListVersion

runner = CliRunner()
A = "t"
PLAN = [
    cmd.PlannedDistrict("01", "第一选区", 2, 5000),
    cmd.PlannedDistrict("02", "第二选区", 1, 2400),
]


def test_apply_adds_updates_removes_and_audits_once(db, clock):
    election_id = make_election(db, clock, districts=("01", "09"))
    with db.transaction() as s:
        out = cmd.apply_districts(s, election_id, PLAN, clock=clock, actor=A)
    assert out["added"] == ["02"] and out["changed"] == ["01"] and out["removed"] == ["09"]
    with db.reading() as s:
        rows = s.execute(select(District).where(District.election_id == election_id).order_by(District.code))
        assert [(d.code, d.seats, d.population) for d in rows.scalars()] == [("01", 2, 5000), ("02", 1, 2400)]
        assert (
            s.execute(select(func.count()).where(AuditEntry.action == "districts.applied")).scalar_one() == 1
        )
        assert VoterTables().district_seats(s, election_id, "01") == 2
        assert VoterTables().district_seats(s, election_id, "09") is None
        # Applying completes nothing (the notices do).
        from workflow.commands.elections import get_election

        assert get_election(s, election_id).milestone("quotas_allocated").done_on is None


def test_plan_from_units_gives_each_district_its_scope():
    # Apportionment: each unit is a district, and its scope is the unit itself.
    towns = [Unit("A", "新市镇", 30000, 2), Unit("B", "永兴镇", 20000, 3), Unit("C", "宋河镇", 10000, 4)]
    plan = cmd.plan_from_units(towns, 6, graph=False)
    assert [(p.code, p.area) for p in plan["districts"]] == [
        ("A", "新市镇"),
        ("B", "永兴镇"),
        ("C", "宋河镇"),
    ]
    # Division: a row of eight villages, two districts of four. The scope names every unit in the
    # file's order (here reversed), where the district's name stops at three (…等4个单元).
    names = ["城关社区", "东风社区", "五里铺村", "八里途村", "马岭村", "新桥村", "罗桥村", "双河村"]
    codes = [f"u{i}" for i in range(1, 9)]
    row = [
        Unit(code, name, 1000, i + 2, "新市镇", tuple(codes[j] for j in (i - 1, i + 1) if 0 <= j < 8))
        for i, (code, name) in enumerate(zip(codes, names, strict=True))
    ]
    plan = cmd.plan_from_units(row[::-1], 2, graph=True)
    assert plan["method"] == "propose"
    by_name = dict(zip(codes, names, strict=True))
    for p in plan["districts"]:
        assert len(p.units) == 4 and p.name.endswith("等4个单元")
        assert p.area == "、".join(by_name[u] for u in sorted(p.units, reverse=True))
    assert sorted(p.area for p in plan["districts"]) == [
        "八里途村、五里铺村、东风社区、城关社区",
        "双河村、罗桥村、新桥村、马岭村",
    ]


def test_apply_stores_and_updates_the_area(db, clock):
    election_id = make_election(db, clock, districts=("01",))  # added without a scope
    scoped = [
        cmd.PlannedDistrict("01", "第一选区", 2, 5000, area="城关社区、五里铺村"),
        cmd.PlannedDistrict("02", "第二选区", 1, 2400, area="  马岭村 "),
    ]
    with db.transaction() as s:
        out = cmd.apply_districts(s, election_id, scoped, clock=clock, actor=A)
    assert out["added"] == ["02"] and out["changed"] == ["01"]
    assert [(d["code"], d["area"]) for d in out["districts"]] == [
        ("01", "城关社区、五里铺村"),
        ("02", "马岭村"),
    ]
    with db.transaction() as s:  # the same plan again: nothing changes
        again = cmd.apply_districts(s, election_id, scoped, clock=clock, actor=A)
    assert again["added"] == again["changed"] == again["removed"] == []
    rescoped = [scoped[0], cmd.PlannedDistrict("02", "第二选区", 1, 2400, area="马岭村、新桥村")]
    with db.transaction() as s:  # only the scope differs: a change
        third = cmd.apply_districts(s, election_id, rescoped, clock=clock, actor=A)
    assert third["added"] == [] and third["changed"] == ["02"]
    with db.reading() as s:
        rows = s.execute(select(District).where(District.election_id == election_id).order_by(District.code))
        assert [(d.code, d.area) for d in rows.scalars()] == [
            ("01", "城关社区、五里铺村"),
            ("02", "马岭村、新桥村"),
        ]
        audit = s.execute(
            select(AuditEntry.before, AuditEntry.after)
            .where(AuditEntry.action == "districts.applied")
            .order_by(AuditEntry.id)
        ).all()
    assert [a.before["01"]["area"] for a in audit] == [None, "城关社区、五里铺村", "城关社区、五里铺村"]
    assert audit[-1].before["02"]["area"] == "马岭村"
    assert audit[-1].after["districts"]["02"]["area"] == "马岭村、新桥村"


def test_districts_notice_prints_each_districts_scope(db, clock):
    election_id = make_election(db, clock, districts=())
    plan = [
        cmd.PlannedDistrict("01", "新市镇第一选区", 2, 5000, area="新市镇城关社区、五里铺村"),
        cmd.PlannedDistrict("02", "新市镇第二选区", 1, 2400),
    ]
    with db.transaction() as s:
        cmd.apply_districts(s, election_id, plan, clock=clock, actor=A)
    with db.reading() as s:
        html = notices.render_notice(s, election_id, "districts_published", clock=clock).html
    assert "<th>选区范围</th>" in html
    # 序号, 选区编号, 选区名称 (in full, never cut), 选区范围, 应选代表名额: the scope in its own column.
    assert (
        '<tr><td>1</td><td>01</td><td class="left">新市镇第一选区</td>'
        '<td class="left">新市镇城关社区、五里铺村</td><td>2</td></tr>'
    ) in html
    assert (
        '<tr><td>2</td><td>02</td><td class="left">新市镇第二选区</td><td class="left"></td><td>1</td></tr>'
        in html
    )


def test_apply_refuses_bad_plans_and_districts_in_use(db, clock, tmp_path):
    election_id = make_election(db, clock, districts=("01", "09"))
    clock.set(noon(date(2011, 9, 12)))
    assert import_file(
        db, clock, election_id, synthetic_csv(tmp_path / "v.csv", 6, districts=("09",))
    ).committed
    for plan, code in [
        (PLAN, "E_DISTRICT_IN_USE"),  # 09 has voters
        ([cmd.PlannedDistrict("09", "x", 4, 1)], "E_DISTRICT_SEATS"),  # EL 25: 1–3
        ([cmd.PlannedDistrict("09", "x", 1, 1, area="村" * 2001)], "E_DISTRICT_INVALID"),  # 选区范围 too long
        ([], "E_NO_DISTRICTS"),
    ]:
        with pytest.raises(DomainError) as caught, db.transaction() as s:
            cmd.apply_districts(s, election_id, plan, clock=clock, actor=A)
        assert caught.value.code == code
    with db.reading() as s:
        assert {d.code for d in s.execute(select(District)).scalars()} == {"01", "09"}


def test_registry_matches_active_voters_of_the_district_by_normalised_number(db, clock, tmp_path):
    election_id = make_election(db, clock)
    registry_ = VoterTables()
    with db.reading() as s:  # no register at all: nothing to check against
        assert registry_.registered(s, election_id, "01", ["110101199001010014"]) is None
    clock.set(noon(date(2011, 9, 12)))
    path = synthetic_csv(tmp_path / "v.csv", 12)
    assert import_file(db, clock, election_id, path).committed
    rows = [line.split(",") for line in path.read_text(encoding="utf-8-sig").splitlines()[1:]]
    ones = [r[3] for r in rows if r[6] == "01"]
    twos = [r[3] for r in rows if r[6] == "02"]
    with db.transaction() as s:
        voter_changes.remove_voter(s, election_id, ones[0], reason="moved_out", clock=clock, actor=A)
    with db.reading() as s:
        asked = [ones[1].lower(), ones[2], ones[0], twos[0]]  # a lower-case x is the same number
        assert registry_.registered(s, election_id, "01", asked) == {ones[1].lower(), ones[2]}
        assert registry_.registered(s, election_id, "99", ones) == set()


def test_providers_rows_are_stored_data_without_ids_or_addresses(db, clock, tmp_path):
    election_id = make_election(db, clock)
    clock.set(noon(date(2011, 9, 12)))
    assert import_file(db, clock, election_id, synthetic_csv(tmp_path / "v.csv", 8)).committed
    with db.reading() as s:
        from workflow.commands.elections import get_election

        election = get_election(s, election_id)
        assert PROVIDERS["districts"](s, election, None) == [
            {"code": "01", "name": "第01", "seats": None, "population": None, "area": None},
            {"code": "02", "name": "第02", "seats": None, "population": None, "area": None},
        ]
        voters = PROVIDERS["voters"](s, election, "01")
        assert len(voters) == 4 and set(voters[0]) == {"name", "sex", "birth_date", "ethnicity", "group"}
        assert PROVIDERS["results"](s, election, None) == []  # nothing counted: E_NO_DATA
        with pytest.raises(DomainError) as caught:  # seats not allocated yet: no quota notice
            notices.render_notice(s, election_id, "quota_allocation", clock=clock)
        assert caught.value.code == "E_NO_DATA" and "01、02" in caught.value.message
        assert PROVIDERS["official_candidates"](s, election, None) == []
    # The voter list goes out district by district; the last notice publishes and freezes it.
    clock.set(noon(LIST_DAY))
    for code, completes in (("01", None), ("02", "voter_list_published")):
        with db.transaction() as s:
            published = notices.publish_notice(
                s, election_id, "voter_list", district=code, fmt="html", clock=clock, actor=A
            )
            assert published.milestone_completed == completes
    with db.reading() as s:
        assert s.execute(select(func.sum(VoterListVersion.voters))).scalar_one() == 8
        assert verify(s).ok
    with db.transaction() as s:  # `voters publish` afterwards has nothing left to publish
        with pytest.raises(DomainError) as caught:
            voter_list.publish(s, election_id, clock=clock, actor=A)
        assert caught.value.code == "E_NOTHING_TO_PUBLISH"


def test_nominations_need_registered_voters_once_a_register_exists(db, clock, tmp_path):
    election_id = make_election(db, clock)
    with db.transaction() as s:
        cmd.apply_districts(
            s,
            election_id,
            [cmd.PlannedDistrict("01", "甲", 1, 1), cmd.PlannedDistrict("02", "乙", 2, 2)],
            clock=clock,
            actor=A,
        )
    clock.set(noon(date(2011, 9, 12)))
    path = synthetic_csv(tmp_path / "v.csv", 40)
    assert import_file(db, clock, election_id, path).committed
    rows = [line.split(",") for line in path.read_text(encoding="utf-8-sig").splitlines()[1:]]
    ones = [r[3] for r in rows if r[6] == "01"]
    twos = [r[3] for r in rows if r[6] == "02"]
    with db.transaction() as s:
        with pytest.raises(DomainError) as caught:
            candidate_nominations.open_district(s, election_id, "02", seats=1, clock=clock, actor=A)
        assert caught.value.code == "E_SEATS_MISMATCH"  # EL 30 via the District table
    with db.transaction() as s:
        candidate_nominations.open_district(s, election_id, "01", seats=None, clock=clock, actor=A)
    common = dict(sex="female", occupation="farmer", nominated_by="voters", clock=clock, actor=A)
    with pytest.raises(DomainError) as caught, db.transaction() as s:
        candidate_nominations.nominate(
            s, election_id, "01", name="甲", supporters=ones[:9] + twos[:1], **common
        )
    assert caught.value.code == "E_SUPPORTER_NOT_REGISTERED"
    assert (
        caught.value.message.count("*") == mask_id(twos[0]).count("*")
        and mask_id(twos[0]) in caught.value.message
    )
    with db.transaction() as s:
        assert candidate_nominations.nominate(
            s, election_id, "01", name="甲", supporters=ones[:10], **common
        ).supporters_checked


def test_cli_districts_apply_apportionment_and_division(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    database = Database(url)
    database.migrate()
    election_id = make_election(database, FixedClock(datetime(2011, 8, 20, 2, tzinfo=UTC)), districts=())
    database.dispose()
    units = write_csv(
        tmp_path / "u.csv",
        ["code", "name", "population"],
        [["A", "甲镇", 30000], ["B", "乙镇", 20000], ["C", "丙镇", 10000]],
    )
    args = [
        "--db",
        url,
        "districts",
        "apply",
        str(units),
        "--election",
        str(election_id),
        "--seats",
        "6",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["method"] == "apportion" and [d["seats"] for d in out["districts"]] == [3, 2, 1]
    graph = write_csv(
        tmp_path / "g.csv",
        ["code", "name", "population", "parent", "neighbours"],
        [
            ["v1", "一村", 1000, "T", "v2"],
            ["v2", "二村", 1000, "T", "v1;v3"],
            ["v3", "三村", 1000, "T", "v2;v4"],
            ["v4", "四村", 1000, "T", "v3"],
        ],
    )
    args[4] = str(graph)
    args[-2] = "2"
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["method"] == "propose" and out["removed"] == ["A", "B", "C"]
    assert sorted(len(d["units"]) for d in out["districts"]) == [2, 2]
    # Staff reading the text output see each district's scope (选区范围) too.
    text_out = runner.invoke(app, args[:-1]).stdout.splitlines()
    assert sorted(line.split("\t")[-1] for line in text_out) == ["范围 一村、二村", "范围 三村、四村"]
    result = runner.invoke(app, [*args[:-3], "--seats", "13", "--json"])  # EL 25: > 3 × 4 units
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["field"] == "seats"
