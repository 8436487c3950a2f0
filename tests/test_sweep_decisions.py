"""The sweep's decisions (schedules/decisions.py) on plain data: no database, no clock."""

from __future__ import annotations

from datetime import date
from itertools import count

from schedules.decisions import (
    BatchPlan,
    DueReminder,
    ElectionFacts,
    MilestoneFacts,
    advanced_message,
    blocked_message,
    phase_step,
    plan_batch,
    split_phase_rows,
)
from workflow.kinds import get_kind

ELECTION = ElectionFacts(
    id=1, title="京山县人大代表换届选举", state="registration", kind="people_congress", jurisdiction_id=7
)
QUOTAS = "quotas_allocated"  # bound 2011-08-26 in the tests below
COMMITTEE = "election_committee_formed"
BOUND = date(2011, 8, 26)
OPEN = MilestoneFacts(settled=False, pending=True, planned_date=date(2011, 8, 24), latest=BOUND)
ids = count(100)


def due(
    kind: str, key: str | None = QUOTAS, lead: int | None = None, target: date | None = BOUND, election=1
):
    return DueReminder(next(ids), election, key, kind, lead, target)


def decide(reminders, elections=(ELECTION,), milestones=None, appeals=None) -> BatchPlan:
    by_election: dict[int, list[DueReminder]] = {}
    for reminder in reminders:
        by_election.setdefault(reminder.election_id, []).append(reminder)
    facts = {e.id: e for e in elections}
    if milestones is None:
        milestones = {(e.id, key): OPEN for e in elections for key in (QUOTAS, COMMITTEE)}
    return plan_batch(by_election, facts, milestones, appeals or {})


def kinds_sent(plan: BatchPlan) -> list[tuple[str, str, int | None, str]]:
    return [
        (m.reminder.milestone_key, m.reminder.kind, m.reminder.lead_days, m.category) for m in plan.messages
    ]


def test_a_backlog_of_warnings_and_the_overdue_of_one_milestone_sends_only_the_overdue():
    lead7, lead3, lead1 = due("lead", lead=7), due("lead", lead=3), due("lead", lead=1)
    today, overdue = due("due_today"), due("overdue")
    plan = decide([lead7, lead3, lead1, today, overdue])
    assert kinds_sent(plan) == [(QUOTAS, "overdue", None, "overdue")]
    assert plan.done == [overdue.id]
    assert plan.superseded == {r.id: overdue.id for r in (lead7, lead3, lead1, today)}
    assert plan.cancelled == [] and plan.warnings == [] and plan.escalated == []
    (item,) = plan.overdue
    assert item.message == plan.messages[0].item.message
    assert item.message.startswith(
        "【已逾期】京山县人大代表换届选举：「分配代表名额」已超过法定最迟日期 2011-08-26"
    )
    # The milestone is still pending: the ORM marks it overdue.
    assert plan.state_changes == [(1, [overdue])]


def test_each_milestone_keeps_its_own_most_urgent_message():
    quotas7, quotas3 = due("lead", lead=7), due("lead", lead=3)
    committee1 = due("lead", COMMITTEE, lead=1, target=date(2011, 8, 25))
    committee_today = due("due_today", COMMITTEE, target=date(2011, 8, 25))
    plan = decide([quotas7, committee1, quotas3, committee_today])
    assert kinds_sent(plan) == [(QUOTAS, "lead", 3, "warning"), (COMMITTEE, "due_today", None, "warning")]
    assert plan.superseded == {quotas7.id: quotas3.id, committee1.id: committee_today.id}
    assert [w.milestone_key for w in plan.warnings] == [QUOTAS, COMMITTEE]
    assert plan.warnings[0].message.startswith(
        "【提醒】京山县人大代表换届选举：「分配代表名额」距法定最迟日期 2011-08-26 还有 3 天"
    )
    assert plan.state_changes == []


def test_the_nearest_lead_wins_and_a_planned_date_is_named_as_such():
    planned = date(2011, 8, 24)
    lead7, lead3 = due("lead", lead=7, target=planned), due("lead", lead=3, target=planned)
    plan = decide([lead3, lead7])
    assert plan.done == [lead3.id] and plan.superseded == {lead7.id: lead3.id}
    assert "距计划日期 2011-08-24 还有 3 天" in plan.warnings[0].message


def test_the_same_milestone_in_two_elections_is_sent_once_for_each():
    other = ElectionFacts(2, "钟祥市人大代表换届选举", "registration", "people_congress", 8)
    first, second = due("lead", lead=1), due("lead", lead=1, election=2)
    plan = decide([first, second], elections=(ELECTION, other))
    assert [(m.reminder.election_id, m.jurisdiction_id) for m in plan.messages] == [(1, 7), (2, 8)]
    assert plan.done == [first.id, second.id] and plan.superseded == {}


