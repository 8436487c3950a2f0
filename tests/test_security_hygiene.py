"""Hygiene and backdating (issue 16, items 5 and 11): voter-list and appeal dates inside the
election's plausible range, right-to-left overrides kept out of download names, a delivery lease
that cannot cover one send refused and logged, a tally's seats bounded."""

from __future__ import annotations

import logging
from datetime import date
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select, update

from config.settings import Settings
from schedules.delivery import LeaseTooShort, check_lease, deliver_batch, enqueue
from service.downloads import safe_file_name
from tests.service_fixtures import make_world
from tests.test_service_api_parts import XINSHI_ELECTION, advance_to, at, csv_bytes, upload, voter_rows
from tests.test_tally import congress
from workflow.errors import DomainError
from workflow.rules import ric
from workflow.rules.record_dates import check_appeal_date, check_list_date
from workflow.rules.tally import MAX_SEATS, count_round
from workflow.store.models import Jurisdiction, Notification
from workflow.store.voters import VoterListVersion

BASE = f"/api/v1/elections/{XINSHI_ELECTION}"


@pytest.fixture
def world(db, clock):
    return make_world(db, clock)


@pytest.fixture
def registration(world, db, clock):
    assert advance_to(db, clock, date(2011, 9, 2)) == "registration"
    for code in ("01", "02"):
        made = world.post(
            "xinshi", f"{BASE}/districts", json={"code": code, "name": f"第{code}选区", "seats": 2}
        )
        assert made.status_code == 201, made.text
    assert upload(world, "registrar", csv_bytes(voter_rows(6))).status_code == 200
    return world


# -- 5. backdating ------------------------------------------------------------------------------
def test_a_backdated_voter_list_is_refused_and_appeals_stay_open(registration, db, clock):
    world = registration
    at(clock, date(2011, 9, 5))
    for on in ("1950-01-01", "2010-01-01"):
        refused = world.post("registrar", f"{BASE}/voters/publish", json={"on": on})
        assert refused.status_code == 422, refused.text
        body = refused.json()
        assert (
            body["code"] == "E_DATE_OUT_OF_RANGE" and body["field"] == "on" and "第二十八条" in body["detail"]
        )
    with db.reading() as session:
        assert session.execute(select(func.count()).select_from(VoterListVersion)).scalar_one() == 0
    assert world.post("registrar", f"{BASE}/voters/publish", json={"on": "2011-09-05"}).status_code == 200
    appeal = {
        "filer": "甲",
        "request": "add",
        "subject_name": "乙",
        "subject_id": ric.make_number("420821", date(1970, 1, 1), 60, "M"),
        "district": "01",
        "reason": "漏登",
    }
    filed = world.post("registrar", f"{BASE}/appeals", json=appeal)
    assert filed.status_code in (200, 201), filed.text
    # A supplementary list cannot be dated before the first publication either.
    at(clock, date(2011, 9, 8))
    early = world.post("registrar", f"{BASE}/voters/publish", json={"on": "2011-09-01"})
    assert early.status_code == 422 and early.json()["code"] in (
        "E_DATE_OUT_OF_RANGE",
        "E_NOTHING_TO_PUBLISH",
    )


def test_list_and_appeal_dates_name_their_rule():
    day = date(2011, 10, 9)
    # The citations come from the election's kind (config/kinds: the 2020 Election Law's numbering).
    cited = {"list_source": "选举法第二十八条", "appeals_source": "选举法第二十九条"}
    kwargs = {"start": date(2011, 8, 1), "election_day": day, "today": date(2011, 12, 1), **cited}
    assert check_list_date(date(2011, 9, 5), **kwargs) == date(2011, 9, 5)
    for on, article in ((date(1950, 1, 1), "第二十八条"), (date(2011, 10, 10), "第二十八条")):
        with pytest.raises(DomainError) as refused:
            check_list_date(on, **kwargs)
        assert refused.value.code == "E_DATE_OUT_OF_RANGE" and article in refused.value.message
    with pytest.raises(DomainError) as future:
        check_list_date(date(2011, 9, 5), start=date(2011, 8, 1), election_day=day, today=date(2011, 9, 4))
    assert future.value.code == "E_DATE_IN_FUTURE"
    with pytest.raises(DomainError) as supplement:
        check_list_date(date(2011, 9, 4), **kwargs, first_published=date(2011, 9, 5))
    assert supplement.value.field == "on"
    assert check_appeal_date(day, election_day=day) == day
    with pytest.raises(DomainError) as late:
        check_appeal_date(date(2011, 10, 10), election_day=day, source="选举法第二十九条")
    assert "第二十九条" in late.value.message


