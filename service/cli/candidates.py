"""`huanjie candidates …`: nomination, the preliminary and official lists, primaries, structure
and conflicts of interest (the committee, proxies and mobile boxes are sub-groups in their own
modules).

Every command runs one transaction through `workflow.commands.candidates`; `--json` prints one
document on stdout, human text goes to stderr.
"""

from __future__ import annotations

from pathlib import Path

import typer

from service.cli.committee import app as committee_app
from service.cli.common import JSON, Reply, parse_date, run
from service.cli.mobile_boxes import app as mobile_boxes_app
from service.cli.proxies import app as proxies_app
from service.cli.voting import DISTRICT, STATUS_NAMES, parse_votes
from workflow.commands import candidate_committee, candidate_lists, candidate_nominations, candidate_records
from workflow.commands.elections import get_election
from workflow.errors import DomainError
from workflow.rules.candidates import OCCUPATION_NAMES
from workflow.store.candidates import CandidateStatus
from workflow.views import candidates as candidate_views

app = typer.Typer(help="代表候选人：推荐、初步与正式名单、预选、结构、回避", no_args_is_help=True)
app.add_typer(committee_app, name="committee")
app.add_typer(proxies_app, name="proxies")
app.add_typer(mobile_boxes_app, name="mobile-boxes")

SHARE_NAMES = {"women": "妇女", "cpc": "中共党员", "cadres": "党政干部"}


@app.command("district")
def district_open(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = DISTRICT,
    seats: int = typer.Option(None, "--seats", help="应选名额（选民登记已有选区时可省略）"),
    name: str = typer.Option(None, "--name", help="选区名称"),
    as_json: bool = JSON,
) -> None:
    """建立一个选区的候选人名单（应选名额）。"""

    def work(s, cli) -> Reply:
        lst = candidate_nominations.open_district(
            s, election_id, district, seats=seats, name=name, clock=cli.clock, actor=cli.actor
        )
        return Reply(
            {"district": lst.district, "seats": lst.seats, "status": lst.status},
            f"已建立选区 {lst.district}（应选 {lst.seats} 名）",
        )

    run(ctx, as_json, work)


def _supporters(supporter: list[str], supporters_file: Path | None) -> list[str]:
    ids = list(supporter)
    if supporters_file:
        try:
            lines = supporters_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise DomainError("E_FILE", f"无法读取 {supporters_file}：{exc}", "supporters_file") from None
        ids += [line.strip() for line in lines if line.strip()]
    return ids


@app.command("nominate")
def nominate(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = DISTRICT,
    name: str = typer.Option(..., "--name", help="姓名"),
    sex: str = typer.Option(..., "--sex", help="male（男）或 female（女）"),
    occupation: str = typer.Option(
        ...,
        "--occupation",
        help="职业类别：" + "、".join(f"{k.value}（{v}）" for k, v in OCCUPATION_NAMES.items()),
    ),
    by: str = typer.Option(
        ..., "--by", help="推荐方式：party（政党）、organisation（人民团体）、voters（选民联名）"
    ),
    nominator: list[str] = typer.Option([], "--nominator", help="推荐的政党或人民团体（可多次）"),
    supporter: list[str] = typer.Option([], "--supporter", help="联名推荐选民的公民身份号码（可多次）"),
    supporters_file: Path = typer.Option(
        None, "--supporters-file", help="联名推荐选民的身份号码文件，每行一个"
    ),
    birth_date: str = typer.Option(None, "--birth-date", help="出生日期 YYYY-MM-DD"),
    ethnicity: str = typer.Option(None, "--ethnicity", help="民族"),
    party: str = typer.Option(None, "--party", help="党派，如 中国共产党、群众"),
    education: str = typer.Option(None, "--education", help="文化程度，如 大学、大专、高中"),
    incumbent: bool = typer.Option(False, "--incumbent", help="现任代表"),
    id_number: str = typer.Option(None, "--id-number", help="候选人本人公民身份号码（用于回避核查，不公开）"),
    as_json: bool = JSON,
) -> None:
    """登记代表候选人推荐（选举法第三十条）。"""

    def work(s, cli) -> Reply:
        c = candidate_nominations.nominate(
            s,
            election_id,
            district,
            name=name,
            sex=sex,
            occupation=occupation,
            nominated_by=by,
            nominators=nominator,
            supporters=_supporters(supporter, supporters_file),
            birth_date=parse_date(birth_date, "birth_date"),
            ethnicity=ethnicity,
            party=party,
            education=education,
            incumbent=incumbent,
            id_number=id_number,
            clock=cli.clock,
            actor=cli.actor,
        )
        return Reply(
            candidate_records.candidate_view(c), f"已登记选区 {district} 候选人 {c.name}（编号 {c.id}）"
        )

    run(ctx, as_json, work)


@app.command("list")
def candidates_list(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = typer.Option(None, "--district", help="选区代码"),
    as_json: bool = JSON,
) -> None:
    """列出候选人名单及各选区状态。"""

    def work(s, cli) -> Reply:
        get_election(s, election_id)
        view = candidate_views.candidate_lists(s, election_id, district)
        lists, people = view["districts"], view["candidates"]
        lines = []
        for lst in lists:
            lines.append(f"选区 {lst['district']}（应选 {lst['seats']} 名，{STATUS_NAMES[lst['status']]}）")
            lines += [
                f"  {c['id']}\t{c['name']}\t{STATUS_NAMES[c['status']]}"
                for c in people
                if c["district"] == lst["district"]
            ]
        return Reply(view, "\n".join(lines) or "尚无候选人名单")

    run(ctx, as_json, work, reading=True)


