"""The attack on the service (issue 16), replayed in CI and bounded in time: whole ID numbers
rebuilt from what a role sees, the role × scope matrix (out of scope answers as not found, no
leak of another subtree's records), contact secrets, and a login flood measured against the
same reads unloaded. See docs/security.md for the policies these tests hold the service to."""

from __future__ import annotations

import re
import socket
import statistics
import threading
import time
from calendar import monthrange
from datetime import date

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.service_fixtures import COUNTY, PASSWORD, USERS, XINSHI, load_world, make_world
from tests.test_service_api_parts import XINSHI_ELECTION, advance_to, csv_bytes, upload, voter_rows
from workflow.commands import auth
from workflow.store.models import Election, Jurisdiction


@pytest.fixture
def world(db, clock):
    return make_world(db, clock)


@pytest.fixture
def registration(world, db, clock):
    """Election 3 in its registration phase with districts 01 and 02."""
    assert advance_to(db, clock, date(2011, 9, 2)) == "registration"
    for code in ("01", "02"):
        made = world.post(
            "xinshi",
            f"/api/v1/elections/{XINSHI_ELECTION}/districts",
            json={"code": code, "name": f"第{code}选区", "seats": 2},
        )
        assert made.status_code == 201, made.text
    return world


WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECKS = "10X98765432"


