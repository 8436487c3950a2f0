"""Publication (EL 28): the milestone, frozen versions per district, the supplementary list,
certificates and the printed export. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.voters_support import LIST_DAY, import_file, make_election, noon, number, synthetic_csv
from workflow.commands import elections, voter_changes, voter_exports, voter_list
from workflow.commands.voter_files import write_csv, write_xlsx
from workflow.errors import DomainError
from workflow.rules import ric
from workflow.store.voters import (
    AddedReason,
    RemovedReason,
    SupplementaryEntry,
    Voter,
    VoterListEntry,
    VoterListVersion,
)


@pytest.fixture
def published(db, clock, tmp_path):
    election_id = make_election(db, clock)
    import_file(db, clock, election_id, synthetic_csv(tmp_path / "v.csv", 40))
    clock.set(noon(LIST_DAY))
    with db.transaction() as session:
        result = voter_list.publish(session, election_id, clock=clock, actor="t")
    return election_id, result


def test_publish_completes_milestone_and_freezes_versions(db, clock, published):
    election_id, result = published
    assert result.published_on == LIST_DAY and not result.supplementary
    assert [(d["code"], d["version"], d["voters"]) for d in result.districts] == [
        ("01", 1, 20),
        ("02", 1, 20),
    ]
    with db.reading() as session:
        election = elections.get_election(session, election_id)
        milestone = election.milestone("voter_list_published")
        assert (milestone.status, milestone.done_on, milestone.late) == ("done", LIST_DAY, False)
        seqs = (
            session.execute(
                select(VoterListEntry.seq).order_by(VoterListEntry.version_id, VoterListEntry.seq)
            )
            .scalars()
            .all()
        )
        assert seqs == list(range(1, 21)) * 2


def test_nothing_to_publish_and_no_voters(db, clock, published):
    election_id, _ = published
    with db.transaction() as session, pytest.raises(DomainError) as error:
        voter_list.publish(session, election_id, clock=clock, actor="t")
    assert error.value.code == "E_NOTHING_TO_PUBLISH"
    other = make_election(db, clock, districts=("09",))
    with db.transaction() as session, pytest.raises(DomainError) as error:
        voter_list.publish(session, other, clock=clock, actor="t")
    assert error.value.code == "E_NO_VOTERS"


def test_changes_after_publication_go_to_the_supplementary_list(db, clock, published, tmp_path):
    election_id, _ = published
    with db.transaction() as session:
        first = session.execute(select(Voter).where(Voter.source_row == 2)).scalar_one()
        gone_number = first.id_number
        voter_changes.remove_voter(
            session, election_id, gone_number, reason=RemovedReason.DECEASED, clock=clock, actor="t"
        )
        newcomer = voter_changes.add_voter(
            session,
            election_id,
            district="01",
            name="新成年",
            id_number=number(date(1993, 10, 1), 7, "F"),
            reason=AddedReason.NEWLY_18,
            clock=clock,
            actor="t",
        )
        with pytest.raises(DomainError) as error:
            voter_changes.add_voter(
                session,
                election_id,
                district="01",
                name="外来",
                id_number=number(date(1980, 1, 1), 9),
                reason=AddedReason.MIGRANT,
                clock=clock,
                actor="t",
            )
        assert error.value.code == "E_PROOF_REQUIRED"
        with pytest.raises(DomainError) as error:
            voter_changes.add_voter(
                session,
                election_id,
                district="02",
                name="新成年",
                id_number=newcomer.id_number,
                reason=AddedReason.MOVED_IN,
                clock=clock,
                actor="t",
            )
        assert error.value.code == "E_ALREADY_REGISTERED"
        entries = session.execute(select(SupplementaryEntry.change, SupplementaryEntry.reason)).all()
        assert sorted(entries) == [("add", "newly_18"), ("remove", "deceased")]
        view = voter_exports.list_view(session, election_id, which="supplementary")
        rows = list(view.rows)
        assert [r[1] for r in rows] == ["删除", "增补"] and rows[0][-1] == "待公布"
    # An import after publication also lands on the supplementary list.
    later = synthetic_csv(tmp_path / "later.csv", 3, districts=("02",), seed=99)
    with open(later, encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    rows = [rows[0]] + [
        [
            *r[:3],
            ric.make_number("420821", date(1950, 1, 1), i, "M" if r[2] == "男" else "F"),
            r[4],
            "",
            *r[6:],
        ]
        for i, r in enumerate(rows[1:])
    ]
    with open(later, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    report = import_file(db, clock, election_id, later)
    assert report.accepted == 3
    with db.transaction() as session:
        assert session.execute(select(func.count()).select_from(SupplementaryEntry)).scalar_one() == 5
        result = voter_list.publish(session, election_id, clock=clock, actor="t")
    assert result.supplementary
    assert sorted((d["code"], d["version"], d["voters"], d["changes"]) for d in result.districts) == [
        ("01", 2, 20, 2),
        ("02", 2, 23, 3),
    ]
    with db.reading() as session:
        version2 = (
            session.execute(
                select(VoterListVersion)
                .where(VoterListVersion.version == 2)
                .order_by(VoterListVersion.district_id)
            )
            .scalars()
            .first()
        )
        seqs = dict(
            session.execute(
                select(VoterListEntry.voter_id, VoterListEntry.seq).where(
                    VoterListEntry.version_id == version2.id
                )
            ).all()
        )
        # The removed voter's number is not reused; the newcomer gets the next one.
        assert max(seqs.values()) == 21 and len(seqs) == 20
        gone = session.execute(select(Voter.id).where(Voter.id_number == gone_number)).scalar_one()
        assert gone not in seqs
        newcomer_id = session.execute(select(Voter.id).where(Voter.name == "新成年")).scalar_one()
        assert seqs[newcomer_id] == 21
        pending = session.execute(
            select(func.count()).where(SupplementaryEntry.version_id.is_(None))
        ).scalar_one()
        assert pending == 0


def test_certificate_and_masking(db, clock, published):
    election_id, _ = published
    with db.reading() as session:
        voter = session.execute(select(Voter).where(Voter.source_row == 3)).scalar_one()
        data = voter_exports.certificate(session, election_id, voter.id_number)
        assert data["id_number"] == ric.mask(voter.id_number) and "*" in data["id_number"]
        assert data["certificate_no"].startswith(f"{election_id}-") and data["list_number"] >= 1
        assert data["age"] == ric.age_on(voter.birth_date, date(2011, 10, 18))
        assert (
            voter_exports.certificate(session, election_id, voter.id_number, full_ids=True)["id_number"]
            == voter.id_number
        )


def test_export_layouts(db, clock, published, tmp_path):
    election_id, _ = published
    with db.reading() as session:
        view = voter_exports.list_view(session, election_id, which="published", district="01")
        count = write_xlsx(tmp_path / "list.xlsx", view.title, view.header, view.rows, view.widths)
        assert count == 20
        register = voter_exports.list_view(session, election_id, which="register")
        assert write_csv(tmp_path / "reg.csv", register.header, register.rows) == 40
        certificates = voter_exports.list_view(session, election_id, which="certificates", district="02")
        assert len(list(certificates.rows)) == 20
    sheet = load_workbook(tmp_path / "list.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    assert "选民名单" in rows[0][0] and "第01选区" in rows[0][0]
    assert [str(r) for r in load_workbook(tmp_path / "list.xlsx").active.merged_cells.ranges] == ["A1:J1"]
    assert list(rows[1][:4]) == ["序号", "姓名", "性别", "年龄"] and "选民小组" in rows[1]
    assert [r[0] for r in rows[2:5]] == [1, 2, 3]
    id_column = rows[1].index("公民身份号码")
    assert all("********" in r[id_column] for r in rows[2:])
    with open(tmp_path / "reg.csv", encoding="utf-8-sig") as handle:
        lines = list(csv.reader(handle))
    assert lines[0][0] == "序号" and len(lines) == 41


def test_export_before_publication_is_refused(db, clock):
    election_id = make_election(db, clock)
    with db.reading() as session, pytest.raises(DomainError) as error:
        voter_exports.list_view(session, election_id, which="published")
    assert error.value.code == "E_NOT_PUBLISHED"
