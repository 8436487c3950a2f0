"""/api/v1/elections/{id}/calendar.ics: every milestone as an all-day event with alarms."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response
from icalendar import Alarm, Calendar, Event, vText

from service.api.deps import Caller, Svc, Tx
from service.api.elections import ElectionId, visible_election
from service.api.problems import PROBLEM_RESPONSES
from workflow.commands.elections import kind_of
from workflow.store.models import Election

router = APIRouter(prefix="/api/v1/elections", tags=["calendar"], responses=PROBLEM_RESPONSES)
STATUS_TEXT = {"pending": "待办", "done": "已办结", "overdue": "已逾期", "waived": "已免除"}


def election_calendar(election: Election, stamp) -> bytes:
    """The election's milestones on their planned date (else done date, else statutory latest),
    with alarms 7/3/1 days before (the kind's lead days) — the same countdown as the reminders."""
    kind = kind_of(election)
    cal = Calendar()
    cal.add("prodid", "-//huanjie//换届选举//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    # X- properties are not typed as TEXT by icalendar: without vText a CR/LF in a title went
    # out unescaped and broke the whole file (RFC 5545 3.3.11 escapes it as \n).
    cal.add("x-wr-calname", vText(election.title))
    cal.add("x-wr-timezone", vText(election.jurisdiction.timezone))
    for m in election.milestones:
        spec = kind.milestones[m.key]
        day = m.done_on or m.planned_date or m.latest
        if day is None:
            continue
        event = Event()
        event.add("uid", f"election-{election.id}-{m.key}@huanjie")
        event.add("dtstamp", stamp)
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        prefix = "【法定期限】" if spec.computed else ""
        event.add("summary", f"{prefix}{spec.name}（{election.jurisdiction.name}）")
        lines = [spec.rule]
        if m.earliest:
            lines.append(f"最早：{m.earliest.isoformat()}")
        if m.latest:
            lines.append(f"最迟：{m.latest.isoformat()}")
        if m.planned_date:
            lines.append(f"计划：{m.planned_date.isoformat()}")
        lines.append(f"状态：{STATUS_TEXT.get(m.status, m.status)}")
        event.add("description", "\n".join(lines))
        event.add("categories", [kind.phase(m.phase).name])
        if not m.settled:
            for lead in kind.reminders.lead_days:
                alarm = Alarm()
                alarm.add("action", "DISPLAY")
                alarm.add("description", f"{spec.name}：还有 {lead} 天")
                alarm.add("trigger", timedelta(days=-lead))
                event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()


@router.get(
    "/{election_id}/calendar.ics",
    summary="选举日历（iCalendar）：每个节点一个全天事件，提前 7/3/1 天提醒",
    response_class=Response,
    responses={
        200: {
            "description": "iCalendar 文件（RFC 5545）",
            "content": {"text/calendar": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def calendar_feed(election_id: ElectionId, session: Tx, caller: Caller, svc: Svc) -> Response:
    election = visible_election(session, caller, election_id)
    body = election_calendar(election, svc.clock.now())
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="election-{election_id}.ics"'},
    )
