"""Synthetic voters, districts, candidates and results for tests and benchmarks only.

Nothing here is registered by the service: a real notice is fed by the voters, candidates and
results parts. Deterministic for a seed.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱覃武戴孔汤庞樊兰殷施陶洪翟安颜倪严牛温芦季俞章鲁葛伍申尤毕聂柴焦向柳邢岳齐沿梅莫庄辛管祝左涂谷祁时舒耿牟卜路詹关苗凌费纪靳盛童欧甄项曲成游阳裴席卫查屈鲍位覃霍翁隋植甘景薄单包司柏宁柯阮桂闵欧阳解强丛华车冉房边"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红鹏建华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欢阳建国建军志强海燕春梅秋菊冬梅晓东晓明文娟文静国庆红梅德胜德华永红永刚金凤金花玉梅丽娟婷雪琳晨曦思远梓涵子轩浩然欣怡雨桐一鸣嘉怡"


def name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))
    return rng.choice(SURNAMES) + given


def voters(
    count: int, *, seed: int = 1, election_day: date = date(2026, 11, 15), groups: int = 12
) -> list[dict]:
    """Voters aged 18 to 95 on election day, with (fake) ID numbers and addresses that a
    public notice must not show."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        born = election_day - timedelta(days=rng.randint(18 * 366, 95 * 365))
        rows.append(
            {
                "name": name(rng),
                "sex": rng.choice("男女"),
                "birth_date": born,
                "group": f"第{rng.randint(1, groups)}选民小组",
                "id_number": f"420821{born:%Y%m%d}{i % 1000:03d}{rng.randint(0, 9)}",
                "address": f"京山县新市镇建设路{rng.randint(1, 300)}号",
            }
        )
    return rows


def districts(count: int, *, seed: int = 2, code_prefix: str = "420821") -> list[dict]:
    rng = random.Random(seed)
    towns = "新市镇永兴镇宋河镇坪坝镇三阳镇绿林镇杨集镇孙桥镇石龙镇钱场镇曹武镇罗店镇雁门口镇"
    rows = []
    for i in range(count):
        town = towns[(i % 13) * 3 : (i % 13) * 3 + 3].rstrip("镇") + "镇"
        population = rng.randint(2000, 6000)
        rows.append(
            {
                "code": f"{code_prefix}-{i + 1:03d}",
                "name": f"第{i + 1}",
                "area": f"{town}第{i // 13 + 1}片区（含{rng.randint(2, 6)}个村、社区）",
                "seats": rng.choice((1, 2, 2, 3)),
                "population": population,
            }
        )
    return rows


def candidates(district_rows: list[dict], *, seed: int = 3, official: bool = True) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for d in district_rows:
        # EL 31: one third to one time more candidates than seats.
        n = d["seats"] * 2 if not official else d["seats"] + max(1, -(-d["seats"] // 3))
        for _ in range(n):
            rows.append(
                {
                    "district_code": d["code"],
                    "district_name": d["name"],
                    "seats": d["seats"],
                    "name": name(rng),
                    "sex": rng.choice("男女"),
                    "ethnicity": rng.choice(("汉族", "汉族", "汉族", "回族", "土家族")),
                    "birth_date": date(rng.randint(1960, 1998), rng.randint(1, 12), 1),
                    "party": rng.choice(("中共党员", "中共党员", "群众", "民盟盟员")),
                    "education": rng.choice(("大学", "大专", "高中", "研究生")),
                    "position": rng.choice(
                        ("京山县新市镇阳光社区党委书记", "京山县人民医院护士", "农民", "京山县第一中学教师")
                    ),
                    "nominated_by": rng.choice(
                        ("中国共产党京山县委员会推荐", "选民联名推荐", "京山县妇女联合会推荐")
                    ),
                }
            )
    return rows


def results(district_rows: list[dict], candidate_rows: list[dict], *, seed: int = 4) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for d in district_rows:
        registered = rng.randint(2000, 4000)
        participated = int(registered * rng.uniform(0.85, 0.98))
        returned = participated
        invalid = rng.randint(0, 20)
        mine = [c for c in candidate_rows if c["district_code"] == d["code"]]
        tally = sorted(
            (
                {"name": c["name"], "sex": c["sex"], "votes": rng.randint(participated // 3, participated)}
                for c in mine
            ),
            key=lambda r: -r["votes"],
        )
        elected = [t for t in tally[: d["seats"]] if t["votes"] * 2 > participated]  # EL 45
        out.append(
            {
                "code": d["code"],
                "name": d["name"],
                "seats": d["seats"],
                "registered": registered,
                "participated": participated,
                "ballots_issued": participated,
                "ballots_returned": returned,
                "valid_ballots": returned - invalid,
                "invalid_ballots": invalid,
                "valid": participated * 2 > registered,  # EL 45
                "elected": elected,
                "tally": tally,
            }
        )
    return out
