"""Security headers on every page and API answer; no inline script in the dashboard.

Every route of the app's own route table is requested (anonymous and logged in); each answer,
whatever its status, carries the CSP (with ``frame-ancestors 'none'`` and scripts from 'self'
only), ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy``.  HSTS and the cookie's
``Secure`` flag appear exactly when the ``tls`` setting is on.
"""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Mount
from tests.platform.conftest import PW
from tests.stores import copy_store, db_location

from carbonpeak.api.security_headers import CSP
from carbonpeak.store import Store
from carbonpeak.web import create_site

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "carbonpeak" / "web" / "templates"


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory):
    from tests.platform.conftest import seed_users

    path = db_location(tmp_path_factory.mktemp("hdr") / "h.duckdb")
    s = Store(path)
    seed_users(s, {"analyst": dict(role="province_analyst"), "ent_a": dict(role="enterprise", enterprise_id="E")})
    s.close()
    return path


def _site(db, tmp_path, **kw):
    copy_store(db, tmp_path / "h.duckdb")
    shutil.copy(f"{db}.audit-keys.json", tmp_path / "h.duckdb.audit-keys.json")
    store = Store(db_location(tmp_path / "h.duckdb"))
    return store, create_site(store, session_ttl=timedelta(minutes=5), login_limit=100, **kw)


def _assert_headers(r, tls: bool) -> None:
    h = r.headers
    where = f"{r.request.method} {r.request.url.path} -> {r.status_code}"
    csp = h.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, where
    script_src = re.search(r"script-src ([^;]*)", csp)
    assert script_src is not None, where
    assert "'unsafe-inline'" not in script_src.group(1), where
    assert "'unsafe-eval'" not in script_src.group(1), where
    assert h.get("x-content-type-options") == "nosniff", where
    assert h.get("referrer-policy") == "same-origin", where
    assert ("strict-transport-security" in h) == tls, where


def _paths(app) -> list[tuple[str, str]]:
    out = []
    for r in app.routes:
        if isinstance(r, Mount):
            out.append(("GET", r.path + "/app.css"))
            continue
        path = re.sub(r"\{[^}]+\}", "x", r.path)
        for m in sorted(getattr(r, "methods", None) or {"GET"}):
            if m != "HEAD":
                out.append((m, path))
    return out


@pytest.mark.parametrize("tls", [False, True])
def test_every_route_answers_with_security_headers(seeded_db, tmp_path, tls):
    store, app = _site(seeded_db, tmp_path, tls=tls)
    try:
        with TestClient(app, base_url="https://testserver" if tls else "http://testserver") as c:
            paths = _paths(app)
            assert len(paths) > 30
            for method, path in paths:  # anonymous: mostly 401/403/404/422, headers all the same
                _assert_headers(c.request(method, path), tls)
            r = c.post("/api/auth/login", json={"username": "analyst", "password": PW})
            _assert_headers(r, tls)
            cookie = r.headers["set-cookie"]
            assert ("; secure" in cookie.lower()) == tls
            assert "httponly" in cookie.lower()
            for path in ("/province", "/monitoring", "/audit", "/api/me", "/static/app.js", "/docs"):
                resp = c.get(path)
                assert resp.status_code == 200, path
                _assert_headers(resp, tls)
            _assert_headers(c.get("/nonexistent"), tls)
    finally:
        store.close()


def test_api_docs_page_allows_only_its_own_inline_script_by_hash(seeded_db, tmp_path):
    store, app = _site(seeded_db, tmp_path)
    try:
        with TestClient(app) as c:
            r = c.get("/docs")
            csp = r.headers["content-security-policy"]
            assert "'sha256-" in csp
            assert "frame-ancestors 'none'" in csp
            # the page keeps its own policy; the default one is not added a second time
            assert r.headers.get_list("content-security-policy") == [csp]
            assert c.get("/province").headers["content-security-policy"] == CSP
    finally:
        store.close()


def test_templates_have_no_inline_script_or_handlers():
    for f in sorted(TEMPLATES.glob("*.html")):
        text = f.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert 'src="' in tag or 'type="application/json"' in tag, (f.name, tag)
        assert not re.search(r"\son[a-z]+\s*=", text), f.name
        assert "javascript:" not in text, f.name


@pytest.mark.parametrize("tls", [False, True])
def test_server_errors_and_413s_carry_the_headers(seeded_db, tmp_path, tls):
    """A 500 answered by Starlette's outermost error handler and a 413 of the body limit carry the
    same headers as every other answer, and the 500 shows no traceback."""
    store, app = _site(seeded_db, tmp_path, tls=tls, max_request_bytes=1000)

    @app.get("/api/_test_boom")
    def boom() -> dict[str, str]:
        raise RuntimeError("secret /srv/carbonpeak/internal path")

    try:
        with TestClient(
            app, base_url="https://testserver" if tls else "http://testserver", raise_server_exceptions=False
        ) as c:
            r = c.get("/api/_test_boom")
            assert r.status_code == 500
            _assert_headers(r, tls)
            for leak in ("Traceback", "/srv/carbonpeak", "RuntimeError"):
                assert leak not in r.text
            assert r.json()["error"] == "internal"
            big = c.post("/api/auth/login", content=b"x" * 5000, headers={"content-type": "application/json"})
            assert big.status_code == 413
            _assert_headers(big, tls)
    finally:
        store.close()
