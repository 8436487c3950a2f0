"""The candidate lists as staff see them: each district's list and status, and its candidates."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.commands import candidate_records
from workflow.store.candidates import Candidate, Supporter


def candidate_lists(session: Session, election_id: int, district: str | None = None) -> dict:
    """Every district's list (or one district's) with its candidates, JSON-friendly."""
    lists = [
        {
            "district": lst.district,
            "name": lst.name,
            "seats": lst.seats,
            "status": lst.status,
            "method": lst.method,
            "preliminary_on": lst.preliminary_on,
            "official_on": lst.official_on,
        }
        for lst in candidate_records.district_lists(session, election_id)
        if district in (None, lst.district)
    ]
    # The supporters of every candidate counted in one query (not one per candidate).
    counted = (
        select(Supporter.candidate_id, func.count())
        .join(Candidate, Candidate.id == Supporter.candidate_id)
        .where(Candidate.election_id == election_id)
    )
    if district is not None:
        counted = counted.where(Candidate.district == district)
    supporters = dict(session.execute(counted.group_by(Supporter.candidate_id)).all())
    people = [
        candidate_records.candidate_view(c, supporters.get(c.id, 0))
        for c in candidate_records.candidates_of(session, election_id, district)
    ]
    return {"districts": lists, "candidates": people}
