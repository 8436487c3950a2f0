"""Issue 14's rules on the dashboard, not only the CLI: a village's migrant voter (VCL 2018 art. 13
¶2 (三) / 2025 art. 16 ¶2 (三)), a candidate's close relative refused as a mobile box's scrutineer
(EL 43 ¶2), and excluding a voter on a ground (EL 27 ¶1, the 1983 NPCSC provisions item 4) and
restoring them. Each form succeeds through the CLI's use case with its audit; each refusal is
Chinese, names the field and cites the article from the kind data, and leaves the data unchanged.
On SQLite and PostgreSQL, on the demo county."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from demo.county import EXAMPLES
from tests.test_web_steps import _alert, _users, web  # noqa: F401  (fixture)
from tests.voters_support import number
from workflow.commands import elections, voter_districts
from workflow.plan import load_plan
from workflow.rules import ric
from workflow.store.candidates import MobileBox
from workflow.store.models import AuditEntry
from workflow.store.voters import DeprivedPerson, SupplementaryEntry, Voter, VoterStatus


def _audits(site, action: str) -> int:
    return site.count(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


def _snapshot(site, *tables) -> tuple[int, ...]:
    return tuple(site.count(select(func.count()).select_from(t)) for t in tables)


# -- a village's migrant voter ---------------------------------------------------------------------
@pytest.fixture
def village(web):  # noqa: F811
    """The example village election (2026-12-20: the 2025 law, art. 16) with one district."""
    plan = load_plan(EXAMPLES / "village_committee.toml")
    plan = replace(plan, jurisdiction=replace(plan.jurisdiction, parent="420821101"))  # under 永兴镇
    with web.db.transaction() as s:
        election_id = elections.create_election(s, plan, clock=web.clock, actor="t").election.id
        voter_districts.add_district(s, election_id, code="01", name="第一组", clock=web.clock, actor="t")
    return election_id


def _migrant(**given) -> dict:
    person = number(date(1980, 3, 3), 5, "F", area="330102")
    return {
        "district": "01",
        "name": "外来甲",
        "id_number": person,
        "basis": "在本村居住",
        "resident_since": "2024-05-01",
        "applied_on": "2026-11-02",
        "consent_body": "村民代表会议",
        "consent_on": "2026-11-05",
        **given,
    }


@pytest.mark.parametrize(
    ("given", "field", "words"),
    [
        ({"resident_since": "2026-01-10"}, "resident_since", "不满1年"),
        ({"resident_since": ""}, "resident_since", "请填写在本村居住的起始日期"),
        ({"resident_since": "2024/13/01"}, "resident_since", "「居住起始日期」的日期格式有误"),
        ({"applied_on": ""}, "applied", "须本人申请参加选举"),
        ({"consent_body": ""}, "consent", "须经村民会议或者村民代表会议同意"),
        ({"consent_on": ""}, "consent_on", "请填写「会议同意日期」"),
        ({"consent_body": "党支部会议"}, "consent", "「同意的会议」应为村民会议或村民代表会议"),
        ({"basis": "在本村经商"}, "basis", "户籍不在本村的公民须在本村居住或在本村从事村务工作满1年"),
    ],
)
def test_migrant_form_refuses_each_missing_condition_citing_the_kinds_article(web, village, given, field, words):  # noqa: F811
    page = f"/elections/{village}/register"
    web.login("admin")
    before = (*_snapshot(web, Voter, SupplementaryEntry), _audits(web, "voter.added"))
    response = web.client.post(
        f"{page}/migrant", data={"csrf": web.csrf(page), **_migrant(**given)}, follow_redirects=False
    )
    assert response.status_code == 303 and f"field={field}" in response.headers["location"]
    html = web.client.get(response.headers["location"]).text
    alert = _alert(html)
    assert alert.startswith("bad:") and words in alert, alert
    assert "（村委会组织法第十六条第二款第三项）" in alert  # the 2025 text's article, from the kind
    assert 'class="field-bad"' in html
    assert (*_snapshot(web, Voter, SupplementaryEntry), _audits(web, "voter.added")) == before


def test_migrant_form_registers_with_the_application_and_the_consent(web, village):  # noqa: F811
    page = f"/elections/{village}/register"
    web.login("admin")
    html = web.client.get(page).text
    assert "户籍不在本村的选民登记" in html and "在本村居住或在本村从事村务工作1年以上" in html
    assert "（村委会组织法第十六条第二款第三项）" in html
    audits = _audits(web, "voter.added")
    done = web.post(page, f"{page}/migrant", _migrant(basis="在本村从事村务工作"))
    assert _alert(done) == (
        "good:已登记户籍不在本村的选民 外来甲（选区 01）：在本村从事村务工作自 2024-05-01 起；本人 2026-11-02 申请；"
        "2026-11-05 村民代表会议同意"
    )
    with web.db.transaction() as s:
        voter = s.execute(select(Voter).where(Voter.election_id == village)).scalar_one()
        assert (voter.added_reason, voter.status) == ("migrant", VoterStatus.ACTIVE)
        assert "2026-11-05 村民代表会议" in voter.proof and voter.applied_on == date(2026, 11, 2)
    assert _audits(web, "voter.added") == audits + 1
    again = web.post(page, f"{page}/migrant", _migrant())
    assert _alert(again) == "bad:此人已在选区 01 登记，不得重复登记（不重登）"


def test_the_migrant_form_is_only_for_village_elections(web):  # noqa: F811
    town = web.ids["420821101"]
    page = f"/elections/{town}/register"
    web.login("admin")
    assert "户籍不在本村的选民登记" not in web.client.get(page).text
    before = _snapshot(web, Voter)
    refused = web.post(page, f"{page}/migrant", _migrant(district="420821101-01"))
    assert _alert(refused).startswith("bad:户籍不在本村的公民经村民会议同意参加选举，仅适用于村民委员会选举")
    assert _snapshot(web, Voter) == before


# -- exclusion on a ground, and restoring ----------------------------------------------------------
def _a_voter(site, election_id: int) -> tuple[str, str]:
    with site.db.transaction() as s:
        return s.execute(
            select(Voter.name, Voter.id_number)
            .where(Voter.election_id == election_id, Voter.status == VoterStatus.ACTIVE)
            .order_by(Voter.id)
            .limit(1)
        ).one()


def _status(site, election_id: int, id_number: str) -> tuple:
    with site.db.transaction() as s:
        return s.execute(
            select(Voter.status, Voter.removed_reason, Voter.removed_note).where(
                Voter.election_id == election_id, Voter.id_hash == ric.id_hash(id_number)
            )
        ).one()


@pytest.mark.parametrize(
    ("given", "field", "expected"),
    [
        ({"ground": "sick"}, "ground", "bad:请选择不列入选民名单的事由"),
        ({"body": " "}, "body", "bad:请填写「决定机关」（《全国人民代表大会常务委员会关于县级以下人民代表大会代表直接选举的若干规定》第四项）"),
        ({"document": ""}, "document", "bad:请填写「决定文书及文号」（《全国人民代表大会常务委员会关于县级以下人民代表大会代表直接选举的若干规定》第四项）"),
        ({"until": "明年"}, "until", "bad:「期限至」的日期格式有误：「明年」（应为 YYYY-MM-DD）（《全国人民代表大会常务委员会"),
        (
            {"ground": "deprived", "document": "羁押决定书"},
            "document",
            "bad:「决定机关」「决定文书及文号」所写与所选事由「被剥夺政治权利」不符（选举法第二十七条第一款）",
        ),
        ({"id_number": "420821199001010000"}, "id_number", "bad:公民身份号码"),
    ],
)
def test_exclusion_form_refusals_leave_the_register_unchanged(web, given, field, expected):  # noqa: F811
    town = web.ids["420821101"]
    page = f"/elections/{town}/register"
    name, id_number = _a_voter(web, town)
    web.login("admin")
    tables = (Voter, DeprivedPerson, SupplementaryEntry, AuditEntry)
    before = _snapshot(web, *tables)
    data = {
        "name": name,
        "id_number": id_number,
        "ground": "suspended",
        "body": "京山县人民检察院",
        "document": "京检停选〔2026〕3号决定书",
        **given,
    }
    response = web.client.post(f"{page}/exclude", data={"csrf": web.csrf(page), **data}, follow_redirects=False)
    assert response.status_code == 303 and f"field={field}" in response.headers["location"]
    alert = _alert(web.client.get(response.headers["location"]).text)
    assert alert.startswith(expected), alert
    assert _snapshot(web, *tables) == before
    assert _status(web, town, id_number)[0] == VoterStatus.ACTIVE


def test_suspending_a_detained_voter_then_restoring_after_the_decision_is_lifted(web):  # noqa: F811
    town = web.ids["420821101"]
    page = f"/elections/{town}/register"
    name, id_number = _a_voter(web, town)
    masked = ric.mask(id_number)
    web.login("admin")
    removed = _audits(web, "voters.deprived_loaded")
    done = web.post(
        page,
        f"{page}/exclude",
        {
            "name": name,
            "id_number": id_number,
            "ground": "suspended",
            "body": "京山县人民检察院",
            "document": "京检停选〔2026〕3号决定书",
        },
    )
    assert _alert(done) == (
        f"good:已将 {name}（{masked}）从选民名单除名：被羁押期间停止行使选举权利（京山县人民检察院京检停选〔2026〕3号决定书）"
        "（《全国人民代表大会常务委员会关于县级以下人民代表大会代表直接选举的若干规定》第四项）"
    )
    status, reason, note = _status(web, town, id_number)
    assert (status, reason) == (VoterStatus.REMOVED, "deprived")
    assert note.startswith("经人民检察院或者人民法院决定，在被羁押期间停止行使选举权利") and "若干规定》第四项" in note
    assert _audits(web, "voters.deprived_loaded") == removed + 2  # the township's list and the county's (one register)
    # the list shows the voter removed on the ground, with the cited note
    assert masked in done and "因上述事由除名的选民（1 人）" in done and "若干规定》第四项" in done
    # a second time: already on the list, nothing changes
    again = web.post(page, f"{page}/exclude", {"name": name, "id_number": id_number, "ground": "suspended", "body": "京山县人民检察院", "document": "京检停选〔2026〕3号决定书"})
    assert _alert(again) == f"bad:{masked} 已在不列入选民名单的名单上，期限未变"
    # the ordinary registration form refuses them, citing the ground
    refused = web.post(page, f"{page}/add", {"district": "420821101-01", "name": name, "id_number": id_number, "reason": "moved_in"})
    assert _alert(refused) == (
        "bad:经人民检察院或者人民法院决定，在被羁押期间停止行使选举权利"
        "（《全国人民代表大会常务委员会关于县级以下人民代表大会代表直接选举的若干规定》第四项），不能登记为选民"
    )
    # restoring while the suspension still covers election day (2027-01-17) is refused
    tables = (Voter, DeprivedPerson, SupplementaryEntry, AuditEntry)
    before = _snapshot(web, *tables)
    late = web.post(page, f"{page}/restore", {"id_number": id_number, "ended_on": "2027-02-01", "document": "解除决定书"})
    assert "停止行使选举权利" in _alert(late) and "不能登记为选民" in _alert(late)
    assert _snapshot(web, *tables) == before
    missing = web.post(page, f"{page}/restore", {"id_number": id_number, "ended_on": "", "document": "解除决定书"})
    assert _alert(missing).startswith("bad:请填写「恢复日期」")
    assert _snapshot(web, *tables) == before
    added = _audits(web, "voter.added")
    back = web.post(
        page, f"{page}/restore", {"id_number": id_number, "ended_on": "2026-12-20", "document": "京检解除〔2026〕9号决定书"}
    )
    assert _alert(back) == f"good:已恢复 {name}（{masked}）的选民登记（选区 420821101-01）"
    assert _status(web, town, id_number) == (VoterStatus.ACTIVE, None, None)
    assert _audits(web, "voter.added") == added + 2  # both levels' lists
    with web.db.transaction() as s:
        terms = s.execute(select(DeprivedPerson.until).where(DeprivedPerson.id_hash == ric.id_hash(id_number))).scalars().all()
        until, = set(terms)
        proof, reason = s.execute(
            select(Voter.proof, Voter.added_reason).where(Voter.election_id == town, Voter.id_hash == ric.id_hash(id_number))
        ).one()
    assert until == date(2026, 12, 19) and reason == "restored" and "京检解除〔2026〕9号决定书" in proof
    active = web.post(page, f"{page}/restore", {"id_number": id_number, "ended_on": "2026-12-20", "document": "x"})
    assert _alert(active) == f"bad:{masked} 仍在选民名单上，无须恢复"


def test_an_unregistered_person_is_listed_and_later_refused_registration(web):  # noqa: F811
    town = web.ids["420821101"]
    page = f"/elections/{town}/register"
    person = ric.make_number("420821", date(1975, 6, 1), 3, "M")
    web.login("admin")
    listed = web.post(
        page,
        f"{page}/exclude",
        {"name": "李某", "id_number": person, "ground": "deprived", "body": "京山县人民法院", "document": "（2026）鄂0821刑初12号判决书", "until": "2029-06-30"},
    )
    assert _alert(listed) == (
        f"good:已将 李某（{ric.mask(person)}）记入名单：被剥夺政治权利（选举法第二十七条第一款）；"
        "此人目前不在选民名单上，期限内不予登记"
    )
    refused = web.post(page, f"{page}/add", {"district": "420821101-01", "name": "李某", "id_number": person, "reason": "moved_in"})
    assert _alert(refused) == "bad:依法被剥夺政治权利（选举法第二十七条第一款），不能登记为选民"


def test_a_term_ending_before_election_day_excludes_no_one_and_stores_nothing(web):  # noqa: F811
    town = web.ids["420821101"]
    page = f"/elections/{town}/register"
    name, id_number = _a_voter(web, town)
    web.login("admin")
    tables = (Voter, DeprivedPerson, SupplementaryEntry, AuditEntry)
    before = _snapshot(web, *tables)
    ended = web.post(
        page,
        f"{page}/exclude",
        {"name": name, "id_number": id_number, "ground": "deprived", "body": "京山县人民法院", "document": "（2024）鄂0821刑初3号判决书", "until": "2026-12-31"},
    )
    assert _alert(ended) == (
        "bad:「期限至」2026-12-31 早于选举日 2027-01-17，选举日其仍有选举权利，不予除名（选举法第二十七条第一款）"
    )
    assert _snapshot(web, *tables) == before and _status(web, town, id_number)[0] == VoterStatus.ACTIVE


def test_restoring_is_only_for_a_voter_removed_on_a_ground(web):  # noqa: F811
    town = web.ids["420821101"]
    page = f"/elections/{town}/register"
    _name, id_number = _a_voter(web, town)
    web.login("admin")
    web.post(page, f"{page}/remove", {"id_number": id_number, "reason": "moved_out", "note": "迁往外省"})
    refused = web.post(page, f"{page}/restore", {"id_number": id_number, "ended_on": "2026-12-01", "document": "x"})
    assert _alert(refused).endswith("因「迁出」除名，不是因被剥夺政治权利或停止行使选举权利除名；重新登记请用「增补选民」")
    assert _status(web, town, id_number)[0] == VoterStatus.REMOVED


def test_published_list_carries_the_removal_on_the_supplementary_list(web):  # noqa: F811
    county, town = web.ids["county"], web.ids["420821101"]
    with web.db.transaction() as s:
        planned = elections.get_election(s, county).milestone("voter_list_published").planned_date
    web.clock.set(datetime.combine(planned, datetime.min.time(), UTC) + timedelta(hours=2))
    web.login("admin")
    web.post(f"/elections/{county}/register", f"/elections/{county}/register/publish", {})
    page = f"/elections/{town}/register"
    name, id_number = _a_voter(web, town)
    web.post(
        page,
        f"{page}/exclude",
        {"name": name, "id_number": id_number, "ground": "incapacity", "body": "京山县选举委员会", "document": "京选委确认〔2026〕1号"},
    )
    with web.db.transaction() as s:
        details = s.execute(
            select(SupplementaryEntry.details).where(SupplementaryEntry.election_id == town)
        ).scalars().all()
    assert any(d and d.endswith("（选举法第二十七条第二款）") for d in details)


# -- mobile boxes and their scrutineers ------------------------------------------------------------
def _box(**given) -> dict:
    return {
        "district": "420821-01",
        "label": "流动1号",
        "reason": "行动不便的老年选民",
        "scrutineers": "监票甲\n监票乙\n监票丙",
        "staff": "",
        "tie_scrutineer": ["监票乙", ""],
        "tie_candidate": ["王建国", ""],
        "tie_relation": ["表兄", ""],
        **given,
    }


@pytest.mark.parametrize(
    ("given", "field", "expected"),
    [
        (
            {"tie_relation": ["儿子", ""]},
            "scrutineers",
            "bad:监票乙 是候选人 王建国 的儿子（近亲属），不能担任监票人、计票人（选举法第四十三条第二款）",
        ),
        ({"scrutineers": "监票甲\n王建国"}, "scrutineers", "bad:王建国 是候选人，不能担任监票人（选举法第四十三条第二款）"),
        ({"scrutineers": "监票甲"}, "scrutineers", "bad:流动票箱至少须有 2 名监票人"),
        ({"tie_candidate": ["", ""]}, "relative", "bad:亲属关系第 1 行应同时填写监票人、候选人和关系"),
        ({"reason": " "}, "reason", "bad:流动票箱仅用于行动不便或居住分散且交通不便的选民"),
        ({"label": ""}, "label", "bad:请填写「票箱编号」"),
        ({"issued": "10", "returned": "12"}, "ballots_returned", "bad:流动票箱收回 12 张，多于发出的 10 张"),
    ],
)
def test_mobile_box_refusals(web, given, field, expected):  # noqa: F811
    county = web.ids["county"]
    page = f"/elections/{county}/mobile-boxes"
    web.login("admin")
    before = _snapshot(web, MobileBox, AuditEntry)
    response = web.client.post(f"{page}/add", data={"csrf": web.csrf(page), **_box(**given)}, follow_redirects=False)
    assert response.status_code == 303 and f"field={field}" in response.headers["location"]
    alert = _alert(web.client.get(response.headers["location"]).text)
    assert alert.startswith(expected), alert
    assert _snapshot(web, MobileBox, AuditEntry) == before


def test_mobile_box_with_scrutineers_and_declared_ties(web):  # noqa: F811
    county = web.ids["county"]
    page = f"/elections/{county}/mobile-boxes"
    web.login("admin")
    html = web.client.get(page).text
    assert "流动票箱与监票人" in html and "王建国" in html and "（选举法第四十三条第二款）" in html
    assert f'href="{page}"' in web.client.get(f"/elections/{county}/register").text  # the step link
    audits = _audits(web, "mobile_box.recorded")
    done = web.post(page, f"{page}/add", _box(voters="12", issued="12", returned="11"))
    assert _alert(done) == "good:已登记选区 420821-01 流动票箱 流动1号（监票人：监票甲、监票乙、监票丙）"
    assert "行动不便的老年选民" in done and "12/11" in done
    assert _audits(web, "mobile_box.recorded") == audits + 1
    twice = web.post(page, f"{page}/add", _box())
    assert _alert(twice) == "bad:选区 420821-01 已登记流动票箱 流动1号"
    assert web.count(select(func.count()).select_from(MobileBox)) == 1


def test_forms_need_the_csrf_token_and_a_writer(web):  # noqa: F811
    county, town = web.ids["county"], web.ids["420821101"]
    web.login("admin")
    forged = web.client.post(f"/elections/{county}/mobile-boxes/add", data={"csrf": "x", **_box()})
    assert _alert(forged.text) == "bad:页面已过期，请刷新后重试"
    name, id_number = _a_voter(web, town)
    forged = web.client.post(
        f"/elections/{town}/register/exclude",
        data={"csrf": "x", "name": name, "id_number": id_number, "ground": "deprived", "body": "法院", "document": "判决书"},
    )
    assert _alert(forged.text) == "bad:页面已过期，请刷新后重试"
    assert _status(web, town, id_number)[0] == VoterStatus.ACTIVE
    assert web.count(select(func.count()).select_from(MobileBox)) == 0
    _users(web.db, web.clock, {"watcher": ("observer", "420821")})
    web.login("watcher")
    page = f"/elections/{town}/register"
    read_only = web.post(
        page,
        f"{page}/exclude",
        {"name": name, "id_number": id_number, "ground": "deprived", "body": "法院", "document": "判决书"},
    )
    assert _alert(read_only) == "bad:「观察员（只读）」角色不能办理此项工作"
    boxes = web.post(f"/elections/{county}/mobile-boxes", f"/elections/{county}/mobile-boxes/add", _box())
    assert _alert(boxes) == "bad:「观察员（只读）」角色不能办理此项工作"
    assert _status(web, town, id_number)[0] == VoterStatus.ACTIVE
    assert web.count(select(func.count()).select_from(MobileBox)) == 0


def test_out_of_scope_forms_change_nothing_and_the_pages_are_not_found(web):  # noqa: F811
    county, other = web.ids["county"], web.ids["420821100"]  # the county and 新市镇: not 永兴镇's
    web.login("yongxing")
    token = web.csrf(f"/elections/{web.ids['420821101']}/register")
    for page in (f"/elections/{county}/mobile-boxes", f"/elections/{other}/register"):
        assert web.client.get(page).status_code == 404
    boxes = web.client.post(f"/elections/{county}/mobile-boxes/add", data={"csrf": token, **_box()})
    assert boxes.status_code == 404
    name, id_number = _a_voter(web, other)
    excluded = web.client.post(
        f"/elections/{other}/register/exclude",
        data={"csrf": token, "name": name, "id_number": id_number, "ground": "deprived", "body": "法院", "document": "判决书"},
    )
    assert excluded.status_code == 404
    assert _status(web, other, id_number)[0] == VoterStatus.ACTIVE
    assert web.count(select(func.count()).select_from(MobileBox)) == 0
