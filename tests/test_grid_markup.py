"""The grid page's cells are written in Python (service/web/grid.py: `desk_cells`, `phone_tags`)
for speed; they must be the markup the template's per-cell loop wrote, byte for byte, for every
state (done, late, waived, not applicable, chased, overdue, blocked, due soon, missing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jinja2
import pytest

from service.web.grid import desk_cells, phone_tags
from tests.service_fixtures import make_world
from tests.test_law_approval_milestones import APPROVAL, CODE, E, at, create
from workflow.clock import FixedClock
from workflow.commands import elections as commands
from workflow.commands.jurisdictions import find_jurisdiction
from workflow.views import jurisdictions
from workflow.views.grid import NOT_APPLICABLE, STATE_TEXT, Filters, grid

# The template's loops as they were (service/web/templates/grid.html before the cells moved).
DESK = (
    "{% for c in k.columns %}{% set cell = r.cells.get(c.key) %}\n"
    "  {% if cell %}<td class=\"cell s-{{ cell.state }}{{ ' chased' if cell.chased else '' }}\" data-key=\"{{ c.key }}\">"
    "<a href=\"/elections/{{ r.election_id }}/milestones/{{ c.key }}\" title=\"{{ c.name }}：{{ cell.title }}\">"
    "{% if cell.state == 'overdue' %}逾{{ cell.days }}{% elif cell.state in ('done', 'done_late') %}✓"
    "{% elif cell.state == 'waived' %}免{% elif cell.state == 'not_applicable' %}不适用"
    "{% elif cell.state == 'due_soon' %}{% if cell.days < 0 %}晚{{ -cell.days }}"
    "{% else %}{{ cell.days }}天{% endif %}{% elif cell.state == 'blocked' %}阻{% else %}·{% endif %}"
    "{% if cell.chased %}<sup>催{{ cell.chased }}</sup>{% endif %}</a></td>{% else %}<td class=\"cell none\"></td>{% endif %}\n"
    "  {% endfor %}"
)
PHONE = (
    "{% for st in ('overdue', 'blocked', 'due_soon') %}{% for cell in r.cells.values() if cell.state == st %}"
    "<a class=\"tag s-{{ cell.state }}\" href=\"/elections/{{ r.election_id }}/milestones/{{ cell.key }}\">"
    "{{ names[cell.key] }} · {% if cell.state == 'overdue' %}已逾期 {{ cell.days }} 天"
    "{% elif cell.state == 'due_soon' and cell.days is not none and cell.days < 0 %}晚于计划 {{ -cell.days }} 天"
    "{% elif cell.state == 'due_soon' and cell.days is not none %}剩 {{ cell.days }} 天"
    "{% else %}{{ state_text[cell.state] }}{% endif %}{% if cell.chased %} · 催{{ cell.chased }}{% endif %}</a>"
    "{% endfor %}{% endfor %}"
)


def same_markup(g) -> set[tuple[str, bool]]:
    """Asserts every row's Python cells equal the template loop's; the (state, chased) seen."""
    env = jinja2.Environment(autoescape=True)
    desk, phone = env.from_string(DESK), env.from_string(PHONE)
    seen = set()
    for k in g.kinds:
        names = {c.key: c.name for c in k.columns}
        for r in k.rows:
            assert str(desk_cells(k, r)) == desk.render(k=k, r=r)
            assert str(phone_tags(r, names)) == phone.render(r=r, names=names, state_text=STATE_TEXT)
            seen |= {(c.state, bool(c.chased)) for c in r.cells.values()}
            if len(r.cells) < len(k.columns):
                seen.add(("none", False))
    return seen


@pytest.fixture
def world(db, clock):
    made = make_world(db, clock)
    clock.set(datetime(2011, 9, 21, 2, 0, tzinfo=UTC))  # a month on
    return made


def test_python_cells_equal_the_template_loop(world, db):
    assert world.post("admin", "/api/v1/grid/chase", json={"targets": [{"election_id": 3}]}).status_code == 200
    done = world.post("admin", "/api/v1/elections/3/milestones/quotas_allocated/complete", json={"on": "2011-09-01"})
    assert done.status_code == 200
    with db.transaction() as session:
        commands.waive_milestone(
            session, 4, "voter_appeals_closed", reason="无申诉", clock=FixedClock(datetime(2011, 9, 21, 2, 0, tzinfo=UTC)),
            actor="t",
        )
    with db.reading() as session:
        g = grid(session, jurisdictions.by_code(session, "420821"), datetime(2011, 9, 21).date(), Filters(include_finished=True))
    seen = same_markup(g)
    states = {state for state, _ in seen}
    assert {"overdue", "blocked", "due_soon", "not_yet_due", "done", "waived"} <= states
    assert ("overdue", True) in seen  # a chased cell


def test_python_cells_equal_the_template_loop_for_a_variant_and_its_approval(db, clock):
    """Zhejiang's variant adds columns; its approval is 不适用 until the day moves, then due."""
    at(clock, E - timedelta(days=90))
    create(db, clock, "江山市2021年人大代表选举（按期）")
    moved = {APPROVAL: E - timedelta(days=5)}
    create(db, clock, "江山市2021年人大代表选举（推迟）", election_day=E + timedelta(days=3), **moved)
    with db.reading() as session:
        g = grid(session, find_jurisdiction(session, CODE), E - timedelta(days=3))
    assert any(c.key == APPROVAL for k in g.kinds for c in k.columns)
    states = {r.cells[APPROVAL].state for k in g.kinds for r in k.rows}
    assert NOT_APPLICABLE in states and len(states) == 2  # the moved one's is due, not 不适用
    assert ("not_applicable", False) in same_markup(g)
