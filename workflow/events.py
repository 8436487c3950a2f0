"""Domain events: frozen, past-tense values. The audit log is written from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar


def jsonable(value: Any) -> Any:
    """Dates, sets and tuples as JSON-friendly values (the audit hash covers this form)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of all events; subclasses name their action and entity as class constants."""

    action: ClassVar[str] = "event"
    entity: ClassVar[str] = "event"
    entity_id: str | None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def declare(name: str, action: str, entity: str) -> type[Event]:
    """A new kind of event: a frozen class with its action and entity (declared once, below)."""
    return dataclass(frozen=True, kw_only=True)(
        type(name, (Event,), {"action": action, "entity": entity, "__annotations__": {}})
    )


# The closed set of audit events. Class names are `<Subject><PastParticiple>`. The action
# strings are stored in the hash-chained log and read by its consumers, so they stay as first
# written: `<subject>.<past participle>`, the subject singular for one record (`voter.removed`)
# and plural for a batch (`voters.imported`); `election.transition`, `user.login` and
# `user.logout` predate the grammar and are kept for the history they name.
# -- elections and their calendar
ElectionCreated = declare("ElectionCreated", "election.created", "election")
PhaseAdvanced = declare("PhaseAdvanced", "election.transition", "election")
ElectionRescheduled = declare("ElectionRescheduled", "election.rescheduled", "election")
ElectionBlocked = declare("ElectionBlocked", "election.blocked", "election")
VotingMethodChanged = declare("VotingMethodChanged", "election.voting_method_changed", "election")
MilestoneCompleted = declare("MilestoneCompleted", "milestone.completed", "milestone")
MilestoneWaived = declare("MilestoneWaived", "milestone.waived", "milestone")
MilestoneOverdue = declare("MilestoneOverdue", "milestone.overdue", "milestone")
MilestoneReopened = declare("MilestoneReopened", "milestone.reopened", "milestone")  # 撤销办结
MilestoneRedated = declare("MilestoneRedated", "milestone.redated", "milestone")  # 更正日期
MilestoneChased = declare("MilestoneChased", "milestone.chased", "milestone")  # 催办
JurisdictionAdded = declare("JurisdictionAdded", "jurisdiction.added", "jurisdiction")
# -- districts and the voter register
DistrictAdded = declare("DistrictAdded", "district.added", "district")
DistrictsApplied = declare("DistrictsApplied", "districts.applied", "election")
DistrictChanged = declare("DistrictChanged", "district.changed", "district")
DistrictLinked = declare("DistrictLinked", "district.linked", "district")
VotersImported = declare("VotersImported", "voters.imported", "voter_import")
DeprivedListLoaded = declare("DeprivedListLoaded", "voters.deprived_loaded", "election")
VoterAdded = declare("VoterAdded", "voter.added", "voter")
VoterRemoved = declare("VoterRemoved", "voter.removed", "voter")
VoterListPublished = declare("VoterListPublished", "voter_list.published", "election")
SupplementPublished = declare("SupplementPublished", "voter_list.supplement_published", "election")
FullIdsShown = declare("FullIdsShown", "voters.full_ids_shown", "election")
AppealFiled = declare("AppealFiled", "appeal.filed", "appeal")
AppealDecided = declare("AppealDecided", "appeal.decided", "appeal")
# -- candidates, voting and results
CandidateListOpened = declare("CandidateListOpened", "candidates.list_opened", "district_list")
CandidateNominated = declare("CandidateNominated", "candidate.nominated", "candidate")
CandidateWithdrawn = declare("CandidateWithdrawn", "candidate.withdrawn", "candidate")
PreliminaryListPublished = declare("PreliminaryListPublished", "candidates.preliminary_published", "election")
CandidatesConsulted = declare("CandidatesConsulted", "candidates.consultation", "district_list")
PrimaryHeld = declare("PrimaryHeld", "candidates.primary", "district_list")
OfficialListPublished = declare("OfficialListPublished", "candidates.official_published", "election")
CommitteeMemberAdded = declare("CommitteeMemberAdded", "committee.member_added", "committee_member")
CommitteeMemberResigned = declare("CommitteeMemberResigned", "committee.member_resigned", "committee_member")
ProxyRecorded = declare("ProxyRecorded", "proxy.recorded", "proxy")
MobileBoxRecorded = declare("MobileBoxRecorded", "mobile_box.recorded", "mobile_box")
TallyRecorded = declare("TallyRecorded", "tally.recorded", "tally")
TallyEntered = declare("TallyEntered", "tally.entered", "tally_entry")
SeatsDecided = declare("SeatsDecided", "seats.decided", "election")
ResultsPublished = declare("ResultsPublished", "results.published", "election")
DeputyReviewed = declare("DeputyReviewed", "deputy.reviewed", "deputy")
CertificatesIssued = declare("CertificatesIssued", "certificates.issued", "election")
# -- notices, notifications, users
NoticePublished = declare("NoticePublished", "notice.published", "notice")
NoticeSettingsChanged = declare("NoticeSettingsChanged", "notice_settings.changed", "jurisdiction")
NoticeWordingChanged = declare("NoticeWordingChanged", "notice_wording.changed", "notice_wording")
NotificationFailed = declare("NotificationFailed", "notification.failed", "notification")
NotificationRequeued = declare("NotificationRequeued", "notification.requeued", "notification")
UserAdded = declare("UserAdded", "user.added", "user")
UserActivated = declare("UserActivated", "user.activated", "user")
UserDeactivated = declare("UserDeactivated", "user.deactivated", "user")
UserLoggedIn = declare("UserLoggedIn", "user.login", "user")
UserLoggedOut = declare("UserLoggedOut", "user.logout", "user")
TokenCreated = declare("TokenCreated", "token.created", "user")
TokenRevoked = declare("TokenRevoked", "token.revoked", "user")
