"""`huanjie audit verify`: check the audit log's hash chain."""

from __future__ import annotations

import typer

from service.cli.common import JSON, Reply, run
from workflow.store.audit import verify

app = typer.Typer(help="审计日志", no_args_is_help=True)


@app.command("verify")
def audit_verify(ctx: typer.Context, as_json: bool = JSON) -> None:
    """校验审计日志的哈希链：0 完整，1 被篡改。"""

    def work(session, cli) -> Reply:
        report = verify(session)
        if report.ok:
            text = f"审计日志完整，共 {report.entries} 条；链头哈希 {report.head_hash or '（空）'}，密钥 {report.key_id}。"
        else:
            text = f"审计日志在第 {report.broken_at} 条处断裂：{report.reason}"
        return Reply(report.as_dict(), text, 0 if report.ok else 1)

    run(ctx, as_json, work, reading=True)
