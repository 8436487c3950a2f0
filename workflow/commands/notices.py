"""Notice commands: preview (render) and publish, in the caller's transaction.

Publishing stores a new version (never an overwrite) with its number, template hash, data
snapshot and SHA-256, audits it, and completes the milestone the kind binds to the template.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from notices.catalog import SPECS, Scope, TemplateSpec, get_spec
from notices.context import format_number, number_prefix
from notices.output import FORMATS, doc_model, to_bytes
from notices.render import render_html, template_hash
from workflow.clock import Clock
from workflow.commands import voter_list
from workflow.commands.elections import complete_milestone, get_election, kind_of
from workflow.commands.notice_data import PROVIDERS, Provider, build_context
from workflow.errors import Conflict, DomainError, not_found
from workflow.events import NoticePublished
from workflow.rules.voter_list import LIST_MILESTONE
from workflow.store.audit import record
from workflow.store.models import Election
from workflow.store.notices import Notice
from workflow.timeutil import local_date


@dataclass(frozen=True)
class Rendered:
    template: str
    title: str
    number: str | None
    context: dict
    html: str
    content: bytes
    format: str
    issued_on: date | None = None
    date_source: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class Published:
    notice: Notice
    milestone_completed: str | None
    milestone_note: str | None
    date_source: str = ""


def template_version(spec: TemplateSpec) -> str:
    return f"{spec.version}:{template_hash(spec.key)[:16]}"


def bound_milestone(election: Election, spec: TemplateSpec) -> str | None:
    """The milestone whose kind config names this template (`template = "…"`)."""
    for key, milestone in kind_of(election).milestones.items():
        if milestone.template == spec.key:
            return key
    return None


def _latest(session: Session, election_id: int, template: str, district: str) -> Notice | None:
    return session.execute(
        select(Notice)
        .where(Notice.election_id == election_id, Notice.template == template, Notice.district == district)
        .order_by(Notice.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def _next_seq(session: Session, jurisdiction_id: int, prefix: str, year: int) -> int:
    """Numbers run per committee (jurisdiction), prefix and year: 1, 2, 3 …"""
    top = session.execute(
        select(func.max(Notice.number_seq)).where(
            Notice.jurisdiction_id == jurisdiction_id,
            Notice.number_prefix == prefix,
            Notice.number_year == year,
        )
    ).scalar_one()
    return (top or 0) + 1


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise DomainError("E_BAD_FORMAT", f"不支持的格式 {fmt!r}（可用：html、pdf、docx）", "format")


def _numbering(session: Session, election: Election, spec: TemplateSpec, district: str, on: date):
    """(prefix, year, seq, number, version) for the next version of this notice."""
    previous = _latest(session, election.id, spec.key, district)
    if previous is not None:  # a new version keeps its number
        return (
            previous.number_prefix,
            previous.number_year,
            previous.number_seq,
            previous.number,
            previous.version + 1,
        )
    prefix = number_prefix(election.jurisdiction.name, election.kind, spec)
    if prefix is None:
        return None, None, None, None, 1
    mode = election.jurisdiction.notice_numbering or "year"
    # Per round the run is keyed by the round's year (its election day), not the issue date:
    # a round that crosses 1 January goes on 第4号, 第5号 …
    year = election.anchor_date.year if mode == "round" else on.year
    seq = _next_seq(session, election.jurisdiction_id, prefix, year)
    return prefix, year, seq, format_number(prefix, year, seq, mode), 1


def default_issue_date(election: Election, spec: TemplateSpec, today: date) -> tuple[date, str]:
    """The notice's date when none is given, and where it comes from: the bound milestone's
    completion date, else its planned date. Only a notice bound to no milestone falls back to
    today, and says so."""
    key = bound_milestone(election, spec) or (
        spec.dated_by if spec.dated_by in kind_of(election).milestones else None
    )
    if key is not None:
        milestone = election.milestone(key)
        name = kind_of(election).milestones[key].name
        if milestone.done_on is not None:
            return milestone.done_on, f"「{name}」办结日期"
        if milestone.planned_date is not None:
            return milestone.planned_date, f"「{name}」计划日期"
    return today, "今天（该公告不对应工作节点，可另行指定）"


def render_notice(
    session: Session,
    election_id: int,
    template: str,
    *,
    fmt: str = "html",
    district: str | None = None,
    on: date | None = None,
    clock: Clock,
    date_style: str = "arabic",
    options: dict | None = None,
    providers: Mapping[str, Provider] = PROVIDERS,
    draft: bool = True,
    wording: list[str] | None = None,
    publishable: bool = False,
) -> Rendered:
    """A preview: the notice as it would be published on `on` (default: the bound milestone's
    completion or planned date, `default_issue_date`), with the number it already has or the
    next free one, marked 样稿 (draft) on every page. `wording`: lead paragraphs to try instead of
    the committee's current ones (a wording previewed before it is saved). `publishable`: dated
    as `publish_notice` would date it now (a planned date still ahead gives way to today), for a
    page that offers to publish what it previews. Nothing is stored."""
    context, number, on, source = preview_context(
        session,
        election_id,
        template,
        fmt=fmt,
        district=district,
        on=on,
        clock=clock,
        date_style=date_style,
        options=options,
        providers=providers,
        draft=draft,
        wording=wording,
        publishable=publishable,
    )
    html = render_html(template, context)
    return Rendered(
        template, context["doc"]["heading"], number, context, html, to_bytes(html, fmt, template, context), fmt, on, source
    )


def preview_context(
    session: Session,
    election_id: int,
    template: str,
    *,
    fmt: str = "html",
    district: str | None = None,
    on: date | None = None,
    clock: Clock,
    date_style: str = "arabic",
    options: dict | None = None,
    providers: Mapping[str, Provider] = PROVIDERS,
    draft: bool = True,
    wording: list[str] | None = None,
    publishable: bool = False,
) -> tuple[dict, str | None, date, str]:
    """A preview's data snapshot, nothing rendered: (context, number, issue date, its source).
    Render jobs (workflow/commands/render_jobs.py) take it in a short transaction and render later."""
    _check_format(fmt)
    election = get_election(session, election_id)
    spec = get_spec(template)
    today = local_date(clock.now(), election.jurisdiction.timezone)
    default, source = default_issue_date(election, spec, today)
    if on is None:
        on = default
        if publishable and on > today:  # as publishing now would date it: the day it is posted
            on, source = today, f"今天（{source} {on} 尚未到）"
    elif on != default:
        source = "指定日期"
    *_, number, _version = _numbering(session, election, spec, district or "", on)
    context = build_context(
        session,
        election,
        template,
        district=district,
        issued_on=on,
        number=number,
        date_style=date_style,
        options=options,
        providers=providers,
        draft=draft,
        wording=wording,
    )
    return context, number, on, source


@dataclass(frozen=True)
class _Plan:
    """What publishing would store now: its date (and where it comes from), number and data."""

    on: date
    source: str
    numbering: tuple
    context: dict
    milestone_key: str | None


def _plan(
    session: Session,
    election: Election,
    spec: TemplateSpec,
    *,
    district: str | None,
    on: date | None,
    clock: Clock,
    date_style: str,
    options: dict | None,
    providers: Mapping[str, Provider],
) -> _Plan:
    today = local_date(clock.now(), election.jurisdiction.timezone)
    default, source = default_issue_date(election, spec, today)
    if on is None:
        on = default
        if on > today:  # published ahead of plan: dated the day it is posted, and said so
            on, source = today, f"今天（{source} {on} 尚未到）"
    elif on != default:
        source = "指定日期"
    if on > today:
        raise DomainError("E_DATE_IN_FUTURE", f"公布日期 {on} 晚于今天 {today}", "on")
    numbering = _numbering(session, election, spec, district or "", on)
    context = build_context(
        session,
        election,
        spec.key,
        district=district,
        issued_on=on,
        number=numbering[3],
        date_style=date_style,
        options=options,
        providers=providers,
    )
    return _Plan(on, source, numbering, context, bound_milestone(election, spec))


def _commit(
    session: Session,
    election: Election,
    spec: TemplateSpec,
    plan: _Plan,
    content: bytes,
    *,
    fmt: str,
    district: str | None,
    clock: Clock,
    actor: str,
    providers: Mapping[str, Provider],
) -> Published:
    notice = _store(
        session,
        election,
        spec,
        plan.context,
        content,
        fmt=fmt,
        district=district,
        on=plan.on,
        numbering=plan.numbering,
        milestone_key=plan.milestone_key,
        clock=clock,
        actor=actor,
    )
    completed, note = _complete_bound(
        session, election, spec, plan.milestone_key, district, plan.on, clock, actor, providers
    )
    return Published(notice, completed, note, plan.source)


def publish_notice(
    session: Session,
    election_id: int,
    template: str,
    *,
    fmt: str = "pdf",
    district: str | None = None,
    on: date | None = None,
    clock: Clock,
    actor: str,
    date_style: str = "arabic",
    options: dict | None = None,
    providers: Mapping[str, Provider] = PROVIDERS,
) -> Published:
    """Render, store a new version, audit, and complete the bound milestone, in one transaction
    (the caller's: a whole-election script, tests). The service's routes and the CLI publish
    with `publish_staged`, which renders with no transaction open."""
    _check_format(fmt)
    election = get_election(session, election_id, for_update=True)
    spec = get_spec(template)
    plan = _plan(
        session, election, spec, district=district, on=on, clock=clock, date_style=date_style,
        options=options, providers=providers,
    )
    content = to_bytes(render_html(template, plan.context), fmt, template, plan.context)
    return _commit(
        session, election, spec, plan, content, fmt=fmt, district=district, clock=clock, actor=actor,
        providers=providers,
    )


Unit = Callable[[], AbstractContextManager[Session]]
RENDER_ATTEMPTS = 3  # renders of one publication whose data kept changing meanwhile, then refused


def publish_staged(
    transaction: Unit,
    reading: Unit,
    election_id: int,
    template: str,
    *,
    fmt: str = "pdf",
    district: str | None = None,
    on: date | None = None,
    clock: Clock,
    actor: str,
    date_style: str = "arabic",
    options: dict | None = None,
    providers: Mapping[str, Provider] = PROVIDERS,
    render: Callable[[str, dict, str], bytes] | None = None,
    attempts: int = RENDER_ATTEMPTS,
) -> Published:
    """Publish with the render outside any transaction (issue 15): the data snapshot (date,
    number, context) in a short read; the file rendered with nothing open or locked (a large
    PDF takes seconds, and the election's row lock and SQLite's write lock would stop every
    other writer meanwhile); then one short transaction locks the election, takes the snapshot
    again and stores the file only if it is the same (the number and every figure the file
    shows). If something changed meanwhile (another member published, a voter was added) the
    new snapshot is rendered and checked again; after `attempts` renders the publication is
    refused with a Chinese message, nothing stored. `transaction`/`reading` open the units of
    work (the service's take the request gate for each)."""
    _check_format(fmt)
    spec = get_spec(template)
    args = dict(district=district, on=on, clock=clock, date_style=date_style, options=options, providers=providers)
    with reading() as session:
        plan = _plan(session, get_election(session, election_id), spec, **args)
    for _attempt in range(attempts):
        content = (render or _render_file)(template, plan.context, fmt)
        with transaction() as session:
            election = get_election(session, election_id, for_update=True)
            now = _plan(session, election, spec, **args)
            if now == plan:
                return _commit(
                    session, election, spec, plan, content, fmt=fmt, district=district, clock=clock,
                    actor=actor, providers=providers,
                )
        plan = now  # changed while rendering: render the new snapshot
    raise Conflict(
        "E_NOTICE_CHANGED",
        f"发布期间公告所依据的数据（文号、名单或日期）连续 {attempts} 次被修改，未发布；请稍后重新发布",
        "template",
    )


def _render_file(template: str, context: dict, fmt: str) -> bytes:
    return to_bytes(render_html(template, context), fmt, template, context)


def _store(
    session: Session,
    election: Election,
    spec: TemplateSpec,
    context: dict,
    content: bytes,
    *,
    fmt: str,
    district: str | None,
    on: date,
    numbering: tuple,
    milestone_key: str | None,
    clock: Clock,
    actor: str,
) -> Notice:
    """Store a new version (never an overwrite) with its number, data snapshot and SHA-256, and
    audit it."""
    prefix, year, seq, number, version = numbering
    notice = Notice(
        election_id=election.id,
        jurisdiction_id=election.jurisdiction_id,
        template=spec.key,
        template_version=template_version(spec),
        district=district or "",
        title=context["doc"]["heading"],
        number=number,
        number_prefix=prefix,
        number_year=year,
        number_seq=seq,
        issued_on=on,
        version=version,
        format=fmt,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        content=content,
        data=context,
        milestone_key=milestone_key,
        published_at=clock.now(),
        published_by=actor,
    )
    session.add(notice)
    try:
        session.flush()
    except IntegrityError:  # another committee member published the same number a moment ago
        raise Conflict("E_NOTICE_CONFLICT", "文号或版本已被同时发布的公告占用，请重试", "template") from None
    record(
        session,
        NoticePublished(
            entity_id=str(notice.id),
            before=None,
            after={
                "election_id": election.id,
                "template": spec.key,
                "district": district,
                "number": number,
                "version": version,
                "format": fmt,
                "sha256": notice.sha256,
                "template_version": notice.template_version,
                "issued_on": on,
            },
        ),
        actor=actor,
        clock=clock,
    )
    return notice


def _complete_bound(session, election, spec, milestone_key, district, on, clock, actor, providers):
    if milestone_key is None:
        return None, None
    milestone = election.milestone(milestone_key)
    if milestone.settled:
        name = kind_of(election).milestones[milestone_key].name
        return None, f"「{name}」此前已办结（{milestone.done_on or '已免除'}），节点不变"
    if spec.scope is Scope.DISTRICT:
        # A county's voter list is published when every district's list is: the milestone is
        # completed by the last district's publication (EL 28).
        if "districts" not in providers:
            return None, "尚无选区数据，无法判断是否所有选区均已公布；请全部公布后手工办结该节点"
        codes = {d["code"] for d in providers["districts"](session, election, None) or []}
        done = set(
            session.execute(
                select(Notice.district).where(Notice.election_id == election.id, Notice.template == spec.key)
            ).scalars()
        )
        left = sorted(codes - done)
        if left:
            return None, f"还有 {len(left)} 个选区未公布（如 {left[0]}），全部公布后自动办结"
    complete_milestone(session, election.id, milestone_key, clock=clock, actor=actor, on=on)
    if milestone_key == LIST_MILESTONE:
        # The last district's 选民名单公告 completes `voter_list_published` (EL 28): the list is
        # frozen as version 1 (list numbers, 选民证 numbers) in the same transaction, as
        # `voters publish` does when it is the one that publishes.
        voter_list.publish(session, election.id, clock=clock, actor=actor)
    return milestone_key, None


def notice_catalog(session: Session, election_id: int, providers: Mapping[str, Provider] = PROVIDERS) -> dict:
    """The notices this election's kind uses, their data readiness and published versions."""
    election = get_election(session, election_id)
    # The versions' metadata only: their stored files and snapshots (a district's 选民名单 PDF
    # runs to megabytes) are not read to list them.
    rows = (
        session.execute(
            select(Notice)
            .options(defer(Notice.content), defer(Notice.data))
            .where(Notice.election_id == election_id)
            .order_by(Notice.id)
        )
        .scalars()
        .all()
    )
    templates = []
    for spec in SPECS.values():
        if election.kind not in spec.kinds:
            continue
        milestone_key = bound_milestone(election, spec)
        milestone = election.milestone(milestone_key) if milestone_key else None
        missing = [name for name in spec.needs if name not in providers]
        templates.append(
            {
                "template": spec.key,
                "name": spec.name,
                "scope": str(spec.scope),
                "milestone": milestone_key,
                "milestone_status": milestone.status if milestone else None,
                "ready": not missing,
                "missing_data": missing,
                "published": [
                    {
                        "id": n.id,
                        "district": n.district or None,
                        "version": n.version,
                        "number": n.number,
                        "format": n.format,
                        "issued_on": n.issued_on,
                        "sha256": n.sha256,
                        "published_at": n.published_at,
                        "published_by": n.published_by,
                    }
                    for n in rows
                    if n.template == spec.key
                ],
            }
        )
    return {
        "election_id": election.id,
        "title": election.title,
        "kind": election.kind,
        "templates": templates,
    }


def deadline_warning_message(
    session: Session, election_id: int, milestone: str | None, *, today: date
) -> dict:
    """The staff warning as plain text for the outbox (subject, body), from the same template."""
    election = get_election(session, election_id)
    context = build_context(
        session, election, "deadline_warning", issued_on=today, options={"milestone": milestone}
    )
    model = doc_model(render_html("deadline_warning", context))
    lines = [block[1] for block in model.body if block[0] == "para"]
    lines += ["", model.fields.get("issuer", ""), model.fields.get("date", "")]
    warning = context["warning"]
    return {
        "subject": f"【期限提醒】{election.title}：{warning['name']}（最迟 {warning['latest']}）",
        "body": "\n".join(lines).strip(),
        "milestone": warning["key"],
        "days_left": warning["days_left"],
    }



def verify_notice(session: Session, notice_id: int) -> dict:
    """Re-render a published notice from its stored snapshot and compare the SHA-256: proves
    that the stored bytes are what this template and this data give (and were not altered)."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise not_found("公告", notice_id, "notice_id")
    spec = get_spec(notice.template)
    content = to_bytes(render_html(notice.template, notice.data), notice.format, notice.template, notice.data)
    stored_ok = hashlib.sha256(notice.content).hexdigest() == notice.sha256
    current_version = template_version(spec)
    again = hashlib.sha256(content).hexdigest()
    return {
        "id": notice.id,
        "number": notice.number,
        "version": notice.version,
        "sha256": notice.sha256,
        "content_matches_hash": stored_ok,
        "rerendered_sha256": again,
        "rerender_matches": again == notice.sha256,
        "template_version": notice.template_version,
        "template_unchanged": current_version == notice.template_version,
        "ok": stored_ok and again == notice.sha256,
    }
