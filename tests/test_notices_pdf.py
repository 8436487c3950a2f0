"""A 3,000-voter district list to PDF: every row's text comes back out of the PDF intact."""

from __future__ import annotations

import re

import pytest

from demo import samples
from notices.context import sanitize
from notices.output import to_pdf
from notices.render import age_on, render_html
from tests.test_notices_render import _pdftotext

ELECTION_DAY = "2026-11-15"


def voter_list_context(voters: list[dict]) -> dict:
    return {
        "template": "voter_list",
        "template_name": "选民名单公告",
        "doc": {
            "heading": "京山县选举委员会公告",
            "number": "京选公〔2026〕3号",
            "issuer": "京山县选举委员会",
            "issued_on": "2026-10-21",
            "date_style": "arabic",
            "public": True,
        },
        "election": {
            "anchor_date": ELECTION_DAY,
            "title": "京山县2026年县级人民代表大会代表换届选举",
            "milestones": {},
        },
        "district": {"code": "420821-001", "name": "新市镇第一"},
        "data": {"voters": sanitize(voters)},
        "options": {},
    }


@pytest.mark.slow
def test_three_thousand_voters_to_pdf_with_every_glyph():
    voters = samples.voters(3000, seed=7)
    context = voter_list_context(voters)
    pdf = to_pdf(render_html("voter_list", context))
    flat = re.sub(r"\s+", "", _pdftotext(pdf))
    for part in (
        "京山县选举委员会公告",
        "京选公〔2026〕3号",
        "特此公告。",
        "京山县选举委员会",
        "2026年10月21日",
        "附件",
        "新市镇第一选区选民名单",
        "序号姓名性别年龄选民小组",
    ):
        assert part in flat, part
    # Every row, in order, character for character (a missing glyph would break the match).
    position = 0
    for index, voter in enumerate(voters, start=1):
        row = (
            f"{index}{voter['name']}{voter['sex']}{age_on(voter['birth_date'], ELECTION_DAY)}{voter['group']}"
        )
        found = flat.find(row, position)
        assert found >= 0, f"row {index} ({row}) not found in the PDF text"
        position = found + len(row)
    assert "建设路" not in flat  # addresses never printed
    assert flat.count("序号姓名性别年龄选民小组") >= 40  # the header repeats on every page of the list
