"""The voter registry's overview for one election: districts with their published versions,
removed voters and the appeals window."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands import appeals as appeal_commands
from workflow.commands import voter_districts
from workflow.rules.voter_list import LIST_MILESTONE
from workflow.store.models import Election
from workflow.store.voters import District, Voter, VoterListVersion, VoterStatus


def voters_status(session: Session, election: Election, *, clock: Clock) -> dict:
    """Voters per district with each published version, the count of removed voters and,
    once the list is published, where the appeals stand."""
    election_id = election.id
    districts = voter_districts.list_districts(session, election_id)
    versions = session.execute(
        select(District.code, VoterListVersion)
        .join(District, District.id == VoterListVersion.district_id)
        .where(VoterListVersion.election_id == election_id)
        .order_by(District.code, VoterListVersion.version)
    ).all()
    by_code: dict[str, list[dict]] = {}
    for code, v in versions:
        by_code.setdefault(code, []).append(
            {"version": v.version, "published_on": v.published_on, "voters": v.voters, "changes": v.changes}
        )
    for d in districts:
        d["versions"] = by_code.get(d["code"], [])
    removed = session.execute(
        select(func.count()).where(Voter.election_id == election_id, Voter.status != VoterStatus.ACTIVE)
    ).scalar_one()
    appeals = None
    list_milestone = next((m for m in election.milestones if m.key == LIST_MILESTONE), None)
    if list_milestone is not None and list_milestone.done_on is not None:
        listed = appeal_commands.list_appeals(session, election_id, clock=clock)
        appeals = {
            "filing_ends": listed["filing_ends"],
            "window_open": listed["window_open"],
            "pending": listed["pending"],
            "overdue": listed["overdue"],
            "total": len(listed["appeals"]),
        }
    return {
        "election_id": election_id,
        "voters": sum(d["voters"] for d in districts),
        "removed": removed,
        "published": list_milestone.done_on if list_milestone is not None else None,
        "districts": districts,
        "appeals": appeals,
    }
