"""Issue 10 §3: the error family maps to its status in one place; anything else is a 500.

A ``KeyError`` or ``ValueError`` escaping an endpoint is a bug: it answers 500 with a reference
only (no traceback, no message text), not the 404/400 the service once made of them.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.stores import db_location

from carbonpeak.api import create_app
from carbonpeak.api.errors import STATUS, status_of
from carbonpeak.api.uploads import UploadTooLarge
from carbonpeak.errors import (
    AuthError,
    CarbonpeakError,
    CatalogError,
    Conflict,
    NotFound,
    PermissionDenied,
    Problem,
    TooLarge,
    UnitError,
    ValidationError,
)
from carbonpeak.store.duck import Store

SECRET = "/srv/secret/bug-detail"

FAMILY = [
    (ValidationError([Problem("a.csv", 2, "value", "not a number")]), 422, "validation"),
    (AuthError("log in"), 401, "auth"),
    (PermissionDenied("no"), 403, "forbidden"),
    (NotFound("alert X"), 404, "not_found"),
    (Conflict("exists already"), 409, "conflict"),
    (TooLarge("too big"), 413, "too_large"),
    (UploadTooLarge("upload too big"), 413, "too_large"),
    (CatalogError("unknown id"), 400, "bad_request"),
    (UnitError("bad unit"), 400, "bad_request"),
    (CarbonpeakError("bad"), 400, "bad_request"),
]


@pytest.fixture(scope="module")
def client():
    app = create_app(Store(db_location()))
    raising: dict[str, BaseException] = {}

    def boom(name: str) -> None:
        raise raising[name]

    app.add_api_route("/test/raise/{name}", boom, methods=["GET"])
    with TestClient(app, raise_server_exceptions=False) as c:
        c.raising = raising  # type: ignore[attr-defined]
        yield c


@pytest.mark.parametrize(("exc", "status", "code"), FAMILY, ids=[type(e).__name__ for e, _, _ in FAMILY])
def test_each_family_member_maps_to_its_status(client, exc, status, code):
    assert status_of(exc) == (status, code)
    client.raising["e"] = exc
    r = client.get("/test/raise/e")
    assert r.status_code == status
    assert r.json()["error"] == code


def test_every_status_of_the_table_is_reached():
    assert {s for _, s, _ in STATUS} == {400, 401, 403, 404, 409, 413, 422}


@pytest.mark.parametrize("exc", [KeyError(SECRET), ValueError(SECRET), IndexError(SECRET), TypeError(SECRET)])
def test_a_bare_python_error_is_a_500_without_details(client, exc):
    client.raising["bug"] = exc
    r = client.get("/test/raise/bug")
    assert r.status_code == 500
    body = r.json()
    assert body["error"] == "internal"
    assert "reference" in body["message"]
    assert SECRET not in r.text
    assert "Traceback" not in r.text
