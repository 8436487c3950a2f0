"""Publishing the voter list (EL 28): the first publication freezes version 1 of each
district's list; later changes are recorded as supplementary entries and published as new
versions (补正名单). The decisions are in workflow/rules/voter_list.py; this module reads
and writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Date, Integer, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands import elections
from workflow.events import SupplementPublished, VoterListPublished
from workflow.rules.record_dates import check_list_date, plan_start
from workflow.rules.voter_list import (
    LIST_MILESTONE,
    changes_by_district,
    check_first_list,
    check_publishable,
    number_supplement,
    supplement_date,
)
from workflow.store.audit import record
from workflow.store.models import Election
from workflow.store.voters import (
    District,
    SupplementaryChange,
    SupplementaryEntry,
    Voter,
    VoterListEntry,
    VoterListVersion,
    VoterStatus,
)
from workflow.timeutil import local_date


def today_for(election: Election, clock: Clock) -> date:
    return local_date(clock.now(), election.jurisdiction.timezone)


def is_published(election: Election) -> bool:
    try:
        return election.milestone(LIST_MILESTONE).done_on is not None
    except KeyError:
        return False


# -- the supplementary list ------------------------------------------------------------------
def supplement(
    session: Session,
    election: Election,
    voter: Voter,
    change: SupplementaryChange,
    reason: str,
    on: date,
    *,
    details: str | None = None,
    appeal_id: int | None = None,
) -> None:
    """After publication a change to the register goes to the supplementary list."""
    if not is_published(election):
        return
    session.add(
        SupplementaryEntry(
            election_id=election.id,
            district_id=voter.district_id,
            voter_id=voter.id,
            change=change.value,
            reason=reason,
            details=details,
            on=on,
            appeal_id=appeal_id,
        )
    )


def supplement_import(session: Session, import_id: int, on: date) -> None:
    """Every voter an import added, as additions on the supplementary list."""
    session.execute(
        insert(SupplementaryEntry).from_select(
            ["election_id", "district_id", "voter_id", "change", "reason", "on"],
            select(
                Voter.election_id,
                Voter.district_id,
                Voter.id,
                literal(SupplementaryChange.ADD.value),
                Voter.added_reason,
                literal(on, Date),
            ).where(Voter.import_id == import_id),
        )
    )


# -- publication ---------------------------------------------------------------------------------
@dataclass
class Published:
    supplementary: bool
    published_on: date
    districts: list[dict]

    def as_dict(self) -> dict:
        return {
            "supplementary": self.supplementary,
            "published_on": self.published_on,
            "districts": self.districts,
            "voters": sum(d["voters"] for d in self.districts),
        }


def publish(
    session: Session, election_id: int, *, clock: Clock, actor: str, on: date | None = None
) -> Published:
    """First call: complete `voter_list_published` (EL 28) and freeze version 1 of each
    district's list. Later calls publish the supplementary list: a new version of each
    district with pending changes, keeping everyone's list number (and 选民证 number)."""
    election = elections.get_election(session, election_id, for_update=True)
    kind = elections.kind_of(election)
    districts = list(
        session.execute(
            select(District).where(District.election_id == election_id).order_by(District.code)
        ).scalars()
    )
    check_publishable(kind_name=kind.name, milestones=kind.milestones, districts=len(districts))
    now = clock.now()
    frozen = session.execute(
        select(VoterListVersion.id).where(VoterListVersion.election_id == election_id).limit(1)
    ).first()
    _check_date(election, on, clock, first=not frozen)
    if not frozen:
        published = _publish_first(session, election, districts, now, clock=clock, actor=actor, on=on)
        event = VoterListPublished
        figures = {d["code"]: d["voters"] for d in published.districts}
    else:
        published = _publish_supplement(session, election, districts, now, clock=clock, on=on)
        event = SupplementPublished
        figures = {d["code"]: d["changes"] for d in published.districts}
    session.flush()
    record(
        session,
        event(
            entity_id=str(election_id),
            after={"published_on": published.published_on, "districts": figures},
        ),
        actor=actor,
        clock=clock,
    )
    if not published.supplementary:
        _publish_townships(session, election, published.published_on, clock=clock, actor=actor)
    return published


def _publish_townships(session: Session, county: Election, on: date, *, clock: Clock, actor: str) -> None:
    """县乡两级: one register, lists published per district for each level on the same day. The
    county's first list publishes the list of every township election sharing its register
    (workflow/commands/register_levels.py) that has voters and is not yet published."""
    towns = session.execute(
        select(Election.id)
        .where(Election.parent_election_id == county.id, Election.kind == county.kind)
        .order_by(Election.id)
    ).scalars().all()
    for town_id in towns:
        town = elections.get_election(session, town_id)
        registered = session.execute(
            select(Voter.id).where(Voter.election_id == town_id, Voter.status == VoterStatus.ACTIVE).limit(1)
        ).first()
        if registered and not is_published(town):
            publish(session, town_id, clock=clock, actor=actor, on=on)


def _check_date(election: Election, on: date | None, clock: Clock, *, first: bool) -> None:
    """The publication date lies in the election's plausible range (workflow/rules/record_dates)."""
    today = today_for(election, clock)
    plan_dates = [d for m in election.milestones for d in (m.planned_date, m.earliest)]
    for window in (election.phase_windows or {}).values():
        if window and window[0]:
            plan_dates.append(date.fromisoformat(str(window[0])))
    first_published = None if first else election.milestone(LIST_MILESTONE).done_on
    check_list_date(
        on or today,
        start=plan_start(election.anchor_date, plan_dates),
        election_day=election.anchor_date,
        today=today,
        first_published=first_published,
        list_source=_source(election, LIST_MILESTONE),
        appeals_source=elections.kind_of(election).cite("appeals"),
    )


