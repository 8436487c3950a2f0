"""EL 43 ¶2 (2020 text): 代表候选人的近亲属不得担任监票人、计票人 — a scrutineer declared a close
relative of a candidate is refused where scrutineers are recorded (mobile boxes), citing the
article of the statute version the election runs under."""

from __future__ import annotations

from datetime import date

import pytest

from tests.law_texts import article
from workflow.errors import DomainError
from workflow.kinds import resolve_kind
from workflow.rules.candidates import CandidateRules
from workflow.rules.polling import check_mobile_box

EL2020 = "全国人民代表大会和地方各级人民代表大会选举法(2020"
EL2015 = "全国人民代表大会和地方各级人民代表大会选举法(2015"


def rules(on: date) -> CandidateRules:
    return CandidateRules.of(resolve_kind("people_congress", jurisdiction="420821", on=on))


def test_a_candidates_close_relative_may_not_scrutinise():
    assert "代表候选人的近亲属不得担任监票人、计票人。" in article(EL2020, 43)
    with pytest.raises(DomainError) as err:
        check_mobile_box(
            rules(date(2021, 11, 20)),
            ["监票甲", "监票乙", "监票丙"],
            ["董某", "李某"],
            relatives=[("监票乙", "董某", "儿子")],
        )
    assert err.value.code == "E_SCRUTINEER_IS_RELATIVE" and err.value.field == "scrutineers"
    assert "选举法第四十三条第二款" in err.value.message and "监票乙" in err.value.message


def test_the_2015_text_numbers_it_article_42():
    assert "代表候选人的近亲属不得担任监票人、计票人。" in article(EL2015, 42)
    with pytest.raises(DomainError) as err:
        check_mobile_box(
            rules(date(2016, 11, 20)), ["甲", "乙", "丙"], ["董某"], relatives=[("甲", "董某", "配偶")]
        )
    assert "选举法第四十二条第二款" in err.value.message


def test_ties_that_are_not_close_or_not_to_a_candidate_pass():
    kept = check_mobile_box(
        rules(date(2021, 11, 20)),
        ["监票甲", "监票乙", "监票丙"],
        ["董某"],
        relatives=[("监票甲", "董某", "表兄"), ("监票乙", "王某", "儿子"), ("工作人员", "董某", "配偶")],
    )
    assert kept == ["监票甲", "监票乙", "监票丙"]
