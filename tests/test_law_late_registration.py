"""Zhejiang art. 29: a person who could not be reached during registration and asks for it
before 选举日十二日以前 is registered late (补办选民登记); after that day the request is refused.
After the voter list is published every addition is such a supplementary registration. The
national text sets no such cutoff (EL 27, 28): there the addition goes to the supplementary
list. Enforced in the command, the CLI, the API and the dashboard's register form."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from config.settings import Settings
from demo.county import EXAMPLES
from service.app import create_app
from service.cli import app as cli_app
from tests.law_texts import EL2020, ZJ_PC, article
from tests.voters_support import noon, number
from workflow.clock import SystemClock
from workflow.commands import auth, elections, register_levels, voter_districts, voter_import, voter_list
from workflow.errors import DomainError
from workflow.plan import parse_plan
from workflow.store.voters import AddedReason, SupplementaryEntry, Voter

E = date(2021, 11, 20)
LIST_DAY = E - timedelta(days=28)
CUTOFF = E - timedelta(days=12)
PASSWORD = "jingshan-2011"


def _plan(code: str, name: str):
    """The seed's Jingshan plan moved to `code` and to E (every date shifted alike)."""
    with (EXAMPLES / "jingshan_2011.toml").open("rb") as handle:
        data = tomllib.load(handle)
    shift = E - data["election_day"]
    data.pop("statute")
    data["title"] = f"{name}2021年县乡两级人民代表大会代表换届选举"
    data["election_day"] = E
    data["jurisdiction"] = {"code": code, "name": name, "level": "county"}
    data["milestones"] = {k: v + shift for k, v in data["milestones"].items()}
    data["phases"] = {
        k: {"start": v["start"] + shift, "end": v["end"] + shift} for k, v in data["phases"].items()
    }
    return parse_plan(data)


def _election(db, clock, code="330781", name="江山市") -> int:
    clock.set(noon(E - timedelta(days=60)))
    with db.transaction() as s:
        election_id = elections.create_election(s, _plan(code, name), clock=clock, actor="t").election.id
        voter_districts.add_district(s, election_id, code="01", name="第一选区", clock=clock, actor="t")
        register_levels.add_voter(
            s,
            election_id,
            district="01",
            name="在册甲",
            id_number=number(date(1970, 1, 1), 1, area=code),
            reason=AddedReason.REGISTERED,
            clock=clock,
            actor="t",
        )
    clock.set(noon(LIST_DAY))
    with db.transaction() as s:
        voter_list.publish(s, election_id, clock=clock, actor="t", on=LIST_DAY)
    return election_id


def _add(db, clock, election_id, seq, reason=AddedReason.LATE, code="330781"):
    with db.transaction() as s:
        voter = register_levels.add_voter(
            s,
            election_id,
            district="01",
            name=f"补登{seq}",
            id_number=number(date(1980, 5, 5), seq, area=code),
            reason=reason,
            clock=clock,
            actor="t",
        )
        return voter.id


def _count(db, election_id) -> tuple[int, int]:
    with db.reading() as s:
        voters = s.query(Voter).filter(Voter.election_id == election_id).count()
        supplements = (
            s.query(SupplementaryEntry).filter(SupplementaryEntry.election_id == election_id).count()
        )
    return voters, supplements


def test_zhejiang_refuses_a_late_registration_after_e_minus_12(db, clock):
    assert "在选举日十二日以前取得联系，并主动要求登记的，应当予以补办选民登记手续" in article(ZJ_PC, 29)
    election_id = _election(db, clock)
    clock.set(noon(CUTOFF))  # the last day: still registered, on the supplementary list
    _add(db, clock, election_id, 10)
    assert _count(db, election_id) == (2, 1)
    clock.set(noon(CUTOFF + timedelta(days=1)))
    for seq, reason in ((11, AddedReason.LATE), (12, AddedReason.NEWLY_18), (13, AddedReason.MOVED_IN)):
        with pytest.raises(DomainError) as error:
            _add(db, clock, election_id, seq, reason)
        assert error.value.code == "E_REGISTRATION_CLOSED" and error.value.field == "reason"
        message = error.value.message
        assert "第二十九条" in message and str(CUTOFF) in message and "不能补办选民登记" in message
    assert _count(db, election_id) == (2, 1)  # nothing stored


def test_before_publication_the_cutoff_does_not_apply(db, clock):
    clock.set(noon(E - timedelta(days=60)))
    with db.transaction() as s:
        election_id = elections.create_election(
            s, _plan("330781", "江山市"), clock=clock, actor="t"
        ).election.id
        voter_districts.add_district(s, election_id, code="01", name="第一选区", clock=clock, actor="t")
    _add(db, clock, election_id, 20, AddedReason.NEWLY_18)
    assert _count(db, election_id) == (1, 0)


def test_the_national_text_sets_no_cutoff_the_addition_is_supplementary(db, clock):
    el27 = article(EL2020, 27)
    assert "予以登记" in el27 and "十二日" not in el27 and "十二日" not in article(EL2020, 28)
    election_id = _election(db, clock, code="420821", name="京山县")
    clock.set(noon(E - timedelta(days=5)))
    _add(db, clock, election_id, 30, code="420821")
    assert _count(db, election_id) == (2, 1)


