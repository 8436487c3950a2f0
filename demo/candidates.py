"""Demo step of the candidates part: the 2011 Jingshan round gets its election committee (the
seed's roster), districts, candidates, counted rounds (one district with a runoff), published
results, reviewed qualifications and certificates; the current round gets nominations.

Everything goes through the same commands staff use. When the demo's date is before the 2011
election ended, its candidates and results are left out and a note says so.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import ric

from workflow.clock import Clock
from workflow.commands import (
    candidate_committee,
    candidate_lists,
    candidate_nominations,
    candidate_records,
    tallies,
    voter_districts,
)
from workflow.commands import results as res
from workflow.commands.elections import get_election
from workflow.store.voters import District, Voter, VoterStatus
from workflow.timeutil import local_date

# The seed's county election committee (京山县选举委员会).
COMMITTEE = [("董烈宏", "主任")] + [(n, "副主任") for n in ("严欣友", "吴天文", "朱秋娣", "熊德芳")] + [
    (n, "委员") for n in ("夏朝阳", "官书云", "戴世发", "陈明金", "黄德华", "王才富", "邱承凯", "廖传文", "郭立军", "张济生")
]  # fmt: skip

SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["建国", "秀英", "志强", "桂兰", "红梅", "国华", "海燕", "德明", "丽娟", "永红", "春生", "玉兰",
         "宏伟", "淑珍", "新民", "晓燕", "文斌", "凤英", "光明", "雪梅"]  # fmt: skip
OCCUPATIONS = ["farmer", "worker", "technician", "cadre", "farmer", "business", "worker", "technician"]

# code suffix, name, seats, candidates (EL 31: 1/3 to 1× more than seats)
DISTRICTS = [("01", "新市镇第一选区", 3, 5), ("02", "永兴镇第一选区", 2, 3), ("03", "宋河镇第一选区", 1, 2)]


EDUCATION = ("大学", "研究生", "大专", "高中", "中专")  # 文化程度 as the forms give it


def _name(i: int) -> str:
    return SURNAMES[(i * 7) % len(SURNAMES)] + GIVEN[(i * 3) % len(GIVEN)]


def _id(seq: int, birth: str = "19700101") -> str:
    body = f"420821{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


SIZES = {1: 2, 2: 3, 3: 5}  # seats → candidates nominated (EL 31: 1/3 to 1× more than seats)


def _districts_2011(session: Session, election_id: int, *, clock: Clock, actor: str) -> None:
    """The 2011 round's districts, as records of the District table (the source of districts)."""
    for suffix, name, seats, _count in DISTRICTS:
        voter_districts.add_district(
            session, election_id, code=f"420821-{suffix}", name=name, seats=seats, clock=clock, actor=actor
        )


def _registered_ids(session: Session, election_id: int, district: str, count: int) -> list[str]:
    """The first `count` registered voters of a district (joint nominators, EL 30)."""
    return list(
        session.execute(
            select(Voter.id_number)
            .join(District, District.id == Voter.district_id)
            .where(
                Voter.election_id == election_id,
                District.code == district,
                Voter.status == VoterStatus.ACTIVE,
            )
            .order_by(Voter.id)
            .limit(count)
        ).scalars()
    )


def _nominate_all(
    session: Session, election_id: int, *, clock: Clock, actor: str, historical: bool, offset: int
) -> None:
    """Candidates for every district of the District table; the last of each district is
    nominated by ten voters: registered voters of the district where there is a register."""
    for d_index, d in enumerate(voter_districts.list_districts(session, election_id)):
        district, seats = d["code"], d["seats"]
        candidate_nominations.open_district(
            session,
            election_id,
            district,
            seats=None,
            name=d["name"],
            clock=clock,
            actor=actor,
            historical=historical,
        )
        count = SIZES[seats]
        for c in range(count):
            i = offset + d_index * 10 + c
            common = {
                "name": _name(i),
                "sex": "female" if c % 5 in (1, 3) else "male",
                "occupation": OCCUPATIONS[i % len(OCCUPATIONS)],
                "party": "中国共产党" if c % 2 == 0 else "群众",
                "ethnicity": "汉族",
                "education": EDUCATION[i % len(EDUCATION)],
                "incumbent": c == 0,
                "birth_date": date(1960 + i % 25, 1 + i % 12, 1 + i % 28),
                "clock": clock,
                "actor": actor,
                "historical": historical,
            }
            if c == count - 1:  # the last one of each district: ten voters jointly (EL 30)
                supporters = _registered_ids(session, election_id, district, 10) if d["voters"] else []
                if len(supporters) < 10:  # no register loaded (the 2011 round): numbers as on the forms
                    supporters = [_id(100 * (d_index + 1) + k + offset) for k in range(10)]
                candidate_nominations.nominate(
                    session, election_id, district, nominated_by="voters", supporters=supporters, **common
                )
            else:
                org = ["中国共产党京山县委员会", "京山县总工会", "共青团京山县委员会", "京山县妇女联合会"][
                    c % 4
                ]
                candidate_nominations.nominate(
                    session,
                    election_id,
                    district,
                    nominated_by="party" if c % 4 == 0 else "organisation",
                    nominators=[org],
                    **common,
                )


