"""Audit events are a closed set declared once in workflow/events.py: one class per action, no
action string written at a call site."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from workflow import events

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR = re.compile(r"^[a-z_]+\.[a-z_]+$")  # <subject>.<past participle>
# Stored before the grammar was fixed, and kept: the log and its readers have them.
HISTORIC = {
    "election.transition",
    "user.login",
    "user.logout",
    "milestone.overdue",
    "candidates.consultation",
    "candidates.primary",
}


def declared() -> list[type[events.Event]]:
    return [
        value
        for value in vars(events).values()
        if isinstance(value, type) and issubclass(value, events.Event) and value is not events.Event
    ]


def test_each_action_is_declared_once_with_one_grammar():
    classes = declared()
    actions = [c.action for c in classes]
    assert len(classes) > 40 and len(set(actions)) == len(actions)
    for cls in classes:
        assert GRAMMAR.match(cls.action), cls.action
        past = cls.action.split(".")[1].split("_")[-1]
        assert cls.action in HISTORIC or past.endswith(("ed", "shown", "held", "withdrawn")), cls.action
        assert cls.__name__[0].isupper() and cls.entity


def test_no_call_site_writes_an_action_string():
    found = []
    for package in ("workflow", "schedules", "service", "demo"):
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "events.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.keyword)
                    and node.arg == "action"
                    and isinstance(node.value, ast.Constant | ast.JoinedStr)
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.value.lineno}")
    assert not found, found


def test_an_event_carries_its_declared_action():
    event = events.VoterRemoved(entity_id="7", before={"status": "active"})
    assert (event.action, event.entity, event.entity_id) == ("voter.removed", "voter", "7")
