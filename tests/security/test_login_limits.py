"""Login limits: per user and per real client address, lock-outs that no correct password passes.

The clock of the limiter is replaced by a fake one, so lock-outs are tested without waiting.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from tests.platform.conftest import PW, USERS, seed_users
from tests.stores import copy_store, db_location

from carbonpeak.api import create_app
from carbonpeak.api import ratelimit as rl
from carbonpeak.store import Store

PROXY = "10.0.0.5"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    path = db_location(tmp_path_factory.mktemp("ll") / "l.duckdb")
    s = Store(path)
    seed_users(s, USERS)
    s.close()
    return path


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(rl, "_now", c)
    return c


@pytest.fixture
def svc(seeded, tmp_path, clock):
    copy_store(seeded, tmp_path / "l.duckdb")
    shutil.copy(f"{seeded}.audit-keys.json", tmp_path / "l.duckdb.audit-keys.json")
    store = Store(db_location(tmp_path / "l.duckdb"))
    app = create_app(
        store,
        session_ttl=timedelta(minutes=5),
        login_limit=3,
        login_limit_address=5,
        login_window=600,
        trusted_proxies=[PROXY],
    )
    yield app, store
    store.close()


def _client(app, addr: str = "192.0.2.10") -> TestClient:
    return TestClient(app, client=(addr, 40000))


def _login(c: TestClient, user: str, pw: str, **headers: str):
    return c.post("/api/auth/login", json={"username": user, "password": pw}, headers=headers)


def test_user_is_locked_after_failures_and_correct_password_is_refused(svc, clock):
    app, store = svc
    c = _client(app)
    for _ in range(3):
        assert _login(c, "analyst", "wrong password here").status_code == 401
    r = _login(c, "analyst", PW)  # the right password, during the lock-out
    assert r.status_code == 429
    assert "token" not in r.text
    assert store.query("SELECT count(*) n FROM sessions WHERE username = 'analyst'")["n"][0] == 0
    # from another address too: the lock is on the user name
    assert _login(_client(app, "198.51.100.7"), "analyst", PW).status_code == 429
    clock.t += 601  # the lock-out ends
    assert _login(c, "analyst", PW).status_code == 200


def test_a_restart_does_not_reset_a_lock_out(svc, clock, tmp_path):
    """The failures live in the store (login_failures): a new app on the same store (a restart of
    the service) still refuses the user and the address, until the lock-out time has passed."""
    app, store = svc
    c = _client(app, "192.0.2.44")
    for _ in range(3):
        assert _login(c, "analyst", "wrong password here").status_code == 401
    assert _login(c, "analyst", PW).status_code == 429
    store.close()
    store2 = Store(db_location(tmp_path / "l.duckdb"))  # the restarted service opens the same file
    try:
        app2 = create_app(store2, session_ttl=timedelta(minutes=5), login_limit=3, login_limit_address=5, login_window=600)
        assert _login(_client(app2, "198.51.100.70"), "analyst", PW).status_code == 429
        rows = store2.query("SELECT kind, subject FROM login_failures ORDER BY kind")
        assert set(rows["kind"]) == {"address", "user"}
        assert "analyst" in set(rows["subject"])
        clock.t += 601
        assert _login(_client(app2, "198.51.100.70"), "analyst", PW).status_code == 200
        assert store2.query("SELECT count(*) n FROM login_failures WHERE kind = 'user'")["n"][0] == 0  # cleared
    finally:
        store2.close()


def test_an_address_lock_survives_a_restart(svc, clock, tmp_path):
    app, store = svc
    c = _client(app, "203.0.113.90")
    for name in ["admin", "gz_officer", "sz_officer", "ent_a", "ent_b"]:
        assert _login(c, name, "Spring2025!!").status_code == 401
    store.close()
    store2 = Store(db_location(tmp_path / "l.duckdb"))
    try:
        app2 = create_app(store2, session_ttl=timedelta(minutes=5), login_limit=3, login_limit_address=5, login_window=600)
        assert _login(_client(app2, "203.0.113.90"), "analyst", PW).status_code == 429
        assert _login(_client(app2, "198.51.100.8"), "analyst", PW).status_code == 200
        clock.t += 601  # expired failures of every address go with the next failure
        assert _login(_client(app2, "198.51.100.9"), "nobody", "wrong password here").status_code == 401
        left = store2.query("SELECT subject FROM login_failures WHERE kind = 'address'")["subject"].tolist()
        assert left == ["198.51.100.9"]
    finally:
        store2.close()


def test_password_spraying_from_one_address_is_locked(svc):
    app, _ = svc
    c = _client(app, "203.0.113.9")
    names = ["admin", "gz_officer", "sz_officer", "ent_a", "ent_b"]  # one guess each: no user lock
    for name in names:
        assert _login(c, name, "Spring2025!!").status_code == 401
    assert _login(c, "analyst", PW).status_code == 429  # the address is locked, even for a right password
    assert _login(_client(app, "198.51.100.8"), "analyst", PW).status_code == 200


def test_a_success_clears_the_user_count_not_the_address_count(svc):
    app, _ = svc
    c = _client(app, "203.0.113.20")
    for _ in range(2):
        assert _login(c, "admin", "not the password").status_code == 401
    assert _login(c, "admin", PW).status_code == 200
    for _ in range(2):
        assert _login(c, "admin", "not the password").status_code == 401
    assert _login(c, "admin", PW).status_code == 200  # user count was reset by the success
    assert _login(c, "ent_a", "not the password").status_code == 401  # fifth failure from the address
    assert _login(c, "ent_a", PW).status_code == 429


def test_forwarded_for_is_ignored_from_untrusted_peers(svc):
    """A client cannot dodge the address limit by inventing X-Forwarded-For values."""
    app, _ = svc
    c = _client(app, "203.0.113.30")
    for i, name in enumerate(["admin", "gz_officer", "sz_officer", "ent_a", "ent_b"]):
        r = _login(c, name, "Spring2025!!", **{"X-Forwarded-For": f"198.51.100.{i}"})
        assert r.status_code == 401
    assert _login(c, "analyst", PW, **{"X-Forwarded-For": "198.51.100.99"}).status_code == 429


def test_forwarded_for_from_a_trusted_proxy_names_the_real_client(svc):
    app, store = svc
    proxy = _client(app, PROXY)
    for name in ["admin", "gz_officer", "sz_officer", "ent_a", "ent_b"]:
        # the client tries to spoof an address in front; the proxy appends the real one
        r = _login(proxy, name, "Spring2025!!", **{"X-Forwarded-For": "1.2.3.4, 203.0.113.40"})
        assert r.status_code == 401
    # that client is locked ...
    assert _login(proxy, "analyst", PW, **{"X-Forwarded-For": "203.0.113.40"}).status_code == 429
    # ... other clients behind the same proxy are not
    assert _login(proxy, "analyst", PW, **{"X-Forwarded-For": "203.0.113.41"}).status_code == 200
    addrs = set(
        store.query("SELECT json_extract_string(payload, '$.address') a FROM audit_log WHERE entity = 'login'")["a"]
    )
    assert "203.0.113.40" in addrs
    assert "1.2.3.4" not in addrs
    assert PROXY not in addrs


def test_logins_and_failed_logins_are_audited(svc):
    app, store = svc
    c = _client(app, "192.0.2.50")
    assert _login(c, "ent_a", "not the password").status_code == 401
    assert _login(c, "nobody_here", "not the password").status_code == 401
    assert _login(c, "ent_a", PW).status_code == 200
    rows = store.query(
        "SELECT actor, action, entity_id, payload FROM audit_log WHERE entity = 'login' ORDER BY seq"
    ).to_dict(orient="records")
    assert [(r["action"], r["entity_id"]) for r in rows] == [
        ("auth.login_failed", "ent_a"),
        ("auth.login_failed", "nobody_here"),
        ("auth.login", "ent_a"),
    ]
    assert all('"address":"192.0.2.50"' in r["payload"] for r in rows)
    assert PW not in "".join(r["payload"] for r in rows)
    from carbonpeak.store import audit

    assert audit.verify_chain(store).ok


@pytest.mark.parametrize(
    ("peer", "xff", "proxies", "expected"),
    [
        ("192.0.2.1", "", [], "192.0.2.1"),
        ("192.0.2.1", "1.1.1.1", [], "192.0.2.1"),
        ("10.0.0.5", "1.1.1.1", ["10.0.0.0/8"], "1.1.1.1"),
        ("10.0.0.5", "6.6.6.6, 1.1.1.1, 10.0.0.7", ["10.0.0.0/8"], "1.1.1.1"),
        ("10.0.0.5", "not-an-ip", ["10.0.0.0/8"], "10.0.0.5"),
        ("10.0.0.5", "", ["10.0.0.0/8"], "10.0.0.5"),
        ("192.0.2.1", "1.1.1.1", ["10.0.0.0/8"], "192.0.2.1"),
        ("::1", "2001:db8::1", ["::1"], "2001:db8::1"),
    ],
)
def test_client_address(peer, xff, proxies, expected):
    headers = {"x-forwarded-for": xff} if xff else {}
    assert rl.client_address(peer, headers, rl.parse_networks(proxies)) == expected
