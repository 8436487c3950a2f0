"""Milestones by key or by their Chinese name, for the edges where staff type them.

Staff know a milestone as 「公布选民名单」, the engine as `voter_list_published`; every place
that takes a key also takes the name (`resolve_milestone`), and listings print the name beside the
key (`milestone_names`)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.errors import DomainError
from workflow.kinds import KindSpec, get_kind
from workflow.store.models import Election


def resolve_milestone(kind: KindSpec, given: str, field: str = "key") -> str:
    """The key of the milestone named by its key or its Chinese name (「」 and spaces ignored)."""
    text = given.strip().strip("「」“”\"'").strip()
    if text in kind.milestones:
        return text
    found = [key for key, spec in kind.milestones.items() if spec.name == text]
    if len(found) == 1:
        return found[0]
    known = "；".join(f"{key}（{spec.name}）" for key, spec in kind.milestones.items())
    raise DomainError("E_UNKNOWN_MILESTONE", f"{kind.name}没有节点 {given!r}。可用：{known}", field)


def milestone_names(session: Session, election_ids: Collection[int]) -> dict[int, dict[str, str]]:
    """For each election, its kind's milestones as key → Chinese name (one query)."""
    if not election_ids:
        return {}
    kinds = session.execute(select(Election.id, Election.kind).where(Election.id.in_(set(election_ids))))
    return {
        election_id: {key: spec.name for key, spec in get_kind(kind).milestones.items()}
        for election_id, kind in kinds
    }
