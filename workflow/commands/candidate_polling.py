"""Candidate-part commands for voters who cannot come to the polling station: proxies (EL 42)
and mobile ballot boxes (EL 38).

The voter registry is an explicit argument (`registry`, by default the voter tables): grantor
and holder of a proxy must be registered voters of the district.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands.candidate_records import (
    ACTIVE,
    VoterRegistry,
    active_election,
    audit_change,
    candidates_of,
    get_list,
    rules_for,
)
from workflow.commands.voter_registry import VoterTables
from workflow.errors import Conflict, DomainError
from workflow.events import MobileBoxRecorded, ProxyRecorded
from workflow.rules import candidates as rules
from workflow.rules import polling
from workflow.store.candidates import MobileBox, Proxy


# -- proxies (EL 42) and mobile ballot boxes (EL 38) ----------------------------------------
def record_proxy(
    session: Session,
    election_id: int,
    district: str,
    *,
    grantor_name: str,
    grantor_id: str,
    holder_name: str,
    holder_id: str,
    consent_document: str,
    approved: bool,
    clock: Clock,
    actor: str,
    consent_on: date | None = None,
    relationship: str | None = None,
    registry: VoterRegistry = VoterTables(),
) -> Proxy:
    election = active_election(session, election_id)
    get_list(session, election_id, district)
    grantor = rules.normalise_id(grantor_id, "grantor")
    holder = rules.normalise_id(holder_id, "holder")
    registered = registry.registered(session, election_id, district, [grantor, holder])
    if registered is not None:
        missing = rules.unregistered([grantor, holder], registered)
        if missing:
            raise DomainError(
                "E_NOT_REGISTERED", f"{'、'.join(missing)} 不是本选区登记的选民（选举法第四十二条）", "holder"
            )
    holder_hash, grantor_hash = rules.id_hash(holder), rules.id_hash(grantor)

    def count(column, value) -> int:
        return session.execute(
            select(func.count()).select_from(Proxy).where(Proxy.election_id == election_id, column == value)
        ).scalar_one()

    polling.check_proxy(
        rules_for(election),
        polling.ProxyRequest(grantor, holder, consent_document or "", approved, relationship),
        holder_count=count(Proxy.holder_id_hash, holder_hash),
        grantor_count=count(Proxy.grantor_id_hash, grantor_hash),
        holder_is_candidate=any(c.id_hash == holder_hash for c in candidates_of(session, election_id, district, ACTIVE)),
    )
    if count(Proxy.holder_id_hash, grantor_hash) or count(Proxy.grantor_id_hash, holder_hash):
        raise DomainError(
            "E_PROXY_CHAIN", "受托人本人已委托他人投票，或委托人已接受他人委托，不能转委托", "holder"
        )
    proxy = Proxy(
        election_id=election_id,
        district=district,
        grantor_name=grantor_name.strip(),
        grantor_id_hash=grantor_hash,
        grantor_id_masked=rules.mask_id(grantor),
        holder_name=holder_name.strip(),
        holder_id_hash=holder_hash,
        holder_id_masked=rules.mask_id(holder),
        consent_document=consent_document.strip(),
        consent_on=consent_on,
        relationship_to_grantor=relationship,
        recorded_by=actor,
        recorded_at=clock.now(),
    )
    session.add(proxy)
    session.flush()
    audit_change(session, ProxyRecorded, str(proxy.id), proxy_view(proxy), clock=clock, actor=actor)
    return proxy


def proxy_view(p: Proxy) -> dict:
    return {
        "id": p.id,
        "district": p.district,
        "grantor": p.grantor_name,
        "grantor_id": p.grantor_id_masked,
        "holder": p.holder_name,
        "holder_id": p.holder_id_masked,
        "consent_document": p.consent_document,
        "consent_on": p.consent_on,
        "relationship": p.relationship_to_grantor,
    }


def proxies(session: Session, election_id: int, district: str | None = None) -> list[Proxy]:
    query = select(Proxy).where(Proxy.election_id == election_id)
    if district:
        query = query.where(Proxy.district == district)
    return list(session.execute(query.order_by(Proxy.id)).scalars())


def record_mobile_box(
    session: Session,
    election_id: int,
    district: str,
    *,
    label: str,
    reason: str,
    scrutineers: Sequence[str],
    clock: Clock,
    actor: str,
    staff: Sequence[str] = (),
    voters_served: int | None = None,
    ballots_issued: int | None = None,
    ballots_returned: int | None = None,
    relatives: Sequence[tuple[str, str, str]] = (),
) -> MobileBox:
    election = active_election(session, election_id)
    get_list(session, election_id, district)
    if not reason.strip():
        raise DomainError(
            "E_REASON_REQUIRED",
            "流动票箱仅用于行动不便或居住分散且交通不便的选民，请说明理由（选举法第三十八条）",
            "reason",
        )
    names = [c.name for c in candidates_of(session, election_id, district, ACTIVE)]
    cleaned = polling.check_mobile_box(rules_for(election), scrutineers, names, staff, relatives)
    ties = declared_ties(relatives)
    if ballots_issued is not None and ballots_returned is not None and ballots_returned > ballots_issued:
        raise DomainError(
            "E_BALLOTS_EXCEED",
            f"流动票箱收回 {ballots_returned} 张，多于发出的 {ballots_issued} 张（选举法第四十四条）",
            "ballots_returned",
        )
    if session.execute(
        select(MobileBox.id).where(
            MobileBox.election_id == election_id, MobileBox.district == district, MobileBox.label == label
        )
    ).first():
        raise Conflict("E_DUPLICATE", f"选区 {district} 已登记流动票箱 {label}", "label")
    box = MobileBox(
        election_id=election_id,
        district=district,
        label=label,
        reason=reason.strip(),
        scrutineers=cleaned,
        staff=[s.strip() for s in staff if s.strip()],
        relatives=ties,
        voters_served=voters_served,
        ballots_issued=ballots_issued,
        ballots_returned=ballots_returned,
        recorded_by=actor,
        recorded_at=clock.now(),
    )
    session.add(box)
    session.flush()
    audit_change(
        session,
        MobileBoxRecorded,
        str(box.id),
        mobile_box_view(box),
        clock=clock,
        actor=actor,
    )
    return box


def declared_ties(relatives: Sequence[tuple[str, str, str]]) -> list[dict]:
    """The declared (person, candidate, relationship) ties of a box's people to candidates as
    kept with the box (EL 43 ¶2): the ties that passed the check (a close relative scrutinising
    is refused), each once, in the order declared."""
    kept: list[dict] = []
    for person, candidate, relationship in relatives:
        tie = {"person": person.strip(), "candidate": candidate.strip(), "relationship": relationship.strip()}
        if all(tie.values()) and tie not in kept:
            kept.append(tie)
    return kept


def mobile_box_view(b: MobileBox) -> dict:
    return {
        "id": b.id,
        "district": b.district,
        "label": b.label,
        "reason": b.reason,
        "scrutineers": b.scrutineers,
        "staff": b.staff,
        "relatives": list(b.relatives or []),
        "voters_served": b.voters_served,
        "ballots_issued": b.ballots_issued,
        "ballots_returned": b.ballots_returned,
    }


def mobile_boxes(session: Session, election_id: int, district: str | None = None) -> list[MobileBox]:
    query = select(MobileBox).where(MobileBox.election_id == election_id)
    if district:
        query = query.where(MobileBox.district == district)
    return list(session.execute(query.order_by(MobileBox.id)).scalars())
