"""The per-kind state machine: built once, guards return every reason in Chinese."""

from workflow.kinds import get_kind
from workflow.machine import CANCELLED, CLOSED, SUSPENDED, Trigger, machine_for

KIND = get_kind("people_congress")


def test_machine_is_built_once_per_kind():
    assert machine_for(KIND) is machine_for(get_kind("people_congress"))


def test_advance_is_refused_with_every_missing_milestone():
    decision = machine_for(KIND).decide("nomination", Trigger.ADVANCE, {"preliminary_candidates_published"})
    assert not decision.allowed
    assert [r.milestone for r in decision.refusals] == [
        "official_candidates_published",
        "voter_appeals_closed",
    ]
    assert decision.refusals[0].message == "正式代表候选人名单尚未公布"
    assert all(r.code == "E_GUARD_MILESTONE_PENDING" for r in decision.refusals)


def test_advance_through_every_phase_to_closed():
    machine = machine_for(KIND)
    settled = set(KIND.milestones)
    state = KIND.phase_keys[0]
    visited = [state]
    while state != CLOSED:
        decision = machine.decide(state, Trigger.ADVANCE, settled)
        assert decision.allowed
        state = decision.target
        visited.append(state)
    assert visited == [*KIND.phase_keys, CLOSED]


def test_suspend_resume_returns_to_the_same_phase():
    machine = machine_for(KIND)
    suspended = machine.decide("nomination", Trigger.SUSPEND, set())
    assert suspended.target == SUSPENDED
    resumed = machine.decide(SUSPENDED, Trigger.RESUME, set(), suspended_from="nomination")
    assert resumed.target == "nomination"


def test_final_states_refuse_everything():
    machine = machine_for(KIND)
    for final in (CLOSED, CANCELLED):
        for trigger in Trigger:
            decision = machine.decide(final, trigger, set(KIND.milestones))
            assert not decision.allowed
            assert decision.refusals[0].code == "E_TRANSITION_INVALID"


def test_cancel_from_any_phase():
    machine = machine_for(KIND)
    for phase in KIND.phase_keys:
        assert machine.decide(phase, Trigger.CANCEL, set()).target == CANCELLED
