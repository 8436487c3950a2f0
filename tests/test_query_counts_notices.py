"""Statements per notice and per export do not grow with the rows they print (issue 15).

Counts, not timings: each notice's data (`preview_context`: its number and every provider it
reads) and each export (the printed voter lists, 选民证, the progress report, the calendar) is
gathered from a small and from a larger election — more districts, more voters in each, more
candidates, more counted rounds, more townships — and the SQL statements sent must be the same.
Each count runs in a fresh session, so nothing is hidden by the identity map. Runs on SQLite and
PostgreSQL (`db`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select

from demo.candidates import tally_input
from demo.county import EXAMPLES
from demo.province import PROVINCE, build_province
from demo.voters import HEADER, synthetic_rows
from notices.catalog import SPECS, Scope
from service.api.calendar import election_calendar
from service.web.notices import dashboard_notices
from tests.test_grid import _grow
from tests.test_query_counts import counting
from workflow.clock import FixedClock
from workflow.commands import (
    candidate_committee,
    candidate_lists,
    candidate_nominations,
    candidate_records,
    elections,
    seat_allocation,
    tallies,
    voter_changes,
    voter_districts,
    voter_exports,
    voter_import,
    voter_list,
)
from workflow.commands import notices as notice_commands
from workflow.commands import results as res
from workflow.commands.elections import get_election
from workflow.plan import load_plan
from workflow.store import Database
from workflow.store.models import Election
from workflow.store.voters import District, Voter, VoterStatus
from workflow.views import jurisdictions
from workflow.views.candidates import candidate_lists as candidate_lists_view
from workflow.views.grid import grid
from workflow.views.progress_report import report_docx, report_xlsx
from workflow.views.voters import voters_status

SEED_PLAN = "jingshan_2011.toml"
HISTORY = FixedClock(datetime(2011, 10, 20, 2, 0, tzinfo=UTC))  # after the 2011 election day
A = "t"


@dataclass(frozen=True)
class Size:
    districts: int
    voters: int  # per district
    committee: int


SMALL = Size(districts=2, voters=12, committee=3)
LARGE = Size(districts=7, voters=30, committee=12)
SEATS = (3, 2, 1)  # district i has SEATS[i % 3] seats
CANDIDATES = {1: 2, 2: 3, 3: 5}  # seats → candidates (EL 31)


def _name(i: int) -> str:
    return "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗"[i % 20] + ["建国", "秀英", "志强", "桂兰", "红梅", "国华"][i % 6]


def _voters_of(session, election_id: int, code: str) -> list[str]:
    return list(
        session.execute(
            select(Voter.id_number)
            .join(District, District.id == Voter.district_id)
            .where(Voter.election_id == election_id, Voter.status == VoterStatus.ACTIVE, District.code == code)
            .order_by(Voter.id)
        ).scalars()
    )


def build_election(db: Database, size: Size) -> int:
    """The seed's 2011 county election with `size.districts` districts, their voters, the list
    published and one voter removed since (补正名单), the committee, candidates through the
    official lists, and every district counted and its results published."""
    clock = HISTORY
    with db.transaction() as session:
        created = elections.create_election(session, load_plan(EXAMPLES / SEED_PLAN), clock=clock, actor=A)
        eid = created.election.id
        codes = [f"{i + 1:02d}" for i in range(size.districts)]
        for i, code in enumerate(codes):
            voter_districts.add_district(
                session, eid, code=code, name=f"第{i + 1}选区", seats=SEATS[i % 3],
                population=1000 + i, area=f"第{i + 1}村", clock=clock, actor=A,
            )  # fmt: skip
        rows = synthetic_rows(
            size.voters * size.districts, election_day=created.election.anchor_date, districts=codes, seed=7
        )
        voter_import.import_voters(
            session, eid, list(HEADER), enumerate(rows, 2), file_name="v.csv", clock=clock, actor=A
        )
        voter_list.publish(session, eid, clock=clock, actor=A, on=date(2011, 9, 20))
        for code in codes:  # one correction per district since publication
            first = _voters_of(session, eid, code)[0]
            voter_changes.remove_voter(session, eid, first, reason="deceased", clock=clock, actor=A)
        for i in range(size.committee):
            candidate_committee.add_committee_member(
                session, eid, name=_name(i + 50), role="主任" if i == 0 else "委员", clock=clock, actor=A
            )
        n = 0
        for i, code in enumerate(codes):
            candidate_nominations.open_district(
                session, eid, code, seats=None, name=f"第{i + 1}选区", clock=clock, actor=A, historical=True
            )
            count = CANDIDATES[SEATS[i % 3]]
            for c in range(count):
                if c == count - 1:  # the last one by ten of the district's voters jointly (EL 30)
                    by = {"nominated_by": "voters", "supporters": _voters_of(session, eid, code)[:10]}
                else:
                    by = {"nominated_by": "organisation", "nominators": [f"京山县第{c + 1}团体"]}
                candidate_nominations.nominate(
                    session, eid, code, name=_name(n), sex="female" if c % 2 else "male", occupation="farmer", **by,
                    birth_date=date(1960 + n % 25, 1 + n % 12, 1 + n % 28), ethnicity="汉族",
                    party="中国共产党", education="大学", clock=clock, actor=A, historical=True,
                )  # fmt: skip
                n += 1
        candidate_lists.publish_preliminary(session, eid, clock=clock, actor=A, historical=True)
        candidate_lists.publish_official(session, eid, clock=clock, actor=A, historical=True)
        for i, code in enumerate(codes):
            seats = SEATS[i % 3]
            names = [c.name for c in candidate_records.candidates_of(session, eid, code)]
            shares = [70 - k if k < seats else 20 - k for k in range(len(names))]  # all elected in round one
            tallies.record(
                session, eid, code, tally_input(seats, names, shares, 1000), clock=clock, actor=A, historical=True
            )
        res.publish_results(session, eid, clock=clock, actor=A)
    return eid


def _elections(db: Database) -> tuple[int, int]:
    """A small and a larger election (the same kind and plan) in one database."""
    return build_election(db, SMALL), build_election(db, LARGE)


def _scopes(spec) -> tuple[str | None, ...]:
    return {Scope.DISTRICT: ("01",), Scope.EITHER: (None, "01")}.get(spec.scope, (None,))


# -- notices ----------------------------------------------------------------------------------
def _notice_data(db: Database, election_id: int, template: str, district: str | None) -> tuple[int, dict]:
    """The statements a notice's data snapshot sends (its number and every provider it reads:
    what a preview, a render job and publishing gather), in a fresh session."""
    with db.reading() as session, counting(db) as seen:
        context, *_ = notice_commands.preview_context(
            session, election_id, template, district=district, clock=HISTORY
        )
        return len(seen), context


def test_notice_data_statements_do_not_grow_with_the_rows(db):
    """Every people's-congress notice — committee, quota, districts, voter list, 补正名单, 选民证,
    preliminary and official candidate lists, election day, results, 当选证书, deadline warning —
    whole-election and per district: the same statements for 2 districts of 12 voters (3
    committee members, 8 candidates) as for 7 districts of 30 voters (12 members, 23
    candidates)."""
    small, large = _elections(db)
    grown: dict[str, tuple[int, int]] = {}
    sizes: dict[str, tuple[int, int]] = {}
    checked = 0
    for key, spec in SPECS.items():
        if "people_congress" not in spec.kinds:
            continue
        for district in _scopes(spec):
            name = f"{key}/{district or '全部'}"
            n_small, c_small = _notice_data(db, small, key, district)
            n_large, c_large = _notice_data(db, large, key, district)
            sizes[name] = (len(repr(c_small["data"])), len(repr(c_large["data"])))
            checked += 1
            if n_large != n_small:
                grown[name] = (n_small, n_large)
    assert grown == {}, grown
    assert checked == 16  # 12 templates, 4 of them whole-election and per district
    # The larger election did print more rows, in the same statements.
    for name in ("voter_list/01", "voter_certificate/01", "voter_list_supplement/01", "districts_published/全部",
                 "preliminary_candidates/全部", "official_candidates/全部", "results/全部",
                 "certificate_of_election/全部", "election_committee_formed/全部"):  # fmt: skip
        assert sizes[name][1] > sizes[name][0], name


def _county_with_townships(db: Database, townships: int, code: str) -> int:
    """A county election and its `townships` township elections (one shared round), each
    township with a district and its population, and the county's total decided (EL 13)."""
    with db.transaction() as session:
        province = build_province(session, clock=HISTORY, counties=1, townships=townships, code=code)
        county = province.elections[0]
        for i, town in enumerate(province.elections[1:]):
            voter_districts.add_district(
                session, town, code=f"{i + 1:02d}", name=f"第{i + 1}选区", seats=2,
                population=5000 + 700 * i, clock=HISTORY, actor=A,
            )  # fmt: skip
        seat_allocation.record_decision(
            session, county, total=3 * townships, document="鄂人常〔2011〕3号",
            population=sum(5000 + 700 * i for i in range(townships)), clock=HISTORY, actor=A,
        )  # fmt: skip
    return county