# -- 11. download names -------------------------------------------------------------------------
def test_download_names_lose_bidi_overrides_controls_and_path_characters():
    assert safe_file_name("报告\u202efdp.exe") == "报告fdp.exe"
    assert safe_file_name("a\u2066b\u2069c\u200fd\x00e\x1bf") == "abcdef"
    assert safe_file_name("../../etc/passwd") == "_.._etc_passwd"
    assert safe_file_name("\u202e\u202e") == "download"
    assert len(safe_file_name("名" * 1000)) == 120


def test_notice_download_names_carry_no_override(world, db):
    with db.transaction() as session:
        session.execute(
            update(Jurisdiction)
            .where(Jurisdiction.code == "420821100")
            .values(committee_name="新市镇\u202ecod.exe选举委员会")
        )
    got = world.get(
        "observer", f"{BASE}/notices/election_committee_formed/preview", params={"format": "docx"}
    )
    assert got.status_code == 200, got.text
    disposition = unquote(got.headers["content-disposition"])
    assert "\u202e" not in disposition and "新市镇cod.exe选举委员会" in disposition


# -- 11. the delivery lease ------------------------------------------------------------------------
def test_a_lease_not_longer_than_a_send_is_refused_and_logged(db, clock, caplog):
    with pytest.raises(LeaseTooShort) as refused:
        check_lease(Settings(delivery_lease_seconds=10, delivery_http_timeout_seconds=10))
    assert (
        refused.value.field == "delivery_lease_seconds"
        and "HUANJIE_DELIVERY_LEASE_SECONDS" in refused.value.message
    )
    with pytest.raises(LeaseTooShort):
        check_lease(Settings(delivery_lease_seconds=20, smtp_timeout_seconds=30))
    check_lease(Settings(delivery_lease_seconds=30, delivery_http_timeout_seconds=10))
    with db.transaction() as session:
        place = Jurisdiction(
            code="420821", name="京山县", level="county", timezone="Asia/Shanghai", contacts=[]
        )
        session.add(place)
        session.flush()
        enqueue(session, key="k1", jurisdiction=place, category="warning", subject="s", body="b", clock=clock)
    caplog.set_level(logging.ERROR, logger="huanjie.delivery")
    with pytest.raises(LeaseTooShort):
        deliver_batch(
            db, clock, settings=Settings(delivery_lease_seconds=5, delivery_http_timeout_seconds=10)
        )
    assert any("lease too short" in r.getMessage() for r in caplog.records)
    with db.reading() as session:  # nothing was claimed: no attempt used up
        assert session.execute(select(Notification.attempts)).scalars().all() == [0]


# -- 11. a tally's seats ----------------------------------------------------------------------------
def test_a_tallys_seats_are_bounded():
    for seats in (10**9, MAX_SEATS + 1):
        with pytest.raises(DomainError) as refused:
            count_round("people_congress", congress({"甲": 40}, seats=seats))
        assert refused.value.field == "seats" and str(MAX_SEATS) in refused.value.message
    assert count_round("people_congress", congress({"甲": 40}, seats=3)).valid
    with pytest.raises(DomainError) as huge:
        count_round("people_congress", congress({"甲": 40}, issued=2**40))
    assert huge.value.field in ("ballots_issued", "registered_voters")
