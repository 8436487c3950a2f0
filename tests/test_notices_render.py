"""Notices rendered for the demo county: every template's required parts, privacy, formats."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from demo import samples
from demo.county import build_demo
from notices.catalog import SPECS, Numbering, Scope
from notices.glyphs import check_glyphs, font_codepoints
from notices.output import doc_model, to_docx, to_pdf
from notices.render import cn_number, doc_date, mask_id, render_html
from workflow.clock import FixedClock
from workflow.commands import notice_data
from workflow.commands import notices as commands
from workflow.errors import DomainError
from workflow.store import Database

TODAY = date(2026, 11, 26)
CLOCK = FixedClock(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
DISTRICTS = samples.districts(4)
VOTERS = {d["code"]: samples.voters(40, seed=i + 10) for i, d in enumerate(DISTRICTS)}
PRELIMINARY = samples.candidates(DISTRICTS, official=False)
OFFICIAL = samples.candidates(DISTRICTS)
RESULTS = samples.results(DISTRICTS, OFFICIAL)
PARTY_RESULTS = [
    {
        "code": "DZB",
        "name": "党支部",
        "seats": 3,
        "registered": 25,
        "participated": 23,
        "ballots_issued": 23,
        "ballots_returned": 23,
        "valid_ballots": 22,
        "invalid_ballots": 1,
        "valid": True,
        "elected": [
            {"name": "周建国", "sex": "男", "role": "书记", "votes": 21},
            {"name": "李秀英", "sex": "女", "role": "副书记", "votes": 20},
            {"name": "王晓东", "sex": "男", "role": "委员", "votes": 19},
        ],
    }
]


def _only(rows, district, key="district_code"):
    return [r for r in rows if not district or r[key] == district]


def _results(session, election, district):
    if election.kind == "people_congress":
        return _only(RESULTS, district, "code")
    return PARTY_RESULTS


PROVIDERS = dict(
    notice_data.PROVIDERS,
    allocation=lambda s, e, d: None,  # the districts' seats (the recorded allocation: test_notice_content)
    districts=lambda s, e, d: DISTRICTS,
    voters=lambda s, e, d: VOTERS.get(d, []) if d else VOTERS[DISTRICTS[0]["code"]],
    voter_corrections=lambda s, e, d: [
        dict(v, change="增补", reason="选举日年满十八周岁") for v in VOTERS.get(d, [])[:3]
    ],
    preliminary_candidates=lambda s, e, d: _only(PRELIMINARY, d),
    official_candidates=lambda s, e, d: _only(OFFICIAL, d),
    results=_results,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('notices') / 'demo.sqlite3'}")
    database.migrate()
    with database.transaction() as session:
        result = build_demo(session, clock=CLOCK)
    yield database, result.elections
    database.dispose()


def election_for(elections: dict, spec) -> int:
    kind = spec.kinds[0]
    return elections[
        {
            "people_congress": "county",
            "party_branch": "party_branch",
            "residents_committee": "residents_committee",
        }[kind]
    ]


def render(demo, key, fmt="html", district=None, **kw):
    database, elections = demo
    spec = SPECS[key]
    if district is None and spec.scope is Scope.DISTRICT:
        district = DISTRICTS[0]["code"]
    with database.reading() as session:
        return commands.render_notice(
            session,
            election_for(elections, spec),
            key,
            fmt=fmt,
            district=district,
            clock=CLOCK,
            providers=PROVIDERS,
            **kw,
        )


def expected_rows(key: str, district: str | None) -> list[str]:
    """The names each template must list, in order."""
    code = district or DISTRICTS[0]["code"]
    match key:
        case "voter_list" | "voter_certificate" | "residents_announcement":
            return [v["name"] for v in VOTERS[code]]
        case "voter_list_supplement":
            return [v["name"] for v in VOTERS[code][:3]]
        case "preliminary_candidates":
            return [c["name"] for c in PRELIMINARY]
        case "official_candidates":
            return [c["name"] for c in OFFICIAL]
        case "results" | "certificate_of_election":
            return [e["name"] for r in RESULTS for e in r["elected"]]
        case "party_results_report" | "residents_results":
            return [e["name"] for e in PARTY_RESULTS[0]["elected"]]
        case "quota_allocation" | "districts_published":
            return [d["name"] for d in DISTRICTS]
        case _:
            return []


@pytest.mark.parametrize("key", list(SPECS))
def test_every_template_renders_with_its_required_parts(demo, key):
    spec = SPECS[key]
    rendered = render(demo, key)
    html = rendered.html
    text = re.sub(r"<[^>]+>", "", html.split("</style>", 1)[1])
    # Title
    heading = "<br>".join(rendered.context["doc"]["heading_lines"])
    assert (
        f'<h1 class="title" data-docx="title">{heading}</h1>' in html
        or f'<h1 data-docx="title">{heading}</h1>' in html
    )
    # Number: 京选公〔2026〕1号 style per committee and year, or a certificate serial.
    if spec.numbering in (Numbering.NOTICE, Numbering.PARTY):
        assert re.fullmatch(r"\w{2,4}〔20\d\d〕\d+号", rendered.number), rendered.number
        assert f"〔{rendered.issued_on.year}〕" in rendered.number
        assert rendered.number in text
    elif spec.numbering is Numbering.CERTIFICATE:
        assert rendered.number is None
        assert "编号：" in text
    # Issuer and date (Arabic numerals by default).
    issuer = rendered.context["doc"]["issuer"]
    assert issuer in text
    assert "选举委员会" in issuer or issuer.startswith("中共")
    # The date: the bound milestone's (done or planned), else today's, never silently.
    assert doc_date(rendered.issued_on) in text and rendered.date_source
    # List rows: every name, in order.
    names = expected_rows(key, None)
    position = 0
    for name in names:
        found = text.find(name, position)
        assert found >= 0, f"{name} missing or out of order in {key}"
        position = found + len(name)
    if key in ("voter_list", "voter_list_supplement", "residents_announcement"):
        per_row = html.count("<th>序号</th>") if key == "voter_list" else 1  # voters side by side
        assert html.count("<tr><td>") == -(-len(names) // per_row)


def test_titles_and_closings_per_document_type(demo):
    assert render(demo, "voter_list").title == "京山县选举委员会公告"
    party = render(demo, "party_request")
    assert party.title == "中共京山县市场监督管理局机关支部委员会关于召开党员大会进行换届选举的请示"
    assert "妥否，请批示。" in party.html and "特此公告" not in party.html
    assert party.number == "京党支〔2026〕1号"
    assert render(demo, "residents_announcement").number == "新居选公〔2026〕1号"
    assert "特此公告。" in render(demo, "election_day").html
    assert "星期日" in render(demo, "election_day").html  # the demo votes on a Sunday


def test_chinese_numeral_date_option(demo):
    rendered = render(demo, "election_committee_formed", date_style="chinese", on=TODAY)
    assert "二〇二六年十一月二十六日" in rendered.html


def test_missing_data_is_refused_in_chinese_never_faked(demo):
    database, elections = demo
    # The township round has its districts and voters (one register for 县乡两级) but no lists
    # yet; stored data left out by the providers stands for a round with none at all.
    empty = {**notice_data.PROVIDERS, "voters": lambda s, e, d: [], "districts": lambda s, e, d: []}
    with database.reading() as session:
        for key, message in [
            ("voter_list", "尚无选民数据，无法生成选民名单公告"),
            ("official_candidates", "尚无正式代表候选人数据"),
            ("results", "尚无选举结果数据"),
            ("districts_published", "尚无选区数据"),
        ]:
            with pytest.raises(DomainError) as caught:
                commands.render_notice(
                    session,
                    elections["420821100"],
                    key,
                    district="420821100-01" if key == "voter_list" else None,
                    clock=CLOCK,
                    providers=empty,
                )
            assert caught.value.code == "E_NO_DATA"
            assert message in caught.value.message
    no_voters = {**notice_data.PROVIDERS, "voters": lambda s, e, d: []}
    with database.reading() as session, pytest.raises(DomainError) as caught:
        commands.render_notice(
            session, elections["420821100"], "voter_list", district="420821100-01", clock=CLOCK, providers=no_voters
        )
    assert caught.value.code == "E_NO_DATA" and "选区 420821100-01" in caught.value.message


def test_scope_and_kind_are_checked(demo):
    database, elections = demo
    with database.reading() as session:
        with pytest.raises(DomainError) as caught:
            commands.render_notice(session, elections["county"], "voter_list", clock=CLOCK, providers=PROVIDERS)
        assert caught.value.code == "E_DISTRICT_REQUIRED"
        with pytest.raises(DomainError) as caught:
            commands.render_notice(session, elections["county"], "party_request", clock=CLOCK, providers=PROVIDERS)
        assert caught.value.code == "E_TEMPLATE_KIND"
        with pytest.raises(DomainError) as caught:
            commands.render_notice(session, elections["county"], "no_such", clock=CLOCK, providers=PROVIDERS)
        assert caught.value.code == "E_UNKNOWN_TEMPLATE"
        with pytest.raises(DomainError) as caught:
            commands.render_notice(
                session, elections["county"], "voter_list", district="420821-999", clock=CLOCK, providers=PROVIDERS
            )
        assert caught.value.code == "E_UNKNOWN_DISTRICT"


def test_public_voter_list_hides_addresses_and_id_numbers(demo):
    for key in ("voter_list", "voter_certificate", "voter_list_supplement"):
        rendered = render(demo, key)
        for voter in VOTERS[DISTRICTS[0]["code"]]:
            assert voter["id_number"] not in rendered.html
            assert voter["address"] not in rendered.html
        stored = str(rendered.context)
        assert "建设路" not in stored
        assert all(v["id_number"] not in stored for v in VOTERS[DISTRICTS[0]["code"]])
    voter_list = render(demo, "voter_list").html
    assert "<th>姓名</th><th>性别</th><th>年龄</th><th>选民小组</th>" in voter_list


def test_deadline_warning_names_the_nearest_deadline(demo):
    rendered = render(demo, "deadline_warning")
    warning = rendered.context["warning"]
    assert warning["latest"] >= TODAY.isoformat()
    assert f"距今还有{warning['days_left']}天" in rendered.html
    named = render(demo, "deadline_warning", options={"milestone": "official_candidates_published"})
    assert "「公布正式代表候选人名单」" in named.html and "选举法第三十二条" in named.html


def test_docx_carries_title_number_rows_and_issuer(demo):
    from docx import Document

    rendered = render(demo, "voter_list", fmt="docx", on=TODAY)
    document = Document(io.BytesIO(rendered.content))
    paragraphs = [p.text for p in document.paragraphs]
    assert "京山县选举委员会公告" in paragraphs
    assert rendered.number in paragraphs
    assert "京山县选举委员会" in paragraphs and "2026年11月26日" in paragraphs
    assert "特此公告。" in paragraphs
    # GB/T 9704 order: body, 特此公告, 附件说明, issuer, date, then the annex on a new page.
    annex_note = f"附件：{DISTRICTS[0]['name']}选区选民名单"
    order = [
        paragraphs.index(p) for p in ("特此公告。", annex_note, "京山县选举委员会", "2026年11月26日", "附件")
    ]
    assert order == sorted(order)
    table = document.tables[-1]
    # Two or three voters to a row (five columns each), in order, left to right.
    width = len(table.rows[0].cells)
    assert width in (5, 10, 15) and [c.text for c in table.rows[0].cells[:5]][1] == "姓名"
    names = [row.cells[i].text for row in table.rows[1:] for i in range(1, width, 5) if row.cells[i].text]
    assert names == [v["name"] for v in VOTERS[DISTRICTS[0]["code"]]]


def test_docx_certificates_one_per_page(demo):
    rendered = render(demo, "voter_certificate")
    model = doc_model(rendered.html)
    assert sum(1 for b in model.body if b[0] == "pagebreak") == len(VOTERS[DISTRICTS[0]["code"]]) - 1
    assert to_docx(rendered.html)[:2] == b"PK"


def test_small_notice_pdf_text_round_trip(demo):
    rendered = render(demo, "official_candidates", fmt="pdf")
    assert rendered.content.startswith(b"%PDF")
    text = _pdftotext(rendered.content)
    flat = re.sub(r"\s+", "", text)
    assert "京山县选举委员会公告" in flat and rendered.number in flat
    for candidate in OFFICIAL:
        assert candidate["name"] in flat


def _pdftotext(pdf: bytes) -> str:
    try:
        return subprocess.run(
            ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
    except FileNotFoundError:  # poppler-utils missing: pypdf reads the same text layer
        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_missing_glyph_fails_loudly_naming_the_character():
    rare = "\U00020001"  # CJK Extension B (rare name characters): not in Noto Serif CJK SC
    assert ord(rare) not in font_codepoints()
    html = render_html(
        "deadline_warning",
        {
            "doc": {
                "heading": "提醒",
                "number": None,
                "issuer": "委员会",
                "issued_on": "2026-11-26",
                "date_style": "arabic",
                "public": False,
            },
            "election": {"title": f"王{rare}选举", "milestones": {}},
            "warning": {
                "name": "x",
                "latest": "2026-12-01",
                "days_left": 5,
                "planned": None,
                "source": "选举法",
                "text": "t",
            },
            "options": {},
        },
    )
    with pytest.raises(DomainError) as caught:
        to_pdf(html)
    assert caught.value.code == "E_MISSING_GLYPH"
    assert rare in caught.value.message and "U+20001" in caught.value.message
    check_glyphs(html.replace(rare, "明"))  # the same document without it passes


def test_chinese_dates():
    assert doc_date(date(2021, 9, 20), "chinese") == "二〇二一年九月二十日"
    assert doc_date(date(2021, 9, 20)) == "2021年9月20日"
    assert doc_date(date(2010, 10, 10), "chinese") == "二〇一〇年十月十日"
    assert doc_date(date(2031, 12, 31), "chinese") == "二〇三一年十二月三十一日"
    assert doc_date("2026-01-01", "chinese") == "二〇二六年一月一日"


_VALUES = {c: i for i, c in enumerate("〇一二三四五六七八九")}


def _parse_cn(text: str) -> int:
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_VALUES[tens] if tens else 1) * 10 + (_VALUES[ones] if ones else 0)
    return _VALUES[text]


@given(st.dates(min_value=date(1949, 10, 1), max_value=date(2199, 12, 31)))
def test_chinese_date_reads_back(day):
    text = doc_date(day, "chinese")
    year, rest = text.split("年")
    month, rest = rest.split("月")
    assert rest.endswith("日")
    assert int("".join(str(_VALUES[c]) for c in year)) == day.year
    assert _parse_cn(month) == day.month and _parse_cn(rest[:-1]) == day.day
    assert cn_number(day.day) == rest[:-1]


def test_mask_id_examples():
    assert mask_id("42082119900101123X") == "420821***********X"
    assert mask_id(None) == ""
    assert mask_id("12345") == "*****"


@given(st.text(alphabet="0123456789X", min_size=11, max_size=18))
def test_mask_id_keeps_the_area_code_and_the_check_character_only(number):
    masked = mask_id(number)
    assert len(masked) == len(number)
    assert masked[:6] == number[:6] and masked[-1:] == number[-1:]
    assert set(masked[6:-1]) == {"*"}


def test_deadline_warning_as_plain_text_for_the_outbox(demo):
    database, elections = demo
    with database.reading() as session:
        message = commands.deadline_warning_message(
            session, elections["county"], "official_candidates_published", today=TODAY
        )
    assert message["milestone"] == "official_candidates_published"
    assert message["subject"].startswith("【期限提醒】") and "公布正式代表候选人名单" in message["subject"]
    assert f"距今还有{message['days_left']}天" in message["body"]
    assert "<" not in message["body"] and message["body"].endswith("2026年11月26日")
