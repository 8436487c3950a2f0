"""`huanjie districts add/list`, `huanjie voters …` and `huanjie appeals …`."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import typer

from service.cli.common import finish, handled, print_json, say, state
from service.cli.common import parse_date as _date
from service.cli.districts import districts_app  # one `districts` group: propose (plan), add/list (stored)
from workflow.commands import appeals as appeal_commands
from workflow.commands import voter_changes, voter_districts, voter_exports, voter_import, voter_list
from workflow.commands.voter_files import file_digest, open_sheet, write_csv, write_xlsx
from workflow.errors import DomainError
from workflow.rules import ric
from workflow.store.voters import AddedReason, RemovedReason

voters_app = typer.Typer(help="选民登记、选民名单与选民证", no_args_is_help=True)
appeals_app = typer.Typer(help="对选民名单的申诉（选举法第二十九条）", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="以 JSON 输出到标准输出")
ELECTION = typer.Option(..., "--election", help="选举编号")
REGISTRAR = "registrar"




def _check_full_ids(full_ids: bool, role: str | None) -> None:
    # ID numbers are personal data: unmasked only for registrars, and that is audited.
    if full_ids and role != REGISTRAR:
        raise DomainError(
            "E_FORBIDDEN", "只有登记员（--role registrar）可以查看完整的公民身份号码", "full_ids"
        )


@contextmanager
def _progress(label: str, total: int | None, unit: str):
    """A progress bar on stderr (stdout stays for --json)."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = [
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn() if unit == "bytes" else MofNCompleteColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


# -- districts ---------------------------------------------------------------------------------
@districts_app.command("add")
def districts_add(
    ctx: typer.Context,
    election_id: int = typer.Argument(..., help="选举编号"),
    code: str = typer.Argument(..., help="选区代码（本次选举内唯一）"),
    name: str = typer.Argument(..., help="选区名称"),
    seats: int = typer.Option(None, "--seats", help="应选代表名额（1–3）"),
    population: int = typer.Option(None, "--population", help="选区人口数"),
    area: str = typer.Option(
        None,
        "--area",
        help="选区范围：所辖村（居）民委员会或单位，如「城关社区、五里铺村」（印入选区划分公告）",
    ),
    as_json: bool = JSON,
) -> None:
    """添加一个选区。"""
    cli = state(ctx)
    with handled(as_json), cli.database().transaction() as session:
        district = voter_districts.add_district(
            session,
            election_id,
            code=code,
            name=name,
            seats=seats,
            population=population,
            area=area,
            clock=cli.clock,
            actor=cli.actor,
        )
        payload = {
            "code": district.code,
            "name": district.name,
            "seats": district.seats,
            "population": district.population,
            "area": district.area,
        }
    if as_json:
        print_json(payload)
    else:
        say(f"已添加选区 {code} {name}")
    finish(0)


@districts_app.command("list")
def districts_list(
    ctx: typer.Context, election_id: int = typer.Argument(..., help="选举编号"), as_json: bool = JSON
) -> None:
    """列出选区及其选民人数。"""
    cli = state(ctx)
    with handled(as_json), cli.database().reading() as session:
        items = voter_districts.list_districts(session, election_id)
    if as_json:
        print_json({"districts": items})
    else:
        for d in items:
            scope = f"\t范围 {d['area']}" if d["area"] else ""
            say(f"{d['code']}\t{d['name']}\t名额 {d['seats'] or '未定'}\t选民 {d['voters']}{scope}")
    finish(0)


