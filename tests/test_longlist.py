"""The long-list engine (notices/longlist.py): the voter list's annex drawn without WeasyPrint's
table layout gives the same page (text and positions) and every voter's row, in order."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from demo import samples
from notices.output import to_pdf
from notices.render import age_on, doc_date, render_html
from tests.test_notices_pdf import ELECTION_DAY, voter_list_context
from tests.test_notices_render import _pdftotext
from workflow.errors import DomainError


def _pdf(context: dict, engine: str = "longlist") -> bytes:
    html = render_html("voter_list", context)
    return to_pdf(html, "voter_list", context) if engine == "longlist" else to_pdf(html)


def _words(pdf: bytes) -> list[tuple[int, str, float, float]]:
    """(page, word, x, y) of every word, by poppler's pdftotext -bbox."""
    out = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    words, page = [], 0
    for line in out.decode().splitlines():
        if "<page " in line:
            page += 1
        found = re.search(r'xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', line)
        if found:
            words.append((page, found.group(3), float(found.group(1)), float(found.group(2))))
    return words


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
@pytest.mark.parametrize("birth", ["age", "date"])
def test_same_page_as_weasyprint(birth):
    """Every word on the same page at the same place (within 0.5 pt) as WeasyPrint's table."""
    context = voter_list_context(samples.voters(150, seed=3))
    context["options"] = {"birth": birth}
    context["doc"]["draft"] = True
    old, new = _words(_pdf(context, "weasyprint")), _words(_pdf(context))
    assert [(p, w) for p, w, _, _ in old] == [(p, w) for p, w, _, _ in new]
    for (page, word, x1, y1), (_, _, x2, y2) in zip(old, new, strict=True):
        assert abs(x1 - x2) < 0.5 and abs(y1 - y2) < 0.5, (page, word, x1, x2, y1, y2)


def test_every_row_in_order_and_the_header_on_every_page():
    voters = samples.voters(3333, seed=11)
    pdf = _pdf(voter_list_context(voters))
    flat = re.sub(r"\s+", "", _pdftotext(pdf))
    for part in ("京山县选举委员会公告", "特此公告。", "附件", "新市镇第一选区选民名单"):
        assert part in flat, part
    position = 0
    for index, voter in enumerate(voters, start=1):
        row = (
            f"{index}{voter['name']}{voter['sex']}{age_on(voter['birth_date'], ELECTION_DAY)}{voter['group']}"
        )
        found = flat.find(row, position)
        assert found >= 0, f"row {index} ({row}) not found in the PDF text"
        position = found + len(row)
    assert "建设路" not in flat  # addresses never printed
    header = "序号姓名性别年龄选民小组序号姓名性别年龄选民小组"  # two voters a row
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert flat.count(header) == pages - 1  # every annex page (the first page is the notice's text)
    assert f"—{pages}—" in flat  # page numbers run on from the notice's own pages


def test_birth_dates_and_a_list_of_one():
    voters = samples.voters(1, seed=5)
    context = voter_list_context(voters)
    context["options"] = {"birth": "date"}
    flat = re.sub(r"\s+", "", _pdftotext(_pdf(context)))
    voter = voters[0]
    assert (
        f"序号姓名性别出生日期选民小组1{voter['name']}{voter['sex']}{doc_date(voter['birth_date'])}" in flat
    )


def test_same_bytes_every_time():
    """A published notice is verified by re-rendering its snapshot: the bytes must not vary."""
    context = voter_list_context(samples.voters(40, seed=2))
    assert _pdf(context) == _pdf(context)


def test_glyph_check_still_refuses_a_name_the_font_cannot_draw():
    voters = samples.voters(5, seed=1)
    voters[3]["name"] = "王\U00020001"
    with pytest.raises(DomainError) as error:
        _pdf(voter_list_context(voters))
    assert error.value.code == "E_MISSING_GLYPH"


def certificate_context(voters: list[dict]) -> dict:
    context = voter_list_context(voters)
    context.update(template="voter_certificate", template_name="选民证")
    context["doc"].update(heading="选民证", number="", public=False)
    return context


def _certificates(context: dict, engine: str = "longlist") -> bytes:
    html = render_html("voter_certificate", context)
    return to_pdf(html, "voter_certificate", context) if engine == "longlist" else to_pdf(html)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
def test_certificates_same_page_as_weasyprint():
    """Cards of different widths (long and short names, an empty group) and the draft mark: every
    word where WeasyPrint puts it (the value columns follow CSS's auto table layout)."""
    voters = samples.voters(7, seed=4)
    voters[0]["name"] = "欧阳明月华"
    voters[1]["group"] = ""
    context = certificate_context(voters)
    context["doc"]["draft"] = True
    old, new = _words(_certificates(context, "weasyprint")), _words(_certificates(context))
    assert [(p, w) for p, w, _, _ in old] == [(p, w) for p, w, _, _ in new]
    for (page, word, x1, y1), (_, _, x2, y2) in zip(old, new, strict=True):
        assert abs(x1 - x2) < 0.5 and abs(y1 - y2) < 0.5, (page, word, x1, x2, y1, y2)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
def test_three_hundred_certificates_two_a_page_every_voter():
    voters = samples.voters(300, seed=8)
    pdf = _certificates(certificate_context(voters))
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 150
    layout = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    flat = re.sub(r"\s+", "", layout.stdout.decode())
    position = 0
    for index, voter in enumerate(voters, start=1):
        card = (
            f"选民证编号：420821-001-{index:04d}姓名{voter['name']}性别{voter['sex']}"
            f"年龄{age_on(voter['birth_date'], ELECTION_DAY)}选民小组{voter['group']}"
            f"选区新市镇第一选区选举日2026年11月15日京山县选举委员会2026年10月21日"
        )
        found = flat.find(card, position)
        assert found >= 0, f"card {index} not found in the PDF text"
        position = found + len(card)


def test_a_card_that_would_wrap_is_left_to_weasyprint():
    """A value too wide for the simple layout (it would wrap): the whole document by WeasyPrint."""
    voters = samples.voters(2, seed=9)
    voters[1]["group"] = "第十二居民小组暨新市镇东风路社区第三网格"
    voters[1]["name"] = "欧阳明月华光耀"
    context = certificate_context(voters)
    assert _certificates(context) == _certificates(context, "weasyprint")