# -- 1. whole ID numbers cannot be rebuilt (PIPL arts. 28, 51) -------------------------------
def _check(first17: str) -> str:
    return CHECKS[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def _days(birth: str) -> list[date]:
    """Every birth date consistent with what was shown: a whole date or a year and month."""
    parts = [int(p) for p in birth.split("-")]
    if len(parts) == 3:
        return [date(*parts)]
    year, month = parts
    return [date(year, month, d) for d in range(1, monthrange(year, month)[1] + 1)]


def candidates(masked: str, birth: str, sex: str, stop: int = 2) -> int:
    """How many valid 18-character numbers agree with a shown row (masked number, birth date or
    month, sex), counted up to `stop`: an attacker rebuilds a number when this is exactly 1."""
    found = 0
    for day in _days(birth):
        born = f"{day:%Y%m%d}"
        base = masked[:6] + born
        if any(m != "*" and m != b for m, b in zip(masked[6:14], born, strict=True)):
            continue
        for seq in range(1000):
            tail = f"{seq:03d}"
            if any(m != "*" and m != t for m, t in zip(masked[14:17], tail, strict=True)):
                continue
            if (int(tail[2]) % 2 == 1) != (sex == "男"):  # GB 11643: odd for men
                continue
            first17 = base + tail
            if masked[17] != "*" and _check(first17) != masked[17]:
                continue
            found += 1
            if found >= stop:
                return found
    return found


def test_the_old_mask_with_the_birth_date_was_rebuildable():
    """The attack as reproduced on main: 6 + 4 characters and the whole birth date."""
    for row in voter_rows(40):
        number = str(row[3])
        old = number[:6] + "*" * 8 + number[-4:]
        born = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
        assert candidates(old, born, str(row[2])) == 1


def test_no_role_rebuilds_an_id_number_from_the_voter_lists(registration):
    world = registration
    rows = voter_rows(300, seed=16)
    assert upload(world, "registrar", csv_bytes(rows)).status_code == 200
    numbers = {str(r[3]) for r in rows}
    url = f"/api/v1/elections/{XINSHI_ELECTION}/voters"
    for user in ("admin", "xinshi", "observer", "registrar"):  # a registrar without full_ids
        shown = []
        for offset in (0, 200):
            page = world.get(user, url, params={"limit": 200, "offset": offset})
            assert page.status_code == 200, page.text
            shown += page.json()["items"]
        assert len(shown) == 300
        rebuilt = 0
        for item in shown:
            assert item["id_number"] not in numbers and len(item["birth_date"]) == 7  # 1990-05
            assert item["id_number"][6:17] == "*" * 11
            rebuilt += candidates(item["id_number"], item["birth_date"], item["sex"]) == 1
            # Even a whole birth date learnt elsewhere leaves dozens of candidates.
            assert candidates(item["id_number"], f"{item['birth_date']}-01", item["sex"], stop=10) == 10
        assert rebuilt == 0, user


# -- 10. the role × scope matrix ----------------------------------------------------------------
def _ids(db) -> tuple[dict[str, int], list[tuple[int, int]]]:
    with db.reading() as session:
        codes = {code: jid for code, jid in session.execute(select(Jurisdiction.code, Jurisdiction.id))}
        elections = [(e, j) for e, j in session.execute(select(Election.id, Election.jurisdiction_id))]
    return codes, elections


def _scopes(db) -> dict[str, set[str]]:
    """user → the jurisdiction codes of its subtree."""
    with db.reading() as session:
        by_id = {jid: code for code, jid in session.execute(select(Jurisdiction.code, Jurisdiction.id))}
        out = {}
        for user, (_role, code) in USERS.items():
            root = next(jid for jid, c in by_id.items() if c == code)
            out[user] = {by_id[j] for j in auth.subtree_ids(session, root)}
    return out


def test_role_scope_matrix_out_of_scope_answers_as_not_found(world, db):
    codes, elections = _ids(db)
    missing_election = max(e for e, _ in elections) + 100
    by_id = {v: k for k, v in codes.items()}
    reads = [
        "/api/v1/elections/{e}",
        "/api/v1/elections/{e}/calendar.ics",
        "/api/v1/elections/{e}/districts",
        "/api/v1/elections/{e}/voters",
        "/api/v1/elections/{e}/candidates",
        "/api/v1/reminders?election_id={e}",
        "/api/v1/audit?election_id={e}",
    ]
    checked = 0
    scopes = _scopes(db)
    assert scopes["xinshi"] == {XINSHI, "420821100-001"} and COUNTY in scopes["observer"]
    for user, subtree in scopes.items():
        for election_id, jurisdiction_id in elections:
            visible = by_id[jurisdiction_id] in subtree
            for template in reads:
                inside = world.get(user, template.format(e=election_id))
                if visible:
                    assert inside.status_code != 404 or "未找到选举" not in inside.text, (user, template)
                    continue
                absent = world.get(user, template.format(e=missing_election))
                assert inside.status_code == absent.status_code == 404, (user, template, inside.text)
                # The same body but for the id: no jurisdiction name, no hint that it exists.
                assert inside.json()["code"] == absent.json()["code"] == "E_NOT_FOUND"
                assert inside.json()["detail"].replace(str(election_id), "N") == absent.json()[
                    "detail"
                ].replace(str(missing_election), "N")
                checked += 1
        for code in codes:
            visible = code in subtree
            got = world.get(user, f"/api/v1/jurisdictions/{code}")
            if visible:
                assert got.status_code == 200
            else:
                absent = world.get(user, "/api/v1/jurisdictions/999999999")
                assert got.status_code == absent.status_code == 404
                assert got.json()["detail"].replace(code, "N") == absent.json()["detail"].replace(
                    "999999999", "N"
                )
                checked += 1
    assert checked > 50
    # Lists never carry another subtree's records.
    for user, subtree in scopes.items():
        listed = world.get(user, "/api/v1/elections", params={"limit": 100}).json()["items"]
        assert {e["jurisdiction"]["code"] for e in listed} <= subtree
        audit = world.get(user, "/api/v1/audit", params={"limit": 500}).json()["items"]
        allowed = {str(e) for e, j in elections if by_id[j] in subtree}
        for entry in audit:
            if entry["entity"] in ("election",):
                assert entry["entity_id"] in allowed
            if entry["entity"] == "milestone":
                assert entry["entity_id"].split("/")[0] in allowed
            if entry["entity"] == "jurisdiction":
                assert entry["entity_id"] in subtree
    assert COUNTY in codes


DASHBOARD_PAGES = (
    "/elections/{e}",
    "/elections/{e}/districts",
    "/elections/{e}/register",
    "/elections/{e}/candidates",
    "/elections/{e}/appeals",
    "/elections/{e}/tallies",
    "/elections/{e}/results",
    "/elections/{e}/allocation",
    "/elections/{e}/milestones/quotas_allocated",
)


def _but_id(text: str, election_id: int) -> str:
    return re.sub(rf"(?<!\d){election_id}(?!\d)", "N", text)


def test_dashboard_matrix_out_of_scope_pages_answer_as_missing_ones(world, db):
    """The dashboard half of the matrix: every role's session on every election's pages. Out of
    its subtree a page answers exactly as a missing election's does (status and page, but for
    the id): no title, no jurisdiction name, nothing that tells the election exists."""
    codes, elections = _ids(db)
    missing = max(e for e, _ in elections) + 100
    by_id = {v: k for k, v in codes.items()}
    scopes = _scopes(db)
    client = world.client
    checked = 0
    for user, subtree in scopes.items():
        client.cookies.clear()
        assert _login(client, user).status_code == 303
        for election_id, jurisdiction_id in elections:
            if by_id[jurisdiction_id] in subtree:
                continue
            with db.reading() as session:
                election = session.get(Election, election_id)
                secrets_of = (election.title, election.jurisdiction.name)
            for page in DASHBOARD_PAGES:
                inside = client.get(page.format(e=election_id), follow_redirects=False)
                absent = client.get(page.format(e=missing), follow_redirects=False)
                assert inside.status_code == absent.status_code == 404, (user, page, inside.status_code)
                assert _but_id(inside.text, election_id) == _but_id(absent.text, missing), (user, page)
                assert not any(secret in inside.text for secret in secrets_of), (user, page)
                checked += 1
    client.cookies.clear()
    assert checked >= 50, checked


def test_parent_election_must_be_in_scope(world):
    """A township linked its election to another county's: now refused as a missing parent."""
    plan = {
        "kind": "people_congress",
        "title": "新市镇补选",
        "jurisdiction": XINSHI,
        "election_day": "2011-10-18",
        "milestones": {"voter_list_published": "2011-09-20"},
    }
    other = world.post("xinshi", "/api/v1/elections", json={"plan": {**plan, "parent_election": 4}})
    absent = world.post("xinshi", "/api/v1/elections", json={"plan": {**plan, "parent_election": 9999}})
    assert other.status_code == absent.status_code == 422, other.text
    assert other.json()["field"] == absent.json()["field"] == "plan.parent_election"
    assert other.json()["detail"].replace("4", "N") == absent.json()["detail"].replace("9999", "N")
    own = world.post("xinshi", "/api/v1/elections", json={"plan": {**plan, "parent_election": 3}})
    assert own.status_code == 201, own.text
    assert world.get("admin", "/api/v1/elections/4").json()["title"]  # YONGXING's election stands


# -- 5. backdating milestones (the attack: done on 1949-10-01 by API, 0001-01-01 by the CLI) ---------
def test_backdated_milestones_are_refused_naming_the_rule(world, tmp_path):
    """The committee of election 3 was formed on 2011-08-17: quotas allocated before that break
    EL 9 ¶2 (the committee first); a fresh election's first milestone a year and more before election
    day needs an explicit confirmation (CLI: exit 2 with the rule, never a record)."""
    url = f"/api/v1/elections/{XINSHI_ELECTION}/milestones/quotas_allocated/complete"
    sent = world.post("admin", url, json={"on": "1949-10-01"})
    assert sent.status_code == 422, sent.text
    assert sent.json()["code"] == "E_BEFORE_PREDECESSOR" and "选举法第九条" in sent.json()["detail"]
    assert world.post("admin", url, json={"on": "1949-09-30"}).status_code == 422  # before the earliest day
    assert world.get("admin", f"/api/v1/elections/{XINSHI_ELECTION}").json()["milestones"][1]["status"] == "pending"

    import json
    from pathlib import Path

    from typer.testing import CliRunner

    from service.cli import app

    db = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    runner = CliRunner()
    plan = str(Path(__file__).resolve().parent.parent / "examples" / "jingshan_2011.toml")
    created = runner.invoke(app, ["--db", db, "elections", "create", "--plan", plan, "--json"])
    election = str(json.loads(created.stdout)["id"])
    for day in ("0001-01-01", "1949-10-01"):
        result = runner.invoke(
            app,
            [
                "--db",
                db,
                "milestones",
                "complete",
                election,
                "election_committee_formed",
                "--on",
                day,
                "--confirm-early",  # even confirmed: decades before the plan is out of its range
                "--json",
            ],
        )
        assert result.exit_code == 2, result.stdout
        assert json.loads(result.stdout)["error"]["code"] == "E_DATE_OUT_OF_RANGE"
    # A year and more before election day but within a year of the plan's start: asks first.
    early = runner.invoke(
        app, ["--db", db, "milestones", "complete", election, "election_committee_formed", "--on", "2010-09-15", "--json"]
    )
    assert early.exit_code == 2 and json.loads(early.stdout)["error"]["code"] == "E_DATE_NEEDS_CONFIRMATION"


# -- 4. a login flood while reads are measured ----------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(db, clock):
    """The app on a real uvicorn server (its own event loop and worker threads), as deployed.
    Throttling is set out of reach: this is a flood from many addresses, each check a real
    Argon2 hash."""
    import uvicorn

    from config.settings import Settings
    from service.app import create_app

    tokens, _ = load_world(db, clock.now())
    settings = Settings(
        db=db.url,
        migrate_on_start=False,
        cookie_secure=False,
        login_free_attempts=10**6,
        login_free_attempts_per_address=10**6,
        login_free_attempts_per_account=10**6,
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, db, clock), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}", tokens
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _read_times(base: str, token: str, count: int) -> list[float]:
    times = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for _ in range(count):
            started = time.perf_counter()
            assert client.get("/api/v1/elections").status_code == 200
            times.append(time.perf_counter() - started)
    return times


