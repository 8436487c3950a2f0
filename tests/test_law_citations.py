"""Every citation in every kind, statute version and provincial variant, checked against the
statute texts kept in config/laws/ (issue 14: the article exists — and its paragraph and item —
and, where a milestone's bound states a number of days or months, the cited text contains it).

Citations that name no article (省级实施办法, the party election regulation's unnumbered
references, the 2010 Election Law text that is not in the repository) are listed, not checked; the test still requires that every
citation either names an article of a text we hold or is one of those named forms."""

from __future__ import annotations

import re

import pytest

from tests.law_texts import articles, chinese_number
from workflow.kinds import KindSpec, all_kinds, all_variants, resolve_kind

NUMERAL = "[一二三四五六七八九十百零〇]+"
REFERENCE = re.compile(rf"第({NUMERAL})条(?:第({NUMERAL})款)?(?:第({NUMERAL})项)?")
LAW = re.compile(
    r"(选举法（20\d\d年修正）|选举法|地方组织法（20\d\d年修正）|地方组织法|村委会组织法|居委会组织法|浙江省选举实施细则"
    r"|中国共产党基层组织选举工作条例|中国共产党支部工作条例（试行）)"
)
UNNUMBERED = (
    "省级",
    "《中国共产党基层组织选举工作条例》",
    # Numbered items, not articles: item 4 is checked in tests/test_law_voter_exclusions.py.
    "《全国人民代表大会常务委员会关于县级以下人民代表大会代表直接选举的若干规定》第四项",  # its article number is not verified (laws folder)
    "选举法（2010年修正）",
    "地方组织法（2004年修正）",
    "湖北省",
)
FILES = {
    ("选举法", "2022"): "全国人民代表大会和地方各级人民代表大会选举法(2020",
    ("选举法", "2020"): "全国人民代表大会和地方各级人民代表大会选举法(2020",
    ("选举法", "2015"): "全国人民代表大会和地方各级人民代表大会选举法(2015",
    # Articles 1–33 of the 2010 text are those of 2015 (the kind file says why); later ones are
    # cited without a number. `check` enforces the limit.
    ("选举法", "2010"): "全国人民代表大会和地方各级人民代表大会选举法(2015",
    ("地方组织法", "2022"): "地方各级人民代表大会和地方各级人民政府组织法(2022",
    ("地方组织法", "2020"): "地方各级人民代表大会和地方各级人民政府组织法(2015",
    ("地方组织法", "2015"): "地方各级人民代表大会和地方各级人民政府组织法(2015",
    ("村委会组织法", "2018"): "村民委员会组织法(2018",
    ("村委会组织法", "2025"): "村民委员会组织法(2025",
    ("居委会组织法", "2018"): "城市居民委员会组织法(2018",
    ("居委会组织法", "2025"): "城市居民委员会组织法(2025",
}
ZHEJIANG = "浙江省县、乡两级人民代表大会代表选举实施细则"
PARTY = "中国共产党基层组织选举工作条例(2020"
BRANCH = "中国共产党支部工作条例（试行）(2018"
_DIGITS = "〇一二三四五六七八九"


def chinese(n: int) -> str:
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


def every_spec() -> list[KindSpec]:
    specs = []
    for kind in all_kinds().values():
        specs += [resolve_kind(kind.key, statute=v) for v in (kind.statutes or (None,))]
    return specs + list(all_variants().values())


