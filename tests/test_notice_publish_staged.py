"""Publishing renders outside its transaction (issue 15): the snapshot in a short read, the file
rendered with nothing open or locked, then a short transaction that stores it only if the
snapshot is still the same; a change meanwhile is rendered again, and a publication whose data
keeps changing is refused in Chinese with nothing stored. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.service_fixtures import load_demo
from workflow.clock import FixedClock
from workflow.commands import notices as commands
from workflow.commands.elections import get_election
from workflow.errors import Conflict
from workflow.store.notices import Notice

CLOCK = FixedClock(datetime(2026, 11, 26, 2, 0, tzinfo=UTC))
TEMPLATE = "election_day"


@pytest.fixture
def county(db):
    return db, load_demo(db, CLOCK.now())["county"]


def _publish(db, election_id, render, **kw):
    return commands.publish_staged(
        db.transaction,
        db.reading,
        election_id,
        TEMPLATE,
        fmt="html",
        clock=CLOCK,
        actor="clerk",
        render=render,
        **kw,
    )


def _versions(db, election_id) -> list[int]:
    with db.reading() as session:
        return list(
            session.scalars(
                select(Notice.version).where(Notice.election_id == election_id).order_by(Notice.version)
            ).all()
        )


def test_the_render_runs_with_no_transaction_open_and_stores_what_a_single_transaction_would(county):
    db, election_id = county
    calls = []

    def render(template, context, fmt):
        # Another writer can lock the election meanwhile: no row lock, no SQLite write lock held.
        with db.transaction() as session:
            get_election(session, election_id, for_update=True)
        calls.append(context)
        return commands._render_file(template, context, fmt)

    published = _publish(db, election_id, render)
    assert len(calls) == 1
    with db.transaction() as session:
        stored = session.get(Notice, published.notice.id)
        assert (stored.version, stored.published_by, stored.format) == (1, "clerk", "html")
        # The same bytes and data as publishing in one transaction (the next version) gives.
        again = commands.publish_notice(
            session, election_id, TEMPLATE, fmt="html", clock=CLOCK, actor="clerk"
        )
        assert again.notice.version == 2 and again.notice.number == stored.number
        assert (again.notice.data, again.notice.content) == (stored.data, stored.content)


def test_a_change_while_rendering_is_rendered_again_from_the_new_snapshot(county):
    db, election_id = county
    seen = []

    def render(template, context, fmt):
        if not seen:  # another member publishes this notice meanwhile: ours is the next version
            with db.transaction() as session:
                commands.publish_notice(
                    session, election_id, TEMPLATE, fmt="html", clock=CLOCK, actor="other"
                )
        seen.append(context)
        return commands._render_file(template, context, fmt)

    published = _publish(db, election_id, render)
    assert len(seen) == 2 and published.notice.version == 2
    assert _versions(db, election_id) == [1, 2]
    with db.reading() as session:
        assert session.get(Notice, published.notice.id).data == seen[1]  # the file of the new snapshot


def test_data_that_keeps_changing_is_refused_in_chinese_and_nothing_of_it_is_stored(county):
    db, election_id = county
    renders = []

    def render(template, context, fmt):
        renders.append(1)
        with db.transaction() as session:  # every render is overtaken by another publication
            commands.publish_notice(session, election_id, TEMPLATE, fmt="html", clock=CLOCK, actor="other")
        return b"<html></html>"

    with pytest.raises(Conflict) as refused:
        _publish(db, election_id, render, attempts=2)
    assert refused.value.code == "E_NOTICE_CHANGED" and "未发布" in refused.value.message
    assert refused.value.field == "template"
    assert len(renders) == 2 and _versions(db, election_id) == [1, 2]  # only the other member's
    with db.reading() as session:
        assert (
            session.scalar(select(func.count()).select_from(Notice).where(Notice.published_by == "clerk"))
            == 0
        )
