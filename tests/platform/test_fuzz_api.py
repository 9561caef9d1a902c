"""Fuzz the service from its own OpenAPI document (schemathesis): no 500s, clear 4xx answers.

Each operation gets generated valid and invalid inputs, sent both with an admin's token and
with none; the only check is the one that matters for robustness: the server never answers
5xx.  Runs in-process (ASGI), bounded to a fixed number of examples per operation.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from tests.stores import db_location

from carbonpeak.store import Store
from carbonpeak.store.users import add_user
from carbonpeak.web import create_site

pytestmark = pytest.mark.slow

PW = "correct horse battery"


def _app(tmp_dir):
    db = db_location(tmp_dir / "fuzz.duckdb")
    store = Store(db)
    add_user(store, "admin", PW, "admin")
    add_user(store, "ent_a", PW, "enterprise", enterprise_id="ENT-A")
    return create_site(store, session_ttl=timedelta(minutes=30), login_limit=10_000)


_tmp = __import__("tempfile").mkdtemp(prefix="cp-fuzz-")
APP = _app(__import__("pathlib").Path(_tmp))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def tokens():
    from fastapi.testclient import TestClient

    with TestClient(APP) as c:
        out = {
            u: c.post("/api/auth/login", json={"username": u, "password": PW}).json()["token"]
            for u in ("admin", "ent_a")
        }
    yield out
    shutil.rmtree(_tmp, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case, tokens):
    for who in ("admin", "ent_a", None):
        headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
        # never log the fuzzing principals out or disable them mid-run
        if case.path in ("/api/auth/logout",) or case.path.endswith("/disable"):
            headers = {}
        response = case.call(headers=headers)
        check_answer(case, response)


def check_answer(case, response) -> None:
    """The one check of this module: any 5xx answer is a failure (raised, never passed)."""
    case.validate_response(response, checks=(not_a_server_error,))


@pytest.mark.parametrize("path", ["/raises", "/answers-500"])
def test_a_server_error_fails_the_check(path):
    """Issue 9: a 500 must be a test failure.  An endpoint that raises propagates the exception
    (the ASGI client re-raises server errors) and one that answers 500 fails the check."""
    bad = FastAPI()

    @bad.get("/raises")
    def raises(x: int = 0) -> None:
        raise RuntimeError("a bug")

    @bad.get("/answers-500")
    def answers_500(x: int = 0) -> JSONResponse:
        return JSONResponse({"error": "internal"}, status_code=500)

    case = schemathesis.openapi.from_asgi("/openapi.json", bad)[path]["GET"].Case(query={"x": 1})
    from schemathesis.core.failures import FailureGroup

    with pytest.raises((RuntimeError, FailureGroup)):
        check_answer(case, case.call())
