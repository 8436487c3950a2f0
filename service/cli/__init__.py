"""The `huanjie` command line. Each command group lives in its own module (`service/cli/<group>.py`,
a `typer.Typer` named `app`); `_register` below adds them all, in the order `huanjie --help`
lists them."""

from __future__ import annotations

import typer

from service.cli import (
    appeals,
    audit,
    candidates,
    committee,
    demo,
    districts,
    elections,
    jurisdictions,
    kinds,
    milestones,
    mobile_boxes,
    notices,
    outbox,
    plan,
    proxies,
    reminders,
    results,
    scheduler,
    serve,
    tallies,
    tally,
    tokens,
    users,
    voters,
)
from service.cli.common import CliState

app = typer.Typer(
    name="huanjie",
    help="换届选举工作编排：选举计划、法定期限、阶段推进、公告。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    db: str = typer.Option(
        None, "--db", help="数据库 URL（默认：用户数据目录下的 SQLite 文件，或环境变量 HUANJIE_DB）"
    ),
    actor: str = typer.Option(
        None, "--actor", help="记入审计日志的操作人（默认：HUANJIE_ACTOR 或系统用户名）"
    ),
) -> None:
    cli = CliState(db_url=db)
    if actor:
        cli.actor = actor
    ctx.obj = cli


def _register() -> None:
    # Single commands (listed first by --help, in this order).
    app.command("quota")(plan.quota)
    app.command("demo")(demo.demo)
    app.command("tally")(tally.tally)
    app.command("apportion")(districts.apportion_command)
    app.command("serve")(serve.serve)
    app.command("sweep")(scheduler.sweep_command)
    app.command("worker")(scheduler.worker_command)
    # Command groups.
    app.add_typer(plan.app, name="plan")
    app.add_typer(kinds.app, name="kinds")
    app.add_typer(jurisdictions.app, name="jurisdictions")
    app.add_typer(elections.app, name="elections")
    app.add_typer(milestones.app, name="milestones")
    app.add_typer(audit.app, name="audit")
    app.add_typer(outbox.app, name="outbox")
    app.add_typer(districts.app, name="districts")
    candidates.app.add_typer(committee.app, name="committee")
    candidates.app.add_typer(proxies.app, name="proxies")
    candidates.app.add_typer(mobile_boxes.app, name="mobile-boxes")
    app.add_typer(candidates.app, name="candidates")
    app.add_typer(tallies.app, name="tallies")
    app.add_typer(results.app, name="results")
    app.add_typer(notices.app, name="notices")
    app.add_typer(voters.app, name="voters")
    app.add_typer(appeals.app, name="appeals")
    app.add_typer(users.app, name="users")
    app.add_typer(tokens.app, name="tokens")
    app.add_typer(reminders.app, name="reminders")


_register()


def main() -> None:
    app()