def _flooded_reads(base: str, token: str, flooders: int) -> tuple[float, int]:
    """The median read while `flooders` anonymous clients post wrong passwords; the attempts made."""
    stop = threading.Event()
    attempts = [0]

    def flood(i: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            page = client.get("/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            while not stop.is_set():
                response = client.post(
                    "/login", data={"username": f"admin{i}", "password": "wrong-password-1", "csrf": csrf}
                )
                assert response.status_code == 401
                attempts[0] += 1

    threads = [threading.Thread(target=flood, args=(i,), daemon=True) for i in range(flooders)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 10
        while attempts[0] < flooders and time.monotonic() < deadline:  # the flood is running
            time.sleep(0.05)
        loaded = statistics.median(_read_times(base, token, 20))
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    return loaded, attempts[0]


@pytest.mark.slow
def test_login_flood_leaves_reads_within_three_times_their_unloaded_latency(served):
    """Six anonymous flooders (the attack raised reads from 37 ms to 2.8 s): password checks run
    outside the database slot in a bounded pool, so reads stay within 3x of unloaded reads.
    Up to four rounds of unloaded then flooded reads (the machine is shared with the other test
    worker); the first round within 3x ends it, the best ratio counts. The regression this guards
    against (the hash under the database slot) is some 75x, in every round."""
    base, tokens = served
    token = tokens["admin"]
    _read_times(base, token, 3)  # warm up
    ratios = []
    for _ in range(4):
        unloaded = statistics.median(_read_times(base, token, 20))
        loaded, attempts = _flooded_reads(base, token, 6)
        assert attempts >= 6, "the flood did not run"
        print(
            f"login flood: {attempts} attempts; reads {unloaded * 1000:.1f} ms unloaded, {loaded * 1000:.1f} ms loaded"
        )
        ratios.append(loaded / unloaded)
        if ratios[-1] <= 3:
            break
    assert min(ratios) <= 3, ratios


# -- 3. an import never holds the database for other users longer than one batch ------------
IMPORT_ROWS = 20_000


@pytest.mark.slow
def test_an_import_of_20k_rows_lets_other_users_read_while_it_runs(served, db, clock):
    """A township's 20,000-row upload on the deployed server (on SQLite the gate admits one
    request at a time): the import takes one short transaction per batch, so another user's
    reads keep completing while it runs. Measured as ratios, not absolute times: reads done
    during the import, and the slowest of them against the import's own duration (an import
    holding the gate throughout makes the first read wait for all of it: ratio ≈ 1)."""
    base, tokens = served
    assert advance_to(db, clock, date(2011, 9, 2)) == "registration"
    staff = {"Authorization": f"Bearer {tokens['xinshi']}"}
    with httpx.Client(base_url=base, headers=staff, timeout=60) as client:
        for code in ("01", "02"):
            made = client.post(
                f"/api/v1/elections/{XINSHI_ELECTION}/districts", json={"code": code, "name": f"第{code}选区"}
            )
            assert made.status_code == 201, made.text
    content = csv_bytes(voter_rows(IMPORT_ROWS))
    _read_times(base, tokens["admin"], 3)  # warm up
    unloaded = statistics.median(_read_times(base, tokens["admin"], 10))
    outcome: dict = {}

    def run_import() -> None:
        started = time.perf_counter()
        with httpx.Client(base_url=base, headers=staff, timeout=600) as client:
            outcome["response"] = client.post(
                f"/api/v1/elections/{XINSHI_ELECTION}/voters/import",
                files={"file": ("voters.csv", content, "text/csv")},
            )
        outcome["seconds"] = time.perf_counter() - started

    importer = threading.Thread(target=run_import, daemon=True)
    importer.start()
    time.sleep(0.2)  # the upload is received; the import runs
    reads: list[float] = []
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {tokens['admin']}"}, timeout=600
    ) as client:
        while importer.is_alive():
            started = time.perf_counter()
            assert client.get("/api/v1/elections").status_code == 200
            reads.append(time.perf_counter() - started)
    importer.join()
    response, seconds = outcome["response"], outcome["seconds"]
    assert response.status_code == 200, response.text[:300]
    assert response.json()["accepted"] == IMPORT_ROWS
    print(
        f"import {IMPORT_ROWS} rows: {seconds:.2f} s; {len(reads)} reads meanwhile, slowest "
        f"{max(reads) * 1000:.0f} ms, median {statistics.median(reads) * 1000:.0f} ms "
        f"(unloaded {unloaded * 1000:.0f} ms)"
    )
    assert len(reads) >= 5, reads
    assert max(reads) <= seconds / 3, (max(reads), seconds)


# -- what held, kept holding: sessions, CSRF, redirects, injection, XSS ------------------------
def _csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _login(client, username: str = "admin", next_: str = "/"):
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf": _csrf_of(page.text), "next": next_},
        follow_redirects=False,
    )


def test_session_fixation_and_open_redirects(world):
    client = world.client
    client.cookies.set("hj_session", "attacker-chosen")
    assert _login(client).status_code == 303
    issued = [c.value for c in client.cookies.jar if c.name == "hj_session" and c.value != "attacker-chosen"]
    assert len(issued) == 1  # a new session id of the server's own; the planted one means nothing
    planted = TestClient(client.app, cookies={"hj_session": "attacker-chosen"}, client=("127.0.0.1", 3))
    assert planted.get("/", follow_redirects=False).status_code == 303
    for target in (
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
    ):
        client.cookies.clear()
        done = _login(client, next_=target)
        assert done.status_code == 303 and done.headers["location"] == "/", target
    client.cookies.clear()
    assert _login(client, next_="/elections/3").headers["location"] == "/elections/3"


def test_csrf_variants_are_refused(world):
    client = world.client
    assert _login(client).status_code == 303
    token = _csrf_of(client.get("/").text)
    url = "/api/v1/elections/3/milestones/quotas_allocated/complete"
    for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": ""}):
        assert client.post(url, headers=headers).status_code == 403
    for data in ({}, {"csrf": "forged"}):
        done = client.post(
            "/elections/3/milestones/quotas_allocated/complete", data=data, follow_redirects=True
        )
        assert "页面已过期" in done.text
    forged_login = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf": "x"})
    assert forged_login.status_code == 403
    milestones = world.get("admin", "/api/v1/elections/3").json()["milestones"]
    assert next(m for m in milestones if m["key"] == "quotas_allocated")["status"] != "done"
    assert client.post(url, headers={"X-CSRF-Token": token}).status_code == 200  # the real token works


def test_login_checks_a_hash_for_unknown_users_too(world, monkeypatch):
    """The same work for an unknown name as for a wrong password: timing tells no names."""
    checked = []
    real = auth.password_matches
    monkeypatch.setattr(auth, "password_matches", lambda h, p: checked.append(h) or real(h, p))
    page = world.client.get("/login")
    for username in ("admin", "no-such-user"):
        world.client.post(
            "/login", data={"username": username, "password": "wrong-password-1", "csrf": _csrf_of(page.text)}
        )
    assert len(checked) == 2 and all(h.startswith("$argon2") for h in checked)


@pytest.mark.parametrize(
    "payload",
    ["' OR '1'='1", "1; DROP TABLE elections; --", "420821' UNION SELECT * FROM users --", "%27%20OR%201=1"],
)
def test_sql_injection_is_data(world, payload):
    for response in (
        world.get("admin", f"/api/v1/jurisdictions/{payload}"),
        world.get("admin", "/api/v1/elections", params={"jurisdiction": payload}),
        world.get("admin", "/api/v1/audit", params={"action": payload}),
    ):
        assert response.status_code in (200, 404, 422), response.text
    assert world.get("admin", "/api/v1/elections").json()["total"] > 0


def test_titles_are_escaped_in_the_dashboard(world, db):
    with db.transaction() as session:
        session.get(Election, 3).title = '<script>alert(1)</script>{{7*7}}"><img src=x onerror=alert(1)>'
    client = world.client
    assert _login(client).status_code == 303
    for page in (client.get("/").text, client.get("/elections/3").text):
        assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "{{7*7}}" in client.get("/elections/3").text  # printed literally, not evaluated


@pytest.mark.parametrize(
    "path",
    [
        "/static/../../config/settings.py",
        "/static/..%2f..%2fconfig%2fsettings.py",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
        "/static/....//....//pyproject.toml",
        "/static//etc/passwd",
        "/api/v1/elections/3/notices/published/..%2f..%2f1",
        "/api/v1/jurisdictions/..%2f..%2fetc%2fpasswd",
    ],
)
def test_path_traversal_reaches_no_file(world, path):
    response = world.get("admin", path)
    assert response.status_code in (404, 422), (path, response.status_code)
    assert "HUANJIE_" not in response.text and "root:" not in response.text
