"""The reminders, outbox and audit pages of the dashboard, as staff read them: scoped to the
caller's jurisdictions, each message with its election and milestone name, times in the
jurisdiction's zone, delivery failures in Chinese (the technical detail kept for folding away)."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from workflow.kinds import get_kind
from workflow.store.models import AuditEntry, Election, Jurisdiction, Notification
from workflow.views.records import _audit_scope
from workflow.views.reminders import list_reminders

REMINDER_KIND_TEXT = {
    "lead": "提前提醒",
    "due_today": "今日到期",
    "overdue": "逾期提醒",
    "plan_overdue": "晚于计划",
    "escalation": "上报上级",
    "appeal_due": "申诉处理期限",
}
CATEGORY_TEXT = {
    "warning": "提醒",
    "overdue": "逾期",
    "escalation": "上报",
    "blocked": "受阻",
    "digest": "每日汇总",
    "chase": "催办",
    "holidays": "节假日复核",
}
CHANNEL_TEXT = {"log": "日志", "email": "电子邮件", "dingtalk": "钉钉", "wecom": "企业微信", "webhook": "Webhook"}
# (pattern in the stored error, what staff read)
FAILURES = (
    (r"ConnectionRefused|Connection refused", "对方服务器拒绝连接：地址或端口不可用，请核对接收地址，或稍后重试"),
    (r"[Tt]imed? ?out|TimeoutError", "连接超时：对方服务器没有及时响应"),
    (r"Name or service not known|gaierror|nodename", "找不到对方服务器：域名无法解析，请核对地址"),
    (r"SMTP refused", "邮件服务器拒收该地址"),
    (r"not an e-mail address", "电子邮件地址格式有误"),
    (r"SMTP|smtplib", "邮件服务器错误，请检查邮件服务设置"),
    (r"environment variable .* is not set", "渠道密钥未配置（环境变量缺失）"),
    (r"unknown channel", "未知的通知渠道，请检查委员会的联系方式配置"),
    (r"recipient has no", "联系方式缺少必需的地址或密钥"),
    (r"HTTP(Error)? ?4\d\d|status 4\d\d", "对方拒绝了请求（地址、密钥或签名有误）"),
    (r"HTTP(Error)? ?5\d\d|status 5\d\d", "对方服务器出错，稍后会自动重试"),
    (r"errcode", "机器人返回错误（可能是关键词、签名或频率限制）"),
    (r"lease expired", "多次发送都没有结果（发送进程中断），已停止重试"),
    (r"invalid URL|not an http", "接收地址不是有效的网址"),
)


def failure_text(error: str | None) -> str | None:
    """A stored delivery error in words staff understand; the raw text stays for the detail."""
    if not error:
        return None
    for pattern, text in FAILURES:
        if re.search(pattern, error):
            return text
    return "发送失败，请查看技术细节或联系系统管理员"


def _milestone_name(kind_key: str | None, key: str | None) -> str | None:
    if not kind_key or not key:
        return None
    spec = get_kind(kind_key).milestones.get(key)
    return spec.name if spec else None


def outbox_rows(
    session: Session,
    *,
    scope: Collection[int],
    election_id: int | None = None,
    status: str | None = None,
    limit: int = 200,
) -> list[dict]:
    """Outbox rows of the caller's jurisdictions, newest first, ready to show."""
    query = (
        select(Notification, Election.title, Election.kind, Jurisdiction.name, Jurisdiction.timezone)
        .outerjoin(Election, Election.id == Notification.election_id)
        .outerjoin(Jurisdiction, Jurisdiction.id == Notification.jurisdiction_id)
        .where(Notification.jurisdiction_id.in_(select(Jurisdiction.id).where(Jurisdiction.id.in_(list(scope)))))
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    if election_id is not None:
        query = query.where(Notification.election_id == election_id)
    if status:
        query = query.where(Notification.status == status)
    rows = []
    for n, title, kind, place, zone in session.execute(query):
        payload = n.payload or {}
        key = payload.get("milestone") or payload.get("milestone_key") or payload.get("key")
        tz = ZoneInfo(zone or "Asia/Shanghai")
        rows.append(
            {
                "id": n.id,
                "election_id": n.election_id,
                "election": title,
                "jurisdiction": place,
                "milestone": _milestone_name(kind, key if isinstance(key, str) else None),
                "channel": CHANNEL_TEXT.get(n.channel, n.channel),
                "category": CATEGORY_TEXT.get(n.category, n.category),
                "subject": n.subject,
                "status": n.status,
                "attempts": n.attempts,
                "created": n.created_at.astimezone(tz),
                "sent": n.sent_at.astimezone(tz) if n.sent_at else None,
                "next": n.next_attempt_at.astimezone(tz) if n.next_attempt_at else None,
                "failure": failure_text(n.last_error),
                "detail": n.last_error,
            }
        )
    return rows


def reminder_rows(
    session: Session, *, scope: Collection[int], election_id: int | None = None, status: str | None = None, limit: int = 300
) -> list[dict]:
    """The scheduler's reminders with their election and milestone names (local times)."""
    rows = list_reminders(session, election_id=election_id, status=status, jurisdiction_ids=scope, limit=limit)
    ids = {r["election_id"] for r in rows}
    elections = {
        e.id: (e.title, e.kind)
        for e in session.execute(select(Election.id, Election.title, Election.kind).where(Election.id.in_(ids)))
    } if ids else {}
    for r in rows:
        title, kind = elections.get(r["election_id"], (None, None))
        r["election"] = title
        r["milestone"] = _milestone_name(kind, r["milestone_key"]) or (
            get_kind(kind).phase(r["phase"]).name if kind and r["phase"] else None
        )
        r["kind_text"] = REMINDER_KIND_TEXT.get(r["kind"], r["kind"])
        if r["kind"] == "lead" and r["lead_days"]:
            r["kind_text"] = f"提前 {r['lead_days']} 天"
    return rows


ACTION_TEXT = {
    "election.created": "创建选举",
    "election.transition": "阶段变更",
    "election.rescheduled": "调整日期",
    "election.voting_method_changed": "设定选举方式",
    "milestone.completed": "办结节点",
    "milestone.waived": "免除节点",
    "milestone.overdue": "节点逾期",
    "milestone.reopened": "撤销办结",
    "milestone.redated": "更正日期",
    "milestone.chased": "催办",
    "notification.failed": "通知发送失败",
    "notification.requeued": "通知重发",
    "jurisdiction.added": "新增行政区域",
    "voter_list.published": "公布选民名单",
    "notice.published": "发布公告",
    "results.published": "公布选举结果",
    "user.added": "新增用户",
    "token.created": "创建令牌",
    "user.login": "登录",
    "user.logout": "退出",
}


def audit_rows(
    session: Session,
    *,
    scope: Collection[int],
    with_users: bool,
    election_id: int | None = None,
    actor: str | None = None,
    action: str | None = None,
    day: date | None = None,
    zone: str = "Asia/Shanghai",
    limit: int = 200,
) -> tuple[list[dict], int]:
    """Audit entries the caller may see, newest first, filtered by election, actor, action and
    local date; with the total matching."""
    where = [_audit_scope(session, scope, with_users=with_users)]
    if election_id is not None:
        where.append(
            or_(
                and_(AuditEntry.entity == "election", AuditEntry.entity_id == str(election_id)),
                and_(AuditEntry.entity == "milestone", AuditEntry.entity_id.like(f"{election_id}/%")),
            )
        )
    if actor:
        where.append(AuditEntry.actor == actor)
    if action:
        where.append(AuditEntry.action == action)
    tz = ZoneInfo(zone)
    if day is not None:
        start = datetime.combine(day, time(0, 0), tzinfo=tz)
        where += [AuditEntry.at >= start, AuditEntry.at < start + timedelta(days=1)]
    total = session.execute(select(func.count(AuditEntry.id)).where(*where)).scalar_one()
    entries = session.scalars(select(AuditEntry).where(*where).order_by(AuditEntry.id.desc()).limit(limit))
    rows = []
    for e in entries:
        rows.append(
            {
                "id": e.id,
                "at": e.at.astimezone(tz),
                "actor": e.actor,
                "action": e.action,
                "action_text": ACTION_TEXT.get(e.action, e.action),
                "entity": e.entity,
                "entity_id": e.entity_id,
                "election_id": int(e.entity_id.split("/")[0])
                if e.entity in ("election", "milestone") and e.entity_id and e.entity_id.split("/")[0].isdigit()
                else None,
                "reason": (e.after or {}).get("reason") if isinstance(e.after, dict) else None,
                "before": e.before,
                "after": e.after,
            }
        )
    return rows, total
