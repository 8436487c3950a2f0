"""Synthetic voters: valid identity numbers and plausible names, deterministic from a seed.

Used by the demo county (a demo step), the tests and bench/voters.py. Jingshan's area code
420821 is the real one (retired in 2018 when the county became a city; numbers keep it).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from sqlalchemy.orm import Session

from workflow.clock import Clock
from workflow.commands import elections, register_levels, voter_districts
from workflow.rules import ric

JINGSHAN = "420821"
HEADER = ["序号", "姓名", "性别", "公民身份号码", "民族", "出生日期", "选区", "选民小组", "住址", "户籍地"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN_MALE = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林建国志文海亮成德兵春"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲桂英华红梅兰琴云莲萍洁燕婷雪慧颖倩琳晶月凤玉翠珍淑"
VILLAGES = ["城关", "新市", "永兴", "宋河", "坪坝", "罗店", "孙桥", "石龙", "钱场", "杨集", "曹武", "三阳"]


def synthetic_rows(
    count: int,
    *,
    election_day: date,
    districts: list[str],
    seed: int = 2026,
    area: str = JINGSHAN,
    groups_per_district: int = 8,
) -> Iterator[list[object]]:
    """`count` distinct adult voters as spreadsheet rows (HEADER), spread over `districts`."""
    rng = random.Random(seed)
    youngest = ric.adult_cutoff(election_day)
    span = 72 * 365  # ages 18 to ~90
    oldest = youngest - timedelta(days=span - 1)
    for index in range(count):
        born = oldest + timedelta(days=(index * 7919) % span)
        sequence = index // span
        sex = "M" if rng.random() < 0.5 else "F"
        number = ric.make_number(area, born, sequence, sex)
        given = GIVEN_MALE if sex == "M" else GIVEN_FEMALE
        name = rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2))))
        district = districts[index % len(districts)]
        village = VILLAGES[(index // len(districts)) % len(VILLAGES)]
        group = f"第{(index // len(districts)) % groups_per_district + 1}组"
        yield [
            index + 1,
            name,
            "男" if sex == "M" else "女",
            number,
            "汉族" if rng.random() < 0.97 else "土家族",
            born.isoformat(),
            district,
            group,
            f"湖北省京山县{village}村{group}{rng.randint(1, 120)}号",
            f"湖北省京山县{village}村",
        ]


# (code, name, seats, scope: the township's communities and villages the district covers)
DEMO_DISTRICTS = [
    ("420821-01", "新市镇第一选区", 3, "新市镇城关社区、东风社区、五里铺村"),
    ("420821-02", "新市镇第二选区", 3, "新市镇西门社区、八里途村、马岭村、新桥村"),
    ("420821-03", "新市镇第三选区", 2, "新市镇汉津社区、罗桥村、双河村"),
    ("420821-04", "永兴镇第一选区", 3, "永兴镇永兴社区、苏畈村、龙泉村、高桥村"),
    ("420821-05", "永兴镇第二选区", 2, "永兴镇金河村、新堰村、王岭村"),
    ("420821-06", "宋河镇第一选区", 3, "宋河镇宋河社区、东坪村、大畈村、何集村"),
    ("420821-07", "宋河镇第二选区", 2, "宋河镇熊店村、桃园村、白果村"),
    ("420821-08", "坪坝镇选区", 2, "坪坝镇坪坝社区、青龙村、晏店村、马店村"),
]
DEMO_VOTERS = 2400


def township_districts(townships: dict[str, str]) -> dict[str, list[tuple[str, str, int, int, str, str]]]:
    """The township-level districts (乡级人大选区) of the demo, by township code: each county
    district's communities and villages split into two township districts, each lying in that
    county district (县乡两级: one register, two districts). `townships` maps a township's
    name to its code. Rows: (code, name, seats, population, scope, county district code)."""
    out: dict[str, list[tuple[str, str, int, int, str, str]]] = {}
    per_district = DEMO_VOTERS // len(DEMO_DISTRICTS) // 2
    for county_code, _name, _seats, area in DEMO_DISTRICTS:
        town_name = next(name for name in townships if area.startswith(name))
        town = townships[town_name]
        units = area.removeprefix(town_name).split("、")
        half = (len(units) + 1) // 2
        for part in (units[:half], units[half:]):
            rows = out.setdefault(town, [])
            code = f"{town}-{len(rows) + 1:02d}"
            name = f"{part[0].removesuffix('社区').removesuffix('村')}选区"
            seats = 2 if len(part) > 1 else 1  # EL 25: one to three deputies a district
            # EL 25: each deputy represents about the same population (here exactly the same)
            rows.append(
                (code, name, seats, int(per_district * 1.3) * seats, town_name + "、".join(part), county_code)
            )
    return out


def add_demo_voters(session: Session, result, *, clock: Clock, actor: str) -> None:
    """Demo step: the current round's districts at both levels and one register (县乡两级):
    each township uploads its own voters, who are thereby the county election's voters too."""
    election_id = result.elections.get("county")
    if election_id is None:
        return
    election = elections.get_election(session, election_id)
    per_district = DEMO_VOTERS // len(DEMO_DISTRICTS)
    for code, name, seats, area in DEMO_DISTRICTS:
        voter_districts.add_district(
            session,
            election_id,
            code=code,
            name=name,
            seats=seats,
            population=int(per_district * 1.3),
            area=area,
            clock=clock,
            actor=actor,
        )
    towns = {
        elections.get_election(session, town_id).jurisdiction.name: code
        for code, town_id in result.elections.items()
        if code.isdigit() and len(code) == 9
    }
    plan = township_districts(towns)
    for town, districts in plan.items():
        for code, name, seats, population, area, county_code in districts:
            register_levels.add_district(
                session,
                result.elections[town],
                code=code,
                name=name,
                seats=seats,
                population=population,
                area=area,
                county_district=county_code,
                clock=clock,
                actor=actor,
            )
    codes = [code for districts in plan.values() for code, *_ in districts]
    by_town: dict[str, list[list[object]]] = {}
    for row in synthetic_rows(DEMO_VOTERS, election_day=election.anchor_date, districts=codes):
        by_town.setdefault(str(row[6]).rsplit("-", 1)[0], []).append(row)
    accepted = 0
    for town, rows in by_town.items():
        report = register_levels.import_township_register(
            session,
            result.elections[town],
            HEADER,
            enumerate(rows, start=2),
            file_name=f"{next(n for n, c in towns.items() if c == town)}选民登记表.xlsx",
            clock=clock,
            actor=actor,
        )
        accepted += report.accepted
    result.notes.append(
        f"本届县乡两级选举：县级 {len(DEMO_DISTRICTS)} 个选区，乡级 {len(codes)} 个选区，"
        f"各乡镇上传选民登记表共 {accepted} 名选民（一次登记，两级选区）。"
    )
