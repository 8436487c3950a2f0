"""`huanjie voters …`: the voter register, the published lists and the voter certificates."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from service.cli.common import JSON, Reply, handled, parse_date, reply, run, say, state
from workflow.commands import register_levels, voter_exports, voter_import, voter_list
from workflow.commands.voter_files import file_digest, open_sheet, write_csv, write_xlsx
from workflow.errors import DomainError
from workflow.rules import ric
from workflow.store.voters import AddedReason, RemovedReason

app = typer.Typer(help="选民登记、选民名单与选民证", no_args_is_help=True)

ELECTION = typer.Option(..., "--election", help="选举编号")
REGISTRAR = "registrar"
IMPORT_FIELDS = ("accepted", "unchanged", "warnings", "rejected", "duplicates", "committed")


def _check_full_ids(full_ids: bool, role: str | None) -> None:
    # ID numbers are personal data: unmasked only for registrars, and that is audited.
    if full_ids and role != REGISTRAR:
        raise DomainError(
            "E_FORBIDDEN", "只有登记员（--role registrar）可以查看完整的公民身份号码", "full_ids"
        )


@contextmanager
def _progress(label: str, total: int | None, unit: str):
    """A progress bar on stderr (stdout stays for --json)."""
    columns = [
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn() if unit == "bytes" else MofNCompleteColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


def _import_text(report, rejected: bool) -> None:
    for item in report.rejected[:50]:
        say(f"  ✗ 第 {item['row']} 行「{item['column']}」：{item['reason']}")
    for item in report.duplicates[:50]:
        where = f"，已在选区 {item['registered_in']} 登记" if item.get("registered_in") else ""
        say(f"  重复登记 {item['id_masked']}：第 {'、'.join(map(str, item['rows']))} 行{where}")
    for item in report.warnings[:50]:
        say(f"  ! 第 {item['row']} 行「{item['column']}」：{item['reason']}")
    if rejected:
        say(
            f"有 {report.rejected_total} 行被拒绝，未导入任何记录（可改正后重导，或用 --accept-valid 只导入有效行）。"
        )
    else:
        say(
            f"已导入 {report.accepted} 名选民；已登记未变 {report.unchanged}；重复 {len(report.duplicates)}；"
            f"拒绝 {report.rejected_total}；提示 {report.warnings_total}。"
        )


@app.command("import")
def voters_import(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="选民登记表（.csv 或 .xlsx）"),
    election_id: int = ELECTION,
    sheet: str = typer.Option(None, "--sheet", help="工作表名称（默认第一个）"),
    district: str = typer.Option(None, "--district", help="文件没有「选区」列时，这些选民所在的选区代码"),
    accept_valid: bool = typer.Option(False, "--accept-valid", help="有被拒绝的行时，仍导入其余有效行"),
    as_json: bool = JSON,
) -> None:
    """导入选民：校验身份号码、年龄、剥夺政治权利名单，全选举范围内查重；0 已导入，1 有被拒绝的行（未导入），2 输入有误。"""
    # Not `run`: the file is checked and sized before the transaction, and a rejected import
    # rolls back yet is an answer (exit 1) with its report, not an error.
    cli = state(ctx)
    rejected = None
    with handled(as_json):
        digest = file_digest(file) if file.is_file() else None
        database = cli.database()
        size_sheet = open_sheet(file, sheet=sheet)  # validate the file and learn its size first
        total, unit = size_sheet.total, size_sheet.unit
        size_sheet.close()
        with _progress(f"导入 {file.name}", total, unit) as advance:
            opened = open_sheet(file, sheet=sheet, on_progress=advance)
            try:
                # Short transactions (one per batch): the service's users are not held up.
                report = register_levels.import_township_register_staged(
                    database.transaction,
                    election_id,
                    opened.header,
                    opened.rows,
                    file_name=file.name,
                    file_sha256=digest,
                    district=district,
                    accept_valid=accept_valid,
                    clock=cli.clock,
                    actor=cli.actor,
                )
            except voter_import.ImportRejected as error:
                rejected = error.report
            finally:
                opened.close()
    report = rejected or report
    payload = report.as_dict()
    answer = Reply(
        {k: payload[k] for k in IMPORT_FIELDS},
        lambda: _import_text(report, bool(rejected)),
        1 if rejected else 0,
    )
    reply(answer, as_json)


@app.command("exclude")
def voters_exclude(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ..., help="被剥夺政治权利人员名单（.csv 或 .xlsx：姓名、公民身份号码、剥夺期限至、原因）"
    ),
    election_id: int = ELECTION,
    sheet: str = typer.Option(None, "--sheet", help="工作表名称"),
    as_json: bool = JSON,
) -> None:
    """载入被剥夺政治权利人员名单（选举法第四条）；已登记者随即除名。"""
    # Not `run`: the sheet is opened (and checked) before the database.
    cli = state(ctx)
    with handled(as_json):
        opened = open_sheet(file, sheet=sheet)
        try:
            with cli.database().transaction() as session:
                report = register_levels.exclude(
                    session, election_id, opened.header, opened.rows, clock=cli.clock, actor=cli.actor
                )
        finally:
            opened.close()
    text = f"载入 {report.loaded} 人，未变 {report.unchanged}，除名 {len(report.removed)}，无效 {len(report.rejected)}。"
    for other in report.mirrored:  # 县乡两级: the other level's list, changed in the same transaction
        text += f"\n同一选民登记的选举 {other['election_id']}：载入 {other['loaded']} 人，除名 {len(other['removed'])}。"
    reply(Reply(report.as_dict(), text, 1 if report.rejected else 0), as_json)


@app.command("add")
def voters_add(
    ctx: typer.Context,
    election_id: int = ELECTION,
    district: str = typer.Option(..., "--district", help="选区代码"),
    name: str = typer.Option(..., "--name", help="姓名"),
    id_number: str = typer.Option(..., "--id", help="公民身份号码"),
    reason: AddedReason = typer.Option(
        ..., "--reason", help="newly_18 / moved_in / migrant / restored / registered / late（补办选民登记）"
    ),
    proof: str = typer.Option(None, "--proof", help="证明（流动人口须提交户籍地选民资格证明）"),
    group: str = typer.Option(None, "--group", help="选民小组"),
    address: str = typer.Option(None, "--address", help="住址"),
    resident_since: datetime = typer.Option(
        None, "--resident-since", formats=["%Y-%m-%d"], help="村委会选举：户籍不在本村者在本村居住（或从事村务工作）的起始日期"
    ),
    basis: str = typer.Option(None, "--basis", help="村委会选举：在本村居住 / 在本村从事村务工作（2026年起）"),
    applied: bool = typer.Option(False, "--applied", help="村委会选举：本人已申请参加选举"),
    applied_on: str = typer.Option(None, "--applied-on", help="村委会选举：本人申请参加选举的日期（YYYY-MM-DD）"),
    consent: str = typer.Option(None, "--consent", help="村委会选举：同意其参加选举的村民会议或村民代表会议及日期"),
    consent_on: str = typer.Option(None, "--consent-on", help="村委会选举：会议同意的日期（YYYY-MM-DD）"),
    as_json: bool = JSON,
) -> None:
    """登记一名选民（新满十八周岁、迁入、流动人口、恢复政治权利）。村委会选举中户籍不在本村的
    公民须居住一年以上、本人申请并经村民会议或村民代表会议同意（村委会组织法）。选民名单公布后
    的登记为补办登记，过省级细则规定的截止日（如浙江：选举日十二日以前）不予登记。"""

    def work(session, cli) -> Reply:
        voter = register_levels.add_voter(
            session,
            election_id,
            district=district,
            name=name,
            id_number=id_number,
            reason=reason,
            proof=proof,
            voter_group=group,
            address=address,
            resident_since=resident_since.date() if resident_since else None,
            basis=basis,
            applied=applied,
            consent=consent,
            applied_on=parse_date(applied_on, "applied_on"),
            consent_on=parse_date(consent_on, "consent_on"),
            clock=cli.clock,
            actor=cli.actor,
        )
        payload = {
            "id": voter.id,
            "name": voter.name,
            "id_masked": ric.mask(voter.id_number),
            "district": district,
        }
        return Reply(payload, f"已登记 {payload['name']}（{payload['id_masked']}）")

    run(ctx, as_json, work)


@app.command("remove")
def voters_remove(
    ctx: typer.Context,
    id_number: str = typer.Argument(..., help="公民身份号码"),
    election_id: int = ELECTION,
    reason: RemovedReason = typer.Option(..., "--reason", help="deceased / deprived / moved_out"),
    note: str = typer.Option(None, "--note", help="说明"),
    as_json: bool = JSON,
) -> None:
    """将选民除名（死亡、被剥夺政治权利、迁出），保留记录。"""

    def work(session, cli) -> Reply:
        voter = register_levels.remove_voter(
            session, election_id, id_number, reason=reason, note=note, clock=cli.clock, actor=cli.actor
        )
        payload = {
            "id": voter.id,
            "id_masked": ric.mask(voter.id_number),
            "reason": voter.removed_reason,
            "removed_on": voter.removed_on,
        }
        return Reply(payload, f"已除名 {payload['id_masked']}")

    run(ctx, as_json, work)


@app.command("restore")
def voters_restore(
    ctx: typer.Context,
    id_number: str = typer.Argument(..., help="公民身份号码"),
    election_id: int = ELECTION,
    ended_on: str = typer.Option(..., "--ended-on", help="恢复日期：剥夺政治权利期满或停止行使选举权利的决定解除之日"),
    document: str = typer.Option(..., "--document", help="恢复依据（文书及文号）"),
    as_json: bool = JSON,
) -> None:
    """恢复因被剥夺政治权利、停止行使选举权利等事由除名的选民的登记（县乡两级同时恢复）。"""

    def work(session, cli) -> Reply:
        ended = parse_date(ended_on, "ended_on")
        voter = register_levels.restore_voter(
            session, election_id, id_number, ended_on=ended, document=document, clock=cli.clock, actor=cli.actor
        )
        payload = {"id": voter.id, "id_masked": ric.mask(voter.id_number), "proof": voter.proof}
        return Reply(payload, f"已恢复 {payload['id_masked']} 的选民登记")

    run(ctx, as_json, work)


@app.command("publish")
def voters_publish(
    ctx: typer.Context,
    election_id: int = ELECTION,
    on: str = typer.Option(None, "--on", help="公布日期（默认今天）"),
    as_json: bool = JSON,
) -> None:
    """公布选民名单（首次：办结「公布选民名单」并冻结各选区第 1 版）；此后公布补正名单。"""

    def work(session, cli) -> Reply:
        published = voter_list.publish(
            session, election_id, on=parse_date(on, "on"), clock=cli.clock, actor=cli.actor
        )

        def text() -> None:
            label = "补正名单" if published.supplementary else "选民名单"
            say(f"已于 {published.published_on} 公布{label}：")
            for d in published.districts:
                say(f"  {d['code']} {d['name']}：第 {d['version']} 版，{d['voters']} 人")

        return Reply(published.as_dict(), text)

    run(ctx, as_json, work)


@app.command("export")
def voters_export(
    ctx: typer.Context,
    election_id: int = ELECTION,
    output: Path = typer.Option(..., "-o", "--output", help="输出文件"),
    fmt: str = typer.Option("xlsx", "--format", help="xlsx 或 csv"),
    which: str = typer.Option(
        "register",
        "--list",
        help="register（登记册）/ published（已公布名单）/ supplementary（补正名单）/ certificates（选民证）",
    ),
    district: str = typer.Option(None, "--district", help="只导出此选区"),
    full_ids: bool = typer.Option(False, "--full-ids", help="显示完整身份号码（仅登记员）"),
    role: str = typer.Option(None, "--role", help="操作人角色（registrar：登记员）"),
    as_json: bool = JSON,
) -> None:
    """导出选民登记册、已公布名单、补正名单或选民证数据（Excel 为打印格式：标题行 + 表头）。"""
    with handled(as_json):
        _check_full_ids(full_ids, role)
        if fmt not in ("xlsx", "csv"):
            raise DomainError("E_BAD_FORMAT", "格式应为 xlsx 或 csv", "format")

    def work(session, cli) -> Reply:
        view = voter_exports.list_view(session, election_id, which=which, district=district, full_ids=full_ids)
        if fmt == "xlsx":
            count = write_xlsx(output, view.title, view.header, view.rows, view.widths)
        else:
            count = write_csv(output, view.header, view.rows)
        if full_ids:
            voter_exports.audit_full_ids(
                session,
                election_id,
                what=f"export {which} {district or ''} → {output}",
                clock=cli.clock,
                actor=cli.actor,
            )
        return Reply(
            {"rows": count, "file": str(output), "title": view.title}, f"已导出 {count} 行到 {output}"
        )

    run(ctx, as_json, work)


@app.command("certificate")
def voters_certificate(
    ctx: typer.Context,
    id_number: str = typer.Argument(..., help="公民身份号码"),
    election_id: int = ELECTION,
    full_ids: bool = typer.Option(False, "--full-ids", help="显示完整身份号码（仅登记员）"),
    role: str = typer.Option(None, "--role", help="操作人角色（registrar：登记员）"),
    as_json: bool = JSON,
) -> None:
    """一名选民的选民证数据（选举法第二十八条）。"""
    with handled(as_json):
        _check_full_ids(full_ids, role)

    def work(session, cli) -> Reply:
        data = voter_exports.certificate(session, election_id, id_number, full_ids=full_ids)
        if full_ids:
            voter_exports.audit_full_ids(
                session, election_id, what="certificate", clock=cli.clock, actor=cli.actor
            )
        text = (
            f"选民证 {data['certificate_no']}：{data['name']} {data['sex']} {data['age']} 岁，"
            f"{data['district']['name']} {data['voter_group'] or ''}，{data['id_number']}"
        )
        return Reply(data, text)

    run(ctx, as_json, work)
