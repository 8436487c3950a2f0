"""Candidates, tallies and results: `huanjie candidates …`, `huanjie tallies …`, `huanjie results …`.

Every command runs one transaction through the service functions in `workflow.commands`
(candidates, results, tallies); `--json` prints one document on stdout, human text goes to stderr.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from service.cli.common import finish, handled, print_json, say, state
from service.cli.common import parse_date as _date
from workflow.commands import (
    candidate_committee,
    candidate_lists,
    candidate_nominations,
    candidate_polling,
    candidate_records,
)
from workflow.commands import results as res
from workflow.commands.elections import get_election
from workflow.errors import DomainError
from workflow.rules.candidates import OCCUPATION_NAMES

candidates_app = typer.Typer(help="代表候选人：推荐、初步与正式名单、预选、结构、回避", no_args_is_help=True)
committee_app = typer.Typer(help="选举委员会组成人员", no_args_is_help=True)
proxies_app = typer.Typer(help="委托投票（选举法第四十二条）", no_args_is_help=True)
boxes_app = typer.Typer(help="流动票箱（选举法第三十八条）", no_args_is_help=True)
tallies_app = typer.Typer(help="登记各选区计票结果（含另行选举、再次投票）", no_args_is_help=True)
results_app = typer.Typer(help="选举结果：公布、代表资格审查、当选证书", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="以 JSON 输出到标准输出")
SHARE_NAMES = {"women": "妇女", "cpc": "中共党员", "cadres": "党政干部"}
STATUS_NAMES = {
    "open": "接受推荐", "preliminary": "初步名单已公布", "official": "正式名单已公布", "nominated": "已推荐",
    "not_selected": "未列入正式名单", "withdrawn": "已退出", "awaiting": "待计票", "revote_pending": "须重新投票",
    "runoff_pending": "须另行选举", "tie_break_pending": "须就票数相等者再次投票", "complete": "已完成",
}  # fmt: skip
DISTRICT = typer.Option(..., "--district", help="选区代码")




def _votes(pairs: list[str]) -> dict[str, int]:
    votes: dict[str, int] = {}
    for pair in pairs:
        name, sep, count = pair.rpartition("=")
        if not sep or not name.strip() or not count.strip().isdigit():
            raise DomainError("E_BAD_VOTES", f"票数格式应为 姓名=票数：{pair!r}", "votes")
        votes[name.strip()] = int(count)
    return votes


def _run(
    ctx: typer.Context, as_json: bool, work: Callable[[Any, Any], tuple[dict, str]], *, no: bool = False
) -> None:
    """Run `work(session, cli)` in one transaction; print its payload (JSON) or its text."""
    cli = state(ctx)
    with handled(as_json), cli.database().transaction() as session:
        payload, text = work(session, cli)
    if as_json:
        print_json(payload)
    else:
        say(text)
    finish(1 if no and payload.get("answer") == "no" else 0)


# -- candidates -----------------------------------------------------------------------------
@candidates_app.command("district")
def district_open(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = DISTRICT,
    seats: int = typer.Option(None, "--seats", help="应选名额（选民登记已有选区时可省略）"),
    name: str = typer.Option(None, "--name", help="选区名称"),
    as_json: bool = JSON,
) -> None:
    """建立一个选区的候选人名单（应选名额）。"""

    def work(s, cli):
        lst = candidate_nominations.open_district(
            s, election_id, district, seats=seats, name=name, clock=cli.clock, actor=cli.actor
        )
        return {
            "district": lst.district,
            "seats": lst.seats,
            "status": lst.status,
        }, f"已建立选区 {lst.district}（应选 {lst.seats} 名）"

    _run(ctx, as_json, work)


@candidates_app.command("nominate")
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
    incumbent: bool = typer.Option(False, "--incumbent", help="现任代表"),
    id_number: str = typer.Option(None, "--id-number", help="候选人本人公民身份号码（用于回避核查，不公开）"),
    as_json: bool = JSON,
) -> None:
    """登记代表候选人推荐（选举法第三十条）。"""

    def work(s, cli):
        ids = list(supporter)
        if supporters_file:
            try:
                lines = supporters_file.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise DomainError("E_FILE", f"无法读取 {supporters_file}：{exc}", "supporters_file") from None
            ids += [line.strip() for line in lines if line.strip()]
        c = candidate_nominations.nominate(
            s, election_id, district, name=name, sex=sex, occupation=occupation, nominated_by=by,
            nominators=nominator, supporters=ids, birth_date=_date(birth_date, "birth_date"), ethnicity=ethnicity,
            party=party, incumbent=incumbent, id_number=id_number, clock=cli.clock, actor=cli.actor,
        )  # fmt: skip
        return candidate_records.candidate_view(c), f"已登记选区 {district} 候选人 {c.name}（编号 {c.id}）"

    _run(ctx, as_json, work)


@candidates_app.command("list")
def candidates_list(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = typer.Option(None, "--district", help="选区代码"),
    as_json: bool = JSON,
) -> None:
    """列出候选人名单及各选区状态。"""

    def work(s, cli):
        get_election(s, election_id)
        lists = [
            {"district": lst.district, "name": lst.name, "seats": lst.seats, "status": lst.status, "method": lst.method,
             "preliminary_on": lst.preliminary_on, "official_on": lst.official_on}
            for lst in candidate_records.district_lists(s, election_id) if district in (None, lst.district)
        ]  # fmt: skip
        people = [candidate_records.candidate_view(c) for c in candidate_records.candidates_of(s, election_id, district)]
        lines = []
        for lst in lists:
            lines.append(f"选区 {lst['district']}（应选 {lst['seats']} 名，{STATUS_NAMES[lst['status']]}）")
            lines += [
                f"  {c['id']}\t{c['name']}\t{STATUS_NAMES[c['status']]}"
                for c in people
                if c["district"] == lst["district"]
            ]
        return {"districts": lists, "candidates": people}, "\n".join(lines) or "尚无候选人名单"

    _run(ctx, as_json, work)


@candidates_app.command("published")
def published(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    stage: str = typer.Option("official", "--stage", help="preliminary（初步名单）或 official（正式名单）"),
    as_json: bool = JSON,
) -> None:
    """已公布的候选人名单及基本情况（选举法第三十二条），供公告使用；不含身份号码。"""

    def work(s, cli):
        data = candidate_lists.published_list(s, election_id, stage)
        lines = []
        for d in data["districts"]:
            people = "、".join(c["name"] for c in d["candidates"]) or "（无）"
            lines.append(
                f"选区 {d['district']}（应选 {d['seats']} 名，{d['published_on'] or '未公布'}）：{people}"
            )
        return data, "\n".join(lines) or "尚无候选人名单"

    _run(ctx, as_json, work)


@candidates_app.command("withdraw")
def withdraw(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    candidate_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="退出理由"),
    as_json: bool = JSON,
) -> None:
    """候选人退出（须说明理由）。"""

    def work(s, cli):
        c = candidate_nominations.withdraw(s, election_id, candidate_id, reason=reason, clock=cli.clock, actor=cli.actor)
        return candidate_records.candidate_view(c), f"{c.name} 已退出"

    _run(ctx, as_json, work)


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


@candidates_app.command("publish-preliminary")
def publish_preliminary(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    on: str = typer.Option(None, "--on", help="公布日期（默认今天）"),
    as_json: bool = JSON,
) -> None:
    """公布初步代表候选人名单，并办结相应节点（选举法第三十二条：选举日的十五日以前）。"""

    def work(s, cli):
        report = candidate_lists.publish_preliminary(s, election_id, on=_date(on, "on"), clock=cli.clock, actor=cli.actor)
        return report, _ratio_lines(report)

    _run(ctx, as_json, work)


@candidates_app.command("consult")
def consult(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = DISTRICT,
    keep: list[str] = typer.Option(..., "--keep", help="协商确定的正式候选人（可多次）"),
    as_json: bool = JSON,
) -> None:
    """登记选民小组协商结果（选举法第三十二条）。"""

    def work(s, cli):
        candidate_lists.consult(s, election_id, district, keep, clock=cli.clock, actor=cli.actor)
        return {
            "district": district,
            "method": "consultation",
            "kept": sorted(keep),
        }, f"选区 {district} 协商确定 {len(keep)} 名"

    _run(ctx, as_json, work)


@candidates_app.command("primary")
def primary(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = DISTRICT,
    votes: list[str] = typer.Option(..., "--votes", help="预选得票：姓名=票数（可多次）"),
    size: int = typer.Option(None, "--size", help="正式候选人人数（默认差额比例上限）"),
    as_json: bool = JSON,
) -> None:
    """登记预选结果，按得票多少确定正式候选人（选举法第三十二条）。"""

    def work(s, cli):
        candidate_lists.primary(s, election_id, district, _votes(votes), size=size, clock=cli.clock, actor=cli.actor)
        from workflow.store.candidates import CandidateStatus

        kept = [c.name for c in candidate_records.candidates_of(s, election_id, district, [CandidateStatus.PRELIMINARY])]
        return {
            "district": district,
            "method": "primary",
            "kept": kept,
        }, f"选区 {district} 预选确定：{'、'.join(kept)}"

    _run(ctx, as_json, work)


@candidates_app.command("publish-official")
def publish_official(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    on: str = typer.Option(None, "--on", help="公布日期（默认今天）"),
    as_json: bool = JSON,
) -> None:
    """公布正式代表候选人名单，并办结相应节点（选举法第三十二条：选举日的七日以前）。差额比例不符的选区拒绝公布。"""

    def work(s, cli):
        report = candidate_lists.publish_official(s, election_id, on=_date(on, "on"), clock=cli.clock, actor=cli.actor)
        return report, _ratio_lines(report)

    _run(ctx, as_json, work)


@candidates_app.command("structure")
def structure(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = typer.Option(None, "--district", help="选区代码（默认全部）"),
    as_json: bool = JSON,
) -> None:
    """候选人结构报告：妇女、中共党员、党政干部比例（提示，不作为限制）。"""

    def work(s, cli):
        report = candidate_lists.structure(s, election_id, district).as_dict()
        lines = [f"候选人 {report['total']} 名"]
        lines += [
            f"  {SHARE_NAMES[x['key']]}：{x['count']}/{x['total']}（{x['percent']}%）"
            for x in report["shares"]
            if x["total"]
        ]
        lines += [f"  ! {w}" for w in report["warnings"]]
        return report, "\n".join(lines)

    _run(ctx, as_json, work)


@candidates_app.command("conflicts")
def conflicts(ctx: typer.Context, election_id: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """选举委员会组成人员为候选人、尚未辞职的名单（选举法第十条）。有则退出码 1。"""

    def work(s, cli):
        found = [c.as_dict() for c in candidate_committee.conflicts(s, election_id)]
        text = "\n".join(c["message"] for c in found) or "没有需要回避的选举委员会组成人员"
        return {"conflicts": found, "answer": "no" if found else "yes"}, text

    _run(ctx, as_json, work, no=True)


# -- committee, proxies, mobile boxes -------------------------------------------------------
@committee_app.command("add")
def committee_add(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    name: str = typer.Option(..., "--name"),
    role: str = typer.Option(..., "--role", help="主任、副主任、委员"),
    id_number: str = typer.Option(None, "--id-number"),
    appointed_on: str = typer.Option(None, "--appointed-on"),
    as_json: bool = JSON,
) -> None:
    """登记选举委员会组成人员。"""

    def work(s, cli):
        m = candidate_committee.add_committee_member(s, election_id, name=name, role=role, id_number=id_number,
                                     appointed_on=_date(appointed_on, "appointed_on"), clock=cli.clock, actor=cli.actor)  # fmt: skip
        return {"id": m.id, "name": m.name, "role": m.role}, f"已登记 {m.role} {m.name}（编号 {m.id}）"

    _run(ctx, as_json, work)


@committee_app.command("resign")
def committee_resign(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    member_id: int = typer.Argument(...),
    on: str = typer.Option(..., "--on", help="辞职日期"),
    as_json: bool = JSON,
) -> None:
    """登记组成人员辞去选举委员会职务（选举法第十条）。"""

    def work(s, cli):
        m = candidate_committee.resign_committee_member(
            s, election_id, member_id, on=_date(on, "on"), clock=cli.clock, actor=cli.actor
        )
        return {
            "id": m.id,
            "name": m.name,
            "resigned_on": m.resigned_on,
        }, f"{m.name} 已于 {m.resigned_on} 辞去职务"

    _run(ctx, as_json, work)


@proxies_app.command("add")
def proxies_add(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = DISTRICT,
    grantor: str = typer.Option(..., "--grantor", help="委托人姓名"),
    grantor_id: str = typer.Option(..., "--grantor-id", help="委托人身份号码"),
    holder: str = typer.Option(..., "--holder", help="受托人姓名"),
    holder_id: str = typer.Option(..., "--holder-id", help="受托人身份号码"),
    consent: str = typer.Option(..., "--consent", help="书面委托书编号"),
    approved: bool = typer.Option(False, "--approved", help="已经选举委员会同意"),
    consent_on: str = typer.Option(None, "--consent-on"),
    relationship: str = typer.Option(None, "--relationship", help="与委托人关系（村委会选举限近亲属）"),
    as_json: bool = JSON,
) -> None:
    """登记委托投票：每一选民接受的委托不得超过三人（选举法第四十二条）。"""

    def work(s, cli):
        p = candidate_polling.record_proxy(
            s, election_id, district, grantor_name=grantor, grantor_id=grantor_id, holder_name=holder,
            holder_id=holder_id, consent_document=consent, approved=approved, consent_on=_date(consent_on, "consent_on"),
            relationship=relationship, clock=cli.clock, actor=cli.actor,
        )  # fmt: skip
        return candidate_polling.proxy_view(p), f"已登记 {p.grantor_name} 委托 {p.holder_name} 代为投票"

    _run(ctx, as_json, work)


@proxies_app.command("list")
def proxies_list(
    ctx: typer.Context, election_id: int = typer.Argument(...), district: str = typer.Option(None, "--district"),
    as_json: bool = JSON,
) -> None:  # fmt: skip
    """列出委托投票。"""

    def work(s, cli):
        items = [candidate_polling.proxy_view(p) for p in candidate_polling.proxies(s, election_id, district)]
        return {"proxies": items}, "\n".join(
            f"{p['grantor']} → {p['holder']}（{p['consent_document']}）" for p in items
        ) or "无"

    _run(ctx, as_json, work)


@boxes_app.command("add")
def boxes_add(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = DISTRICT,
    label: str = typer.Option(..., "--label", help="票箱编号"),
    reason: str = typer.Option(..., "--reason", help="设立理由（行动不便、居住分散且交通不便）"),
    scrutineer: list[str] = typer.Option(..., "--scrutineer", help="监票人（至少两名，可多次）"),
    staff: list[str] = typer.Option([], "--staff", help="其他工作人员（可多次）"),
    voters: int = typer.Option(None, "--voters", help="使用流动票箱的选民数"),
    issued: int = typer.Option(None, "--issued", help="发出选票数"),
    returned: int = typer.Option(None, "--returned", help="收回选票数"),
    as_json: bool = JSON,
) -> None:
    """登记流动票箱（选举法第三十八条；至少两名监票人）。"""

    def work(s, cli):
        b = candidate_polling.record_mobile_box(
            s, election_id, district, label=label, reason=reason, scrutineers=scrutineer, staff=staff,
            voters_served=voters, ballots_issued=issued, ballots_returned=returned, clock=cli.clock, actor=cli.actor,
        )  # fmt: skip
        return candidate_polling.mobile_box_view(b), f"已登记选区 {district} 流动票箱 {b.label}"

    _run(ctx, as_json, work)


@boxes_app.command("list")
def boxes_list(
    ctx: typer.Context, election_id: int = typer.Argument(...), district: str = typer.Option(None, "--district"),
    as_json: bool = JSON,
) -> None:  # fmt: skip
    """列出流动票箱。"""

    def work(s, cli):
        items = [candidate_polling.mobile_box_view(b) for b in candidate_polling.mobile_boxes(s, election_id, district)]
        return {"mobile_boxes": items}, "\n".join(
            f"{b['district']} {b['label']}：{'、'.join(b['scrutineers'])}" for b in items
        ) or "无"

    _run(ctx, as_json, work)


# -- tallies --------------------------------------------------------------------------------
def _tally_payload(s, election_id: int, district: str, rec) -> tuple[dict, str]:
    nxt = res.next_vote(s, election_id, district)
    payload = {
        "district": district,
        "round": rec.round,
        "purpose": rec.purpose,
        "result": rec.result,
        "next": nxt,
    }
    elected = "、".join(rec.result.get("elected") or []) or "无"
    tail = (
        "选举完成"
        if nxt is None
        else f"下一步：{res.rules.PURPOSE_NAMES[nxt['purpose']]}（应选 {nxt['seats']} 名）"
    )
    return (
        payload,
        f"选区 {district} 第 {rec.round} 轮：{'有效' if rec.result['valid'] else '无效'}，当选 {elected}；{tail}",
    )


@tallies_app.command("record")
def tallies_record(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    tally_file: Path = typer.Argument(..., help="TALLY.json（与 huanjie tally 的输入相同）"),
    district: str = DISTRICT,
    as_json: bool = JSON,
) -> None:
    """计票并登记一个选区的一轮投票（第一次投票或另行选举）。"""

    def work(s, cli):
        from workflow.commands import tallies

        try:
            data = json.loads(tally_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DomainError("E_BAD_TALLY_FILE", f"无法读取计票文件 {tally_file}：{exc}", "file") from None
        if not isinstance(data, dict):
            raise DomainError("E_BAD_TALLY_FILE", "计票文件应为 JSON 对象", "file")
        rec = tallies.record(s, election_id, district, data, clock=cli.clock, actor=cli.actor)
        return _tally_payload(s, election_id, district, rec)

    _run(ctx, as_json, work)


@tallies_app.command("tie-break")
def tallies_tie_break(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = DISTRICT,
    votes: list[str] = typer.Option(..., "--votes", help="再次投票得票：姓名=票数（可多次）"),
    as_json: bool = JSON,
) -> None:
    """登记票数相等者再次投票的结果（选举法第四十五条）。"""

    def work(s, cli):
        rec = res.record_tie_break(s, election_id, district, _votes(votes), clock=cli.clock, actor=cli.actor)
        return _tally_payload(s, election_id, district, rec)

    _run(ctx, as_json, work)


@tallies_app.command("list")
def tallies_list(
    ctx: typer.Context, election_id: int = typer.Argument(...), district: str = DISTRICT, as_json: bool = JSON
) -> None:
    """列出一个选区已登记的各轮计票。"""

    def work(s, cli):
        items = [
            {"round": r.round, "purpose": r.purpose, "input": r.input, "result": r.result, "recorded_by": r.recorded_by,
             "recorded_at": r.recorded_at}
            for r in res.rounds_of(s, election_id, district)
        ]  # fmt: skip
        return {"district": district, "rounds": items}, "\n".join(
            f"第 {r['round']} 轮（{r['purpose']}）：当选 {'、'.join(r['result']['elected']) or '无'}"
            for r in items
        ) or "尚无计票"

    _run(ctx, as_json, work)


# -- results --------------------------------------------------------------------------------
@results_app.command("show")
def results_show(ctx: typer.Context, election_id: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """各选区选举结果与待进行的投票。"""

    def work(s, cli):
        view = res.results_view(s, election_id)
        lines = []
        for d in view["districts"]:
            names = "、".join(e["name"] for e in d["elected"]) or "无"
            lines.append(
                f"选区 {d['district']}（应选 {d['seats']}）：{STATUS_NAMES[d['status']]}；当选 {names}；缺额 {d['vacant']}"
            )
        return view, "\n".join(lines) or "尚无选区"

    _run(ctx, as_json, work)


@results_app.command("publish")
def results_publish(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = typer.Option(None, "--district", help="只公布一个选区（默认全部，并办结节点）"),
    on: str = typer.Option(None, "--on", help="公布日期（默认今天）"),
    as_json: bool = JSON,
) -> None:
    """公布选举结果（选举法第四十六条）；全部公布时办结「公布选举结果」节点。"""

    def work(s, cli):
        out = res.publish_results(
            s, election_id, district=district, on=_date(on, "on"), clock=cli.clock, actor=cli.actor
        )
        return out, f"已公布选区 {'、'.join(out['published']) or '（无新增）'} 的选举结果（{out['on']}）"

    _run(ctx, as_json, work)


@results_app.command("review")
def results_review(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    deputy_id: int = typer.Argument(...),
    valid: bool = typer.Option(..., "--valid/--invalid", help="代表资格有效或当选无效"),
    note: str = typer.Option(None, "--note", help="审查意见（当选无效时必填）"),
    on: str = typer.Option(None, "--on"),
    as_json: bool = JSON,
) -> None:
    """代表资格审查（选举法第四十七条）。"""

    def work(s, cli):
        d = res.review_qualification(s, election_id, deputy_id, valid=valid, note=note, on=_date(on, "on"),
                                     clock=cli.clock, actor=cli.actor)  # fmt: skip
        return res.deputy_view(d), f"{d.name}：{'资格有效' if valid else '当选无效'}"

    _run(ctx, as_json, work)


@results_app.command("certificates")
def results_certificates(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    district: str = typer.Option(None, "--district"),
    on: str = typer.Option(None, "--on"),
    as_json: bool = JSON,
) -> None:
    """为资格审查有效的当选人编号并颁发当选证书。"""

    def work(s, cli):
        issued = res.issue_certificates(
            s, election_id, district=district, on=_date(on, "on"), clock=cli.clock, actor=cli.actor
        )
        items = [res.deputy_view(d) for d in issued]
        return {"issued": items}, "\n".join(
            f"{d['certificate_number']}\t{d['name']}" for d in items
        ) or "没有待颁发的证书"

    _run(ctx, as_json, work)


@results_app.command("certificate")
def results_certificate(
    ctx: typer.Context,
    election_id: int = typer.Argument(...),
    deputy_id: int = typer.Argument(...),
    as_json: bool = JSON,
) -> None:
    """当选证书内容。"""

    def work(s, cli):
        data = res.certificate_data(s, election_id, deputy_id)
        return data, f"当选证书 {data['number']}\n{data['text']}\n{data['committee']}  {data['issued_on']}"

    _run(ctx, as_json, work)


def register(app: typer.Typer) -> None:
    candidates_app.add_typer(committee_app, name="committee")
    candidates_app.add_typer(proxies_app, name="proxies")
    candidates_app.add_typer(boxes_app, name="mobile-boxes")
    app.add_typer(candidates_app, name="candidates")
    app.add_typer(tallies_app, name="tallies")
    app.add_typer(results_app, name="results")