@app.command("published")
def published(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    stage: str = typer.Option("official", "--stage", help="preliminary（初步名单）或 official（正式名单）"),
    as_json: bool = JSON,
) -> None:
    """已公布的候选人名单及基本情况（选举法第三十二条），供公告使用；不含身份号码。"""

    def work(s, cli) -> Reply:
        data = candidate_lists.published_list(s, election_id, stage)
        lines = []
        for d in data["districts"]:
            people = "、".join(c["name"] for c in d["candidates"]) or "（无）"
            lines.append(
                f"选区 {d['district']}（应选 {d['seats']} 名，{d['published_on'] or '未公布'}）：{people}"
            )
        return Reply(data, "\n".join(lines) or "尚无候选人名单")

    run(ctx, as_json, work)


@app.command("withdraw")
def withdraw(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    candidate_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="退出理由"),
    as_json: bool = JSON,
) -> None:
    """候选人退出（须说明理由）。"""

    def work(s, cli) -> Reply:
        c = candidate_nominations.withdraw(
            s, election_id, candidate_id, reason=reason, clock=cli.clock, actor=cli.actor
        )
        return Reply(candidate_records.candidate_view(c), f"{c.name} 已退出")

    run(ctx, as_json, work)


def _ratio_lines(report: dict) -> str:
    lines = [f"已公布（{report['on']}）"]
    for d in report["districts"]:
        most = d["max_candidates"] if d["max_candidates"] is not None else "不限"
        lines.append(
            f"  选区 {d['district']}：应选 {d['seats']}，候选人 {d['count']}（{d['min_candidates']}–{most}）"
        )
    lines += [f"  ! {c['message']}" for c in report.get("conflicts", [])]
    lines += [f"  ! {w}" for w in report.get("warnings", [])]
    return "\n".join(lines)


@app.command("publish-preliminary")
def publish_preliminary(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    on: str = typer.Option(None, "--on", help="公布日期（默认今天）"),
    as_json: bool = JSON,
) -> None:
    """公布初步代表候选人名单，并办结相应节点（选举法第三十二条：选举日的十五日以前）。"""

    def work(s, cli) -> Reply:
        report = candidate_lists.publish_preliminary(
            s, election_id, on=parse_date(on, "on"), clock=cli.clock, actor=cli.actor
        )
        return Reply(report, _ratio_lines(report))

    run(ctx, as_json, work)


@app.command("consult")
def consult(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = DISTRICT,
    keep: list[str] = typer.Option(..., "--keep", help="协商确定的正式候选人（可多次）"),
    as_json: bool = JSON,
) -> None:
    """登记选民小组协商结果（选举法第三十二条）。"""

    def work(s, cli) -> Reply:
        candidate_lists.consult(s, election_id, district, keep, clock=cli.clock, actor=cli.actor)
        return Reply(
            {"district": district, "method": "consultation", "kept": sorted(keep)},
            f"选区 {district} 协商确定 {len(keep)} 名",
        )

    run(ctx, as_json, work)


@app.command("primary")
def primary(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = DISTRICT,
    votes: list[str] = typer.Option(..., "--votes", help="预选得票：姓名=票数（可多次）"),
    size: int = typer.Option(None, "--size", help="正式候选人人数（默认差额比例上限）"),
    as_json: bool = JSON,
) -> None:
    """登记预选结果，按得票多少确定正式候选人（选举法第三十二条）。"""

    def work(s, cli) -> Reply:
        candidate_lists.primary(
            s, election_id, district, parse_votes(votes), size=size, clock=cli.clock, actor=cli.actor
        )
        kept = [
            c.name
            for c in candidate_records.candidates_of(s, election_id, district, [CandidateStatus.PRELIMINARY])
        ]
        return Reply(
            {"district": district, "method": "primary", "kept": kept},
            f"选区 {district} 预选确定：{'、'.join(kept)}",
        )

    run(ctx, as_json, work)


@app.command("publish-official")
def publish_official(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    on: str = typer.Option(None, "--on", help="公布日期（默认今天）"),
    as_json: bool = JSON,
) -> None:
    """公布正式代表候选人名单，并办结相应节点（选举法第三十二条：选举日的七日以前）。差额比例不符的选区拒绝公布。"""

    def work(s, cli) -> Reply:
        report = candidate_lists.publish_official(
            s, election_id, on=parse_date(on, "on"), clock=cli.clock, actor=cli.actor
        )
        return Reply(report, _ratio_lines(report))

    run(ctx, as_json, work)


@app.command("structure")
def structure(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = typer.Option(None, "--district", help="选区代码（默认全部）"),
    as_json: bool = JSON,
) -> None:
    """候选人结构报告：妇女、中共党员、党政干部比例（提示，不作为限制）。"""

    def work(s, cli) -> Reply:
        report = candidate_lists.structure(s, election_id, district).as_dict()
        lines = [f"候选人 {report['total']} 名"]
        lines += [
            f"  {SHARE_NAMES[x['key']]}：{x['count']}/{x['total']}（{x['percent']}%）"
            for x in report["shares"]
            if x["total"]
        ]
        lines += [f"  ! {w}" for w in report["warnings"]]
        return Reply(report, "\n".join(lines))

    run(ctx, as_json, work)


@app.command("conflicts")
def conflicts(ctx: typer.Context, election_id: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """选举委员会组成人员为候选人、尚未辞职的名单（选举法第十条）。有则退出码 1。"""

    def work(s, cli) -> Reply:
        found = [c.as_dict() for c in candidate_committee.conflicts(s, election_id)]
        text = "\n".join(c["message"] for c in found) or "没有需要回避的选举委员会组成人员"
        return Reply({"conflicts": found, "answer": "no" if found else "yes"}, text, 1 if found else 0)

    run(ctx, as_json, work)
