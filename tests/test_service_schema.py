"""schemathesis against the service's own OpenAPI spec, in-process over ASGI, bounded: every
operation, generated valid and invalid input, as the county administrator; no 5xx allowed."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from service.app import create_app
from service.settings import ServiceSettings
from tests.service_fixtures import load_world
from workflow.clock import FixedClock
from workflow.store import Database

_SCRATCH = tempfile.TemporaryDirectory(prefix="huanjie-schema-")
_STATE: dict = {}


def _app():
    db = Database(f"sqlite:///{Path(_SCRATCH.name) / 'schema.sqlite3'}")
    db.migrate()
    clock = FixedClock(datetime(2011, 8, 20, 2, 0, tzinfo=UTC))
    tokens, _ = load_world(db, clock.now())
    _STATE["token"] = tokens["admin"]
    _STATE["db"] = db
    return create_app(ServiceSettings(db=db.url, migrate_on_start=False), db, clock)


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    _STATE["db"].dispose()
    _SCRATCH.cleanup()


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_never_fails_with_5xx(case):
    response = case.call(headers={"Authorization": f"Bearer {_STATE['token']}"})
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance])
