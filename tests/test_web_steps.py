"""The dashboard's step pages (districts, register, appeals, tallies): each form succeeds through
the same use cases as the CLI, shows a validation error in Chinese naming the rule, and leaves
the stored data unchanged on error. On SQLite and PostgreSQL, with the whole demo (one register
for 县乡两级)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from config.settings import Settings
from service.app import create_app
from tests.service_fixtures import load_demo
from tests.test_candidates_store import election, first_round, to_voting  # noqa: F401  (fixture)
from workflow.clock import FixedClock
from workflow.commands import auth, elections, tally_entry
from workflow.rules import ric
from workflow.store.candidates import Candidate, TallyRecord
from workflow.store.tally_entries import SeatDecision
from workflow.store.voters import Appeal, District, Voter, VoterStatus

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
PASSWORD = "jingshan-2026"


@dataclass
class Web:
    client: TestClient
    clock: FixedClock
    ids: dict[str, int]
    db: object

    def login(self, username: str) -> None:
        page = self.client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        done = self.client.post(
            "/login",
            data={"username": username, "password": PASSWORD, "csrf": csrf, "next": "/"},
            follow_redirects=False,
        )
        assert done.status_code == 303

    def csrf(self, url: str) -> str:
        return re.search(r'name="csrf" value="([^"]+)"', self.client.get(url).text).group(1)

    def post(self, page: str, action: str, data: dict, files=None):
        """Submit a form of `page` (its CSRF token) and follow the redirect back to the page."""
        response = self.client.post(action, data={"csrf": self.csrf(page), **data}, files=files)
        assert response.status_code == 200, response.text
        return response.text

    def count(self, statement) -> int:
        with self.db.transaction() as s:
            return s.execute(statement).scalar_one()


def _users(db, clock, users: dict[str, tuple[str, str]]) -> None:
    with db.transaction() as s:
        for username, (role, code) in users.items():
            auth.add_user(
                s,
                username=username,
                role=role,
                jurisdiction_code=code,
                password=PASSWORD,
                clock=clock,
                actor="test",
            )


@pytest.fixture
def web(db) -> Web:
    ids = load_demo(db, NOW)
    clock = FixedClock(NOW)
    _users(db, clock, {"admin": ("county_admin", "420821"), "yongxing": ("township_staff", "420821101")})
    app = create_app(Settings(db=db.url, migrate_on_start=False, cookie_secure=False), db, clock)
    return Web(TestClient(app, raise_server_exceptions=False), clock, ids, db)


def _alert(html: str) -> str:
    found = re.search(r'class="alert (good|bad)" role="(?:status|alert)">([^<]*)', html)
    return f"{found.group(1)}:{found.group(2)}" if found else ""


def test_districts_add_and_edit_with_chinese_errors(web):
    town = web.ids["420821101"]
    page = f"/elections/{town}/districts"
    web.login("yongxing")
    html = web.client.get(page).text
    assert "每名代表人口" in html and "县级选区" in html and "420821101-01" in html
    before = web.count(select(func.count()).select_from(District))
    bad = web.post(
        page,
        f"{page}/add",
        {"code": "420821101-09", "name": "新堰村选区", "seats": "5", "county_district": "420821-05"},
    )
    assert _alert(bad) == "bad:每一选区选一名至三名代表（选举法第二十五条）" and 'class="field-bad"' in bad
    unlinked = web.post(page, f"{page}/add", {"code": "420821101-09", "name": "新堰村选区", "seats": "1"})
    assert "须注明所属的县级选区" in _alert(unlinked)
    word = web.post(
        page,
        f"{page}/add",
        {"code": "420821101-09", "name": "新堰村选区", "population": "很多", "county_district": "420821-05"},
    )
    assert _alert(word) == "bad:「人口数」应为整数，收到「很多」"
    assert web.count(select(func.count()).select_from(District)) == before
    good = web.post(
        page,
        f"{page}/add",
        {
            "code": "420821101-09",
            "name": "新堰村选区",
            "seats": "1",
            "population": "400",
            "county_district": "420821-05",
        },
    )
    assert _alert(good) == "good:已添加选区 420821101-09 新堰村选区" and "<td>420821-05</td>" in good
    edited = web.post(
        page,
        f"{page}/420821101-09/edit",
        {
            "name": "新堰村选区",
            "seats": "2",
            "population": "800",
            "area": "永兴镇新堰村",
            "county_district": "420821-05",
        },
    )
    assert _alert(edited) == "good:已修改选区 420821101-09" and "永兴镇新堰村" in edited
    refused = web.post(
        page, f"{page}/420821101-09/edit", {"name": "", "seats": "2", "county_district": "420821-05"}
    )
    assert _alert(refused) == "bad:选区名称不能为空"
    with web.db.transaction() as s:
        row = s.execute(select(District).where(District.code == "420821101-09")).scalar_one()
        assert (row.name, row.seats, row.population) == ("新堰村选区", 2, 800)


def test_districts_apply_a_plan_is_refused_in_chinese_when_voters_would_lose_their_district(web):
    county = web.ids["county"]
    page = f"/elections/{county}/districts"
    web.login("admin")
    units = "code,name,population\nA,甲镇,1000\nB,乙镇,2000\n".encode()
    html = web.post(page, f"{page}/apply", {"seats": "3"}, files={"file": ("units.csv", units, "text/csv")})
    assert _alert(html).startswith("bad:") and "420821-01" in _alert(html)
    missing = web.post(page, f"{page}/apply", {"seats": "3"})
    assert _alert(missing) == "bad:请选择选区人口表或单元表（CSV）"
    with web.db.transaction() as s:
        codes = s.execute(select(District.code).where(District.election_id == county)).scalars().all()
    assert sorted(codes) == [f"420821-0{i}" for i in range(1, 9)]


def test_register_county_totals_additions_removals_and_publishing(web):
    county, town = web.ids["county"], web.ids["420821101"]
    web.login("admin")
    html = web.client.get(f"/elections/{county}/register").text
    assert "县乡两级：各乡镇、各选区选民（合计 2400 人）" in html
    assert all(name in html for name in ("新市镇", "永兴镇", "宋河镇", "坪坝镇"))
    page = f"/elections/{town}/register"
    number = ric.make_number("420821", datetime(1990, 5, 4).date(), 7, "F")
    voters = select(func.count()).select_from(Voter)
    before = web.count(voters)
    bad = web.post(
        page,
        f"{page}/add",
        {"district": "420821101-01", "name": "王芳", "id_number": "420821199005040000", "reason": "moved_in"},
    )
    assert _alert(bad).startswith("bad:") and "身份" in _alert(bad)
    no_reason = web.post(
        page, f"{page}/add", {"district": "420821101-01", "name": "王芳", "id_number": number, "reason": "x"}
    )
    assert _alert(no_reason) == "bad:请选择登记原因（选举法第二十七条）"
    assert web.count(voters) == before
    good = web.post(
        page,
        f"{page}/add",
        {"district": "420821101-01", "name": "王芳", "id_number": number, "reason": "moved_in"},
    )
    assert _alert(good) == "good:已登记选民 王芳（选区 420821101-01）"
    with web.db.transaction() as s:
        both = (
            s.execute(select(Voter.election_id).where(Voter.id_hash == ric.id_hash(number))).scalars().all()
        )
    assert sorted(both) == sorted([town, county])  # one registration, both levels
    gone = web.post(page, f"{page}/remove", {"id_number": number, "reason": "deceased", "note": "病故"})
    assert _alert(gone) == "good:已将 王芳 除名（死亡）"
    removed = select(func.count()).where(
        Voter.id_hash == ric.id_hash(number), Voter.status == VoterStatus.REMOVED
    )
    assert web.count(removed) == 2
    # publishing the county's list on its planned day publishes every township's the same day
    with web.db.transaction() as s:
        planned = elections.get_election(s, county).milestone("voter_list_published").planned_date
    web.clock.set(datetime.combine(planned, datetime.min.time(), UTC) + timedelta(hours=2))
    web.login("admin")
    published = web.post(f"/elections/{county}/register", f"/elections/{county}/register/publish", {})
    assert _alert(published).startswith(f"good:已公布选民名单（{planned}，8 个选区")
    html = web.client.get(f"/elections/{town}/register").text
    assert f"选民名单已于 {planned} 公布" in html and "第 1 版" in html


def test_appeals_file_decide_and_refusals(web):
    county, town = web.ids["county"], web.ids["420821101"]
    with web.db.transaction() as s:
        planned = elections.get_election(s, county).milestone("voter_list_published").planned_date
    web.clock.set(datetime.combine(planned, datetime.min.time(), UTC) + timedelta(hours=2))
    web.login("admin")
    web.post(f"/elections/{county}/register", f"/elections/{county}/register/publish", {})
    web.clock.set(web.clock.now() + timedelta(days=1))
    web.login("yongxing")
    page = f"/elections/{town}/appeals"
    with web.db.transaction() as s:
        subject = s.execute(
            select(Voter).where(Voter.election_id == town).order_by(Voter.id).limit(1)
        ).scalar_one()
        number, name = subject.id_number, subject.name
    appeals_count = select(func.count()).select_from(Appeal)
    bad = web.post(
        page,
        f"{page}/file",
        {
            "filer": "李明",
            "request_kind": "remove",
            "subject_name": name,
            "subject_id_number": number,
            "reason": "",
        },
    )
    assert _alert(bad).startswith("bad:") and web.count(appeals_count) == 0
    filed = web.post(
        page,
        f"{page}/file",
        {
            "filer": "李明",
            "request_kind": "remove",
            "subject_name": name,
            "subject_id_number": number,
            "reason": "已迁往外省",
        },
    )
    assert _alert(filed).startswith("good:已受理第 1 号申诉") and web.count(appeals_count) == 1
    no_outcome = web.post(page, f"{page}/1/decide", {"outcome": "", "reason": ""})
    assert _alert(no_outcome) == "bad:请选择处理结果：申诉成立或驳回"
    unreasoned = web.post(page, f"{page}/1/decide", {"outcome": "rejected", "reason": ""})
    assert _alert(unreasoned) == "bad:驳回申诉必须说明理由"
    upheld = web.post(page, f"{page}/1/decide", {"outcome": "upheld", "reason": ""})
    assert _alert(upheld).startswith("good:第 1 号申诉：申诉成立，已更正")
    removed = select(func.count()).where(Voter.id_number == number, Voter.status == VoterStatus.REMOVED)
    assert web.count(removed) == 2  # decided once, both lists corrected
    early = web.post(page, f"{page}/close", {})
    assert _alert(early).startswith("bad:申诉期至")


def test_kind_aware_links_party_branch_has_no_register(web):
    web.login("admin")
    branch = web.client.get(f"/elections/{web.ids['party_branch']}").text
    assert "计票录入核对" in branch and "选民登记</a>" not in branch and "上传选民登记表" not in branch
    county = web.client.get(f"/elections/{web.ids['county']}").text
    assert f'href="/elections/{web.ids["county"]}/districts"' in county


def test_tallies_double_entry_in_the_browser_forms(db, clock, election):  # noqa: F811
    to_voting(db, clock, election, [("01", 2, ["甲", "乙", "丙"])])
    _users(db, clock, {"clerk1": ("county_admin", "420821"), "clerk2": ("county_admin", "420821")})
    web = Web(TestClient(create_app(Settings(db=db.url, migrate_on_start=False, cookie_secure=False), db, clock)), clock, {}, db)
    page = f"/elections/{election}/tallies"
    figures = {
        "registered_voters": "1500",
        "ballots_issued": "1000",
        "ballots_returned": "1000",
        "invalid_ballots": "0",
    }
    votes = {"vote_0": "700", "vote_1": "650", "vote_2": "300"}
    web.login("clerk1")
    html = web.client.get(page).text
    assert "第一次投票" in html and "甲 得票" in html
    word = web.post(page, f"{page}/01/enter", {**figures, **votes, "vote_1": "六百"})
    assert _alert(word) == "bad:「乙得票数」应为整数，收到「六百」"
    first = web.post(page, f"{page}/01/enter", {**figures, **votes})
    assert (
        _alert(first) == "good:选区 01 已录入，待另一名工作人员录入核对"
        and "待另一名工作人员录入核对" in first
    )
    again = web.post(page, f"{page}/01/enter", {**figures, **votes})
    assert "须由另一名工作人员录入核对" in _alert(again)
    web.login("clerk2")
    wrong = web.post(page, f"{page}/01/enter", {**figures, **votes, "vote_1": "560"})
    assert _alert(wrong).startswith("bad:选区 01 两次录入不一致") and "得票：乙" in wrong
    assert web.count(select(func.count()).select_from(TallyRecord)) == 0
    right = web.post(page, f"{page}/01/enter", {**figures, **votes})
    assert _alert(right) == "good:选区 01 两次录入一致，计票已确认：当选 甲、乙"
    assert (
        web.count(select(func.count()).select_from(TallyRecord)) == 1 and "计票已确认。当选：甲、乙" in right
    )


def test_candidates_forms_nominations_lists_and_refusals(web):
    county = web.ids["county"]
    page = f"/elections/{county}/candidates"
    web.login("admin")
    html = web.client.get(page).text
    assert "选区 420821-01" in html and "选民联名推荐" in html
    count = select(func.count()).select_from(Candidate)
    before = web.count(count)
    few = web.post(
        page,
        f"{page}/nominate",
        {
            "district": "420821-01",
            "name": "赵晓",
            "sex": "female",
            "occupation": "farmer",
            "nominated_by": "voters",
            "supporters": "420821199001010011",
        },
    )
    assert _alert(few).startswith("bad:") and "十" in _alert(few)
    assert web.count(count) == before
    good = web.post(
        page,
        f"{page}/nominate",
        {
            "district": "420821-01",
            "name": "赵晓",
            "sex": "female",
            "occupation": "farmer",
            "party": "群众",
            "ethnicity": "汉族",
            "birth_date": "不详",
            "education": "大专",
            "nominated_by": "organisation",
            "nominators": "京山县妇女联合会",
        },
    )
    assert _alert(good) == "bad:「出生日期」的日期格式有误：「不详」（应为 YYYY-MM-DD）"
    assert web.count(count) == before
    good = web.post(
        page,
        f"{page}/nominate",
        {
            "district": "420821-01",
            "name": "赵晓",
            "sex": "female",
            "occupation": "farmer",
            "party": "群众",
            "ethnicity": "汉族",
            "birth_date": "1983-05-02",
            "education": "大专",
            "nominated_by": "organisation",
            "nominators": "京山县妇女联合会",
        },
    )
    assert _alert(good) == "good:已记录选区 420821-01 的代表候选人推荐：赵晓（人民团体推荐）"
    assert web.count(count) == before + 1 and "京山县妇女联合会" in good
    with web.db.reading() as s:  # what the candidate lists print: 民族, 出生年月, 文化程度 (issue 13)
        added = s.execute(select(Candidate).where(Candidate.name == "赵晓")).scalar_one()
        assert (added.ethnicity, added.birth_date, added.education) == ("汉族", date(1983, 5, 2), "大专")


def test_users_and_tokens_for_the_county_admin(web):
    web.login("yongxing")
    assert web.client.get("/users").status_code == 403
    web.login("admin")
    html = web.post(
        "/users",
        "/users/add",
        {
            "username": "songhe",
            "role": "township_staff",
            "jurisdiction": "420821102",
            "password": "songhe-2026-pass",
        },
    )
    assert _alert(html) == "good:已添加用户 songhe（乡镇选举委员会工作人员，宋河镇）"
    dup = web.post(
        "/users",
        "/users/add",
        {
            "username": "songhe",
            "role": "township_staff",
            "jurisdiction": "420821102",
            "password": "songhe-2026-pass",
        },
    )
    assert _alert(dup).startswith("bad:")
    issued = web.post("/users", "/users/token", {"username": "songhe", "name": "乡镇接口"})
    token = re.search(r'<code class="token">([^<]+)</code>', issued).group(1)
    assert (
        web.client.get("/api/v1/elections", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    revoked = web.post("/users", "/users/revoke", {"token": token[:10]})
    assert _alert(revoked).startswith("good:已吊销令牌")
    assert (
        web.client.get("/api/v1/elections", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


def test_allocation_records_the_standing_committee_total_and_shares_it_among_townships(web):
    county = web.ids["county"]
    page = f"/elections/{county}/allocation"
    web.login("admin")
    shown = web.client.get(page).text  # the demo records the provincial decision (demo/county.py) …
    assert "鄂人常〔2026〕3号" in shown
    with web.db.transaction() as s:  # … taken away here, to record one from the start
        s.execute(delete(SeatDecision))
    assert "尚未记录" in web.client.get(page).text
    missing = web.post(page, f"{page}/decision", {"total": "20", "document": "", "population": "3120"})
    assert _alert(missing) == "bad:请填写人大常委会决定的文号"
    too_many = web.post(
        page, f"{page}/decision", {"total": "400", "document": "京人常〔2026〕12号", "population": "3120"}
    )
    assert _alert(too_many).startswith("bad:代表总名额 400 超过法定名额")
    with web.db.transaction() as s:
        assert s.execute(select(func.count()).select_from(SeatDecision)).scalar_one() == 0
    good = web.post(
        page, f"{page}/decision", {"total": "20", "document": "京人常〔2026〕12号", "population": "3120"}
    )
    assert _alert(good) == "good:已记录代表总名额 20 名（京人常〔2026〕12号，人口基数 3120）"
    shares = {
        name: int(seats)
        for name, seats in re.findall(
            r"<tr><td>(\S+镇)</td><td class=\"num\">\d+</td><td class=\"num\">(\d+)</td>", good
        )
    }
    # EL 15: by population (新市镇 1950, 永兴镇 and 宋河镇 1365, 坪坝镇 780 of 5460: quotas 7.14, 5,
    # 5, 2.86), at least one each; equal proportions give 坪坝镇 its third seat (780²/(2·3) = 101400
    # > 1950²/(7·8) ≈ 67902)
    assert shares == {"新市镇": 7, "永兴镇": 5, "宋河镇": 5, "坪坝镇": 3} and sum(shares.values()) == 20


def test_results_publish_review_and_certificates_forms(db, clock, election):  # noqa: F811
    to_voting(db, clock, election, [("01", 2, ["甲", "乙", "丙"])])
    _users(db, clock, {"clerk1": ("county_admin", "420821"), "clerk2": ("county_admin", "420821")})
    web = Web(TestClient(create_app(Settings(db=db.url, migrate_on_start=False, cookie_secure=False), db, clock)), clock, {}, db)
    page = f"/elections/{election}/results"
    web.login("clerk1")
    early = web.post(page, f"{page}/publish", {})
    assert _alert(early).startswith("bad:") and "01" in _alert(early)  # the district has not voted yet
    with web.db.transaction() as s:
        tally_entry.enter(
            s, election, "01", first_round(2, {"甲": 700, "乙": 650, "丙": 300}), clock=clock, actor="clerk1"
        )
        tally_entry.enter(
            s, election, "01", first_round(2, {"甲": 700, "乙": 650, "丙": 300}), clock=clock, actor="clerk2"
        )
    published = web.post(page, f"{page}/publish", {})
    assert _alert(published) == "good:已公布选举结果"
    deputies = re.findall(r'action="(/elections/\d+/results/(\d+)/review)"', published)
    assert len(deputies) == 2
    no_outcome = web.post(page, deputies[0][0], {"outcome": ""})
    assert _alert(no_outcome) == "bad:请选择审查结论：资格有效或当选无效（选举法第四十七条）"
    for action, _id in deputies:
        assert _alert(web.post(page, action, {"outcome": "valid"})).endswith("：资格有效")
    issued = web.post(page, f"{page}/certificates", {})
    assert _alert(issued) == "good:已颁发当选证书 2 份" and issued.count("420821-2011-") == 2


def test_candidates_lists_refused_out_of_order_then_published(db, clock, election):  # noqa: F811
    _users(db, clock, {"clerk1": ("county_admin", "420821")})
    web = Web(TestClient(create_app(Settings(db=db.url, migrate_on_start=False, cookie_secure=False), db, clock)), clock, {}, db)
    page = f"/elections/{election}/candidates"
    web.login("clerk1")
    seats = web.post(page, f"{page}/open", {"district": "01", "seats": "两"})
    assert _alert(seats) == "bad:「应选名额」应为整数，收到「两」"
    opened = web.post(page, f"{page}/open", {"district": "01", "seats": "1"})
    assert _alert(opened) == "good:已开始选区 01 的代表候选人推荐（应选 1 名）"
    for name, org in (("甲", "中国共产党京山县委员会"), ("乙", "京山县总工会")):
        done = web.post(
            page,
            f"{page}/nominate",
            {
                "district": "01",
                "name": name,
                "sex": "male",
                "occupation": "worker",
                "nominated_by": "party",
                "nominators": org,
            },
        )
        assert _alert(done).startswith("good:已记录")
    official = web.post(page, f"{page}/official", {})
    assert _alert(official).startswith("bad:")  # the preliminary list comes first (EL 31, 32)
    web.clock.set(datetime(2011, 9, 30, 4, 0, tzinfo=UTC))
    web.login("clerk1")
    preliminary = web.post(page, f"{page}/preliminary", {})
    assert _alert(preliminary) == "good:已公布代表候选人初步名单（1 个选区）"
    assert "初步候选人" in preliminary
