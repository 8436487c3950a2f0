"""HTTP API of the later parts: voters (districts, import, status, lists, appeals), candidates,
tallies, results and notices, plus the dashboard's notices and voter upload. Every endpoint with
its authorisation (role and jurisdiction subtree; only registrars see whole ID numbers) and bad
input, on SQLite and PostgreSQL, through the real app."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from html import unescape

import pytest
from sqlalchemy import func, select

from demo.county import progress
from demo.voters import HEADER, synthetic_rows
from tests.service_fixtures import PASSWORD, make_world
from tests.test_service_api import problem_of
from workflow.rules import ric
from workflow.store.models import AuditEntry
from workflow.store.voters import Voter

XINSHI_ELECTION = 3  # 新市镇's township congress election, election day 2011-10-09
ELECTION_DAY = date(2011, 10, 9)
ID_COLUMN = HEADER.index("公民身份号码")


def at(clock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC))


def advance_to(db, clock, day: date) -> str:
    """What a diligent committee would have done by `day` (the demo's helper)."""
    at(clock, day)
    with db.transaction() as session:
        progress(session, XINSHI_ELECTION, today=day, clock=clock, actor="test")
    with db.reading() as session:
        from workflow.commands.elections import get_election

        return get_election(session, XINSHI_ELECTION).state


def csv_bytes(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def voter_rows(count: int, seed: int = 7) -> list[list[object]]:
    return list(synthetic_rows(count, election_day=ELECTION_DAY, districts=["01", "02"], seed=seed))


@pytest.fixture
def world(db, clock):
    return make_world(db, clock)


@pytest.fixture
def registration(world, db, clock):
    """Election 3 in its registration phase (2011-09-02) with districts 01 and 02."""
    assert advance_to(db, clock, date(2011, 9, 2)) == "registration"
    for code in ("01", "02"):
        made = world.post(
            "xinshi",
            f"/api/v1/elections/{XINSHI_ELECTION}/districts",
            json={"code": code, "name": f"第{code}选区", "seats": 2},
        )
        assert made.status_code == 201, made.text
    return world


def upload(world, user: str, content: bytes, name: str = "voters.csv", **params):
    return world.post(
        user,
        f"/api/v1/elections/{XINSHI_ELECTION}/voters/import",
        params=params,
        files={"file": (name, content, "text/csv")},
    )


# -- districts ----------------------------------------------------------------------------------
def test_districts_list_add_and_scope(registration):
    world = registration
    listed = world.get("observer", f"/api/v1/elections/{XINSHI_ELECTION}/districts").json()
    assert [(d["code"], d["seats"], d["voters"]) for d in listed["districts"]] == [("01", 2, 0), ("02", 2, 0)]
    problem_of(world.get("yongxing", f"/api/v1/elections/{XINSHI_ELECTION}/districts"), 404, "election_id")
    url = f"/api/v1/elections/{XINSHI_ELECTION}/districts"
    problem_of(
        world.post("observer", url, json={"code": "03", "name": "第03选区"}), 403, "role", "E_READ_ONLY"
    )
    problem_of(world.post("yongxing", url, json={"code": "03", "name": "x"}), 404, "election_id")
    body = problem_of(world.post("xinshi", url, json={"code": "0 3", "name": "x"}), 422, "code")
    assert body["rule"] == "string_pattern_mismatch"
    problem_of(world.post("xinshi", url, json={"code": "03", "name": "x", "seats": 0}), 422, "seats")
    problem_of(world.post("xinshi", url, json={"code": "03", "name": "x", "area": "村" * 2001}), 422, "area")
    # A registrar registers voters, so may also set up districts.
    assert world.post("registrar", url, json={"code": "03", "name": "第03选区"}).status_code == 201
    made = world.post("xinshi", url, json={"code": "04", "name": "第04选区", "area": " 城关社区、五里铺村 "})
    assert made.status_code == 201 and made.json()["area"] == "城关社区、五里铺村"
    listed = world.get("observer", url).json()
    assert [(d["code"], d["area"]) for d in listed["districts"]] == [
        ("01", None),
        ("02", None),
        ("03", None),
        ("04", "城关社区、五里铺村"),
    ]


# -- import -------------------------------------------------------------------------------------
def test_import_commits_and_reports_like_the_cli(registration, db):
    world = registration
    rows = voter_rows(30)
    done = upload(world, "registrar", csv_bytes(rows))
    assert done.status_code == 200, done.text
    report = done.json()
    assert set(report) == {
        "accepted",
        "unchanged",
        "warnings",
        "rejected",
        "duplicates",
        "committed",
        "rejected_total",
        "rejected_rows",
        "warnings_total",
        "rejected_file",
    }
    assert report["accepted"] == 30 and report["committed"] is True and report["rejected"] == []
    with db.reading() as session:
        assert session.execute(select(func.count()).select_from(Voter)).scalar_one() == 30
    again = upload(world, "xinshi", csv_bytes(rows)).json()  # re-import: nothing changes (CONTRACTS)
    assert again["accepted"] == 0 and again["unchanged"] == 30 and again["committed"] is True
    status = world.get("observer", f"/api/v1/elections/{XINSHI_ELECTION}/voters/status").json()
    assert status["voters"] == 30 and sum(d["voters"] for d in status["districts"]) == 30
    assert status["published"] is None and status["appeals"] is None


def test_import_with_rejected_rows_writes_nothing_unless_accept_valid(registration, db):
    world = registration
    rows = voter_rows(5)
    bad = list(rows[2])
    bad[ID_COLUMN] = "420821198001011234"  # wrong check digit
    rows[2] = bad
    refused = upload(world, "registrar", csv_bytes(rows))
    body = problem_of(refused, 422, "file", "E_IMPORT_REJECTED")
    assert body["committed"] is False and body["accepted"] == 4
    assert [(r["row"], r["column"]) for r in body["rejected"]] == [(4, "公民身份号码")]
    assert "第 4 行" in body["detail"]
    with db.reading() as session:
        assert session.execute(select(func.count()).select_from(Voter)).scalar_one() == 0
    partial = upload(world, "registrar", csv_bytes(rows), accept_valid="true")
    assert partial.status_code == 200 and partial.json()["accepted"] == 4
    with db.reading() as session:
        assert session.execute(select(func.count()).select_from(Voter)).scalar_one() == 4


def test_import_authorisation_and_bad_files(registration, monkeypatch):
    world = registration
    content = csv_bytes(voter_rows(2))
    problem_of(upload(world, "observer", content), 403, "role", "E_READ_ONLY")
    problem_of(upload(world, "yongxing", content), 404, "election_id", "E_NOT_FOUND")
    problem_of(upload(world, "registrar", content, name="voters.pdf"), 422, "file", "E_FILE_FORMAT")
    problem_of(upload(world, "registrar", b"", name="voters.csv"), 422, "file", "E_FILE_EMPTY")
    problem_of(upload(world, "registrar", b"not a zip", name="v.xlsx"), 422, "file", "E_FILE_FORMAT")
    no_district = [[r[i] for i in range(len(HEADER)) if HEADER[i] != "选区"] for r in voter_rows(2)]
    header = [h for h in HEADER if h != "选区"]
    problem_of(
        upload(world, "registrar", csv_bytes(no_district, header)), 422, "district", "E_MISSING_COLUMN"
    )
    problem_of(upload(world, "registrar", csv_bytes(no_district, header), district="99"), 404, "district")
    assert upload(world, "registrar", csv_bytes(no_district, header), district="02").json()["accepted"] == 2
    monkeypatch.setattr("service.api.voters.MAX_UPLOAD", len(content) - 1)
    problem_of(upload(world, "registrar", content), 422, "file", "E_FILE_TOO_LARGE")
    monkeypatch.undo()
    missing = world.post("registrar", f"/api/v1/elections/{XINSHI_ELECTION}/voters/import")
    problem_of(missing, 422, "file", "E_INVALID_INPUT")
    problem_of(
        world.post("registrar", "/api/v1/elections/999/voters/import", files={"file": ("a.csv", content)}),
        404,
    )


# -- lists: masked ID numbers, only registrars see them whole -----------------------------------
def test_voter_list_masks_ids_except_for_registrars_and_audits_them(registration, db):
    world = registration
    rows = voter_rows(12)
    assert upload(world, "registrar", csv_bytes(rows)).status_code == 200
    numbers = {r[ID_COLUMN] for r in rows}
    url = f"/api/v1/elections/{XINSHI_ELECTION}/voters"
    page = world.get("xinshi", url, params={"limit": 5, "offset": 10}).json()
    assert page["total"] == 12 and len(page["items"]) == 2 and page["items"][0]["seq"] == 11
    shown = {v["id_number"] for v in world.get("admin", url, params={"limit": 100}).json()["items"]}
    assert shown == {ric.mask(n) for n in numbers} and not shown & numbers
    for user in ("admin", "xinshi", "observer"):
        problem_of(world.get(user, url, params={"full_ids": "true"}), 403, "full_ids", "E_FULL_IDS_FORBIDDEN")
    with db.reading() as session:
        before = session.execute(
            select(func.count()).where(AuditEntry.action == "voters.full_ids_shown")
        ).scalar_one()
    whole = world.get("registrar", url, params={"full_ids": "true", "district": "01"}).json()
    assert {v["id_number"] for v in whole["items"]} <= numbers and whole["items"]
    assert {v["district"] for v in whole["items"]} == {"第01选区"}
    with db.reading() as session:
        actor = (
            session.execute(
                select(AuditEntry.actor)
                .where(AuditEntry.action == "voters.full_ids_shown")
                .order_by(AuditEntry.id.desc())
            )
            .scalars()
            .first()
        )
        count = session.execute(
            select(func.count()).where(AuditEntry.action == "voters.full_ids_shown")
        ).scalar_one()
    assert count == before + 1 and actor == "registrar"
    problem_of(world.get("yongxing", url), 404, "election_id")
    problem_of(world.get("admin", url, params={"list": "published"}), 422, "list", "E_NOT_PUBLISHED")
    problem_of(world.get("admin", url, params={"list": "nonsense"}), 422, "list")
    problem_of(world.get("admin", url, params={"limit": 501}), 422, "limit")


# -- publication and appeals (EL 28, 29) ----------------------------------------------------------
def test_publish_file_and_decide_appeals(registration, clock):
    world = registration
    rows = voter_rows(6)
    assert upload(world, "registrar", csv_bytes(rows)).status_code == 200
    base = f"/api/v1/elections/{XINSHI_ELECTION}"
    problem_of(world.get("admin", f"{base}/appeals"), 409, "election_id", "E_LIST_NOT_PUBLISHED")
    problem_of(world.post("observer", f"{base}/voters/publish"), 403, "role")
    at(clock, date(2011, 9, 5))
    published = world.post("registrar", f"{base}/voters/publish", json={})
    assert published.status_code == 200, published.text
    assert published.json()["voters"] == 6 and published.json()["supplementary"] is False
    status = world.get("observer", f"{base}/voters/status").json()
    assert status["published"] == "2011-09-05" and status["appeals"]["pending"] == 0
    assert [len(d["versions"]) for d in status["districts"]] == [1, 1]
    listed = world.get("admin", f"{base}/voters", params={"list": "published"}).json()
    assert listed["total"] == 6

    removed = rows[0][ID_COLUMN]
    appeal = {
        "filer": "李四",
        "request": "remove",
        "subject_name": rows[0][HEADER.index("姓名")],
        "subject_id": removed,
        "reason": "已迁出本镇",
    }
    problem_of(world.post("observer", f"{base}/appeals", json=appeal), 403, "role")
    problem_of(world.post("yongxing", f"{base}/appeals", json=appeal), 404, "election_id")
    problem_of(world.post("xinshi", f"{base}/appeals", json=appeal | {"request": "delete"}), 422, "request")
    filed = world.post("xinshi", f"{base}/appeals", json=appeal)
    assert filed.status_code == 201, filed.text
    made = filed.json()
    assert made["decide_by"] == "2011-09-08" and made["subject_id_masked"] == ric.mask(removed)
    assert world.get("observer", f"{base}/voters/status").json()["appeals"]["pending"] == 1
    decide = f"{base}/appeals/{made['id']}/decide"
    problem_of(world.post("observer", decide, json={"upheld": True}), 403, "role")
    problem_of(world.post("xinshi", f"{base}/appeals/999/decide", json={"upheld": True}), 404, "appeal_id")
    problem_of(world.post("xinshi", decide, json={"upheld": "maybe"}), 422, "upheld")
    decided = world.post("registrar", decide, json={"upheld": True, "reason": "核实已迁出"})
    assert decided.status_code == 200 and decided.json()["status"] == "upheld"
    problem_of(world.post("registrar", decide, json={"upheld": False, "reason": "x"}), 409)
    appeals = world.get("observer", f"{base}/appeals").json()
    assert appeals["pending"] == 0 and [a["status"] for a in appeals["appeals"]] == ["upheld"]
    supplement = world.get("admin", f"{base}/voters", params={"list": "supplementary"}).json()
    assert supplement["total"] == 1 and supplement["items"][0]["change"] == "删除"


# -- candidates, tallies, results -----------------------------------------------------------------
def nomination(name: str, district: str = "01", sex: str = "male", org: str = "中国共产党") -> dict:
    return {
        "district": district,
        "name": name,
        "sex": sex,
        "occupation": "farmer",
        "nominated_by": "party",
        "nominators": [org],
        "party": "群众",
    }


def test_candidates_nominate_list_and_publish(world, db, clock):
    assert advance_to(db, clock, date(2011, 9, 20)) == "nomination"
    base = f"/api/v1/elections/{XINSHI_ELECTION}"
    problem_of(
        world.post("observer", f"{base}/candidates/districts", json={"district": "01", "seats": 1}), 403
    )
    opened = world.post("xinshi", f"{base}/candidates/districts", json={"district": "01", "seats": 1})
    assert opened.status_code == 201 and opened.json()["seats"] == 1
    problem_of(
        world.post("xinshi", f"{base}/candidates/districts", json={"district": "02", "seats": 0}),
        422,
        "seats",
    )
    for i, name in enumerate(["张明", "李华", "王芳"]):
        made = world.post(
            "xinshi",
            f"{base}/candidates",
            json=nomination(name, sex="female" if i == 2 else "male", org=f"团体{i}"),
        )
        assert made.status_code == 201, made.text
        assert "id_number" not in made.json()
    problem_of(world.post("observer", f"{base}/candidates", json=nomination("赵六")), 403, "role")
    problem_of(world.post("yongxing", f"{base}/candidates", json=nomination("赵六")), 404, "election_id")
    problem_of(world.post("xinshi", f"{base}/candidates", json=nomination("赵六") | {"sex": "x"}), 422, "sex")
    problem_of(
        world.post("xinshi", f"{base}/candidates", json=nomination("张明", org="团体9")),
        409,
        code="E_DUPLICATE",
    )
    problem_of(world.post("xinshi", f"{base}/candidates", json=nomination("赵六", district="09")), 404)
    listed = world.get("observer", f"{base}/candidates").json()
    assert [c["name"] for c in listed["candidates"]] == ["张明", "李华", "王芳"]
    assert listed["districts"][0]["status"] == "open"
    assert world.get("admin", f"{base}/candidates", params={"district": "02"}).json()["candidates"] == []
    problem_of(world.get("yongxing", f"{base}/candidates"), 404)
    at(clock, date(2011, 9, 21))
    problem_of(world.post("observer", f"{base}/candidates/publish-preliminary"), 403, "role")
    preliminary = world.post("xinshi", f"{base}/candidates/publish-preliminary", json={"on": "2011-09-21"})
    assert preliminary.status_code == 200, preliminary.text
    assert preliminary.json()["districts"][0]["count"] == 3
    shown = world.get("observer", f"{base}/candidates/published", params={"stage": "preliminary"}).json()
    assert [c["name"] for c in shown["districts"][0]["candidates"]] == ["张明", "李华", "王芳"]
    problem_of(world.get("admin", f"{base}/candidates/published", params={"stage": "final"}), 422, "stage")
    at(clock, date(2011, 10, 1))
    # 3 candidates for 1 seat: more than EL 31 allows (at most one more than the seats).
    refused = problem_of(world.post("xinshi", f"{base}/candidates/publish-official"), 422, "district")
    assert refused["code"] == "E_RATIO_OUT_OF_BOUNDS" and "第三十一条" in refused["detail"]
    results = world.get("observer", f"{base}/results").json()
    assert [d["district"] for d in results["districts"]] == ["01"]


TALLY = {
    "kind": "people_congress",
    "seats": 1,
    "registered_voters": 40,
    "present": 30,
    "ballots_issued": 30,
    "ballots_returned": 30,
    "invalid_ballots": 0,
    "votes": {"张明": 20, "李华": 8},
    "round": 1,
}


def test_tallies_and_results_refused_before_voting_and_by_role(world, db, clock):
    base = f"/api/v1/elections/{XINSHI_ELECTION}"
    problem_of(world.post("observer", f"{base}/tallies", params={"district": "01"}, json=TALLY), 403, "role")
    problem_of(world.post("yongxing", f"{base}/tallies", params={"district": "01"}, json=TALLY), 404)
    problem_of(world.post("xinshi", f"{base}/tallies", json=TALLY), 422, "district")
    problem_of(world.post("xinshi", f"{base}/tallies", params={"district": "01"}, json=[1]), 422)
    problem_of(
        world.post("xinshi", f"{base}/tallies", params={"district": "01"}, json=TALLY),
        409,
        "election_id",
        "E_NOT_VOTING",
    )
    assert world.get("observer", f"{base}/tallies", params={"district": "01"}).json() == {
        "district": "01",
        "rounds": [],
    }
    problem_of(world.post("observer", f"{base}/results/publish"), 403, "role")
    problem_of(world.post("xinshi", f"{base}/results/publish", json={"district": "0 1"}), 422, "district")
    problem_of(world.get("yongxing", f"{base}/results"), 404)


def test_tally_recorded_in_the_voting_phase(world, db, clock):
    assert advance_to(db, clock, date(2011, 9, 20)) == "nomination"
    base = f"/api/v1/elections/{XINSHI_ELECTION}"
    assert (
        world.post("xinshi", f"{base}/candidates/districts", json={"district": "01", "seats": 1}).status_code
        == 201
    )
    for i, name in enumerate(["张明", "李华"]):
        assert (
            world.post("xinshi", f"{base}/candidates", json=nomination(name, org=f"团体{i}")).status_code
            == 201
        )
    at(clock, date(2011, 9, 21))
    assert world.post("xinshi", f"{base}/candidates/publish-preliminary").status_code == 200
    at(clock, date(2011, 10, 1))
    assert world.post("xinshi", f"{base}/candidates/publish-official").status_code == 200
    assert advance_to(db, clock, ELECTION_DAY) == "voting"
    bad = world.post("xinshi", f"{base}/tallies", params={"district": "01"}, json=TALLY | {"present": -1})
    problem_of(bad, 422, code="E_BAD_TALLY")
    recorded = world.post("xinshi", f"{base}/tallies", params={"district": "01"}, json=TALLY)
    assert recorded.status_code == 201, recorded.text
    body = recorded.json()
    assert body["round"] == 1 and body["result"]["elected"] == ["张明"] and body["next"] is None
    rounds = world.get("observer", f"{base}/tallies", params={"district": "01"}).json()["rounds"]
    assert [r["recorded_by"] for r in rounds] == ["xinshi"]
    published = world.post("xinshi", f"{base}/results/publish", json={})
    assert published.status_code == 200, published.text
    assert published.json()["published"] == ["01"]
    shown = world.get("observer", f"{base}/results").json()
    assert [e["name"] for e in shown["districts"][0]["elected"]] == ["张明"]


# -- notices --------------------------------------------------------------------------------------
def test_notice_catalog_preview_publish_download(world, db):
    base = f"/api/v1/elections/{XINSHI_ELECTION}/notices"
    catalog = world.get("observer", base).json()
    keys = {t["template"] for t in catalog["templates"]}
    assert "election_committee_formed" in keys and "residents_announcement" not in keys
    problem_of(world.get("yongxing", base), 404, "election_id")
    html = world.get("observer", f"{base}/election_committee_formed/preview")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "inline" in html.headers["content-disposition"] and "选举委员会" in html.text
    docx = world.get("observer", f"{base}/election_committee_formed/preview", params={"format": "docx"})
    assert docx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert docx.content[:2] == b"PK"
    disposition = docx.headers["content-disposition"]
    assert (
        disposition.startswith("attachment;")
        and 'filename="election3-election_committee_formed-preview.docx"' in disposition
    )
    assert "filename*=UTF-8''" in disposition
    problem_of(world.get("observer", f"{base}/no_such_notice/preview"), 422, "template")
    problem_of(
        world.get("observer", f"{base}/election_committee_formed/preview", params={"format": "odt"}),
        422,
        "format",
    )
    problem_of(world.get("yongxing", f"{base}/election_committee_formed/preview"), 404)

    problem_of(world.post("observer", f"{base}/election_committee_formed/publish"), 403, "role")
    problem_of(world.post("registrar", f"{base}/election_committee_formed/publish"), 403, "role")
    problem_of(
        world.post("xinshi", f"{base}/election_committee_formed/publish", json={"format": "rtf"}),
        422,
        "format",
    )
    made = world.post("xinshi", f"{base}/election_committee_formed/publish", json={"format": "html"})
    assert made.status_code == 201, made.text
    notice = made.json()
    assert notice["version"] == 1 and notice["format"] == "html"
    got = world.get("observer", notice["download_url"])
    assert got.status_code == 200 and got.headers["x-content-sha256"] == notice["sha256"]
    assert got.headers["content-disposition"].startswith("attachment;")
    import hashlib

    assert hashlib.sha256(got.content).hexdigest() == notice["sha256"]
    catalog = world.get("observer", base).json()
    committee = next(t for t in catalog["templates"] if t["template"] == "election_committee_formed")
    assert [p["id"] for p in committee["published"]] == [notice["id"]]
    problem_of(world.get("yongxing", notice["download_url"]), 404)
    problem_of(world.get("admin", f"{base}/published/999"), 404, "notice_id")
    problem_of(world.get("admin", f"/api/v1/elections/4/notices/published/{notice['id']}"), 404, "notice_id")


def test_notice_pdf_preview(world):
    pdf = world.get(
        "admin",
        f"/api/v1/elections/{XINSHI_ELECTION}/notices/election_committee_formed/preview",
        params={"format": "pdf"},
    )
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


# -- dashboard ------------------------------------------------------------------------------------
def _login(world, username: str):
    client = world.client
    client.cookies.clear()
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    done = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf": token, "next": "/"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    return client


def test_dashboard_lists_notices_with_preview_and_download_links(world):
    client = _login(world, "observer")
    page = client.get(f"/elections/{XINSHI_ELECTION}").text
    assert "选举委员会成立公告" in page
    # An unpublished notice links its 样稿与发布 page (the draft, or what data it still needs),
    # never a preview address that may fail; the page works with the dashboard's session cookie.
    notice_page = f"/elections/{XINSHI_ELECTION}/notices/election_committee_formed"
    assert f'href="{notice_page}"' in page
    shown = client.get(notice_page)
    assert shown.status_code == 200 and "样稿" in shown.text
    assert "上传选民登记表" not in page  # observers cannot upload
    assert "选民名单公告 · 尚无选区" in page  # per-district notices wait for the districts


def test_dashboard_upload_form_shows_the_report_in_chinese(registration):
    world = registration
    client = _login(world, "registrar")
    page = client.get(f"/elections/{XINSHI_ELECTION}").text
    assert "上传选民登记表" in page and 'enctype="multipart/form-data"' in page
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    url = f"/elections/{XINSHI_ELECTION}/voters/import"
    rows = voter_rows(4)
    bad = list(rows[1])
    bad[ID_COLUMN] = "12345"
    refused = client.post(
        url, data={"csrf": token}, files={"file": ("v.csv", csv_bytes([rows[0], bad]), "text/csv")}
    )
    assert (
        refused.status_code == 422
        and "有 1 行被拒绝，未导入任何记录" in refused.text
        and "第 3 行" in refused.text
    )
    done = client.post(url, data={"csrf": token}, files={"file": ("v.csv", csv_bytes(rows), "text/csv")})
    assert done.status_code == 200 and "已导入 4 名选民" in done.text
    # The voters' provider (workflow/commands/notice_data.py) feeds the notices: the districts with voters
    # get their list's 样稿与发布 page, and its draft holds their names.
    page = client.get(f"/elections/{XINSHI_ELECTION}").text
    links = re.findall(r'href="(/elections/3/notices/voter_list[?]district=0[12])"', page)
    assert links
    previews = "".join(unescape(client.get(link).text) for link in links)
    name_column = HEADER.index("姓名")
    assert all(str(row[name_column]) in previews for row in rows)
    forged = client.post(url, data={"csrf": "forged"}, files={"file": ("v.csv", csv_bytes(rows), "text/csv")})
    assert forged.status_code == 403 and "页面已过期" in forged.text
    observer = _login(world, "observer")
    token = re.search(r'name="csrf" value="([^"]+)"', observer.get("/").text).group(1)
    refused = observer.post(url, data={"csrf": token}, files={"file": ("v.csv", csv_bytes(rows), "text/csv")})
    assert refused.status_code == 403 and "不能办理选民登记" in refused.text
    other = _login(world, "yongxing")
    assert other.post(url, data={"csrf": "x"}, files={"file": ("v.csv", b"", "text/csv")}).status_code == 404  # out of scope: as if missing