def tally_input(
    seats: int,
    names: list[str],
    shares: list[int],
    registered: int,
    round_: int = 1,
    runoff: list[str] | None = None,
) -> dict:
    """A first-round (or runoff) TALLY.json of a demo district: 90 % turnout, 2 % invalid,
    votes as percentages of the ballots issued."""
    issued = registered * 9 // 10
    data = {
        "kind": "people_congress",
        "seats": seats,
        "registered_voters": registered,
        "ballots_issued": issued,
        "ballots_returned": issued,
        "invalid_ballots": issued // 50,
        "votes": {n: issued * s // 100 for n, s in zip(names, shares, strict=True)},
        "round": round_,
    }
    if runoff is not None:
        data["runoff_candidates"] = runoff
    return data


HISTORY_COMPLETE = date(2011, 10, 28)  # the last record of the 2011 round: certificates issued


def _results_2011(session: Session, election_id: int, *, clock: Clock, actor: str) -> None:
    # Shares per candidate (percent of ballots issued); district 01 elects two in the first
    # round and fills its third seat in a runoff between the next two (EL 45).
    shares = {"01": [78, 64, 45, 38, 20], "02": [71, 58, 30], "03": [66, 31]}
    for suffix, _, seats, _ in DISTRICTS:
        district = f"420821-{suffix}"
        names = [c.name for c in candidate_records.candidates_of(session, election_id, district)]
        tallies.record(
            session,
            election_id,
            district,
            tally_input(seats, names, shares[suffix], 2400 + 300 * seats),
            clock=clock,
            actor=actor,
            historical=True,
        )
        pending = res.next_vote(session, election_id, district)
        if pending and pending["purpose"] == "runoff":
            chosen = pending["candidates"][: pending["max_candidates"] or len(pending["candidates"])]
            data = tally_input(
                pending["seats"],
                chosen,
                [52, 41][: len(chosen)] + [5] * (len(chosen) - 2),
                2400 + 300 * seats,
                2,
                chosen,
            )
            tallies.record(session, election_id, district, data, clock=clock, actor=actor, historical=True)
    election = get_election(session, election_id)
    on = election.milestone("results_published").done_on or election.anchor_date
    res.publish_results(session, election_id, on=on, clock=clock, actor=actor)
    for deputy in res.deputies(session, election_id):
        res.review_qualification(
            session, election_id, deputy.id, valid=True, on=date(on.year, 10, 25), clock=clock, actor=actor
        )
    res.issue_certificates(session, election_id, on=date(on.year, 10, 28), clock=clock, actor=actor)


def add_demo_candidates(session: Session, result, *, clock: Clock, actor: str) -> None:
    """Add candidates (and, for 2011, results) to the demo county's elections."""
    seed = result.elections.get("jingshan_2011")
    if seed is not None and local_date(clock.now()) < HISTORY_COMPLETE:
        # A demo dated inside the 2011 round (tests do this) cannot hold its later records.
        result.notes.append("演示日期早于2011年选举结束，未载入2011年候选人与选举结果。")
        seed = None
    if seed is not None:
        for i, (name, role) in enumerate(COMMITTEE):
            candidate_committee.add_committee_member(
                session,
                seed,
                name=name,
                role=role,
                appointed_on=date(2011, 8, 26),
                clock=clock,
                actor=actor,
                id_number=_id(900 + i, "19650101"),
            )
        _districts_2011(session, seed, clock=clock, actor=actor)
        _nominate_all(session, seed, clock=clock, actor=actor, historical=True, offset=0)
        candidate_lists.publish_preliminary(session, seed, clock=clock, actor=actor, historical=True)
        candidate_lists.publish_official(session, seed, clock=clock, actor=actor, historical=True)
        _results_2011(session, seed, clock=clock, actor=actor)
        result.notes.append("2011 年京山县选举：已载入候选人、计票（含一次另行选举）、选举结果与当选证书。")
    county = result.elections.get("county")
    if county is not None:
        for i, (name, role) in enumerate(COMMITTEE):  # the same committee serves this round
            candidate_committee.add_committee_member(
                session,
                county,
                name=name,
                role=role,
                appointed_on=local_date(clock.now()),
                clock=clock,
                actor=actor,
                id_number=_id(950 + i, "19650101"),
            )
        _nominate_all(session, county, clock=clock, actor=actor, historical=False, offset=40)
        result.notes.append("本届京山县选举：已载入各选区代表候选人推荐。")
