"""The preliminary election (预选, EL 32 ¶2) from the candidates page: the same use case, rules
and messages as `huanjie candidates primary`; a refused primary leaves the list unchanged. On
SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select

from config.settings import Settings
from service.app import create_app
from tests.test_candidates_store import at, election, fill  # noqa: F401  (fixture)
from tests.test_web_steps import Web, _alert, _users
from workflow.commands import candidate_nominations, candidate_records
from workflow.store.candidates import CandidateStatus
from workflow.store.models import AuditEntry


def _statuses(db, election_id: int) -> dict[str, str]:
    with db.reading() as s:
        return {c.name: c.status for c in candidate_records.candidates_of(s, election_id, "01")}


def test_primary_form_ranks_by_votes_and_refuses_ties_and_blanks(db, clock, election):  # noqa: F811
    with db.transaction() as s:
        candidate_nominations.open_district(s, election, "01", seats=1, clock=clock, actor="t")
        fill(s, election, "01", ["甲", "乙", "丙"], clock)
    _users(db, clock, {"clerk1": ("county_admin", "420821")})
    web = Web(TestClient(create_app(Settings(db=db.url, migrate_on_start=False, cookie_secure=False), db, clock)), clock, {}, db)
    page = f"/elections/{election}/candidates"
    action = f"{page}/01/primary"
    at(clock, date(2011, 9, 30))
    web.login("clerk1")
    published = web.post(page, f"{page}/preliminary", {})
    assert _alert(published) == "good:已公布代表候选人初步名单（1 个选区）"
    # The form lists each preliminary candidate with a vote field and the kind's bounds (EL 31:
    # one seat → two candidates).
    assert re.findall(r'name="name" value="([^"]+)"', published) == ["甲", "乙", "丙"]
    assert "预选确定正式候选人" in published and "正式候选人人数（2–2 名，不填为 2 名）" in published
    before = _statuses(db, election)
    assert set(before.values()) == {CandidateStatus.PRELIMINARY}

    blank = web.post(page, action, {"name": ["甲", "乙", "丙"], "votes": ["50", "40", ""]})
    assert _alert(blank) == "bad:请填写「丙 的预选得票」"
    words = web.post(page, action, {"name": ["甲", "乙", "丙"], "votes": ["50", "四十", "1"]})
    assert _alert(words) == "bad:「乙 的预选得票」应为整数，收到「四十」"
    tie = web.post(page, action, {"name": ["甲", "乙", "丙"], "votes": ["50", "30", "30"]})
    assert _alert(tie) in ("bad:预选得票相等：乙、丙 争 1 个名额，请就其再次预选", "bad:预选得票相等：丙、乙 争 1 个名额，请就其再次预选")
    size = web.post(page, action, {"name": ["甲", "乙", "丙"], "votes": ["50", "40", "10"], "size": "3"})
    assert _alert(size) == "bad:选区 01 的正式候选人应为 2–2 名"
    stranger = web.post(page, action, {"name": ["甲", "乙", "丁"], "votes": ["50", "40", "10"]})
    assert _alert(stranger) == "bad:丁 不在选区 01 的初步候选人名单中"
    assert _statuses(db, election) == before  # every refusal left the list as it was

    done = web.post(page, action, {"name": ["甲", "乙", "丙"], "votes": ["50", "40", "10"]})
    assert _alert(done) == "good:选区 01 预选确定：甲、乙"
    after = _statuses(db, election)
    assert after == {"甲": CandidateStatus.PRELIMINARY, "乙": CandidateStatus.PRELIMINARY, "丙": CandidateStatus.NOT_SELECTED}
    with db.reading() as s:
        primaries = s.execute(select(AuditEntry.actor).where(AuditEntry.action == "candidates.primary")).scalars().all()
    assert primaries == ["clerk1"]  # the refusals wrote nothing
    at(clock, date(2011, 10, 10))
    web.login("clerk1")
    official = web.post(page, f"{page}/official", {})
    assert _alert(official) == "good:已公布正式代表候选人名单（1 个选区）"
