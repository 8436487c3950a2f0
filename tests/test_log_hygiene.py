"""No SQL parameters and no whole ID number in logs (issue 16 item 7). The engines hide SQL
parameters (`hide_parameters=True`); database errors are logged by class and SQLSTATE, not by
the driver's message; the service's log handlers mask anything shaped like an ID number; and
tests/conftest.py fails any test of the suite whose captured logs hold a whole ID number."""

from __future__ import annotations

import io
import logging
import logging.config
from datetime import date

import pytest
from fastapi.testclient import TestClient

from service.logs import log_config
from service.sanitize import id_numbers_in, redact_ids
from tests.service_fixtures import make_world
from tests.voters_support import make_election, number
from workflow.store.voters import Appeal

ID = number(date(1960, 6, 6), 3, "F")


def _failing_write(db, election_id: int, filer: str) -> Exception:
    """An appeal row the database refuses (NOT NULL reason; on PostgreSQL also a NUL), with a
    whole ID number among the statement's parameters."""
    try:
        with db.transaction() as session:
            session.add(
                Appeal(
                    election_id=election_id,
                    filer=filer,
                    request="correct",
                    subject_name="王五",
                    subject_id_number=ID,
                    reason=None,
                    filed_on=date(2011, 9, 21),
                    decide_by=date(2011, 9, 24),
                    status="pending",
                )
            )
    except Exception as error:
        return error
    raise AssertionError("the write should have failed")


@pytest.mark.parametrize("filer", ["李某", "李\x00某"])
def test_a_failing_write_shows_no_parameters(db, clock, caplog, filer):
    election_id = make_election(db, clock)
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # statements logged too
    try:
        error = _failing_write(db, election_id, filer)
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    text = str(error)
    assert "SQL parameters hidden" in text and "[parameters:" not in text
    assert ID not in caplog.text and "INSERT INTO appeals" in caplog.text
    # PostgreSQL's own message may still quote the row ("Failing row contains (…)"): that is
    # why the service logs a database error by class and SQLSTATE only (service/api/problems.py).


@pytest.fixture
def stderr_handler():
    """The service's own stderr handler (service/logs.py: JSON, with its filters) into a buffer."""
    config = log_config("json")
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    for name, spec in config["filters"].items():
        factory = spec["()"]
        handler.addFilter(factory())
        assert name
    from pythonjsonlogger.json import JsonFormatter

    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("huanjie")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield buffer
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_the_api_logs_a_failing_database_write_without_the_id_number(db, clock, stderr_handler, caplog):
    world = make_world(db, clock)
    app = world.client.app
    svc = app.state.services

    def fail_on_purpose():
        _failing_write_in_request(svc.db)

    def crash_on_purpose():
        raise ValueError(f"cannot handle {ID}")

    app.add_api_route("/__test__/write", fail_on_purpose)
    app.add_api_route("/__test__/crash", crash_on_purpose)
    client = TestClient(app, raise_server_exceptions=False)
    written = client.get("/__test__/write")
    assert written.status_code in (409, 422, 500) and ID not in written.text
    assert "INSERT" not in written.text  # the statement is not echoed to the caller either
    crashed = client.get("/__test__/crash")
    assert crashed.status_code == 500 and ID not in crashed.text
    logged = stderr_handler.getvalue()
    assert "database error" in logged and "cannot handle" in logged
    assert id_numbers_in(logged) == [] and ID[:6] + "*" * 12 in logged
    # The raw record of the crash holds the number: only the handler's filter masks it, so it is
    # not left in caplog for the suite-wide scan either.
    caplog.clear()


def _failing_write_in_request(db) -> None:
    with db.transaction() as session:
        election_id = session.query(Appeal.election_id).limit(1).scalar() or 3
        session.add(
            Appeal(
                election_id=election_id,
                filer="李某",
                request="correct",
                subject_name="王五",
                subject_id_number=ID,
                reason=None,
                filed_on=date(2011, 9, 21),
                decide_by=date(2011, 9, 24),
                status="pending",
            )
        )


def test_redaction_masks_every_id_shape_and_keeps_other_numbers():
    text = f"id={ID} phone=13800138000 hash=12345678901234567890123 short=4208211960"
    masked = redact_ids(text)
    assert ID not in masked and ID[:6] + "*" * 12 in masked
    assert "13800138000" in masked and "12345678901234567890123" in masked
    assert id_numbers_in(text) == [ID] and id_numbers_in(masked) == []
