"""The voter registry as the candidates part sees it (its `VoterRegistry` hook), backed by the
voters part's tables: seats come from the District table (EL 25, 30) and joint nominators,
proxy grantors and holders must be active registered voters of the district (EL 30, 42).

Identity numbers are matched by the voters part's own key (`ric.id_hash` of the normalised
number), which carries the unique index `(election_id, id_hash)`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.rules import ric
from workflow.store.voters import District, Voter, VoterStatus


class VoterTables:
    """`VoterRegistry` over the `districts` and `voters` tables."""

    def district_seats(self, session: Session, election_id: int, district: str) -> int | None:
        """The District row's seats; None when the district is unknown or has no seats yet."""
        return session.execute(
            select(District.seats).where(District.election_id == election_id, District.code == district)
        ).scalar_one_or_none()

    def registered(
        self, session: Session, election_id: int, district: str, id_numbers: Sequence[str]
    ) -> set[str] | None:
        """The numbers that are active voters of the district. None (nothing to check against)
        when the election has no voter registered at all, e.g. a past round loaded without its
        register; once any voter is registered, an unknown district registers nobody."""
        anyone = session.execute(select(Voter.id).where(Voter.election_id == election_id).limit(1)).first()
        if anyone is None:
            return None
        by_hash = {ric.id_hash(ric.normalize(n)): n for n in id_numbers}
        if not by_hash:
            return set()
        found = session.execute(
            select(Voter.id_hash)
            .join(District, District.id == Voter.district_id)
            .where(
                Voter.election_id == election_id,
                District.code == district,
                Voter.status == VoterStatus.ACTIVE,
                Voter.id_hash.in_(list(by_hash)),
            )
        ).scalars()
        return {by_hash[h] for h in found}
