"""`huanjie notices …`: list, render (preview to a file) and publish notices."""

from __future__ import annotations

from pathlib import Path

import typer

from service.cli.common import JSON, Reply, handled, parse_date, reply, run, say, state
from workflow.commands import notices as commands
from workflow.commands.elections import get_election, kind_of
from workflow.views.milestone_names import resolve_milestone
from workflow.views.notices import published_notice

app = typer.Typer(help="公告：列出、生成、发布", no_args_is_help=True)
DISTRICT = typer.Option(None, "--district", help="选区代码（选民名单等按选区生成的公告必填）")
ON = typer.Option(
    None, "--on", help="公告日期（成文日期）YYYY-MM-DD，默认取对应节点的办结日期或计划日期（计划日期未到时为今天）"
)
DATE_STYLE = typer.Option(
    "arabic", "--date-style", help="成文日期写法：arabic（2021年9月20日）或 chinese（二〇二一年九月二十日）"
)
MILESTONE = typer.Option(
    None, "--milestone", help="期限提醒针对的节点键或名称（deadline_warning；默认最近的期限）"
)


def _options(session, election_id: int, milestone: str | None) -> dict | None:
    """The template's options; the milestone named by its key or its Chinese name."""
    if not milestone:
        return None
    kind = kind_of(get_election(session, election_id))
    return {"milestone": resolve_milestone(kind, milestone, "milestone")}


@app.command("list")
def notices_list(ctx: typer.Context, election_id: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """列出本选举适用的公告模板、所需数据是否齐备，以及已发布的版本。"""

    def work(session, cli) -> Reply:
        payload = commands.notice_catalog(session, election_id)
        return Reply(payload, lambda: _catalog_text(payload))

    run(ctx, as_json, work, reading=True)


def _catalog_text(payload: dict) -> None:
    say(f"{payload['title']}")
    for t in payload["templates"]:
        ready = "可生成" if t["ready"] else "缺少数据：" + "、".join(t["missing_data"])
        bound = f"  办结节点 {t['milestone']}（{t['milestone_status']}）" if t["milestone"] else ""
        say(f"  {t['template']:<26} {t['name']}  [{ready}]{bound}")
        for p in t["published"]:
            where = f" 选区 {p['district']}" if p["district"] else ""
            say(
                f"      第{p['version']}版 {p['number'] or ''}{where} {p['issued_on']} {p['format']} {p['sha256'][:12]}"
            )


@app.command("render")
def notices_render(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    template: str = typer.Argument(..., help="模板名，如 voter_list"),
    district: str = DISTRICT,
    fmt: str = typer.Option("html", "--format", help="html、pdf 或 docx"),
    output: Path = typer.Option(..., "-o", "--output", help="输出文件"),
    on: str = ON,
    date_style: str = DATE_STYLE,
    milestone: str = MILESTONE,
    as_json: bool = JSON,
) -> None:
    """生成公告预览文件（不发布、不编号入库；显示已有文号或下一个可用文号）。"""

    def work(session, cli) -> Reply:
        rendered = commands.render_notice(
            session,
            election_id,
            template,
            fmt=fmt,
            district=district,
            on=parse_date(on, "on"),
            clock=cli.clock,
            date_style=date_style,
            options=_options(session, election_id, milestone),
        )
        output.write_bytes(rendered.content)
        payload = {
            "election_id": election_id,
            "template": template,
            "district": district,
            "format": fmt,
            "number": rendered.number,
            "title": rendered.title,
            "output": str(output),
            "bytes": len(rendered.content),
            "sha256": rendered.sha256,
            "issued_on": rendered.issued_on.isoformat() if rendered.issued_on else None,
            "date_source": rendered.date_source,
            "draft": True,
        }
        text = (
            f"已生成 {rendered.title} {rendered.number or ''} → {output}（{len(rendered.content)} 字节；"
            f"样稿，公告日期 {rendered.issued_on}：{rendered.date_source}）"
        )
        return Reply(payload, text)

    run(ctx, as_json, work, reading=True)


@app.command("publish")
def notices_publish(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    template: str = typer.Argument(...),
    district: str = DISTRICT,
    on: str = ON,
    fmt: str = typer.Option("pdf", "--format", help="存档格式：pdf（默认）、html 或 docx"),
    date_style: str = DATE_STYLE,
    output: Path = typer.Option(None, "-o", "--output", help="同时把发布的文件写到此处"),
    as_json: bool = JSON,
) -> None:
    """发布公告：编号、存档（新版本，不覆盖）、记入审计，并办结该公告对应的节点。"""
    # Not `run`: the copy in --output is written after the commit, so a full disk cannot undo a
    # publication that is already numbered and archived.
    cli = state(ctx)
    with handled(as_json):
        db = cli.database()
        result = commands.publish_staged(  # rendered with no transaction open (issue 15)
            db.transaction,
            db.reading,
            election_id,
            template,
            fmt=fmt,
            district=district,
            on=parse_date(on, "on"),
            clock=cli.clock,
            actor=cli.actor,
            date_style=date_style,
        )
        n = result.notice
        payload = {
            "id": n.id,
            "election_id": election_id,
            "template": template,
            "district": district,
            "number": n.number,
            "version": n.version,
            "format": n.format,
            "issued_on": n.issued_on,
            "sha256": n.sha256,
            "template_version": n.template_version,
            "milestone_completed": result.milestone_completed,
            "note": result.milestone_note,
        }
        content = n.content
        if output is not None:
            output.write_bytes(content)

    def text() -> None:
        say(f"已发布 {n.title} {n.number or ''}（第{n.version}版，SHA-256 {n.sha256[:16]}…）")
        if result.milestone_completed:
            say(f"已办结节点 {result.milestone_completed}")
        if result.milestone_note:
            say(result.milestone_note)

    reply(Reply(payload, text), as_json)


@app.command("get")
def notices_get(
    ctx: typer.Context,
    notice_id: int = typer.Argument(..., help="已发布公告的编号（notices list 中的 id）"),
    output: Path = typer.Option(..., "-o", "--output"),
    as_json: bool = JSON,
) -> None:
    """取出已发布公告的存档文件。"""

    def work(session, cli) -> Reply:
        notice = published_notice(session, notice_id)
        output.write_bytes(notice.content)
        payload = {"id": notice.id, "output": str(output), "sha256": notice.sha256, "format": notice.format}
        return Reply(payload, f"已导出 {output}")

    run(ctx, as_json, work, reading=True)


def _verify_text(report: dict) -> str:
    if report["ok"]:
        return f"公告 {report['number'] or report['id']}（第{report['version']}版）核验一致：SHA-256 {report['sha256'][:16]}…"
    return (
        f"公告 {report['number'] or report['id']} 核验不一致：存档哈希 {report['sha256'][:16]}…，"
        f"重新生成 {report['rerendered_sha256'][:16]}…"
        + ("" if report["template_unchanged"] else "（模板已更新）")
        + ("" if report["content_matches_hash"] else "（存档内容与哈希不符，可能被篡改）")
    )


@app.command("verify")
def notices_verify(
    ctx: typer.Context,
    notice_id: int = typer.Argument(..., help="已发布公告的编号（notices list 中的 id）"),
    as_json: bool = JSON,
) -> None:
    """核验已发布公告：存档内容与哈希一致，且按存档数据重新生成得到同一文件（0 一致，1 不一致）。"""

    def work(session, cli) -> Reply:
        report = commands.verify_notice(session, notice_id)
        return Reply(report, _verify_text(report), 0 if report["ok"] else 1)

    run(ctx, as_json, work, reading=True)