def test_quota_notice_statements_do_not_grow_with_the_townships(db):
    """The quota notice (代表名额分配方案公告) shares the county's total among its townships:
    the same statements for 2 townships as for 9."""
    small = _county_with_townships(db, 2, PROVINCE)
    large = _county_with_townships(db, 9, "440000")
    n_small, c_small = _notice_data(db, small, "quota_allocation", None)
    n_large, c_large = _notice_data(db, large, "quota_allocation", None)
    assert len(c_small["data"]["allocation"]["units"]) == 2
    assert len(c_large["data"]["allocation"]["units"]) == 9
    assert n_large == n_small


def _publish_every_district(db: Database, election_id: int, codes: list[str]) -> None:
    """Publish (as HTML) the districts notice, and each district's 选民名单 and 补正名单."""
    with db.transaction() as session:
        notice_commands.publish_notice(session, election_id, "districts_published", fmt="html", clock=HISTORY, actor=A)
        for code in codes:
            for template in ("voter_list", "voter_list_supplement"):
                notice_commands.publish_notice(
                    session, election_id, template, fmt="html", district=code, clock=HISTORY, actor=A
                )


def _notices_tab(db: Database, election_id: int) -> tuple[int, list[str], int]:
    """The election page's notices (each notice per district, its versions and links)."""
    with db.reading() as session, counting(db) as seen:
        items = dashboard_notices(session, get_election(session, election_id))
        return len(seen), list(seen), sum(i["status"].startswith("已发布") for i in items)


