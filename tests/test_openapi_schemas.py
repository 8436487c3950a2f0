"""The OpenAPI document describes every response: each 2xx of each operation has a schema, and
real responses are exactly what their models say (nothing more, nothing less, same values)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from config.settings import Settings
from service.api.schemas import candidates, common, elections, jurisdictions, notices, records, voters
from service.app import create_app
from tests.service_fixtures import make_world
from workflow.clock import FixedClock
from workflow.store import Database

MODULES = (candidates, common, elections, jurisdictions, notices, records, voters)
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


@pytest.fixture
def spec(tmp_path, clock: FixedClock) -> Iterator[dict]:
    """The app's OpenAPI document; building it needs no tables, so the database stays empty."""
    db = Database(f"sqlite:///{tmp_path / 'spec.sqlite3'}")
    try:
        app = create_app(Settings(db=db.url, migrate_on_start=False), db, clock)
        yield TestClient(app).get("/openapi.json").json()
    finally:
        db.dispose()


def _operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def _success(operation: dict):
    return [(code, r) for code, r in operation["responses"].items() if code.startswith("2")]


def test_every_success_response_has_a_schema(spec):
    missing = []
    for path, method, operation in _operations(spec):
        responses = _success(operation)
        if not responses:
            missing.append(f"{method.upper()} {path}: no 2xx response")
        for code, response in responses:
            content = response.get("content") or {}
            if not content:
                missing.append(f"{method.upper()} {path} {code}: no content")
            for media, body in content.items():
                schema = body.get("schema")
                if not schema:
                    missing.append(f"{method.upper()} {path} {code} {media}: no schema")
                elif media == "application/json" and "$ref" not in schema:
                    # A bare `dict` return gives {"type": "object"}: that documents nothing.
                    missing.append(f"{method.upper()} {path} {code}: JSON without a model")
    assert not missing, "\n".join(missing)


def test_files_are_documented_with_their_media_types(spec):
    calendar = spec["paths"]["/api/v1/elections/{election_id}/calendar.ics"]["get"]["responses"]["200"]
    assert set(calendar["content"]) == {"text/calendar"}
    download = spec["paths"]["/api/v1/elections/{election_id}/notices/published/{notice_id}"]["get"]
    assert {"application/pdf", "text/html"} <= set(download["responses"]["200"]["content"])


# -- real responses against their models ---------------------------------------------------------
@pytest.fixture
def world(db, clock):
    return make_world(db, clock)


def _model_of(spec: dict, path: str, method: str) -> type[BaseModel]:
    responses = spec["paths"][path][method]["responses"]
    (_code, response), *_ = _success({"responses": responses})
    name = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    (model,) = [getattr(m, name) for m in MODULES if hasattr(m, name)]
    return model


SAMPLES = [
    ("/healthz", "/healthz"),
    ("/api/v1/jurisdictions", "/api/v1/jurisdictions"),
    ("/api/v1/jurisdictions/{code}", "/api/v1/jurisdictions/420821"),
    ("/api/v1/elections", "/api/v1/elections"),
    ("/api/v1/elections/{election_id}", "/api/v1/elections/3"),
    ("/api/v1/elections/{election_id}/notices", "/api/v1/elections/3/notices"),
    ("/api/v1/audit", "/api/v1/audit?limit=20"),
    ("/api/v1/audit/verify", "/api/v1/audit/verify"),
    # Phase reminders have no milestone: a model that required one failed this listing.
    ("/api/v1/reminders", "/api/v1/reminders?election_id=1&limit=100"),
]


def test_real_responses_match_their_models_exactly(world):
    # One world for all the samples: building it is most of this test's time.
    spec = world.client.get("/openapi.json").json()
    for path, url in SAMPLES:
        model = _model_of(spec, path, "get")
        response = world.get("admin", url)
        assert response.status_code == 200, (url, response.text)
        body = response.json()
        parsed = model.model_validate(body)  # extra="forbid": a key the model lacks fails here
        assert parsed.model_dump(mode="json", by_alias=True, exclude_unset=True) == body, url


def test_an_election_names_its_anchor_by_its_kind(world):
    """ElectionOut declares both anchor names; a body carries only its kind's."""
    listed = world.get("admin", "/api/v1/elections?limit=200").json()["items"]
    anchors = {"people_congress": "election_day", "party_branch": "term_ends"}
    for kind, anchor in anchors.items():
        election_id = next(e["id"] for e in listed if e["kind"] == kind)
        body = world.get("admin", f"/api/v1/elections/{election_id}").json()
        assert body[anchor] == body["anchor_date"]
        assert set(anchors.values()) - {anchor} & set(body) == set()
        parsed = elections.ElectionOut.model_validate(body)
        assert parsed.model_dump(mode="json", by_alias=True, exclude_unset=True) == body
