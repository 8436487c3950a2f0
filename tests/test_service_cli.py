"""`huanjie users add`, `huanjie tokens create`, and the scheduler hook of the app factory."""

from __future__ import annotations

import json
import sys
import types
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from config.settings import Settings
from service.app import create_app
from service.cli import app as cli_app
from workflow.clock import FixedClock
from workflow.store import Database


def _run(url: str, *args: str):
    result = CliRunner().invoke(cli_app, ["--db", url, "--actor", "tester", *args])
    return result.exit_code, result.stdout


def test_users_and_tokens_from_the_cli(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    assert _run(url, "demo", "--now", "2011-08-20T10:00", "--json")[0] == 0
    code, out = _run(
        url, "users", "add", "wang", "--role", "township_staff", "--jurisdiction", "420821100", "--json"
    )
    made = json.loads(out)
    assert code == 0 and made["created"] and len(made["password"]) >= 8  # generated, shown once
    code, out = _run(url, "users", "add", "wang", "--role", "observer", "--jurisdiction", "420821", "--json")
    assert code == 2 and json.loads(out)["error"]["field"] == "username"
    code, out = _run(
        url, "users", "add", "wang", "--role", "observer", "--jurisdiction", "420821", "--exists-ok", "--json"
    )
    assert code == 0 and json.loads(out) == {"username": "wang", "created": False, "role": "township_staff"}
    code, out = _run(url, "users", "add", "li", "--role", "mayor", "--jurisdiction", "420821", "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "E_BAD_ROLE"
    code, out = _run(
        url,
        "users",
        "add",
        "li",
        "--role",
        "observer",
        "--jurisdiction",
        "420821",
        "--password",
        "short",
        "--json",
    )
    assert code == 2 and json.loads(out)["error"]["field"] == "password"
    code, out = _run(url, "tokens", "create", "nobody", "--json")
    assert code == 2 and json.loads(out)["error"]["field"] == "username"
    code, out = _run(url, "tokens", "create", "wang", "--json")
    token = json.loads(out)["token"]
    assert code == 0 and token.startswith("hj_")

    db = Database(url)
    client = TestClient(
        create_app(
            Settings(db=url, migrate_on_start=False),
            db,
            FixedClock(datetime(2011, 8, 20, 2, tzinfo=UTC)),
        )
    )
    listed = client.get("/api/v1/elections", headers={"Authorization": f"Bearer {token}"}).json()
    assert {e["jurisdiction"]["code"] for e in listed["items"]} == {"420821100", "420821100-001"}
    actions = client.get(
        "/api/v1/audit?action=user.added", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert actions["total"] == 0  # township staff do not see the user log; the county admin does
    db.dispose()


def test_scheduler_started_and_stopped_with_the_app(tmp_path, monkeypatch):
    calls = []

    class FakeScheduler:
        def shutdown(self):
            calls.append("shutdown")

    def start_scheduler(db, clock):
        calls.append(("start", db.url, clock.now().year))
        return FakeScheduler()

    runner = types.ModuleType("schedules.runner")
    runner.start_scheduler = start_scheduler
    monkeypatch.setitem(sys.modules, "schedules.runner", runner)
    db = Database(f"sqlite:///{tmp_path / 's.sqlite3'}")
    db.migrate()
    app = create_app(
        Settings(migrate_on_start=False),
        db,
        FixedClock(datetime(2011, 8, 20, tzinfo=UTC)),
        start_scheduler=True,
    )
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert calls == [("start", db.url, 2011)]
    assert calls[-1] == "shutdown"
    db.dispose()


def test_revoking_tokens_and_deactivating_users(tmp_path):
    """Staff leave: their token is revoked, or their login deactivated — refused at once, the
    records kept and audited; reactivating brings back what was not revoked."""
    from datetime import timedelta

    from workflow.commands import auth as auth_commands

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    assert _run(url, "demo", "--now", "2011-08-20T10:00", "--json")[0] == 0
    assert (
        _run(
            url,
            "users",
            "add",
            "wang",
            "--role",
            "township_staff",
            "--jurisdiction",
            "420821100",
            "--password",
            "wang-secret-1",
            "--json",
        )[0]
        == 0
    )
    first = json.loads(_run(url, "tokens", "create", "wang", "--name", "报表脚本", "--json")[1])
    second = json.loads(_run(url, "tokens", "create", "wang", "--json")[1])
    clock = FixedClock(datetime(2011, 8, 20, 2, tzinfo=UTC))
    db = Database(url)
    client = TestClient(create_app(Settings(db=url, migrate_on_start=False), db, clock))

    def status(token: dict) -> int:
        return client.get(
            "/api/v1/elections", headers={"Authorization": f"Bearer {token['token']}"}
        ).status_code

    assert status(first) == status(second) == 200
    code, out = _run(url, "tokens", "list", "wang", "--json")
    listed = json.loads(out)
    assert code == 0 and [(t["prefix"], t["name"], t["usable"]) for t in listed] == [
        (first["prefix"], "报表脚本", True),
        (second["prefix"], None, True),
    ]
    assert "token" not in listed[0] and first["token"] not in out  # never shown again

    code, out = _run(url, "tokens", "revoke", listed[0]["prefix"], "--json")
    assert code == 0 and json.loads(out)["changed"] is True
    assert (status(first), status(second)) == (401, 200)
    code, out = _run(url, "tokens", "revoke", str(listed[0]["id"]), "--json")
    assert code == 0 and json.loads(out)["changed"] is False  # already revoked: nothing changes
    code, out = _run(url, "tokens", "revoke", "hj_nothing", "--json")
    assert code == 2 and json.loads(out)["error"]["field"] == "token"

    with db.transaction() as session:
        opened = auth_commands.login(
            session, "wang", "wang-secret-1", clock=clock, lifetime=timedelta(hours=8)
        )
    code, out = _run(url, "users", "deactivate", "wang", "--json")
    assert code == 0 and json.loads(out)["changed"] is True
    assert status(second) == 401
    with db.transaction() as session:
        assert auth_commands.web_session(session, opened.cookie, clock=clock) is None  # logged out
    code, out = _run(url, "users", "activate", "wang", "--json")
    assert code == 0 and json.loads(out)["changed"] is True
    assert (status(first), status(second)) == (401, 200)  # the revoked one stays revoked
    code, out = _run(url, "users", "deactivate", "nobody", "--json")
    assert code == 2 and json.loads(out)["error"]["field"] == "username"

    code, out = _run(url, "audit", "verify", "--json")
    assert json.loads(out)["ok"] is True
    with db.reading() as session:
        from sqlalchemy import select

        from workflow.store.models import AuditEntry

        actions = list(
            session.execute(
                select(AuditEntry.action).where(AuditEntry.entity_id == "wang").order_by(AuditEntry.id)
            ).scalars()
        )
    assert [a for a in actions if a.startswith(("token.revoked", "user.de", "user.act"))] == [
        "token.revoked",
        "user.deactivated",
        "user.activated",
    ]
    db.dispose()


def test_the_service_runs_the_real_scheduler_in_its_process(db):
    """`huanjie serve` / `make run`: the app starts schedules.runner's scheduler (sweep,
    digest, delivery) and stops it on shutdown. A warning due at the start is swept at once."""
    import threading
    import time as _time
    from datetime import date, time

    from sqlalchemy import select

    from tests.scheduler_helpers import setup_jingshan, start
    from workflow.store.models import Notification, Reminder, ReminderStatus
    from workflow.timeutil import local_instant

    clock = start()
    election_id = setup_jingshan(db, clock)
    clock.set(local_instant(date(2011, 8, 19), time(9, 0, 30)))  # 7 days before the committee is due
    app = create_app(Settings(migrate_on_start=False), db, clock, start_scheduler=True)

    def lead7_status() -> str:
        with db.reading() as session:
            return session.execute(
                select(Reminder.status).where(
                    Reminder.election_id == election_id,
                    Reminder.milestone_key == "election_committee_formed",
                    Reminder.lead_days == 7,
                )
            ).scalar_one()

    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        deadline = _time.monotonic() + 20
        while lead7_status() != ReminderStatus.DONE and _time.monotonic() < deadline:
            _time.sleep(0.1)
        assert lead7_status() == ReminderStatus.DONE
        with db.reading() as session:
            channels = set(session.execute(select(Notification.channel)).scalars())
        assert {"log", "email"} <= channels
    assert not [t for t in threading.enumerate() if t.name == "APScheduler" and t.is_alive()]