def test_an_upheld_appeal_still_adds_after_the_cutoff(db, clock):
    election_id = _election(db, clock)
    clock.set(noon(E - timedelta(days=5)))
    _add(db, clock, election_id, 40, AddedReason.APPEAL)
    assert _count(db, election_id) == (2, 1)


def test_cli_voters_add_refuses_after_the_cutoff(db, clock, monkeypatch):
    election_id = _election(db, clock)
    runner = CliRunner()

    def add(day: date, seq: int):
        monkeypatch.setattr(SystemClock, "now", lambda self: noon(day))
        args = ["--db", db.url, "--actor", "t", "voters", "add", "--election", str(election_id)]
        args += [
            "--district",
            "01",
            "--name",
            f"补登{seq}",
            "--id",
            number(date(1980, 5, 5), seq, area="330781"),
        ]
        result = runner.invoke(cli_app, [*args, "--reason", "late", "--json"])
        return result.exit_code, json.loads(result.stdout)

    code, doc = add(CUTOFF + timedelta(days=1), 50)
    assert code == 2 and doc["error"]["code"] == "E_REGISTRATION_CLOSED"
    assert "浙江省选举实施细则第二十九条" in doc["error"]["message"]
    code, doc = add(CUTOFF, 51)
    assert code == 0 and doc["name"] == "补登51"


@pytest.fixture
def zhejiang_app(db, clock):
    election_id = _election(db, clock)
    with db.transaction() as s:
        auth.add_user(
            s,
            username="jiangshan",
            role="county_admin",
            jurisdiction_code="330781",
            password=PASSWORD,
            clock=clock,
            actor="t",
        )
        token = auth.create_token(s, "jiangshan", clock=clock, actor="t").token
    app = create_app(Settings(db=db.url, migrate_on_start=False, cookie_secure=False), db, clock)
    client = TestClient(app, raise_server_exceptions=False, client=("127.0.0.1", 50000))
    return client, token, election_id


def test_api_refuses_after_the_cutoff(zhejiang_app, db, clock):
    client, token, election_id = zhejiang_app
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "district": "01",
        "name": "补登60",
        "id_number": number(date(1980, 5, 5), 60, area="330781"),
        "reason": "late",
    }
    clock.set(noon(CUTOFF + timedelta(days=1)))
    refused = client.post(f"/api/v1/elections/{election_id}/voters", json=body, headers=headers)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == "E_REGISTRATION_CLOSED" and "第二十九条" in problem["detail"]
    clock.set(noon(CUTOFF))
    added = client.post(f"/api/v1/elections/{election_id}/voters", json=body, headers=headers)
    assert added.status_code == 201, added.text
    assert added.json()["reason"] == "late" and added.json()["supplementary"] is True
    assert _count(db, election_id) == (2, 1)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_dashboard_register_form_refuses_after_the_cutoff(zhejiang_app, db, clock):
    client, _token, election_id = zhejiang_app
    clock.set(noon(CUTOFF + timedelta(days=1)))
    page = client.get("/login")
    client.post("/login", data={"username": "jiangshan", "password": PASSWORD, "csrf": _csrf(page.text)})
    register = client.get(f"/elections/{election_id}/register")
    assert register.status_code == 200
    assert "补办选民登记截止" in register.text and str(CUTOFF) in register.text
    assert '<option value="late">补办选民登记</option>' in register.text
    form = {
        "csrf": _csrf(register.text),
        "district": "01",
        "name": "补登70",
        "id_number": number(date(1980, 5, 5), 70, area="330781"),
        "reason": "late",
    }
    refused = client.post(f"/elections/{election_id}/register/add", data=form, follow_redirects=False)
    assert refused.status_code == 303 and "field=reason" in refused.headers["location"]
    shown = client.get(refused.headers["location"])
    assert f"已过补办选民登记截止（{CUTOFF}），不能补办选民登记：浙江省选举实施细则第二十九条" in shown.text
    assert _count(db, election_id) == (1, 0)
    clock.set(noon(CUTOFF))
    added = client.post(f"/elections/{election_id}/register/add", data=form, follow_redirects=True)
    assert added.status_code == 200 and "已登记选民 补登70" in added.text
    assert _count(db, election_id) == (2, 1)


def test_an_import_after_publication_is_a_supplementary_registration_too(db, clock):
    election_id = _election(db, clock)
    header = ["姓名", "公民身份号码", "选区"]

    def rows(seq: int):
        return [(2, [f"补登{seq}", number(date(1980, 5, 5), seq, area="330781"), "01"])]

    clock.set(noon(CUTOFF + timedelta(days=1)))
    with pytest.raises(DomainError) as error, db.transaction() as s:
        voter_import.import_voters(
            s, election_id, header, rows(80), file_name="v.csv", clock=clock, actor="t"
        )
    assert error.value.code == "E_REGISTRATION_CLOSED" and "第二十九条" in error.value.message
    with pytest.raises(DomainError) as error:
        voter_import.import_staged(
            db.transaction, election_id, header, rows(81), file_name="v.csv", clock=clock, actor="t"
        )
    assert error.value.code == "E_REGISTRATION_CLOSED"
    assert _count(db, election_id) == (1, 0)
    clock.set(noon(CUTOFF))
    with db.transaction() as s:
        report = voter_import.import_voters(
            s, election_id, header, rows(82), file_name="v.csv", clock=clock, actor="t"
        )
    assert report.accepted == 1 and _count(db, election_id) == (2, 1)
