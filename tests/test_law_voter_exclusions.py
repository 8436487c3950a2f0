"""Who is kept off the voter list, and why, cited (issue 14, missing rules): EL 27 ¶1 (依照法律被
剥夺政治权利的人 … 除名), EL 27 ¶2 (精神病患者不能行使选举权利的，经选举委员会确认，不列入), and the
1983 NPCSC provisions, item 4 (a detained suspect whose right to vote the procuratorate or court
suspends). Each ground is read from the exclusion list's 原因 column, removes a registered voter
with the ground and its citation as the note, and refuses a later registration with them."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.law_texts import LAWS_DIR, article
from tests.voters_support import import_file, make_election, number, write_csv
from workflow.commands import voter_changes
from workflow.commands.voter_files import open_sheet
from workflow.errors import DomainError
from workflow.kinds import resolve_kind
from workflow.rules.voter_rows import check_addition, exclusion_ground, exclusion_note
from workflow.store.voters import AddedReason, Voter

EL2020 = "全国人民代表大会和地方各级人民代表大会选举法(2020"
EL2015 = "全国人民代表大会和地方各级人民代表大会选举法(2015"
PROVISIONS = "全国人民代表大会常务委员会关于县级以下人民代表大会代表直接选举的若干规定(1983-03-05).md"
HEADER = ["序号", "名字", "性别", "身份证号码", "出生年月", "选区", "选民小组", "现住址", "户籍所在地"]


def test_the_texts_state_the_three_grounds():
    paragraphs = article(EL2020, 27).split("\n")
    assert "依照法律被剥夺政治权利的人，从选民名单上除名" in paragraphs[0]
    assert paragraphs[-1].startswith("精神病患者不能行使选举权利的，经选举委员会确认，不列入选民名单")
    provisions = (LAWS_DIR / PROVISIONS).read_text(encoding="utf-8")
    assert "四、因反革命案或者其他严重刑事犯罪案被羁押，正在受侦查、起诉、审判的人，经人民检察院或者人民法院决定，在被羁押期间停止行使选举权利。" in provisions
    assert "精神病患者不能行使选举权利的" in article(EL2015, 26)


@pytest.mark.parametrize(
    ("reason", "ground"),
    [
        ("判处有期徒刑并附加剥夺政治权利三年", "deprived"),
        (None, "deprived"),
        ("检察院决定停止行使选举权利（羁押期间）", "suspended"),
        ("法院决定停止其选举权利，被羁押", "suspended"),
        ("精神病患者，经选举委员会确认不能行使选举权利", "incapacity"),
    ],
)
def test_the_ground_is_read_from_the_reason(reason, ground):
    assert exclusion_ground(reason) == ground


def test_each_ground_cites_the_statute_version_of_the_election():
    now = resolve_kind("people_congress", on=date(2021, 11, 20)).citations
    then = resolve_kind("people_congress", on=date(2016, 11, 20)).citations
    assert exclusion_note("deprived", now) == "依法被剥夺政治权利（选举法第二十七条第一款）"
    assert exclusion_note("incapacity", now).endswith("（选举法第二十七条第二款）")
    assert exclusion_note("deprived", then) == "依法被剥夺政治权利（选举法第二十六条第一款）"
    suspended = exclusion_note("suspended", now)
    assert suspended.startswith("经人民检察院或者人民法院决定，在被羁押期间停止行使选举权利")
    assert "若干规定》第四项" in suspended


def test_a_suspended_person_is_refused_registration_with_the_cited_ground():
    adult = number(date(1970, 5, 1), 7, "M")
    note = exclusion_note("suspended", resolve_kind("people_congress", on=date(2021, 11, 20)).citations)
    with pytest.raises(DomainError) as err:
        check_addition("张三", adult, election_day=date(2021, 11, 20), migrant=False, proof=None, deprived={adult: note})
    assert err.value.code == "E_VOTER_DEPRIVED" and "停止行使选举权利" in err.value.message
    assert "若干规定" in err.value.message


def person(seq, born):
    n = number(born, seq, "M")
    return [seq, f"测试{seq}", "男", n, f"{born:%Y.%m}", "01", "第1组", "某村", "京山县"]


def test_suspended_and_incapacitated_voters_are_removed_with_the_cited_ground(db, clock, tmp_path):
    election_id = make_election(db, clock)
    suspect, patient, other = person(1, date(1960, 1, 1)), person(2, date(1961, 1, 1)), person(3, date(1962, 1, 1))
    import_file(db, clock, election_id, write_csv(tmp_path / "a.csv", HEADER, [suspect, patient, other]))
    listed = write_csv(
        tmp_path / "x.csv",
        ["姓名", "公民身份号码", "剥夺期限至", "原因"],
        [
            [suspect[1], suspect[3], "", "人民检察院决定羁押期间停止行使选举权利"],
            [patient[1], patient[3], "", "精神病患者，经选举委员会确认"],
        ],
    )
    sheet = open_sheet(listed)
    with db.transaction() as s:
        report = voter_changes.load_deprived(s, election_id, sheet.header, sheet.rows, clock=clock, actor="t")
    assert len(report.removed) == 2
    with db.reading() as s:
        notes = dict(s.execute(select(Voter.name, Voter.removed_note)).all())
        active = s.execute(select(Voter.name).where(Voter.status == "active")).scalars().all()
    assert active == [other[1]]  # lists and counts hold only the voters still entitled
    assert "停止行使选举权利" in notes[suspect[1]] and "若干规定》第四项" in notes[suspect[1]]
    assert notes[patient[1]].endswith("（选举法第二十七条第二款）") or notes[patient[1]].endswith(
        "（选举法第二十六条第二款）"
    )
    with pytest.raises(DomainError) as err, db.transaction() as s:
        voter_changes.add_voter(
            s,
            election_id,
            district="01",
            name=suspect[1],
            id_number=suspect[3],
            reason=AddedReason.MOVED_IN,
            clock=clock,
            actor="t",
        )
    assert err.value.code == "E_VOTER_DEPRIVED" and "停止行使选举权利" in err.value.message
