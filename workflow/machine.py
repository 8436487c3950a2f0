"""Phase state machines: one `transitions` Machine per kind, built once, shared by elections.

An election row holds only its state string; to decide a trigger we bind a small model to the
kind's machine for that one transition and let it go (definition apart from instance). Guards
return the reasons a transition is refused, in Chinese for staff and with a code for machines.
There are no Timeout states: time lives in the database and the sweep.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from transitions import Machine, MachineError

from workflow.kinds import KindSpec


class Trigger(StrEnum):
    ADVANCE = "advance"
    SUSPEND = "suspend"
    RESUME = "resume"
    CANCEL = "cancel"


CLOSED = "closed"
SUSPENDED = "suspended"
CANCELLED = "cancelled"
FINAL_STATES = frozenset({CLOSED, CANCELLED})
STATE_NAMES = {CLOSED: "已结束", SUSPENDED: "已暂停", CANCELLED: "已取消"}


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    milestone: str | None = None

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "milestone": self.milestone}


@dataclass(frozen=True)
class Decision:
    trigger: Trigger
    source: str
    target: str | None
    refusals: tuple[Refusal, ...] = ()

    @property
    def allowed(self) -> bool:
        return not self.refusals


class _Model:
    """The per-decision model: what the guards need to know about one election."""

    def __init__(self, kind: KindSpec, state: str, settled: Collection[str], suspended_from: str | None):
        self.kind = kind
        self.state = state
        self.settled = settled
        self.suspended_from = suspended_from
        self.refusals: list[Refusal] = []

    def requirements_met(self, event) -> bool:
        dest = event.transition.dest
        missing = [key for key in self.kind.requirements_of(dest) if key not in self.settled]
        self.refusals = [
            Refusal("E_GUARD_MILESTONE_PENDING", self.kind.milestones[key].missing_text, key)
            for key in missing
        ]
        return not self.refusals

    def resumes_to(self, event) -> bool:
        return self.suspended_from == event.transition.dest


@dataclass
class KindMachine:
    kind: KindSpec
    machine: Machine
    lock: threading.Lock

    def decide(
        self,
        state: str,
        trigger: Trigger,
        settled: Collection[str],
        suspended_from: str | None = None,
    ) -> Decision:
        """Would `trigger` move an election in `state` (with `settled` milestones done or
        waived), and where to? Pure: nothing is stored."""
        model = _Model(self.kind, state, settled, suspended_from)
        with self.lock:
            self.machine.add_model(model, initial=state)
            try:
                moved = model.trigger(str(trigger))
            except MachineError:
                moved = False
                model.refusals = [_not_from_state(self.kind, state, trigger)]
            finally:
                self.machine.remove_model(model)
        if moved:
            return Decision(trigger, state, model.state)
        if not model.refusals:
            model.refusals = [_not_from_state(self.kind, state, trigger)]
        return Decision(trigger, state, None, tuple(model.refusals))

    def next_phase(self, state: str) -> str | None:
        keys = self.kind.phase_keys
        if state not in keys:
            return None
        index = keys.index(state)
        return keys[index + 1] if index + 1 < len(keys) else CLOSED

    def mermaid(self) -> str:
        """The kind's state diagram as Mermaid, drawn by transitions from the same data."""
        from transitions.extensions.diagrams import GraphMachine

        graph = GraphMachine(
            states=_states(self.kind),
            transitions=_transitions(self.kind),
            initial=self.kind.phase_keys[0],
            auto_transitions=False,
            graph_engine="mermaid",
            title=self.kind.name,
        )
        return graph.get_graph().draw(None)


def _not_from_state(kind: KindSpec, state: str, trigger: Trigger) -> Refusal:
    label = state_name(kind, state)
    verbs = {Trigger.ADVANCE: "推进", Trigger.SUSPEND: "暂停", Trigger.RESUME: "恢复", Trigger.CANCEL: "取消"}
    return Refusal("E_TRANSITION_INVALID", f"选举处于「{label}」状态，不能{verbs[trigger]}")


def state_name(kind: KindSpec, state: str) -> str:
    if state in STATE_NAMES:
        return kind.closing.name if state == CLOSED else STATE_NAMES[state]
    try:
        return kind.phase(state).name
    except KeyError:
        return state


def _states(kind: KindSpec) -> list[str]:
    return [*kind.phase_keys, CLOSED, SUSPENDED, CANCELLED]


def _transitions(kind: KindSpec) -> list[dict]:
    phases = kind.phase_keys
    result: list[dict] = []
    for source, dest in zip(phases, [*phases[1:], CLOSED], strict=True):
        result.append(
            {
                "trigger": Trigger.ADVANCE.value,
                "source": source,
                "dest": dest,
                "conditions": "requirements_met",
            }
        )
    for phase in phases:
        result.append({"trigger": Trigger.SUSPEND.value, "source": phase, "dest": SUSPENDED})
        result.append(
            {"trigger": Trigger.RESUME.value, "source": SUSPENDED, "dest": phase, "conditions": "resumes_to"}
        )
    result.append({"trigger": Trigger.CANCEL.value, "source": [*phases, SUSPENDED], "dest": CANCELLED})
    return result


_MACHINES: dict[tuple[str, int], KindMachine] = {}
_BUILD_LOCK = threading.Lock()


def machine_for(kind: KindSpec) -> KindMachine:
    """The kind's machine, built once per process (never one per election or request)."""
    cache_key = (kind.key, kind.version, kind.statute, kind.variant)  # a version or variant may rename
    with _BUILD_LOCK:
        built = _MACHINES.get(cache_key)
        if built is None:
            built = _MACHINES[cache_key] = _build(kind)
    return built


def _build(kind: KindSpec) -> KindMachine:
    machine = Machine(
        model=None,
        states=_states(kind),
        transitions=_transitions(kind),
        initial=kind.phase_keys[0],
        auto_transitions=False,
        send_event=True,
    )
    return KindMachine(kind, machine, threading.Lock())