def test_notices_tab_does_not_grow_with_the_published_notices(db):
    """The election page's list of notices and their published versions: the same statements
    for 5 published notices as for 15, and the stored files are not read to list them."""
    small, large = _elections(db)
    _publish_every_district(db, small, [f"{i + 1:02d}" for i in range(SMALL.districts)])
    _publish_every_district(db, large, [f"{i + 1:02d}" for i in range(LARGE.districts)])
    n_small, _seen, published_small = _notices_tab(db, small)
    n_large, seen, published_large = _notices_tab(db, large)
    assert (published_small, published_large) == (1 + 2 * SMALL.districts, 1 + 2 * LARGE.districts)
    assert n_large == n_small
    listed = [s for s in seen if s.startswith("SELECT") and "FROM notices" in s]
    assert listed and not any("notices.content" in s or "notices.data" in s for s in listed)


# -- exports ----------------------------------------------------------------------------------
def _export(db: Database, election_id: int, which: str, district: str | None) -> tuple[int, int]:
    """Statements and rows of one printed list (`voters export`, the API's list pages)."""
    with db.reading() as session, counting(db) as seen:
        view = voter_exports.list_view(session, election_id, which=which, district=district)
        rows = sum(1 for _ in view.rows)
        return len(seen), rows


def test_voter_list_exports_do_not_grow_with_the_districts_or_voters(db):
    """The register, the published list, the supplementary list and the 选民证 data, whole
    election and one district: the same statements for 2 districts of 12 voters as for 7 of 30
    (the published list and the 选民证 used to read each district's list apart)."""
    small, large = _elections(db)
    grown = {}
    for which in voter_exports.LIST_KINDS:
        for district in (None, "01"):
            n_small, rows_small = _export(db, small, which, district)
            n_large, rows_large = _export(db, large, which, district)
            assert rows_large > rows_small or (which == "supplementary" and district), (which, district)
            if n_large != n_small:
                grown[f"{which}/{district or '全部'}"] = (n_small, n_large)
    assert grown == {}, grown
    # One voter's 选民证 (`voters certificate`): the same for either election.
    counts = []
    for election_id in (small, large):
        with db.reading() as session:
            number = session.execute(
                select(Voter.id_number)
                .where(Voter.election_id == election_id, Voter.status == VoterStatus.ACTIVE)
                .order_by(Voter.id.desc())
                .limit(1)
            ).scalar_one()
        with db.reading() as session, counting(db) as seen:
            assert voter_exports.certificate(session, election_id, number)["certificate_no"]
            counts.append(len(seen))
    assert counts[0] == counts[1]


