"""The outbox worker on SQLite and PostgreSQL: fan-out, sending, back-off, parking, leases,
concurrent workers, and the `huanjie outbox` commands."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from config.settings import Settings
from schedules import delivery
from schedules.delivery import backoff, deliver_all, deliver_batch, deliver_due, enqueue, recipients
from service.cli import app
from tests.delivery_servers import MailServer, RobotServer
from workflow.commands.jurisdictions import add_jurisdiction
from workflow.store.models import AuditEntry, Jurisdiction, Notification

SUBJECT = "距选民登记截止还有 3 天"
BODY = "选民登记应于 2026-09-13 前完成（选举法第二十八条）。"


@pytest.fixture
def servers(clock):
    made = {
        "dingtalk": RobotServer("dingtalk", now=clock.now),
        "wecom": RobotServer("wecom", now=clock.now),
        "webhook": RobotServer("webhook", now=clock.now),
    }
    mail = MailServer()
    made["mail"] = mail
    yield made
    for server in made.values():
        server.close()


@pytest.fixture
def settings(servers, monkeypatch) -> Settings:
    monkeypatch.setenv("HUANJIE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("HUANJIE_SMTP_PORT", str(servers["mail"].port))
    monkeypatch.setenv("HUANJIE_SMTP_FROM", "xjw@jingshan.example.gov.cn")
    monkeypatch.setenv("HUANJIE_DELIVERY_HTTP_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("HUANJIE_DELIVERY_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("HUANJIE_DELIVERY_BACKOFF_BASE_SECONDS", "60")
    monkeypatch.setenv("HUANJIE_DELIVERY_BACKOFF_FACTOR", "2")
    monkeypatch.setenv("HUANJIE_DELIVERY_LEASE_SECONDS", "300")
    return Settings()


def all_channels(servers, monkeypatch) -> list[dict]:
    monkeypatch.setenv("HJ_TEST_DING_SECRET", servers["dingtalk"].secret)
    return [
        {
            "name": "京山县选举委员会办公室",
            "role": "office",
            "email": "office@jingshan.example",
            "channels": {
                "log": True,
                "email": True,
                "dingtalk": {"webhook": servers["dingtalk"].url, "secret": "env:HJ_TEST_DING_SECRET"},
                "wecom": {"webhook": servers["wecom"].url},
                "webhook": {"url": servers["webhook"].url, "secret": servers["webhook"].secret},
            },
        },
        {"name": "主任", "role": "chair", "email": "chair@jingshan.example", "channels": {"email": "chair@x.example"}},
    ]


def make_jurisdiction(db, clock, contacts, code="420821") -> int:
    with db.transaction() as session:
        return add_jurisdiction(
            session, code=code, name="京山县", level="county", parent_code=None,
            clock=clock, actor="test", contacts=contacts,
        ).id


def queue(db, clock, jurisdiction_id: int, key: str = "reminder:1") -> list[int]:
    with db.transaction() as session:
        jurisdiction = session.get(Jurisdiction, jurisdiction_id)
        rows = enqueue(
            session, key=key, jurisdiction=jurisdiction, category="warning",
            subject=SUBJECT, body=BODY, clock=clock, payload={"lead_days": 3},
        )
        return [row.id for row in rows]


def rows(db, status: str | None = None) -> list[Notification]:
    with db.reading() as session:
        query = select(Notification).order_by(Notification.id)
        if status:
            query = query.where(Notification.status == status)
        found = list(session.scalars(query))
        session.expunge_all()  # keep the loaded values after the read-only session rolls back
        return found


def webhook_only(db, clock, servers, count: int, code="420821") -> list[int]:
    contacts = [{"name": "hook", "channels": {"webhook": {"url": servers["webhook"].url, "secret": servers["webhook"].secret}}}]
    jurisdiction_id = make_jurisdiction(db, clock, contacts, code)
    ids = []
    for number in range(count):
        ids += queue(db, clock, jurisdiction_id, key=f"reminder:{number}")
    return ids


# -- fan-out ---------------------------------------------------------------------------------------
def test_contacts_fan_out_to_one_row_per_channel_and_enqueue_is_idempotent(db, clock, servers, monkeypatch) -> None:
    jurisdiction_id = make_jurisdiction(db, clock, all_channels(servers, monkeypatch))
    first = queue(db, clock, jurisdiction_id)
    assert len(first) == 6
    assert queue(db, clock, jurisdiction_id) == []  # same event again: nothing new
    stored = rows(db)
    assert sorted(row.channel for row in stored) == ["dingtalk", "email", "email", "log", "webhook", "wecom"]
    emails = sorted(row.recipient["email"] for row in stored if row.channel == "email")
    assert emails == ["chair@x.example", "office@jingshan.example"]
    assert len({row.idempotency_key for row in stored}) == 6
    assert all(row.idempotency_key.startswith("reminder:1|") for row in stored)
    # The secret stays a reference in the database; it is read from the environment at send time.
    (ding,) = [row for row in stored if row.channel == "dingtalk"]
    assert ding.recipient["secret"] == "env:HJ_TEST_DING_SECRET"


def test_a_committee_without_channels_still_gets_a_log_entry(db, clock) -> None:
    with db.transaction() as session:
        jurisdiction = Jurisdiction(code="x", name="某镇", level="township", committee_name="某镇选举委员会")
        session.add(jurisdiction)
        session.flush()
        assert recipients(jurisdiction) == [("log", {"name": "某镇选举委员会", "role": "committee"})]


# -- sending -----------------------------------------------------------------------------------
def test_every_channel_delivered_once_and_marked_sent(db, clock, servers, settings, monkeypatch) -> None:
    jurisdiction_id = make_jurisdiction(db, clock, all_channels(servers, monkeypatch))
    queue(db, clock, jurisdiction_id)
    assert deliver_due(db, clock) == 6
    assert deliver_due(db, clock) == 0
    clock.advance(timedelta(days=1))
    assert deliver_due(db, clock) == 0  # sent rows are never picked up again
    stored = rows(db)
    assert {row.status for row in stored} == {"sent"}
    assert all(row.sent_at == clock.now() - timedelta(days=1) and row.attempts == 1 for row in stored)
    by_channel = {row.channel: row.idempotency_key for row in stored if row.channel != "email"}
    for channel in ("dingtalk", "wecom", "webhook"):
        assert dict(servers[channel].keys) == {by_channel[channel]: 1}
    assert sorted(to for _, (to,) in servers["mail"].sink.envelopes) == ["chair@x.example", "office@jingshan.example"]


def test_failures_back_off_exponentially_then_succeed(db, clock, servers, settings) -> None:
    servers["webhook"].fail_next = 2
    webhook_only(db, clock, servers, 1)
    start = clock.now()
    assert deliver_due(db, clock) == 1
    (row,) = rows(db)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == start + timedelta(seconds=60)
    assert "HTTP 500" in row.last_error
    clock.advance(timedelta(seconds=59))
    assert deliver_due(db, clock) == 0  # not yet due
    clock.advance(timedelta(seconds=1))
    assert deliver_due(db, clock) == 1
    (row,) = rows(db)
    assert row.next_attempt_at == clock.now() + timedelta(seconds=120)
    assert row.last_error.startswith("attempt 2:")
    clock.advance(timedelta(seconds=120))
    assert deliver_due(db, clock) == 1
    (row,) = rows(db)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert dict(servers["webhook"].keys) == {row.idempotency_key: 1}


def test_backoff_is_capped() -> None:
    policy = Settings(delivery_backoff_base_seconds=10, delivery_backoff_factor=3, delivery_backoff_max_seconds=100)
    assert [backoff(n, policy).total_seconds() for n in range(1, 6)] == [10, 30, 90, 100, 100]


def test_exhausted_retries_park_as_failed_with_the_error_and_an_audit_entry(db, clock, servers, settings) -> None:
    servers["webhook"].fail_next = 99
    webhook_only(db, clock, servers, 1)
    for _ in range(4):
        assert deliver_due(db, clock) == 1
        clock.advance(timedelta(hours=1))
    assert deliver_due(db, clock) == 0
    (row,) = rows(db)
    assert (row.status, row.attempts) == ("failed", 4)
    assert row.last_error.startswith("attempt 4: TransientError: HTTP 500")
    with db.reading() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "notification")).all()
    assert actions == ["notification.failed"]


def test_permanent_errors_park_at_once(db, clock, servers, settings) -> None:
    contacts = [{"name": "x", "channels": {"webhook": {"url": servers["webhook"].url, "secret": "wrong"},
                                           "pager": {"number": "110"}}}]
    jurisdiction_id = make_jurisdiction(db, clock, contacts)
    queue(db, clock, jurisdiction_id)
    report = deliver_batch(db, clock)
    assert (report.failed, report.sent, report.retrying) == (2, 0, 0)
    errors = {row.channel: row.last_error for row in rows(db, "failed")}
    assert "HTTP 401" in errors["webhook"]
    assert "unknown channel 'pager'" in errors["pager"]


# -- crash safety: leases and fencing -------------------------------------------------------------
def test_a_claim_that_dies_is_reclaimed_after_its_lease_and_cannot_overwrite(db, clock, servers, settings) -> None:
    webhook_only(db, clock, servers, 3)
    report = delivery.DeliveryReport()
    dead = delivery._claim(db, clock, 2, settings, report)  # a worker claims two rows, then dies
    assert [claim.attempt for claim in dead] == [1, 1]
    # Another worker at the same instant takes only the unclaimed row.
    assert deliver_batch(db, clock, settings=settings).sent_ids == [3]
    clock.advance(timedelta(seconds=299))
    assert deliver_due(db, clock) == 0
    clock.advance(timedelta(seconds=1))
    second = deliver_batch(db, clock, settings=settings)
    assert sorted(second.sent_ids) == [1, 2]
    assert {row.attempts for row in rows(db) if row.id in (1, 2)} == {2}
    # The dead worker comes back to life and tries to write its stale result: fenced off.
    late = delivery.DeliveryReport()
    delivery._mark(db, dead[0], RuntimeError("late"), clock, settings, late)
    assert late.lost == 1 and rows(db)[0].status == "sent" and rows(db)[0].last_error is None


def test_rows_whose_leases_keep_expiring_are_parked(db, clock, servers, settings) -> None:
    webhook_only(db, clock, servers, 1)
    for _ in range(4):  # max_attempts claims, each abandoned
        assert len(delivery._claim(db, clock, 10, settings, delivery.DeliveryReport())) == 1
        clock.advance(timedelta(seconds=301))
    report = deliver_batch(db, clock, settings=settings)
    assert report.failed_ids == [1]
    (row,) = rows(db)
    assert row.status == "failed" and "lease expired" in row.last_error
    assert servers["webhook"].accepted == []


def test_a_lease_about_to_run_out_releases_the_rest_of_the_batch(db, clock, servers) -> None:
    webhook_only(db, clock, servers, 5)
    settings = Settings(delivery_lease_seconds=30, delivery_http_timeout_seconds=10)

    def slow(message, settings, now):  # each send takes 8 s (within the timeout) on the injected clock
        clock.advance(timedelta(seconds=8))
        servers["webhook"].keys[message.key] += 1

    # Sends start at 0, 8, 16 s; at 24 s a send could run to 34 s, past the 30 s lease: stop there.
    report = deliver_batch(db, clock, settings=settings, senders={"webhook": slow})
    assert (report.sent, report.released) == (3, 2)
    assert [(row.status, row.attempts) for row in rows(db)] == [("sent", 1)] * 3 + [("pending", 0)] * 2
    assert deliver_all(db, clock, settings=settings, senders={"webhook": slow}).sent == 2
    assert len(servers["webhook"].keys) == 5 and set(servers["webhook"].keys.values()) == {1}


def test_concurrent_workers_send_each_row_exactly_once(db, clock, servers, settings) -> None:
    ids = webhook_only(db, clock, servers, 120)
    totals: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            handled = 0
            while (count := deliver_due(db, clock, batch=7)) > 0:
                handled += count
            totals.append(handled)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert sum(totals) == len(ids) == 120
    assert len(servers["webhook"].accepted) == 120
    assert set(servers["webhook"].keys.values()) == {1} and len(servers["webhook"].keys) == 120
    with db.reading() as session:
        assert session.scalar(select(func.count()).where(Notification.status == "sent")) == 120


# -- CLI ------------------------------------------------------------------------------------------
def invoke(db, *args: str):
    result = CliRunner().invoke(app, ["--db", db.url, "--actor", "tester", *args])
    return result.exit_code, result.stdout


def test_cli_deliver_list_retry(db, clock, servers, settings) -> None:
    servers["webhook"].fail_next = 99
    contacts = [{"name": "x", "channels": {"webhook": {"url": servers["webhook"].url, "secret": "wrong"},
                                           "log": True}}]
    jurisdiction_id = make_jurisdiction(db, clock, contacts)
    queue(db, clock, jurisdiction_id)
    now = clock.now().isoformat()

    code, out = invoke(db, "outbox", "deliver", "--now", now, "--json")
    assert code == 0
    report = json.loads(out)
    assert (report["handled"], report["sent"], report["retrying"]) == (2, 1, 1)

    code, out = invoke(db, "outbox", "list", "--status", "pending", "--json")
    (pending,) = json.loads(out)["notifications"]
    assert pending["channel"] == "webhook" and pending["recipient"]["secret"] == "***"
    assert "HTTP 500" in pending["last_error"]

    for day in (1, 2, 3):
        later = (clock.now() + timedelta(days=day)).isoformat()
        assert json.loads(invoke(db, "outbox", "deliver", "--now", later, "--json")[1])["handled"] == 1
    code, out = invoke(db, "outbox", "list", "--status", "failed", "--json")
    (failed,) = json.loads(out)["notifications"]
    assert failed["attempts"] == 4 and failed["last_error"].startswith("attempt 4:")

    code, out = invoke(db, "outbox", "retry", str(pending["id"] + 100), "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "E_NOT_FOUND"
    sent_id = next(row.id for row in rows(db, "sent"))
    code, out = invoke(db, "outbox", "retry", str(sent_id), "--json")
    assert code == 2 and json.loads(out)["error"] == {
        "code": "E_NOT_FAILED", "message": json.loads(out)["error"]["message"], "field": "id"}
    code, out = invoke(db, "outbox", "list", "--status", "bogus", "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "E_BAD_STATUS"

    servers["webhook"].fail_next = 0
    servers["webhook"].secret = "wrong"  # the operator fixed the receiver's configuration
    servers["webhook"].now = None  # the next pass runs on the real clock
    code, out = invoke(db, "outbox", "retry", str(failed["id"]), "--json")
    assert code == 0 and json.loads(out)["notification"]["status"] == "pending"
    code, out = invoke(db, "outbox", "deliver", "--json")  # real clock: due at once
    assert json.loads(out)["sent_ids"] == [failed["id"]]
    assert [row.status for row in rows(db)] == ["sent", "sent"]
    with db.reading() as session:
        entries = session.execute(
            select(AuditEntry.action, AuditEntry.actor).where(AuditEntry.entity == "notification")
            .order_by(AuditEntry.id)
        ).all()
    assert [tuple(entry) for entry in entries] == [("notification.failed", "delivery"),
                                                    ("notification.requeued", "tester")]


def test_outbox_test_reaches_every_channel_of_a_committee(db, clock, servers, settings, monkeypatch) -> None:
    """`huanjie outbox test CODE --send`: staff check their robots and mail before the first
    statutory deadline; each channel's result is shown, failures with their error."""
    make_jurisdiction(db, clock, all_channels(servers, monkeypatch))
    servers["wecom"].fail_next = 1  # the WeCom robot answers 500 once: shown as retrying
    runner = CliRunner()
    now = clock.now().isoformat()
    result = runner.invoke(app, ["--db", db.url, "outbox", "test", "420821", "--send", "--now", now, "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)["notifications"]
    by_channel = sorted((n["channel"], n["status"], n["category"]) for n in shown)
    assert by_channel == [
        ("dingtalk", "sent", "test"), ("email", "sent", "test"), ("email", "sent", "test"),
        ("log", "sent", "test"), ("webhook", "sent", "test"), ("wecom", "pending", "test"),
    ]  # fmt: skip
    (wecom,) = [n for n in shown if n["channel"] == "wecom"]
    assert "500" in wecom["last_error"]
    texts = [r.document for r in servers["dingtalk"].accepted + servers["webhook"].accepted]
    assert texts and all("渠道测试" in json.dumps(t, ensure_ascii=False) for t in texts)
    assert {m["To"].addresses[0].addr_spec for m in servers["mail"].sink.messages} == {
        "office@jingshan.example",
        "chair@x.example",
    }
    # Without --send the messages wait in the outbox for the worker; an unknown code is exit 2.
    later = (clock.now() + timedelta(minutes=5)).isoformat()
    result = runner.invoke(app, ["--db", db.url, "outbox", "test", "420821", "--now", later, "--json"])
    assert result.exit_code == 0 and {n["status"] for n in json.loads(result.stdout)["notifications"]} == {
        "pending"
    }
    result = runner.invoke(app, ["--db", db.url, "outbox", "test", "999999", "--json"])
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["field"] == "jurisdiction"
