"""`huanjie sweep`, `huanjie reminders list`, the digest and the APScheduler wiring."""

from __future__ import annotations

import json
from datetime import date, time

from sqlalchemy import func, select
from typer.testing import CliRunner

from config.settings import Settings
from schedules.digest import write_digests
from schedules.runner import build_scheduler
from service.cli import app
from tests.scheduler_helpers import run_days, setup_jingshan, start
from workflow.store.models import Notification
from workflow.timeutil import local_instant


def _cli(db, *args):
    result = CliRunner().invoke(app, ["--db", db.url, *args])
    return result.exit_code, result.stdout


def test_sweep_json_lists_what_it_did(db):
    clock = start()
    election_id = setup_jingshan(db, clock)
    code, out = _cli(db, "sweep", "--now", "2011-08-23T09:05", "--json")
    assert code == 0
    payload = json.loads(out)
    assert list(payload) == ["warnings", "overdue", "advanced", "blocked", "escalated"]
    # Both due reminders of the committee's formation fell due; only the nearer one is sent.
    assert payload["warnings"] == [
        {
            "election_id": election_id,
            "milestone_key": "election_committee_formed",
            "phase_from": "preparation",
            "phase_to": None,
            "message": "【提醒】京山县2011年县乡两级人民代表大会代表换届选举：「成立选举委员会」距计划日期 "
            "2011-08-26 还有 3 天（选举法第八条第二款：不设区的市、市辖区、县、自治县、乡、民族乡、镇设立选举委员会，"
            "主持本级人民代表大会代表的选举）",
        }
    ]
    code, out = _cli(db, "sweep", "--now", "2011-08-23T09:05", "--json")
    assert (code, json.loads(out)) == (0, {k: [] for k in payload})


def test_sweep_refuses_a_bad_instant(db):
    code, out = _cli(db, "sweep", "--now", "yesterday", "--json")
    assert code == 2
    assert json.loads(out)["error"]["code"] == "E_BAD_DATETIME"


def test_reminders_list_filters(db):
    clock = start()
    election_id = setup_jingshan(db, clock)
    code, out = _cli(
        db, "reminders", "list", "--election", str(election_id), "--due-before", "2011-08-27", "--json"
    )
    assert code == 0
    rows = json.loads(out)
    assert [(r["milestone_key"], r["kind"], r["lead_days"], r["fire_at_local"][:16]) for r in rows] == [
        ("election_committee_formed", "lead", 7, "2011-08-19T09:00"),
        ("election_committee_formed", "lead", 3, "2011-08-23T09:00"),
        ("election_committee_formed", "lead", 1, "2011-08-25T09:00"),
        ("election_committee_formed", "due_today", None, "2011-08-26T09:00"),
    ]
    assert rows[0]["fire_at"] == "2011-08-19T01:00:00+00:00"  # 09:00 Asia/Shanghai, stored in UTC
    code, out = _cli(db, "reminders", "list", "--status", "nonsense", "--json")
    assert code == 2 and json.loads(out)["error"]["field"] == "status"


def test_daily_digest_once_per_committee_and_day(db):
    clock = start()
    election_id = setup_jingshan(db, clock)
    run_days(db, clock, election_id, date(2011, 8, 18), date(2011, 10, 12), check_idempotent=False)
    clock.set(local_instant(date(2011, 10, 13), time(8, 0)))
    assert write_digests(db, clock) == 1
    assert write_digests(db, clock) == 1  # a second worker at 08:00 …
    with db.reading() as session:
        digests = (
            session.execute(select(Notification).where(Notification.category == "digest")).scalars().all()
        )
        bodies = {n.body for n in digests}
    assert len(digests) == 2  # … adds nothing: one per channel (log, e-mail) of the county
    (body,) = bodies
    assert body.startswith("【每日工作提示】2011-10-13")
    assert "已逾期：「公布正式代表候选人名单」（法定最迟 2011-10-11）" in body
    assert "5 天后到期：「投票选举」（2011-10-18）" in body
    assert "阶段受阻：正式代表候选人名单尚未公布" in body


def test_scheduler_holds_three_jobs_not_one_per_deadline(db):
    clock = start()
    setup_jingshan(db, clock)
    scheduler = build_scheduler(db, Settings(sweep_seconds=30, digest_hour=8))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) <= {"sweep", "digest", "delivery"} and {"sweep", "digest"} <= set(jobs)
    assert jobs["sweep"].trigger.interval.total_seconds() == 30
    assert (jobs["sweep"].misfire_grace_time, jobs["sweep"].coalesce) == (None, True)
    assert (jobs["digest"].misfire_grace_time, jobs["digest"].coalesce) == (7200, True)
    assert str(jobs["digest"].trigger.timezone) == "Asia/Shanghai"
    assert "hour='8'" in str(jobs["digest"].trigger)
    with db.reading() as session:
        assert session.execute(select(func.count()).select_from(Notification)).scalar_one() == 0
