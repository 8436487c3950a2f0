"""催办 (schedules/chase.py): messages to the township committees through the outbox, at most
once per milestone per day, audited, shown on the grid's cell; no channel is said honestly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from config.settings import Settings
from schedules.chase import ALREADY, NO_CHANNEL, NOTHING, SENT, chase
from schedules.delivery import deliver_all
from tests.delivery_servers import RobotServer
from tests.service_fixtures import load_world
from workflow.clock import FixedClock
from workflow.store.models import AuditEntry, Jurisdiction, Notification
from workflow.views import jurisdictions
from workflow.views.grid import grid

BUILT = datetime(2011, 8, 20, 2, 0, tzinfo=UTC)


@pytest.fixture
def webhook():
    server = RobotServer("webhook")
    yield server
    server.close()


def set_contacts(db, code, contacts) -> None:
    with db.transaction() as session:
        session.scalars(select(Jurisdiction).where(Jurisdiction.code == code)).one().contacts = contacts


def hook_contacts(server) -> list[dict]:
    return [{"name": "镇选举委员会办公室", "role": "office", "channels": {"webhook": {"url": server.url, "secret": server.secret}}}]


def run_chase(db, clock, targets):
    with db.transaction() as session:
        return chase(session, targets, clock=clock, actor="clerk")


def test_two_townships_chased_once_a_day_through_their_webhook(db, webhook):
    _tokens, elections = load_world(db, BUILT)
    clock = FixedClock(datetime(2011, 9, 21, 2, 0, tzinfo=UTC))
    webhook.now = clock.now
    for code in ("420821100", "420821101"):
        set_contacts(db, code, hook_contacts(webhook))
    set_contacts(db, "420821102", [])  # 宋河镇: no channel configured
    key = "voter_list_published"
    targets = [(elections["420821100"], key), (elections["420821101"], key), (elections["420821102"], key)]
    results = run_chase(db, clock, targets)
    assert [r.outcome for r in results] == [SENT, SENT, NO_CHANNEL]
    assert "未配置任何通知渠道" in results[2].text
    settings = Settings(delivery_http_timeout_seconds=5)
    report = deliver_all(db, clock, settings=settings)
    assert report.sent == 2
    assert len(webhook.accepted) == 2
    texts = [r.document["body"] for r in webhook.accepted]
    assert all("公布选民名单" in t and "已逾期 2 天" in t for t in [r.document["subject"] for r in webhook.accepted])
    assert all("请抓紧办理" in t for t in texts)

    # The same day again (a later hour): nothing new is queued or sent.
    clock.set(datetime(2011, 9, 21, 8, 0, tzinfo=UTC))
    again = run_chase(db, clock, targets)
    assert [r.outcome for r in again] == [ALREADY, ALREADY, NO_CHANNEL]
    assert deliver_all(db, clock, settings=settings).sent == 0
    assert len(webhook.accepted) == 2
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "milestone.chased")) == 2
        assert session.scalar(select(func.count()).select_from(Notification).where(Notification.category == "chase")) == 2
        g = grid(session, jurisdictions.by_code(session, "420821"), date(2011, 9, 21))
        cell = next(r for r in g.rows() if r.election_id == elections["420821100"]).cells[key]
        assert (cell.chased, cell.chased_last) == (1, date(2011, 9, 21))
        assert "已催办 1 次，最近 09-21" in cell.title

    # The next day a chase goes out again.
    clock.advance(timedelta(days=1))
    assert [r.outcome for r in run_chase(db, clock, targets[:1])] == [SENT]
    deliver_all(db, clock, settings=settings)
    assert len(webhook.accepted) == 3


def test_a_row_chases_its_overdue_and_due_soon_milestones(db, webhook):
    _tokens, elections = load_world(db, BUILT)
    clock = FixedClock(datetime(2011, 9, 21, 2, 0, tzinfo=UTC))
    set_contacts(db, "420821100", hook_contacts(webhook))
    results = run_chase(db, clock, [(elections["420821100"], None)])
    assert {r.key for r in results} == {
        "voter_list_published",
        "voter_appeals_closed",
        "quotas_allocated",
        "preliminary_candidates_published",
    }
    assert all(r.outcome == SENT for r in results)
    done = run_chase(db, clock, [(elections["420821100"], "election_committee_formed")])
    assert done[0].outcome == NOTHING  # formed on 08-17: nothing to chase
