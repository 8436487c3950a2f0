"""The residents' voting method stored on the election (RCL 2025 art. 14 ¶1; RCL 2018 art. 8):
all voters, one representative per household, or the residents' (group) representatives. Set
at creation or later, changeable until voting starts, audited; every counting path counts with
it (turnout: art. 19 ¶1) and the proxy commands refuse proxies when the representatives vote
(art. 19 ¶4). A 2021 election keeps the 2018 text's ways and rules (art. 8; provincial turnout,
no statutory proxy ban). Through the commands, the CLI, the API and the dashboard."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from demo.county import EXAMPLES
from service.cli import app as cli_app
from tests.law_texts import RCL2018, RCL2025, article
from tests.service_fixtures import PASSWORD, make_world
from tests.voters_support import number
from workflow.commands import candidate_nominations, candidate_polling, elections, tallies
from workflow.errors import Conflict, DomainError
from workflow.plan import load_plan, parse_plan
from workflow.store.audit import AuditEntry

E2026 = date(2026, 12, 27)  # RCL 2025 text (in force 2026-01-01)
E2021 = date(2021, 6, 20)  # RCL 2018 text
COMMUNITY = "420821100-001"


def plan_data(e: date) -> dict:
    d = lambda days: e + timedelta(days=days)  # noqa: E731
    return {
        "kind": "residents_committee",
        "title": f"新市镇阳光社区{e.year}年居民委员会换届选举",
        "election_day": e,
        "jurisdiction": {"code": COMMUNITY, "name": "新市镇阳光社区", "level": "community"},
        "milestones": {
            "election_committee_formed": d(-45),
            "review_completed": d(-35),
            "voter_list_published": d(-25),
            "voter_appeals_closed": d(-18),
            "candidates_published": d(-10),
            "election_day": e,
            "results_published": e,
            "handover_completed": d(7),
        },
        "phases": {
            "preparation": {"start": d(-50), "end": d(-40)},
            "publicity": {"start": d(-39), "end": d(-30)},
            "election": {"start": d(-29), "end": d(2)},
            "handover": {"start": d(3), "end": d(10)},
        },
    }


def at(clock, day: date) -> None:
    clock.set(datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC))


def create(db, clock, e: date, method: str | None = None) -> int:
    at(clock, e - timedelta(days=60))
    with db.transaction() as s:
        created = elections.create_election(
            s, parse_plan(plan_data(e)), clock=clock, actor="t", voting_method=method
        )
        return created.election.id


def tally(registered: int, issued: int, **extra) -> dict:
    return {
        "kind": "residents_committee",
        "seats": 1,
        "registered_voters": registered,
        "ballots_issued": issued,
        "ballots_returned": issued,
        "invalid_ballots": 0,
        "votes": {"张三": issued - 2, "李四": 2},
        **extra,
    }


def add_proxy(s, election_id: int, seq: int, clock):
    return candidate_polling.record_proxy(
        s,
        election_id,
        "community",
        grantor_name=f"委托人{seq}",
        grantor_id=number(date(1970, 1, 1), seq),
        holder_name=f"受托人{seq}",
        holder_id=number(date(1971, 1, 1), seq),
        consent_document=f"WT-{seq}",
        approved=True,
        clock=clock,
        actor="t",
    )


def test_the_texts():
    rcl14 = article(RCL2025, 14)
    assert (
        "由本社区全体有选举权的居民或者由每户派代表选举产生；根据居民意见，也可以由居民代表选举产生" in rcl14
    )
    rcl19 = article(RCL2025, 19)
    assert "采取居民代表选举方式的，有超过三分之二的居民代表参加投票，选举有效" in rcl19
    assert "采取居民代表选举方式的，不实行委托投票" in rcl19
    assert "也可以由每个居民小组选举代表二至三人选举产生" in article(RCL2018, 8)
    assert "委托" not in article(RCL2018, 8)


def test_2026_representatives_stored_audited_counted_and_no_proxies(db, clock):
    election_id = create(db, clock, E2026)
    with db.transaction() as s:
        elections.set_voting_method(s, election_id, "representatives", clock=clock, actor="clerk")
    with db.reading() as s:
        election = elections.get_election(s, election_id)
        assert election.voting_method == "representatives"
        entry = s.execute(
            select(AuditEntry).where(AuditEntry.action == "election.voting_method_changed")
        ).scalar_one()
        assert entry.actor == "clerk" and entry.after["name"] == "居民代表选举"
        assert entry.before == {"voting_method": None}
        view = elections_view(s, election_id)
        assert view["name"] == "居民代表选举" and view["rule"].startswith("居委会组织法第十四条第一款")
        # Counting reads the stored method: over two thirds of the representatives (art. 19 ¶1).
        assert tallies.count(tally(30, 20), election)["valid"] is False
        assert tallies.count(tally(30, 21), election)["valid"] is True
        with pytest.raises(DomainError) as err:
            tallies.count(tally(30, 21, method="households"), election)
        assert err.value.code == "E_WRONG_METHOD" and err.value.field == "method"
    # No proxies when the representatives vote (art. 19 ¶4), with the article in the message.
    with db.transaction() as s:
        candidate_nominations.open_district(s, election_id, "community", seats=5, clock=clock, actor="t")
    with pytest.raises(DomainError) as err, db.transaction() as s:
        add_proxy(s, election_id, 1, clock)
    assert err.value.code == "E_PROXY_NOT_ALLOWED"
    assert "居民代表选举" in err.value.message and "居委会组织法第十九条第四款" in err.value.message
    # All voters: proxies again, and the all-voters turnout (more than half).
    with db.transaction() as s:
        elections.set_voting_method(s, election_id, "all", clock=clock, actor="clerk")
        add_proxy(s, election_id, 2, clock)
        election = elections.get_election(s, election_id)
        assert election.voting_method is None
        assert tallies.count(tally(30, 16), election)["valid"] is True


def elections_view(s, election_id: int) -> dict:
    from workflow.views.elections import describe

    return describe(elections.get_election(s, election_id))["voting_method"]


def test_households_count_half_of_the_household_representatives(db, clock):
    election_id = create(db, clock, E2026, method="households")
    with db.reading() as s:
        election = elections.get_election(s, election_id)
        assert election.voting_method == "households"
        assert tallies.count(tally(400, 200), election)["valid"] is False
        assert tallies.count(tally(400, 201), election)["valid"] is True


def test_the_method_is_fixed_once_voting_starts(db, clock):
    election_id = create(db, clock, E2026)
    at(clock, E2026 - timedelta(days=1))
    with db.transaction() as s:
        elections.set_voting_method(s, election_id, "households", clock=clock, actor="t")
    at(clock, E2026)
    with pytest.raises(Conflict) as err, db.transaction() as s:
        elections.set_voting_method(s, election_id, "representatives", clock=clock, actor="t")
    assert err.value.code == "E_VOTING_STARTED" and err.value.field == "voting_method"
    assert "每户派代表选举" in err.value.message
    with db.reading() as s:
        assert elections.get_election(s, election_id).voting_method == "households"


def test_an_unknown_method_and_a_kind_without_choices_are_refused(db, clock):
    election_id = create(db, clock, E2026)
    with pytest.raises(DomainError) as err, db.transaction() as s:
        elections.set_voting_method(s, election_id, "by_groups", clock=clock, actor="t")
    assert err.value.code == "E_UNKNOWN_METHOD" and "第十四条第一款" in err.value.message
    with pytest.raises(DomainError) as err, db.transaction() as s:
        elections.create_election(
            s,
            load_plan(EXAMPLES / "village_committee.toml"),
            clock=clock,
            actor="t",
            voting_method="representatives",
        )
    assert err.value.field == "voting_method"


def test_2021_keeps_the_2018_text_group_representatives_provincial_turnout_proxies(db, clock):
    election_id = create(db, clock, E2021, method="representatives")
    with db.transaction() as s:
        election = elections.get_election(s, election_id)
        view = elections_view(s, election_id)
        assert view["name"] == "居民小组选举代表选举" and view["rule"].startswith("居委会组织法第八条")
        # The provincial measures' majority, not the 2025 text's two thirds.
        assert tallies.count(tally(30, 16), election)["valid"] is True
        assert tallies.count(tally(30, 15), election)["valid"] is False
        candidate_nominations.open_district(s, election_id, "community", seats=5, clock=clock, actor="t")
        held = add_proxy(s, election_id, 3, clock)  # the 2018 text bars no proxy
        assert held.id


def test_cli_sets_and_shows_the_method(db, clock):
    election_id = create(db, clock, E2026)
    runner = CliRunner()
    result = runner.invoke(
        cli_app,
        ["--db", db.url, "--actor", "t", "elections", "method", str(election_id), "households", "--json"],
    )
    assert result.exit_code == 0, result.stdout
    doc = json.loads(result.stdout)
    assert doc["voting_method"] == "households" and "第十四条第一款" in doc["rule"]
    result = runner.invoke(
        cli_app, ["--db", db.url, "--actor", "t", "elections", "method", str(election_id), "bogus", "--json"]
    )
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["code"] == "E_UNKNOWN_METHOD"
    shown = runner.invoke(cli_app, ["--db", db.url, "elections", "show", str(election_id)])
    assert "选举方式：每户派代表选举" in shown.stdout


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_api_and_dashboard(db, clock):
    world = make_world(db, clock)
    at(clock, E2026 - timedelta(days=60))
    created = world.post(
        "admin",
        "/api/v1/elections",
        json={
            "plan": json.loads(json.dumps(plan_data(E2026), default=str)),
            "voting_method": "representatives",
        },
    )
    assert created.status_code == 201, created.text
    election = created.json()["election"]
    assert election["voting_method"]["key"] == "representatives"
    election_id = election["id"]
    changed = world.post(
        "admin", f"/api/v1/elections/{election_id}/voting-method", json={"voting_method": "households"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["voting_method"]["name"] == "每户派代表选举"
    refused = world.post(
        "observer", f"/api/v1/elections/{election_id}/voting-method", json={"voting_method": "all"}
    )
    assert refused.status_code == 403
    shown = world.get("admin", f"/api/v1/elections/{election_id}")
    assert shown.json()["voting_method"]["key"] == "households"

    client = world.client
    page = client.get("/login")
    client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf": _csrf(page.text)})
    html = client.get(f"/elections/{election_id}").text
    assert "本次选举采取<strong>每户派代表选举</strong>方式" in html
    assert '<option value="representatives">居民代表选举</option>' in html
    done = client.post(
        f"/elections/{election_id}/voting-method",
        data={"csrf": _csrf(html), "voting_method": "representatives"},
        follow_redirects=True,
    )
    assert "选举方式已设定为「居民代表选举」" in done.text
    with db.reading() as s:
        assert elections.get_election(s, election_id).voting_method == "representatives"
    at(clock, E2026)
    page = client.get("/login")  # a new day: a new session
    client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf": _csrf(page.text)})
    html = client.get(f"/elections/{election_id}").text
    assert (
        "投票已经开始，选举方式不能再更改" in html
        and f'action="/elections/{election_id}/voting-method"' not in html
    )
    late = client.post(
        f"/elections/{election_id}/voting-method",
        data={"csrf": _csrf(html), "voting_method": "all"},
        follow_redirects=True,
    )
    assert "不能再更改选举方式" in late.text
    with db.reading() as s:
        assert elections.get_election(s, election_id).voting_method == "representatives"