# -- voters ------------------------------------------------------------------------------------
@voters_app.command("import")
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
                with database.transaction() as session:
                    report = voter_import.import_voters(
                        session,
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
    if as_json:
        payload = report.as_dict()
        print_json(
            {
                k: payload[k]
                for k in ("accepted", "unchanged", "warnings", "rejected", "duplicates", "committed")
            }
        )
    else:
        for item in report.rejected[:50]:
            say(f"  ✗ 第 {item['row']} 行「{item['column']}」：{item['reason']}")
        for item in report.duplicates[:50]:
            where = f"，已在选区 {item['registered_in']} 登记" if item.get("registered_in") else ""
            say(f"  重复登记 {item['id_masked']}：第 {'、'.join(map(str, item['rows']))} 行{where}")
        for item in report.warnings[:50]:
            say(f"  ! 第 {item['row']} 行「{item['column']}」：{item['reason']}")
        if rejected:
            say(
                f"有 {len(report.rejected)} 行被拒绝，未导入任何记录（可改正后重导，或用 --accept-valid 只导入有效行）。"
            )
        else:
            say(
                f"已导入 {report.accepted} 名选民；已登记未变 {report.unchanged}；重复 {len(report.duplicates)}；"
                f"拒绝 {len(report.rejected)}；提示 {len(report.warnings)}。"
            )
    finish(1 if rejected else 0)


@voters_app.command("exclude")
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
    cli = state(ctx)
    with handled(as_json):
        opened = open_sheet(file, sheet=sheet)
        try:
            with cli.database().transaction() as session:
                report = voter_changes.load_deprived(
                    session, election_id, opened.header, opened.rows, clock=cli.clock, actor=cli.actor
                )
        finally:
            opened.close()
    if as_json:
        print_json(report.as_dict())
    else:
        say(
            f"载入 {report.loaded} 人，未变 {report.unchanged}，除名 {len(report.removed)}，无效 {len(report.rejected)}。"
        )
    finish(1 if report.rejected else 0)


@voters_app.command("add")
def voters_add(
    ctx: typer.Context,
    election_id: int = ELECTION,
    district: str = typer.Option(..., "--district", help="选区代码"),
    name: str = typer.Option(..., "--name", help="姓名"),
    id_number: str = typer.Option(..., "--id", help="公民身份号码"),
    reason: AddedReason = typer.Option(
        ..., "--reason", help="newly_18 / moved_in / migrant / restored / registered"
    ),
    proof: str = typer.Option(None, "--proof", help="证明（流动人口须提交户籍地选民资格证明）"),
    group: str = typer.Option(None, "--group", help="选民小组"),
    address: str = typer.Option(None, "--address", help="住址"),
    as_json: bool = JSON,
) -> None:
    """登记一名选民（新满十八周岁、迁入、流动人口、恢复政治权利）。"""
    cli = state(ctx)
    with handled(as_json), cli.database().transaction() as session:
        voter = voter_changes.add_voter(
            session,
            election_id,
            district=district,
            name=name,
            id_number=id_number,
            reason=reason,
            proof=proof,
            voter_group=group,
            address=address,
            clock=cli.clock,
            actor=cli.actor,
        )
        payload = {
            "id": voter.id,
            "name": voter.name,
            "id_masked": ric.mask(voter.id_number),
            "district": district,
        }
    if as_json:
        print_json(payload)
    else:
        say(f"已登记 {payload['name']}（{payload['id_masked']}）")
    finish(0)


@voters_app.command("remove")
def voters_remove(
    ctx: typer.Context,
    id_number: str = typer.Argument(..., help="公民身份号码"),
    election_id: int = ELECTION,
    reason: RemovedReason = typer.Option(..., "--reason", help="deceased / deprived / moved_out"),
    note: str = typer.Option(None, "--note", help="说明"),
    as_json: bool = JSON,
) -> None:
    """将选民除名（死亡、被剥夺政治权利、迁出），保留记录。"""
    cli = state(ctx)
    with handled(as_json), cli.database().transaction() as session:
        voter = voter_changes.remove_voter(
            session, election_id, id_number, reason=reason, note=note, clock=cli.clock, actor=cli.actor
        )
        payload = {
            "id": voter.id,
            "id_masked": ric.mask(voter.id_number),
            "reason": voter.removed_reason,
            "removed_on": voter.removed_on,
        }
    if as_json:
        print_json(payload)
    else:
        say(f"已除名 {payload['id_masked']}")
    finish(0)


@voters_app.command("publish")
def voters_publish(
    ctx: typer.Context,
    election_id: int = ELECTION,
    on: str = typer.Option(None, "--on", help="公布日期（默认今天）"),
    as_json: bool = JSON,
) -> None:
    """公布选民名单（首次：办结「公布选民名单」并冻结各选区第 1 版）；此后公布补正名单。"""
    cli = state(ctx)
    with handled(as_json), cli.database().transaction() as session:
        published = voter_list.publish(
            session, election_id, on=_date(on, "on"), clock=cli.clock, actor=cli.actor
        )
    if as_json:
        print_json(published.as_dict())
    else:
        label = "补正名单" if published.supplementary else "选民名单"
        say(f"已于 {published.published_on} 公布{label}：")
        for d in published.districts:
            say(f"  {d['code']} {d['name']}：第 {d['version']} 版，{d['voters']} 人")
    finish(0)


@voters_app.command("export")
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
    cli = state(ctx)
    with handled(as_json):
        _check_full_ids(full_ids, role)
        if fmt not in ("xlsx", "csv"):
            raise DomainError("E_BAD_FORMAT", "格式应为 xlsx 或 csv", "format")
        with cli.database().transaction() as session:
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
    if as_json:
        print_json({"rows": count, "file": str(output), "title": view.title})
    else:
        say(f"已导出 {count} 行到 {output}")
    finish(0)


@voters_app.command("certificate")
def voters_certificate(
    ctx: typer.Context,
    id_number: str = typer.Argument(..., help="公民身份号码"),
    election_id: int = ELECTION,
    full_ids: bool = typer.Option(False, "--full-ids", help="显示完整身份号码（仅登记员）"),
    role: str = typer.Option(None, "--role", help="操作人角色（registrar：登记员）"),
    as_json: bool = JSON,
) -> None:
    """一名选民的选民证数据（选举法第二十八条）。"""
    cli = state(ctx)
    with handled(as_json):
        _check_full_ids(full_ids, role)
        with cli.database().transaction() as session:
            data = voter_exports.certificate(session, election_id, id_number, full_ids=full_ids)
            if full_ids:
                voter_exports.audit_full_ids(
                    session, election_id, what="certificate", clock=cli.clock, actor=cli.actor
                )
    if as_json:
        print_json(data)
    else:
        say(
            f"选民证 {data['certificate_no']}：{data['name']} {data['sex']} {data['age']} 岁，"
            f"{data['district']['name']} {data['voter_group'] or ''}，{data['id_number']}"
        )
    finish(0)


# -- appeals -----------------------------------------------------------------------------------
def _appeal_payload(session, appeal) -> dict:
    from workflow.commands.elections import get_election

    return appeal_commands.appeal_dict(appeal, get_election(session, appeal.election_id))


@appeals_app.command("file")
def appeals_file(
    ctx: typer.Context,
    election_id: int = ELECTION,
    filer: str = typer.Option(..., "--filer", help="申诉人"),
    request: str = typer.Option(
        ..., "--request", help="add（请求增列）/ remove（请求除名）/ correct（请求更正）"
    ),
    subject_name: str = typer.Option(..., "--subject-name", help="所涉人员姓名"),
    subject_id: str = typer.Option(None, "--subject-id", help="所涉人员公民身份号码"),
    reason: str = typer.Option(..., "--reason", help="申诉理由"),
    district: str = typer.Option(None, "--district", help="请求增列时所在选区代码"),
    correct: list[str] = typer.Option(
        None, "--set", help="更正项，如 name=张三 或 voter_group=第2组（可重复）"
    ),
    on: str = typer.Option(None, "--on", help="申诉日期（默认今天）"),
    as_json: bool = JSON,
) -> None:
    """受理申诉：须在选民名单公布之日起五日内提出，选举委员会三日内作出处理决定。"""
    cli = state(ctx)
    with handled(as_json):
        correction = None
        if correct:
            correction = {}
            for item in correct:
                key, sep, value = item.partition("=")
                if not sep:
                    raise DomainError("E_APPEAL_CORRECTION", f"更正项格式应为 字段=值：{item}", "set")
                correction[key.strip()] = value.strip()
        with cli.database().transaction() as session:
            appeal = appeal_commands.file_appeal(
                session,
                election_id,
                filer=filer,
                request=request,
                subject_name=subject_name,
                subject_id_number=subject_id,
                reason=reason,
                district=district,
                correction=correction,
                filed_on=_date(on, "on"),
                clock=cli.clock,
                actor=cli.actor,
            )
            payload = _appeal_payload(session, appeal)
    if as_json:
        print_json(payload)
    else:
        say(f"已受理申诉 {payload['id']}，应于 {payload['decide_by']} 以前作出处理决定。")
    finish(0)


@appeals_app.command("decide")
def appeals_decide(
    ctx: typer.Context,
    appeal_id: int = typer.Argument(..., help="申诉编号"),
    upheld: bool = typer.Option(None, "--upheld/--rejected", help="支持申诉 / 驳回申诉"),
    reason: str = typer.Option(None, "--reason", help="处理理由（驳回时必填）"),
    on: str = typer.Option(None, "--on", help="处理日期（默认今天）"),
    as_json: bool = JSON,
) -> None:
    """作出处理决定：支持则更正名单并列入补正名单；驳回须说明理由。"""
    cli = state(ctx)
    with handled(as_json):
        if upheld is None:
            raise DomainError("E_DECISION_REQUIRED", "请用 --upheld 或 --rejected 指明处理结果", "upheld")
        with cli.database().transaction() as session:
            appeal = appeal_commands.decide_appeal(
                session,
                appeal_id,
                upheld=upheld,
                reason=reason,
                decided_on=_date(on, "on"),
                clock=cli.clock,
                actor=cli.actor,
            )
            payload = _appeal_payload(session, appeal)
    if as_json:
        print_json(payload)
    else:
        result = "支持" if payload["status"] == "upheld" else "驳回"
        say(
            f"申诉 {appeal_id} 已{result}。申诉人不服的，可在 {payload['court_suit_deadline']} 以前向人民法院起诉。"
        )
    finish(0)


@appeals_app.command("list")
def appeals_list(ctx: typer.Context, election_id: int = ELECTION, as_json: bool = JSON) -> None:
    """列出申诉、申诉期限和起诉期限。"""
    cli = state(ctx)
    with handled(as_json), cli.database().reading() as session:
        payload = appeal_commands.list_appeals(session, election_id, clock=cli.clock)
    if as_json:
        print_json(payload)
    else:
        say(
            f"名单公布 {payload['published_on']}，申诉截止 {payload['filing_ends']}，起诉截止 {payload['court_suit_deadline']}"
        )
        for a in payload["appeals"]:
            say(
                f"  {a['id']}\t{a['status']}\t{a['filer']} → {a['subject']}（{a['request']}）\t限 {a['decide_by']}"
            )
    finish(0)


@appeals_app.command("close")
def appeals_close(
    ctx: typer.Context,
    election_id: int = ELECTION,
    on: str = typer.Option(None, "--on", help="办结日期（默认：申诉期届满日或最后处理日）"),
    as_json: bool = JSON,
) -> None:
    """申诉期届满且全部处理完毕后，办结「选民资格申诉处理完毕」。"""
    cli = state(ctx)
    with handled(as_json), cli.database().transaction() as session:
        milestone = appeal_commands.close_appeals(
            session, election_id, on=_date(on, "on"), clock=cli.clock, actor=cli.actor
        )
        payload = {"key": milestone.key, "done_on": milestone.done_on, "late": milestone.late}
    if as_json:
        print_json(payload)
    else:
        say(f"申诉处理已于 {payload['done_on']} 办结。")
    finish(0)


def register(app: typer.Typer) -> None:
    app.add_typer(voters_app, name="voters")
    app.add_typer(appeals_app, name="appeals")
