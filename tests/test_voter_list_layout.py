"""The voter list puts as many voters on a row as the columns fit (issue 13; two with the usual
data — three would need ~48 em of the row's 42 at 10.5 pt): fewer pages, every voter in order,
the same glyph check."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from demo import samples
from notices.output import to_pdf
from notices.render import LIST_WIDTH_EM, age_on, environment, render_html, voter_layout
from tests.test_notices_pdf import ELECTION_DAY, voter_list_context
from tests.test_notices_render import _pdftotext


def voter(name: str, group: str, born: str = "1960-05-01") -> dict:
    return {"name": name, "sex": "男", "birth_date": born, "group": group}


def test_as_many_voters_a_row_as_the_columns_fit():
    # Three never fit at 10.5 pt: five columns with their headers need some 16 em of the 42.
    assert voter_layout([voter("张三", "一组")], "age", ELECTION_DAY, most=3)["per_row"] == 2
    assert voter_layout([voter("张三", "一组")], "age", ELECTION_DAY, most=3)["per_row"] * 16 <= LIST_WIDTH_EM
    usual = [voter("张三", "第12选民小组")]  # the sample data's groups
    assert voter_layout(usual, "age", ELECTION_DAY)["per_row"] == 2
    long = [voter("张三", "新市镇阳光社区第十二居民小组")]
    assert voter_layout(long, "date", ELECTION_DAY)["per_row"] == 1
    layout = voter_layout(usual, "age", ELECTION_DAY)
    assert len(layout["widths"]) == 5 and abs(sum(layout["widths"]) * layout["per_row"] - 100) < 0.1


@pytest.mark.slow
def test_the_list_to_pdf_in_fewer_pages_every_voter_in_order(monkeypatch):
    voters = samples.voters(400, seed=3)
    context = voter_list_context(voters)
    html = render_html("voter_list", context)
    assert html.count("<th>序号</th>") == 2 and 'class="list compact fixed multi"' in html
    pdf = to_pdf(html)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    monkeypatch.setitem(
        environment().globals, "voter_layout", lambda *a, **kw: voter_layout(*a, **kw, most=1)
    )
    one_a_row = to_pdf(render_html("voter_list", context))
    assert len(PdfReader(io.BytesIO(one_a_row)).pages) - 1 >= 2 * (pages - 1) - 1  # the annex about halved
    flat = re.sub(r"\s+", "", _pdftotext(pdf))
    position = 0
    for index, v in enumerate(voters, start=1):
        row = f"{index}{v['name']}{v['sex']}{age_on(v['birth_date'], ELECTION_DAY)}{v['group']}"
        found = flat.find(row, position)
        assert found >= 0, row
        position = found + len(row)