def _listing(db: Database, election_id: int, name: str) -> tuple[int, int]:
    """Statements and districts of one of the candidates' and results' listings."""
    read = {
        "results": lambda s: res.results_view(s, election_id)["districts"],
        "preliminary_list": lambda s: candidate_lists.published_list(s, election_id, "preliminary")["districts"],
        "official_list": lambda s: candidate_lists.published_list(s, election_id, "official")["districts"],
        "candidate_lists": lambda s: candidate_lists_view(s, election_id)["districts"],
        "voters_status": lambda s: voters_status(s, get_election(s, election_id), clock=HISTORY)["districts"],
    }[name]
    with db.reading() as session, counting(db) as seen:
        districts = read(session)
        return len(seen), len(districts)


def test_results_and_candidate_listings_do_not_grow_with_the_districts(db):
    """`results show` / the results API and page (elected, rounds, status per district), the
    published candidate lists (`candidates published`, preliminary and official), the candidate
    lists view and the register's status: the same statements for 2 districts as for 7 (the
    results used to cost three statements a district, the published lists one)."""
    small, large = _elections(db)
    for name in ("results", "preliminary_list", "official_list", "candidate_lists", "voters_status"):
        n_small, d_small = _listing(db, small, name)
        n_large, d_large = _listing(db, large, name)
        assert (d_small, d_large) == (SMALL.districts, LARGE.districts), name
        assert n_large == n_small, (name, n_small, n_large)


def _report(db: Database, today: date) -> tuple[int, int, int]:
    """The 进度通报 as the dashboard exports it: the grid, then the workbook and the Word
    report written from it (which must send nothing of their own)."""
    with db.reading() as session, counting(db) as seen:
        g = grid(session, jurisdictions.by_code(session, PROVINCE), today)
        for_grid = len(seen)
        assert report_xlsx(g).startswith(b"PK") and report_docx(g).startswith(b"PK")
        return for_grid, len(seen), g.rows_total


def test_progress_report_and_calendar_statements_do_not_grow(db):
    """The progress report (XLSX and DOCX) of 5 or 50 elections, and each election's calendar
    (.ics): the same statements."""
    clock = FixedClock(datetime(2026, 9, 1, 2, 0, tzinfo=UTC))
    with db.transaction() as session:
        build_province(session, clock=clock, counties=1, townships=4)
    today = date(2026, 9, 20)
    small_grid, small, small_rows = _report(db, today)
    _grow(db, clock)
    large_grid, large, large_rows = _report(db, today)
    assert (small_rows, large_rows) == (5, 50)
    assert small == small_grid and large == large_grid  # the report writers read nothing more
    assert large == small
    with db.reading() as session:
        ids = list(session.execute(select(Election.id).order_by(Election.id)).scalars())
    counts = set()
    for election_id in (ids[0], ids[1], ids[-1]):
        with db.reading() as session, counting(db) as seen:
            election = get_election(session, election_id)
            body = election_calendar(election, clock.now())
            counts.add(len(seen))
            milestones = len(election.milestones)
        assert body.count(b"BEGIN:VEVENT") == milestones > 10
    assert len(counts) == 1, counts
