"""schemathesis against the service's own OpenAPI spec, in-process over ASGI, bounded: every
operation, generated valid and invalid input, as the county administrator; no 5xx allowed."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from config.settings import Settings
from service.app import create_app
from tests.service_fixtures import load_world
from workflow.clock import FixedClock
from workflow.store import Database

NOW = datetime(2011, 8, 20, 2, 0, tzinfo=UTC)


def _spec_app() -> FastAPI:
    """The app only for its OpenAPI document, which never touches the database: the engine of
    an in-memory SQLite database is created but never connected, so collecting this module
    migrates nothing and loads no demo county (that happens in the `api` fixture)."""
    db = Database("sqlite://")
    return create_app(Settings(db=db.url, migrate_on_start=False), db, FixedClock(NOW))


schema = schemathesis.openapi.from_asgi("/openapi.json", _spec_app())


@dataclass
class Api:
    app: FastAPI
    token: str


@pytest.fixture(scope="module")
def api(sqlite_template, tmp_path_factory) -> Iterator[Api]:
    """One database with the demo county for every case of this module, as before."""
    path = tmp_path_factory.mktemp("schema") / "schema.sqlite3"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    clock = FixedClock(NOW)
    tokens, _ = load_world(db, clock.now())
    try:
        yield Api(create_app(Settings(db=db.url, migrate_on_start=False), db, clock), tokens["admin"])
    finally:
        db.dispose()


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_never_fails_with_5xx(case, api):
    response = case.call(app=api.app, headers={"Authorization": f"Bearer {api.token}"})
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance])
