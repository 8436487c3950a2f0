"""Every notice read as a reader would: each template of each kind the demo county runs, rendered
from the demo's stored records and checked against those records (totals, counts, dates, names,
order, numbering), not only that it renders. Also: stroke order against 通用规范汉字表, numbering
per round across 1 January, and the 样稿 mark (on previews, never on published notices)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from demo.county import build_demo
from notices import forms
from notices.catalog import SPECS
from notices.render import doc_date, weekday_cn, year_month
from workflow.clock import FixedClock
from workflow.commands import candidate_records, notice_data, notice_settings
from workflow.commands import notices as commands
from workflow.commands import results as res
from workflow.commands.elections import get_election
from workflow.commands.jurisdictions import find_jurisdiction
from workflow.errors import DomainError
from workflow.rules import stroke_order
from workflow.store import Database
from workflow.store.candidates import CandidateStatus, CommitteeMember
from workflow.store.voters import District, Voter, VoterStatus
from workflow.views.notices import published_file

CLOCK = FixedClock(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
TODAY = date(2026, 11, 26)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('content') / 'demo.sqlite3'}")
    database.migrate()
    with database.transaction() as session:
        elections = build_demo(session, clock=CLOCK).elections
    yield database, elections
    database.dispose()


def text_of(html: str) -> str:
    body = html.split("</style>", 1)[1]
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", body.replace("<br>", "")))


def in_order(text: str, items: list[str]) -> None:
    position = 0
    for item in items:
        found = text.find(item, position)
        assert found >= 0, f"{item} missing or out of order"
        position = found + len(item)


def render(session, election_id: int, key: str, **kw):
    return commands.render_notice(session, election_id, key, clock=CLOCK, **kw)


def head(rendered, number: str | None, day: date) -> str:
    """The parts every notice has: the 样稿 mark, its number, its date (the milestone's)."""
    text = text_of(rendered.html)
    assert text.startswith("样稿")
    assert rendered.number == number
    if number:
        assert number in text
    assert rendered.issued_on == day and f"{rendered.context['doc']['issuer']}{doc_date(day)}" in text
    return text


def districts_of(session, election_id: int) -> list[District]:
    return list(
        session.execute(select(District).where(District.election_id == election_id).order_by(District.code)).scalars()
    )


def full(name: str) -> str:
    return name if name.endswith("选区") else f"{name}选区"


# -- one check per template: what a reader must find --------------------------------------------
def check_election_committee_formed(session, elections):
    county = get_election(session, elections["county"])
    r = render(session, county.id, "election_committee_formed")
    text = head(r, "京选公〔2026〕1号", county.milestone("election_committee_formed").done_on)
    members = list(
        session.execute(
            select(CommitteeMember)
            .where(CommitteeMember.election_id == county.id, CommitteeMember.resigned_on.is_(None))
            .order_by(CommitteeMember.id)
        ).scalars()
    )
    assert len(members) == 15
    assert f"由{len(members)}人组成" in text
    in_order(text, [f"{i}{m.role}{m.name}" for i, m in enumerate(members, 1)])
    assert "京山县第二十届人民代表大会代表选举" in text  # 届次 from the jurisdiction
    assert "选举法》第九条第二款的规定" in text  # EL 9 ¶2 (issue 14)
    assert f"选举日定为{doc_date(county.anchor_date)}" in text


def check_quota_allocation(session, elections):
    """The demo records the standing committee's total (EL 13): the notice prints it and the
    townships' shares, as `huanjie quota` and `huanjie apportion` give them (see below)."""
    county = get_election(session, elections["county"])
    r = render(session, county.id, "quota_allocation")
    text = head(r, "京选公〔2026〕1号", county.milestone("quotas_allocated").done_on)
    expected = _allocation(session, county)
    total, population = expected["total"], expected["population"]
    assert f"京山县第二十届人民代表大会代表名额共{total}名" in text
    assert f"按人口{population}人计算，每一代表所代表的人口数约为{round(population / total)}人" in text
    # EL 15's own words: 相同, not 大体相等.
    assert "每一代表所代表的城乡人口数相同的原则" in text and "大体相等" not in text
    in_order(
        text,
        [f"{i}{u['name']}{u['population']}{u['seats']}{round(u['population'] / u['seats'])}" for i, u in enumerate(expected["units"], 1)]
        + [f"合计{population}{total}"],
    )


def check_districts_published(session, elections):
    county = get_election(session, elections["county"])
    r = render(session, county.id, "districts_published")
    text = head(r, "京选公〔2026〕1号", county.milestone("districts_published").planned_date)
    rows = districts_of(session, county.id)
    assert f"共划分为{len(rows)}个选区，应选代表{sum(d.seats for d in rows)}名" in text
    in_order(text, [f"{i}{d.code}{full(d.name)}{d.area or ''}{d.seats}" for i, d in enumerate(rows, 1)])


def _active(session, district: District) -> list[Voter]:
    return list(
        session.execute(
            select(Voter)
            .where(Voter.district_id == district.id, Voter.status == VoterStatus.ACTIVE)
            .order_by(func.coalesce(Voter.voter_group, ""), Voter.id)
        ).scalars()
    )


def check_voter_list(session, elections):
    county = get_election(session, elections["county"])
    first = districts_of(session, county.id)[0]
    voters = _active(session, first)
    r = render(session, county.id, "voter_list", district=first.code)
    text = head(r, "京选公〔2026〕1号", county.milestone("voter_list_published").planned_date)
    assert len(voters) > 10
    assert f"现将{full(first.name)}选民名单予以公布（共{len(voters)}人" in text
    in_order(text, [v.name for v in voters])
    # Several voters side by side where the columns fit (issue 13; notices/render.py voter_layout).
    rows = r.html.count("<tr><td>")
    per_row = -(-len(voters) // rows)
    assert per_row in (2, 3) and rows == -(-len(voters) // per_row)


def check_voter_list_supplement(session, elections):
    county = get_election(session, elections["county"])
    first = districts_of(session, county.id)[0]
    with pytest.raises(DomainError) as refused:  # the demo has no corrections: never an empty list
        render(session, county.id, "voter_list_supplement", district=first.code)
    assert refused.value.code == "E_NO_DATA" and "尚无选民补正数据" in refused.value.message
    corrections = [
        {"name": "林晓东", "sex": "男", "birth_date": "2008-12-01", "group": "第3组", "change": "增补", "reason": "选举日年满十八周岁"},
        {"name": "王丽", "sex": "女", "birth_date": "1950-02-03", "group": "第1组", "change": "删除", "reason": "死亡"},
    ]
    providers = dict(notice_data.PROVIDERS, voter_corrections=lambda s, e, d: corrections)
    r = render(session, county.id, "voter_list_supplement", district=first.code, providers=providers)
    text = head(r, "京选公〔2026〕1号", TODAY)  # bound to no milestone: today, and said so
    assert r.date_source.startswith("今天")
    assert f"{full(first.name)}选民名单公布后" in text and "共2人" in text
    age = county.anchor_date.year - 2008 - 1  # born 1 December, the vote in January
    in_order(text, [f"1增补林晓东男{age}第3组选举日年满十八周岁", "2删除王丽女"])


def check_voter_certificate(session, elections):
    county = get_election(session, elections["county"])
    first = districts_of(session, county.id)[0]
    voters = _active(session, first)
    r = render(session, county.id, "voter_certificate", district=first.code)
    text = head(r, None, county.milestone("voter_list_published").planned_date)
    assert r.html.count('data-docx="card"') == len(voters)
    in_order(text, [f"编号：{first.code}-{i:04d}姓名{v.name}" for i, v in enumerate(voters, 1)])


def _candidates(session, election_id: int, statuses) -> dict[str, list]:
    out = {}
    for lst in candidate_records.district_lists(session, election_id):
        out[lst.district] = candidate_records.candidates_of(session, election_id, lst.district, statuses)
    return out


def check_preliminary_candidates(session, elections):
    e = get_election(session, elections["jingshan_2011"])
    r = render(session, e.id, "preliminary_candidates")
    text = head(r, "京选公〔2011〕1号", e.milestone("preliminary_candidates_published").done_on)
    per = _candidates(session, e.id, [CandidateStatus.PRELIMINARY, CandidateStatus.NOT_SELECTED, CandidateStatus.OFFICIAL])
    assert f"共{sum(len(v) for v in per.values())}人，按姓氏笔划排列" in text
    table = stroke_order.load_table()
    for people in per.values():
        ordered = stroke_order.sort_names(people, table, name=lambda c: c.name)
        in_order(text, [c.name for c in ordered])
        assert [c.name for c in ordered] != sorted(c.name for c in people) or len(people) < 3


def check_official_candidates(session, elections):
    e = get_election(session, elections["jingshan_2011"])
    r = render(session, e.id, "official_candidates")
    text = head(r, "京选公〔2011〕1号", e.milestone("official_candidates_published").done_on)
    per = _candidates(session, e.id, [CandidateStatus.OFFICIAL])
    lists = {lst.district: lst for lst in candidate_records.district_lists(session, e.id)}
    table = stroke_order.load_table()
    assert "中国共产党" not in text and "中共党员" in text  # 政治面貌 in its official short form
    for code, people in per.items():
        assert f"应选代表{lists[code].seats}名，正式代表候选人{len(people)}名" in text
        rows = []
        for i, c in enumerate(stroke_order.sort_names(people, table, name=lambda c: c.name), 1):
            sex = {"male": "男", "female": "女"}[c.sex]
            assert c.education  # the demo records 文化程度
            rows.append(
                f"{i}{c.name}{sex}{c.ethnicity}{year_month(c.birth_date)}{forms.political_status(c.party)}{forms.education(c.education)}"
            )
        in_order(text, rows)


def check_election_day(session, elections):
    county = get_election(session, elections["county"])
    r = render(session, county.id, "election_day")
    text = head(r, "京选公〔2026〕1号", county.milestone("districts_published").planned_date)
    rows = districts_of(session, county.id)
    assert f"京山县第二十届人民代表大会代表选举的选举日定为{doc_date(county.anchor_date)}（{weekday_cn(county.anchor_date)}）" in text
    assert f"共划分{len(rows)}个选区，应选代表{sum(d.seats for d in rows)}名" in text


def check_results(session, elections):
    e = get_election(session, elections["jingshan_2011"])
    r = render(session, e.id, "results")
    text = head(r, "京选公〔2011〕1号", e.milestone("results_published").done_on)
    assert "第二十届" not in text  # the recorded 届次 is this round's, not 2011's
    for lst in candidate_records.district_lists(session, e.id):
        first = [x for x in res.rounds_of(session, e.id, lst.district) if x.purpose in ("first", "revote")][-1]
        data = first.input
        issued, invalid = data["ballots_issued"], data["invalid_ballots"]
        assert (
            f"登记选民{data['registered_voters']}人，参加投票{issued}人；发出选票{issued}张，收回选票{data['ballots_returned']}张，"
            f"有效票{data['ballots_returned'] - invalid}张，无效票{invalid}张" in text
        )
        deputies = res.deputies(session, e.id, lst.district)
        assert len(deputies) == lst.seats
        in_order(text, [f"{full(lst.name)}（应选代表{lst.seats}名）"] + [f"{d.name}" for d in deputies])
        for d in deputies:
            assert f"{d.name}" in text and str(d.votes) in text


def check_certificate_of_election(session, elections):
    e = get_election(session, elections["jingshan_2011"])
    r = render(session, e.id, "certificate_of_election")
    text = head(r, None, e.milestone("results_published").done_on)
    deputies = res.deputies(session, e.id)
    assert r.html.count('data-docx="card"') == len(deputies) == 6
    names = {lst.district: lst.name for lst in candidate_records.district_lists(session, e.id)}
    in_order(
        text,
        [f"编号：420821-2011-{i:03d}{d.name}同志：" for i, d in enumerate(deputies, 1)],
    )
    for d in deputies:
        assert f"在{full(names[d.district])}当选为京山县人民代表大会代表" in text


def check_party_request(session, elections):
    e = get_election(session, elections["party_branch"])
    r = render(session, e.id, "party_request")
    assert r.context["doc"]["heading_lines"] == [
        "中共京山县市场监督管理局机关支部委员会",
        "关于召开党员大会进行换届选举的请示",
    ]
    assert "中共京山县市场监督管理局机关支部委员会<br>关于召开党员大会进行换届选举的请示" in r.html
    text = head(r, "京党支〔2026〕1号", e.milestone(commands.bound_milestone(e, SPECS["party_request"])).done_on)
    # Addressed to the branch's higher organisation, as recorded (never the county committee).
    assert "中共京山县市场监督管理局机关委员会：" in text and "中共京山县委员会" not in text
    assert f"任期将于{doc_date(e.anchor_date)}届满" in text
    assert f"拟于{doc_date(e.milestone('assembly_held').planned_date)}召开党员大会" in text
    assert text.endswith(f"妥否，请批示。中共京山县市场监督管理局机关支部委员会{doc_date(r.issued_on)}")


PARTY_RESULTS = [
    {
        "code": "DZB", "name": "党支部", "seats": 3, "registered": 25, "participated": 23, "ballots_issued": 23,
        "ballots_returned": 23, "valid_ballots": 22, "invalid_ballots": 1, "valid": True,
        "elected": [
            {"name": "周建国", "sex": "男", "role": "书记", "votes": 21},
            {"name": "李秀英", "sex": "女", "role": "副书记", "votes": 20},
            {"name": "王晓东", "sex": "男", "role": "委员", "votes": 19},
        ],
    }
]  # fmt: skip


def check_party_results_report(session, elections):
    e = get_election(session, elections["party_branch"])
    providers = dict(notice_data.PROVIDERS, results=lambda s, el, d: PARTY_RESULTS)
    r = render(session, e.id, "party_results_report", providers=providers, on=date(2026, 12, 26))
    text = head(r, "京党支〔2026〕1号", date(2026, 12, 26))
    assert r.date_source == "指定日期"
    assert "中共京山县市场监督管理局机关委员会：" in text
    assert "应到会有选举权的党员25名，实到会23名，超过应到会人数的五分之四，会议有效" in text
    assert "共发出选票23张，收回23张，其中有效票22张，无效票1张，选举有效" in text
    in_order(text, ["1周建国男书记21", "2李秀英女副书记20", "3王晓东男委员19"])


def check_residents_announcement(session, elections):
    e = get_election(session, elections["residents_committee"])
    r = render(session, e.id, "residents_announcement")
    key = commands.bound_milestone(e, SPECS["residents_announcement"])
    text = head(r, "新居选公〔2026〕1号", e.milestone(key).planned_date)
    assert f"选举日定为{doc_date(e.anchor_date)}（{weekday_cn(e.anchor_date)}）" in text
    assert "城市居民委员会组织法》第十四条第一款" in text  # the 2025 text is in force on its election day (issue 14)


def check_residents_results(session, elections):
    e = get_election(session, elections["residents_committee"])
    rows = [dict(PARTY_RESULTS[0], elected=[dict(x, role=role) for x, role in zip(PARTY_RESULTS[0]["elected"], ["主任", "副主任", "委员"], strict=True)])]
    providers = dict(notice_data.PROVIDERS, results=lambda s, el, d: rows)
    r = render(session, e.id, "residents_results", providers=providers)
    key = commands.bound_milestone(e, SPECS["residents_results"])
    text = head(r, "新居选公〔2026〕1号", e.milestone(key).planned_date)
    assert "登记参加选举的选民25人，参加投票23人；发出选票23张，收回选票23张，有效票22张，无效票1张。选举有效。" in text
    in_order(text, ["1主任周建国男21", "2副主任李秀英女20", "3委员王晓东男19"])


def check_deadline_warning(session, elections):
    county = get_election(session, elections["county"])
    r = render(session, county.id, "deadline_warning", on=TODAY)
    text = head(r, None, TODAY)
    pending = sorted(
        (m.latest, m.key) for m in county.milestones if m.status == "pending" and m.latest and m.latest >= TODAY
    )
    latest, key = pending[0]
    name = r.context["election"]["milestones"][key]["name"]
    assert f"「{name}」的法定最迟期限为{doc_date(latest)}，距今还有{(latest - TODAY).days}天" in text


CHECKS = {name[len("check_"):]: fn for name, fn in globals().items() if name.startswith("check_")}


def test_every_template_has_a_content_check():
    assert set(CHECKS) == set(SPECS)


@pytest.mark.parametrize("key", sorted(SPECS))
def test_notice_content_matches_the_demo_records(demo, key):
    database, elections = demo
    with database.reading() as session:
        CHECKS[key](session, elections)


# -- 按姓氏笔划 -----------------------------------------------------------------------------------
# Common surnames as 通用规范汉字表 (State Council, 2013) prints them: its 一级字表 is in stroke
# order (count, then stroke by stroke 横竖撇点折), so its numbers (Unihan kTGH) are the official
# order: 丁5 于24 万35 马72 王75 方163 邓185 石216 … 魏3416.
TABLE_ORDER = (
    "丁于万马王方邓石卢叶田冯吕朱乔任刘江许孙杜李杨吴何汪沈宋张陆陈范林罗周郑赵胡钟段侯姜洪贺秦袁聂贾夏顾钱"
    "徐高郭唐黄萧曹康梁彭董蒋韩程傅曾谢雷蔡熊潘薛魏"
)
# Surnames from the table's 二级字表 (numbered in a run of their own), placed by their strokes
# (横1 竖2 撇3 点4 折5): 尹 5113 between 方 4153 and 邓 5452 (4 strokes); 邹 3551152 between 何
# 3212512 and 汪 4411121 (7); 龚 13534122134 between 曹 12512212511 and 康 41351124134 (11);
# 廖 41354154134333 between 蔡 12235445411234 and 熊 54251135354444 (14).
LEVEL_TWO = {"尹": ("方", "邓"), "邹": ("何", "汪"), "龚": ("曹", "康"), "廖": ("蔡", "熊")}


def test_surnames_in_the_order_of_the_official_table():
    table = stroke_order.load_table()
    assert table.complete
    names = list(TABLE_ORDER)
    assert stroke_order.sort_names(reversed(names), table) == names
    assert stroke_order.sort_names(sorted(names), table) == names  # not code-point order


@pytest.mark.parametrize("surname", sorted(LEVEL_TWO))
def test_second_level_surnames_go_by_their_strokes(surname):
    table = stroke_order.load_table()
    before, after = LEVEL_TWO[surname]
    ordered = stroke_order.sort_names([*TABLE_ORDER, surname], table)
    assert ordered.index(before) < ordered.index(surname) < ordered.index(after)


def test_whole_names_and_rare_characters():
    table = stroke_order.load_table()
    # Same surname: the given name decides; a dot in a minority name is skipped; a CJK
    # Extension B character (𠮷, 6 strokes by Unihan) is placed by its count.
    names = ["王五", "王一", "阿依古丽·买买提", "𠮷祥", "丁力"]
    assert stroke_order.sort_names(names, table) == ["丁力", "王一", "王五", "𠮷祥", "阿依古丽·买买提"]


def test_official_short_forms():
    assert forms.political_status("中国共产党") == "中共党员"
    assert forms.political_status("中国民主同盟") == "民盟盟员"
    assert forms.political_status(None) == "群众"
    assert forms.political_status("某某") == "某某"  # never guessed
    assert forms.education("大学本科") == "大学" and forms.education("大学专科") == "大专"
    assert forms.education(None) == ""


# -- numbering ----------------------------------------------------------------------------------
def _publish(db, election_id, key, day: date):
    clock = FixedClock(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC))
    with db.transaction() as session:
        return commands.publish_notice(session, election_id, key, on=day, clock=clock, actor="test").notice.number


@pytest.mark.parametrize("mode", ["round", "year"])
def test_numbering_per_round_runs_across_the_new_year(db, mode):
    with db.transaction() as session:
        elections = build_demo(session, clock=CLOCK, registers=False).elections
        notice_settings.update_settings(session, find_jurisdiction(session, "420821"), numbering=mode, clock=CLOCK, actor="test")
    county = elections["county"]
    first = _publish(db, county, "election_committee_formed", date(2026, 12, 30))
    second = _publish(db, county, "election_day", date(2027, 1, 4))
    if mode == "round":
        assert (first, second) == ("第1号", "第2号")  # one run for the round, across 1 January
    else:
        assert (first, second) == ("京选公〔2026〕1号", "京选公〔2027〕1号")
    with db.reading() as session:
        preview = commands.render_notice(
            session, county, "deadline_warning", clock=FixedClock(datetime(2027, 1, 4, 2, tzinfo=UTC))
        )
        assert preview.number is None
        # A new version keeps its number, whatever the mode.
    assert _publish(db, county, "election_day", date(2027, 1, 5)) == second


# -- the 样稿 mark ----------------------------------------------------------------------------------
def _pdf_text(content: bytes) -> str:
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout
        return out.decode()
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _docx_text(content: bytes) -> str:
    package = zipfile.ZipFile(io.BytesIO(content))
    return "".join(package.read(n).decode() for n in package.namelist() if n.startswith("word/") and n.endswith(".xml"))


def test_draft_mark_on_previews_never_on_published_notices(db):
    with db.transaction() as session:
        county = build_demo(session, clock=CLOCK, registers=False).elections["county"]
    with db.reading() as session:
        html = commands.render_notice(session, county, "election_committee_formed", clock=CLOCK)
        pdf = commands.render_notice(session, county, "election_committee_formed", fmt="pdf", clock=CLOCK)
        docx = commands.render_notice(session, county, "election_committee_formed", fmt="docx", clock=CLOCK)
    assert 'class="draft-mark"' in html.html and "【样稿】" in html.html
    assert "样稿" in _pdf_text(pdf.content).replace(" ", "")
    assert "样稿" in _docx_text(docx.content)
    with db.transaction() as session:
        published = commands.publish_notice(
            session, county, "election_committee_formed", fmt="pdf", clock=CLOCK, actor="test"
        ).notice
        notice_id = published.id
        assert published.data["doc"]["draft"] is False
    with db.reading() as session:
        notice, stored = published_file(session, notice_id, county, None)
        _, as_word = published_file(session, notice_id, county, "docx")
        _, as_html = published_file(session, notice_id, county, "html")
        assert notice.number == pdf.number == "京选公〔2026〕1号"
        assert commands.verify_notice(session, notice_id)["ok"]
    text = _pdf_text(stored)
    assert "样稿" not in text.replace(" ", "") and "京选公〔2026〕1号" in text
    assert "样稿" not in _docx_text(as_word) and "京选公〔2026〕1号" in _docx_text(as_word)
    assert 'class="draft-mark"' not in as_html.decode()


# -- the recorded allocation ----------------------------------------------------------------------
def _allocation(session, county) -> dict:
    """The demo county's allocation as `huanjie quota` and `huanjie apportion` give it: the EL 12
    total for its townships' population, spread over the townships by population, each at least
    one (EL 15); decided by the provincial standing committee (EL 13)."""
    from workflow.commands import register_levels
    from workflow.kinds import get_kind
    from workflow.rules.apportion import allocate
    from workflow.rules.quota import total_seats

    towns: dict[str, int] = {}
    for town in register_levels.township_elections(session, county.id):
        towns[town.jurisdiction.name] = sum(d.population for d in districts_of(session, town.id))
    population = sum(towns.values())
    total = total_seats(get_kind("people_congress"), "county", population).seats
    seats = allocate(towns, total, upper=total)
    return {
        "total": total,
        "population": population,
        "decided_by": "湖北省人民代表大会常务委员会",
        "document": "鄂人常〔2026〕3号",
        "units": [{"name": t, "population": p, "seats": seats[t]} for t, p in towns.items()],
    }


def test_quota_notice_prints_the_recorded_allocation(demo):
    database, elections = demo
    with database.reading() as session:
        county = get_election(session, elections["county"])
        allocation = _allocation(session, county)
        assert notice_data.allocation(session, county, None) == allocation  # the demo's record
        r = render(session, county.id, "quota_allocation")
        text = head(r, "京选公〔2026〕1号", county.milestone("quotas_allocated").done_on)
        total, population = allocation["total"], allocation["population"]
        assert total >= 140  # EL 12 ¶1 (三): a county's base 140, one more per 5,000 people
        assert (
            f"经湖北省人民代表大会常务委员会决定（鄂人常〔2026〕3号），京山县第二十届人民代表大会代表名额共{total}名，"
            f"按人口{population}人计算，每一代表所代表的人口数约为{round(population / total)}人" in text
        )
        in_order(
            text,
            [f"{i}{u['name']}{u['population']}{u['seats']}{round(u['population'] / u['seats'])}" for i, u in enumerate(allocation["units"], 1)]
            + [f"合计{population}{total}"],
        )
        assert "乡镇（单位）" in text and "城乡人口数相同" in text
        wrong = dict(allocation, total=total + 1)
        providers = dict(notice_data.PROVIDERS, allocation=lambda s, e, d: wrong)
        with pytest.raises(DomainError) as refused:
            render(session, county.id, "quota_allocation", providers=providers)
        assert refused.value.code == "E_ALLOCATION_MISMATCH"
        assert f"合计 {total} 名与代表总名额 {total + 1} 名不符" in refused.value.message


def test_a_two_line_title_stays_the_title_in_word(demo):
    """The 请示's title breaks after the issuer in Word too, and only the title is in it."""
    from docx import Document

    database, elections = demo
    with database.reading() as session:
        r = render(session, elections["party_branch"], "party_request", fmt="docx")
    paragraphs = [p.text for p in Document(io.BytesIO(r.content)).paragraphs if p.text.strip()]
    assert paragraphs[0] == "中共京山县市场监督管理局机关支部委员会\n关于召开党员大会进行换届选举的请示"
    assert paragraphs[1] == "京党支〔2026〕1号"
    assert paragraphs[2] == "中共京山县市场监督管理局机关委员会："
    assert paragraphs[-2:] == ["中共京山县市场监督管理局机关支部委员会", doc_date(r.issued_on)]