def _source(election: Election, key: str) -> str:
    spec = elections.kind_of(election).milestones.get(key)
    return spec.source if spec else ""


def _district_row(district: District, version: int, voters: int, changes: int) -> dict:
    return {
        "code": district.code,
        "name": district.name,
        "version": version,
        "voters": voters,
        "changes": changes,
    }


def _publish_first(
    session: Session,
    election: Election,
    districts: list[District],
    now: datetime,
    *,
    clock: Clock,
    actor: str,
    on: date | None,
) -> Published:
    active = session.execute(
        select(func.count()).where(Voter.election_id == election.id, Voter.status == VoterStatus.ACTIVE)
    ).scalar_one()
    check_first_list(active)
    if is_published(election):
        # The voter-list notices completed the milestone (workflow/commands/notices.py): freeze
        # version 1 as of that day; changes recorded meanwhile are already in it.
        published_on = election.milestone(LIST_MILESTONE).done_on
        session.execute(
            delete(SupplementaryEntry).where(
                SupplementaryEntry.election_id == election.id, SupplementaryEntry.version_id.is_(None)
            )
        )
    else:
        milestone = elections.complete_milestone(
            session, election.id, LIST_MILESTONE, clock=clock, actor=actor, on=on
        )
        published_on = milestone.done_on
    out = []
    for district in districts:
        voters = _freeze_first(session, election.id, district, published_on, now)
        out.append(_district_row(district, 1, voters, 0))
    return Published(False, published_on, out)


def _freeze_first(
    session: Session, election_id: int, district: District, published_on: date, now: datetime
) -> int:
    """Version 1 of a district's list, numbered by voter group, then registration order.
    The numbering is one INSERT … SELECT: a county's list runs to hundreds of thousands."""
    version = VoterListVersion(
        election_id=election_id,
        district_id=district.id,
        version=1,
        published_on=published_on,
        voters=0,
        created_at=now,
    )
    session.add(version)
    session.flush()
    ordered = select(
        literal(version.id, Integer),
        func.row_number().over(order_by=(func.coalesce(Voter.voter_group, ""), Voter.id)),
        Voter.id,
    ).where(Voter.district_id == district.id, Voter.status == VoterStatus.ACTIVE)
    session.execute(insert(VoterListEntry).from_select(["version_id", "seq", "voter_id"], ordered))
    version.voters = session.execute(
        select(func.count()).where(VoterListEntry.version_id == version.id)
    ).scalar_one()
    return version.voters


def _publish_supplement(
    session: Session,
    election: Election,
    districts: list[District],
    now: datetime,
    *,
    clock: Clock,
    on: date | None,
) -> Published:
    published_on = supplement_date(on, today_for(election, clock))
    pending = list(
        session.execute(
            select(SupplementaryEntry)
            .where(SupplementaryEntry.election_id == election.id, SupplementaryEntry.version_id.is_(None))
            .order_by(SupplementaryEntry.id)
        ).scalars()
    )
    grouped = changes_by_district([(entry.id, entry.district_id) for entry in pending])
    entries = {entry.id: entry for entry in pending}
    out = []
    for district in districts:
        changes = [entries[entry_id] for entry_id in grouped.get(district.id, [])]
        if not changes:
            continue
        version = _freeze_next(session, election.id, district, published_on, now, len(changes))
        for entry in changes:
            entry.version_id = version.id
        out.append(_district_row(district, version.version, version.voters, len(changes)))
    return Published(True, published_on, out)


def _freeze_next(
    session: Session,
    election_id: int,
    district: District,
    published_on: date,
    now: datetime,
    changes: int,
) -> VoterListVersion:
    """A district's next version: everyone still on the list keeps their number."""
    previous = session.execute(
        select(VoterListVersion)
        .where(VoterListVersion.district_id == district.id)
        .order_by(VoterListVersion.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    version = VoterListVersion(
        election_id=election_id,
        district_id=district.id,
        version=previous.version + 1 if previous else 1,
        published_on=published_on,
        voters=0,
        changes=changes,
        created_at=now,
    )
    session.add(version)
    session.flush()
    kept: dict[int, int] = {}
    previous_max = 0
    if previous is not None:
        kept = dict(
            session.execute(
                select(VoterListEntry.voter_id, VoterListEntry.seq)
                .join(Voter, Voter.id == VoterListEntry.voter_id)
                .where(
                    VoterListEntry.version_id == previous.id,
                    Voter.status == VoterStatus.ACTIVE,
                    Voter.district_id == district.id,
                )
            ).all()
        )
        previous_max = session.execute(
            select(func.coalesce(func.max(VoterListEntry.seq), 0)).where(
                VoterListEntry.version_id == previous.id
            )
        ).scalar_one()
    active = session.execute(
        select(Voter.id)
        .where(Voter.district_id == district.id, Voter.status == VoterStatus.ACTIVE)
        .order_by(Voter.id)
    ).scalars()
    rows = [
        {"version_id": version.id, "seq": seq, "voter_id": voter_id}
        for voter_id, seq in number_supplement(kept, previous_max, active)
    ]
    if rows:
        session.execute(insert(VoterListEntry), rows)
    version.voters = len(rows)
    return version
