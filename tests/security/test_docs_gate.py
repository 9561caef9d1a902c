"""``/docs`` and ``/openapi.json``: public by default; behind login with ``docs_require_login``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from tests.platform.conftest import PW
from tests.stores import db_location

from carbonpeak.api import create_app
from carbonpeak.config import get_settings
from carbonpeak.store import Store
from carbonpeak.store.users import add_user


@pytest.fixture(scope="module")
def store():
    s = Store(db_location())
    add_user(s, "reader", PW, "verifier")
    yield s
    s.close()


def _client(store, **kw) -> TestClient:
    return TestClient(create_app(store, session_ttl=timedelta(minutes=5), **kw))


def test_default_is_public():
    assert get_settings().docs_require_login is False  # the documented default


def test_public_docs(store):
    with _client(store) as c:
        r = c.get("/openapi.json")
        assert r.status_code == 200
        assert "/api/auth/login" in r.json()["paths"]
        assert c.get("/docs").status_code == 200


def test_gated_docs_need_a_session(store):
    with _client(store, docs_require_login=True) as c:
        for path in ("/openapi.json", "/docs"):
            r = c.get(path)
            assert r.status_code == 401, path
            assert "paths" not in r.text
        tok = c.post("/api/auth/login", json={"username": "reader", "password": PW}).json()["token"]
        assert c.get("/openapi.json", headers={"Authorization": f"Bearer {tok}"}).status_code == 200
        # the dashboard's cookie is enough for a person in a browser
        assert c.get("/docs").status_code == 200
        c.cookies.clear()
        assert c.get("/docs").status_code == 401


def test_setting_from_the_environment(store, monkeypatch):
    monkeypatch.setenv("CARBONPEAK_DOCS_REQUIRE_LOGIN", "true")
    get_settings.cache_clear()
    try:
        with _client(store) as c:
            assert c.get("/openapi.json").status_code == 401
    finally:
        monkeypatch.delenv("CARBONPEAK_DOCS_REQUIRE_LOGIN")
        get_settings.cache_clear()


def test_no_redoc_or_other_schema_paths(store):
    with _client(store, docs_require_login=True) as c:
        for path in ("/redoc", "/docs/oauth2-redirect", "/openapi.yaml"):
            assert c.get(path).status_code == 404, path
