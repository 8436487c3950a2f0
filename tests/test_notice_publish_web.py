"""Dashboard: a notice's 样稿 preview with its number and date, publishing after a confirmation,
PDF and Word downloads of what was published, the committee's settings and own wording; on
SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from html import unescape

import pytest

from tests.service_fixtures import PASSWORD, make_world
from workflow.clock import FixedClock

CLOCK = FixedClock(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))


@pytest.fixture
def world(db):
    return make_world(db, CLOCK)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(world, username: str = "admin"):
    client = world.client
    page = client.get("/login")
    client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf": _csrf(page.text), "next": "/"},
        follow_redirects=False,
    )
    return client


def pdf_text(content: bytes) -> str:
    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def docx_parts(content: bytes) -> dict[str, str]:
    package = zipfile.ZipFile(io.BytesIO(content))
    return {name: package.read(name).decode() for name in package.namelist() if name.startswith("word/")}


def test_preview_confirm_publish_and_download_both_formats(world):
    client = login(world)
    county = world.elections["county"]
    election = client.get(f"/elections/{county}").text
    assert f'href="/elections/{county}/notices/election_committee_formed"' in election

    page = client.get(f"/elections/{county}/notices/election_committee_formed")
    assert page.status_code == 200
    html = unescape(page.text)
    # The number it would get and the date from the milestone (done on 2026-11-18), not today.
    assert "京选公〔2026〕1号" in html and "2026-11-18" in html and "「成立选举委员会」办结日期" in html
    preview = re.search(r'<a href="([^"]+)" target="_blank" rel="noopener">在新窗口打开', page.text).group(1)
    shown = client.get(unescape(preview)).text
    assert 'class="draft-mark"' in shown and "样稿" in shown
    pdf_url = unescape(re.search(r'href="([^"]+)">下载样稿 PDF', page.text).group(1))
    assert "样稿" in pdf_text(client.get(pdf_url).content).replace(" ", "")

    # First post: asked to confirm, nothing stored yet.
    asked = client.post(
        f"/elections/{county}/notices/election_committee_formed/publish",
        data={"csrf": _csrf(page.text), "on": "2026-11-18"},
    )
    assert asked.status_code == 200 and "确认发布？" in asked.text
    assert "尚未发布" in asked.text
    # Confirmed: published with its number and date; PDF and Word offered.
    done = client.post(
        f"/elections/{county}/notices/election_committee_formed/publish",
        data={"csrf": _csrf(asked.text), "on": "2026-11-18", "confirmed": "1"},
        follow_redirects=True,
    )
    text = unescape(done.text)
    assert "已发布「京山县选举委员会公告」第 1 版，文号 京选公〔2026〕1号，公告日期 2026-11-18" in text
    pdf = re.search(r'href="([^"]+format=pdf)">下载 PDF', done.text).group(1)
    docx = re.search(r'href="([^"]+format=docx)">下载 Word', done.text).group(1)
    published_pdf = pdf_text(client.get(pdf).content)
    assert "京选公〔2026〕1号" in published_pdf and "2026年11月18日" in published_pdf
    assert "样稿" not in published_pdf.replace(" ", "")
    parts = docx_parts(client.get(docx).content)
    assert "京选公〔2026〕1号" in parts["word/document.xml"]
    assert not any("样稿" in xml for xml in parts.values())
    footer = next(xml for name, xml in parts.items() if name.startswith("word/footer"))
    assert "PAGE" in footer  # Word fills in the page number
    # The next notice gets the next number.
    after = unescape(client.get(f"/elections/{county}/notices/election_day").text)
    assert "京选公〔2026〕2号" in after


def test_publish_errors_are_shown_in_chinese_and_nothing_is_stored(world):
    client = login(world)
    county = world.elections["county"]
    page = client.get(f"/elections/{county}/notices/election_committee_formed")
    future = client.post(
        f"/elections/{county}/notices/election_committee_formed/publish",
        data={"csrf": _csrf(page.text), "on": "2026-12-30", "confirmed": "1"},
        follow_redirects=True,
    )
    assert "公布日期 2026-12-30 晚于今天 2026-11-26" in unescape(future.text)
    assert "尚未发布" in future.text
    forged = client.post(
        f"/elections/{county}/notices/election_committee_formed/publish",
        data={"csrf": "forged", "confirmed": "1"},
        follow_redirects=True,
    )
    assert "页面已过期" in unescape(forged.text) and "尚未发布" in forged.text
    observer = login(world, "observer")
    page = observer.get(f"/elections/{county}/notices/election_committee_formed")
    assert "发布…" not in page.text


def test_settings_numbering_per_round_and_committee_wording(world):
    client = login(world)
    county = world.elections["county"]
    page = client.get(f"/elections/{county}/notices/election_committee_formed")
    saved = client.post(
        f"/elections/{county}/notice-settings",
        data={
            "csrf": _csrf(page.text),
            "numbering": "round",
            "congress_term": "20",
            "back": f"/elections/{county}/notices/election_committee_formed",
        },
        follow_redirects=True,
    )
    text = unescape(saved.text)
    assert "公告设置已保存" in text and "第1号" in text and "第二十届" in text
    bad = client.post(
        f"/elections/{county}/notice-settings",
        data={"csrf": _csrf(saved.text), "congress_term": "0"},
        follow_redirects=True,
    )
    assert "届次应为 1 至 99 之间的整数" in unescape(bad.text)
    own = "经县人大常委会决定，京山县选举委员会于二〇二六年十一月十八日成立。"
    tried = client.post(  # previewed before it is saved: nothing stored, no publish button
        f"/elections/{county}/notices/election_committee_formed/wording",
        data={"csrf": _csrf(saved.text), "text": own, "action": "preview"},
    )
    assert tried.status_code == 200 and "尚未保存" in tried.text
    assert own in unescape(re.search(r'srcdoc="([^"]+)"', tried.text).group(1))
    assert "发布…" not in tried.text
    still = client.get(unescape(re.search(r'<a href="([^"]+)" target="_blank" rel="noopener">在新窗口打开', saved.text).group(1))).text
    assert own not in still and "第九条第二款的规定" in still
    worded = client.post(
        f"/elections/{county}/notices/election_committee_formed/wording",
        data={"csrf": _csrf(saved.text), "text": own + "\n\n第二段。", "action": "save"},
        follow_redirects=True,
    )
    assert "已保存本委员会的第 1 版措辞" in unescape(worded.text)
    preview = re.search(r'<a href="([^"]+)" target="_blank" rel="noopener">在新窗口打开', worded.text).group(1)
    shown = client.get(unescape(preview)).text
    assert own in shown and "第二段。" in shown and "第九条第二款的规定" not in shown
    restored = client.post(
        f"/elections/{county}/notices/election_committee_formed/wording",
        data={"csrf": _csrf(worded.text), "text": ""},
        follow_redirects=True,
    )
    assert "已恢复模板原文（第 2 版）" in unescape(restored.text)
    shown = client.get(unescape(preview)).text
    assert "第九条第二款的规定" in shown and own not in shown


def test_settings_and_wording_through_the_api(world):
    county = world.elections["county"]
    url = f"/api/v1/elections/{county}/notice-settings"
    assert world.get("admin", url).json() == {
        "jurisdiction": "420821", "numbering": "year", "congress_term": 20, "superior_org": None
    }  # fmt: skip
    assert world.client.put(url, json={"numbering": "month"}, headers=world.as_("admin")).status_code == 422
    assert world.client.put(url, json={"numbering": "round"}, headers=world.as_("observer")).status_code == 403
    changed = world.client.put(url, json={"numbering": "round"}, headers=world.as_("admin"))
    assert changed.status_code == 200 and changed.json()["numbering"] == "round"
    preview = world.get("admin", f"/api/v1/elections/{county}/notices/election_day/preview")
    assert "第1号" in preview.text and "样稿" in preview.text
    worded = world.client.put(
        f"/api/v1/elections/{county}/notices/election_day/wording",
        json={"paragraphs": ["本届选举日定于二〇二七年一月十日。"]},
        headers=world.as_("admin"),
    )
    assert worded.status_code == 200 and worded.json()["version"] == 1
    preview = world.get("admin", f"/api/v1/elections/{county}/notices/election_day/preview")
    assert "本届选举日定于二〇二七年一月十日。" in preview.text