def test_an_escalation_wins_and_the_overdue_is_still_reported_and_marked():
    warning, overdue, escalation = due("plan_overdue"), due("overdue"), due("escalation", lead=2)
    plan = decide([warning, overdue, escalation])
    (message,) = plan.messages
    assert message.reminder is escalation and message.category == "escalation" and message.escalates
    assert plan.superseded == {warning.id: escalation.id, overdue.id: escalation.id}
    (escalated,) = plan.escalated
    assert escalated.message.startswith("【督办】") and "达 2 天仍未办结" in escalated.message
    (reported,) = plan.overdue  # the overdue is listed with its own text, though coalesced
    assert reported.message.startswith("【已逾期】")
    assert plan.warnings == []
    assert plan.state_changes == [(1, [overdue])]


def test_an_escalation_alone_marks_a_pending_milestone_overdue():
    escalation = due("escalation", lead=2)
    plan = decide([escalation])
    assert plan.overdue == [] and plan.state_changes == [(1, [escalation])]


def test_a_milestone_already_overdue_is_not_marked_again():
    already = MilestoneFacts(settled=False, pending=False, planned_date=None, latest=BOUND)
    escalation = due("escalation", lead=2)
    plan = decide([escalation], milestones={(1, QUOTAS): already})
    assert kinds_sent(plan) == [(QUOTAS, "escalation", 2, "escalation")]
    assert plan.state_changes == []


def test_reminders_of_a_settled_or_unknown_milestone_are_cancelled():
    settled = MilestoneFacts(settled=True, pending=False, planned_date=None, latest=BOUND)
    lead, overdue, unknown = due("lead", lead=1), due("overdue"), due("lead", "no_such_milestone", lead=1)
    plan = decide([lead, overdue, unknown], milestones={(1, QUOTAS): settled})
    assert plan.cancelled == [lead.id, overdue.id, unknown.id]
    assert plan.messages == [] and plan.done == [] and plan.state_changes == []


def test_nothing_fires_for_an_ended_or_suspended_election():
    for state in ("closed", "cancelled", "suspended"):
        election = ElectionFacts(1, ELECTION.title, state, "people_congress", 7)
        reminders = [due("lead", lead=1), due("overdue"), due("phase_opens", None), due("appeal_due", None)]
        plan = decide(reminders, elections=(election,))
        assert plan.cancelled == [r.id for r in reminders]
        assert plan.messages == [] and plan.done == [] and plan.overdue == []


def test_a_computed_deadline_is_done_without_a_message():
    passed = due("deadline_passed", "court_suit_deadline")
    milestones = {(1, "court_suit_deadline"): OPEN}
    plan = decide([passed], milestones=milestones)
    assert plan.done == [passed.id] and plan.messages == []
    assert plan.state_changes == [(1, [passed])]


def test_an_open_appeal_is_a_warning_with_its_details():
    appeal = due("appeal_due", None, lead=1, target=date(2011, 9, 20))
    plan = decide([appeal], appeals={appeal.id: {"filer": "张三", "subject": "李四的选民资格"}})
    (message,) = plan.messages
    assert message.category == "warning" and message.reminder is appeal
    assert plan.warnings[0].message == (
        "京山县人大代表换届选举：张三就李四的选民资格提出的选民资格申诉应于明天（2011-09-20）"
        "作出处理决定（选举法第二十九条：三日内作出处理决定）"
    )
    assert plan.done == [appeal.id]


def test_phase_rows_are_set_apart():
    phase, check, lead = due("phase_opens", None), due("advance_check", None), due("lead", lead=3)
    assert split_phase_rows([phase, lead, check]) == ([phase, check], [lead])


WINDOWS = {"registration": ["2011-08-27", "2011-09-20"], "nomination": ["2011-09-21", "2011-10-14"]}


def test_a_phase_step_waits_for_its_window():
    assert phase_step("people_congress", "preparation", WINDOWS, date(2011, 8, 26), set(), None) is None
    assert phase_step("people_congress", "preparation", {}, date(2011, 8, 27), set(), None) is None
    assert phase_step("people_congress", "closed", WINDOWS, date(2011, 12, 1), set(), None) is None


def test_a_phase_step_advances_when_the_guards_pass():
    settled = {COMMITTEE, QUOTAS}
    step = phase_step("people_congress", "preparation", WINDOWS, date(2011, 8, 27), settled, None)
    assert step is not None and step.decision.allowed
    assert (step.target, step.opens, step.decision.target) == ("registration", "2011-08-27", "registration")
    text = advanced_message(ELECTION.title, get_kind("people_congress"), step.target, date(2011, 8, 27))
    assert text == "【阶段推进】京山县人大代表换届选举：已于 2011-08-27 进入「划分选区、选民登记」阶段"


def test_a_phase_step_is_blocked_with_the_reasons():
    step = phase_step("people_congress", "preparation", WINDOWS, date(2011, 9, 1), {COMMITTEE}, None)
    assert step is not None and not step.decision.allowed
    reasons = [r.message for r in step.decision.refusals]
    assert reasons == ["代表名额尚未分配"]
    assert blocked_message(ELECTION.title, get_kind("people_congress"), step, reasons) == (
        "【阶段受阻】京山县人大代表换届选举：「划分选区、选民登记」阶段已于 2011-08-27 开始，但尚不能进入：代表名额尚未分配"
    )