def citations(spec: KindSpec) -> list[tuple[str, str, tuple[str, ...]]]:
    """(where, citation, numbers the cited text must contain)."""
    found = []
    for key, m in spec.milestones.items():
        numbers = []
        for bound in (m.latest, m.earliest):
            if bound is None:
                continue
            if bound.months:
                numbers.append("两个月" if bound.months == 2 else f"{chinese(bound.months)}个月")
            elif bound.days and (bound.from_ == "anchor" or bound is m.earliest or m.earliest is None):
                numbers.append(f"{chinese(abs(bound.days))}日")
        if m.limit is not None and m.limit.months and m.limit.months % 12 == 0:
            numbers.append(f"{m.limit.months // 12}年")  # the party regulation writes 1年
        found.append((f"milestones.{key}", m.source, tuple(numbers)))
    counting = spec.counting
    if counting.get("source"):
        found.append(("counting.source", counting["source"], ()))
    found += [(f"counting.sources.{k}", v, ()) for k, v in counting.get("sources", {}).items()]
    for statute, levels in spec.quota.items():
        found += [(f"quota.{statute}.{level}", rule.source, ()) for level, rule in levels.items()]
    stated = {"district_size": ("一名至三名",), "voting_age": (f"{chinese(spec.law.get('voting_age', 18))}周岁",)}
    found += [(f"citations.{k}", v, stated.get(k, ())) for k, v in spec.citations.items()]
    if spec.quota_extra:
        percent = f"百分之{chinese(spec.quota_extra['max_percent'])}"
        found.append(("quota_extra", spec.quota_extra["source"], (percent,)))
    if spec.candidates.get("committee_source"):
        low, high = spec.candidates["committee_min"], spec.candidates["committee_max"]
        found.append(
            (
                "candidates.committee_source",
                spec.candidates["committee_source"],
                (f"{chinese(low)}至{chinese(high)}人",),
            )
        )
    if spec.candidates.get("no_committee_source"):
        below = spec.candidates["no_committee_below_members"]
        found.append(
            ("candidates.no_committee_source", spec.candidates["no_committee_source"], (f"不足{below}人",))
        )
        assert f"不足{below}人" in spec.candidates["no_committee_text"]
    return found


def law_file(name: str, spec: KindSpec, where: str) -> str:
    if name == "浙江省选举实施细则":
        return ZHEJIANG
    if name == "中国共产党基层组织选举工作条例":
        return PARTY
    if name == "中国共产党支部工作条例（试行）":
        return BRANCH
    statute = spec.statute
    if name.startswith("选举法（"):  # an explicit version, e.g. 选举法（2020年修正）
        return FILES[("选举法", name[4:8])]
    if name == "选举法" and not spec.key.startswith("people_congress"):
        statute = "2020"  # residents'/village kinds refer to the current Election Law
    if where.startswith("quota."):
        statute = where.split(".")[1]
    return FILES[(name, statute)]


def paragraphs(text: str) -> list[list[str]]:
    """An article's paragraphs, each with its item lines."""
    result: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("（") and result:
            result[-1].append(line)
        else:
            result.append([line])
    return result


CASES = [(spec, *c) for spec in every_spec() for c in citations(spec)]


@pytest.mark.parametrize(
    "spec, where, citation, numbers",
    CASES,
    ids=[f"{s.variant or s.key}@{s.statute}:{w}" for s, w, _c, _n in CASES],
)
def test_citation_matches_the_statute_text(spec, where, citation, numbers):
    references = list(REFERENCE.finditer(citation))
    if not references:
        assert citation.startswith(UNNUMBERED) or any(u in citation for u in UNNUMBERED), (
            f"{where}: {citation!r} names no article and is not a known unnumbered source"
        )
        return
    cited_text = []
    for ref in references:
        laws = list(LAW.finditer(citation[: ref.start()]))
        assert laws, f"{where}: {citation!r}: which law?"
        prefix = law_file(laws[-1].group(1), spec, where)
        number = chinese_number(ref.group(1))
        if prefix.endswith("(2015") and laws[-1].group(1) == "选举法" and spec.statute == "2010":
            assert number <= 33, f"{where}: the 2010 text's article {number} is not verified"
        article = articles(prefix).get(number)
        assert article, f"{where}: {citation!r}: no article {number} in {prefix}"
        parts = paragraphs(article)
        if ref.group(2):
            index = chinese_number(ref.group(2))
            assert index <= len(parts), f"{where}: {citation!r}: article {number} has {len(parts)} paragraphs"
            if ref.group(3):
                item = f"（{ref.group(3)}）"
                assert any(line.startswith(item) for line in parts[index - 1][1:]), f"{where}: no item {item}"
        cited_text.append(article)
    for expected in numbers:
        assert any(expected in text for text in cited_text), (
            f"{where}: {citation!r} does not state {expected}"
        )


def test_every_kind_and_variant_was_checked():
    keys = {(s.variant or s.key, s.statute) for s, *_ in CASES}
    assert ("zhejiang_people_congress", "2020") in keys and ("hubei_people_congress", "2010") in keys
    assert {
        ("village_committee", "2025"),
        ("residents_committee", "2018"),
        ("people_congress", "2015"),
    } <= keys
