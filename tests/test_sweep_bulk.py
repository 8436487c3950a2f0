"""The province's busiest sweep (issue 15): every election's phase window opens while its guards
do not pass, so the whole round is flagged blocked at once. The flags are decided on plain rows
and written in one statement — no election is loaded as an ORM object — and what is written is
what the one-by-one path wrote: each election's reasons, its version moved on by one, one audit
entry each on an unbroken chain, one outbox row per committee contact with its recipient and
payload. A second sweep at the same reasons says nothing again. Both backends (`db`)."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import func, select

from schedules.sweep import sweep
from tests.test_query_counts import counting, province
from workflow.store.audit import verify
from workflow.store.models import AuditEntry, Election, Jurisdiction, Notification
from workflow.timeutil import local_instant

SHAPE = (2, 3)  # 2 counties of 3 townships: 8 elections


def _sweep_until_blocked(db, clock):
    """Sweep the round day by day until a sweep flags elections blocked; that sweep's result and
    statements, and the elections' versions just before it."""
    day = date(2011, 8, 19)
    while day < date(2011, 10, 1):
        for at in (time(0, 0, 30), time(9, 0, 30)):
            with db.reading() as session:
                versions = dict(session.execute(select(Election.id, Election.version)).all())
            clock.set(local_instant(day, at))
            with counting(db) as seen:
                result = sweep(db, clock)
            if result.blocked:
                return result, seen, versions
        day = day.fromordinal(day.toordinal() + 1)
    raise AssertionError("no sweep flagged an election blocked")


def test_a_round_blocked_at_once_is_flagged_in_bulk_as_one_by_one(db):
    clock, ids = province(db, SHAPE)
    result, seen, versions = _sweep_until_blocked(db, clock)
    blocked = {item.election_id: item for item in result.blocked}
    assert set(blocked) == set(ids)  # the whole round, in one sweep
    # Decided on plain rows: no election (nor its milestones) loaded as ORM objects.
    assert not any(s.startswith("SELECT elections.id, elections.kind, elections.kind_version") for s in seen)
    assert not any("milestones.id AS milestones_id" in s for s in seen)
    assert sum(s.startswith("UPDATE elections SET blocked_reasons") for s in seen) == result.batches

    with db.reading() as session:
        elections = {e.id: e for e in session.execute(select(Election)).scalars()}
        for election_id, item in blocked.items():
            election = elections[election_id]
            assert election.blocked_reasons and election.version == versions[election_id] + 1
            assert election.updated_at == clock.now()
            assert "；".join(election.blocked_reasons) in item.message
        entries = session.execute(
            select(AuditEntry).where(AuditEntry.action == "election.blocked").order_by(AuditEntry.id)
        ).scalars()
        audited = {e.entity_id: e for e in entries}
        assert set(audited) == {str(i) for i in ids}
        for election_id, entry in audited.items():
            assert entry.after["blocked_reasons"] == elections[int(election_id)].blocked_reasons
            assert entry.after["state"] == blocked[int(election_id)].phase_from
            assert entry.before == {"blocked_reasons": []}
        assert verify(session).ok
        rows = session.execute(select(Notification).where(Notification.category == "blocked")).scalars().all()
        committees = {j.id: j for j in session.execute(select(Jurisdiction)).scalars()}
        for row in rows:
            election = elections[row.election_id]
            committee = committees[election.jurisdiction_id]
            assert row.recipient["jurisdiction"] == committee.code
            assert row.recipient["committee"] == committee.committee_name
            assert row.payload["message"] == row.body == blocked[row.election_id].message
            assert row.idempotency_key.endswith(f":blocked:{blocked[row.election_id].phase_to}")
        # One row per contact channel (the demo's committees log and e-mail) per election.
        assert len(rows) == 2 * len(ids) and len({r.idempotency_key for r in rows}) == len(rows)

    # The same reasons at the next sweep: nothing flagged, audited or sent again.
    with db.reading() as session:
        count = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    again = sweep(db, clock)
    assert not again.blocked
    with db.reading() as session:
        assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == count
