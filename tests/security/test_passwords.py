"""Passwords: the policy (zxcvbn), changing one's password (CLI, API, dashboard form) and a
disabled account that answers exactly like a wrong password."""

from __future__ import annotations

import io

import httpx
import pytest
from tests.platform.conftest import PW, _template_db, login, platform  # noqa: F401 - fixtures
from tests.platform.test_browser import _login, browser, server  # noqa: F401 - fixtures
from tests.stores import db_location

from carbonpeak.cli import main
from carbonpeak.store import Store
from carbonpeak.store import users as users_mod
from carbonpeak.store.passwords import WeakPassword, check_password
from carbonpeak.store.users import add_user, authenticate, set_disabled

WEAK = [
    ("", "blank"),
    ("            ", "blank"),
    ("short", "at least 12"),
    ("aaaaaaaaaaaaaaaa", "repeat"),
    ("password1234", "too weak"),
    ("qwertyuiop123", "too weak"),
    ("1234567890123", "too weak"),
    ("iloveyou12345", "too weak"),
    ("analyst.wang", "user name"),  # equal to the user name
    ("ANALYST.WANG!", "user name"),  # contains it, other case
]


@pytest.mark.parametrize(("pw", "why"), WEAK)
def test_weak_passwords_are_refused(pw, why):
    with pytest.raises(WeakPassword, match=why):
        check_password(pw, "analyst.wang")


@pytest.mark.parametrize("pw", [PW, "a sufficiently long password", "Lychee-season ferry 7 tides"])
def test_strong_passwords_pass(pw):
    check_password(pw, "analyst.wang")


def test_the_message_never_echoes_the_password():
    with pytest.raises(WeakPassword) as exc:
        check_password("password1234", "bob")
    assert "password1234" not in str(exc.value)


def test_weak_password_refused_when_creating_a_user(platform):  # noqa: F811
    client, _ = platform
    h = login(client, "admin")
    r = client.post(
        "/api/users", headers=h, json={"username": "newbie", "password": "password1234", "role": "province_analyst"}
    )
    assert r.status_code == 400
    assert "too weak" in r.json()["message"]


def test_change_own_password_through_the_api(platform):  # noqa: F811
    client, store = platform
    old = login(client, "analyst")
    other = login(client, "analyst")  # a second session of the same user
    new_pw = "Lychee-season ferry 7 tides"
    body = {"old_password": "not my password", "new_password": new_pw}
    r = client.post("/api/auth/password", headers=old, json=body)
    assert r.status_code == 400
    assert "current password is wrong" in r.json()["message"]
    r = client.post("/api/auth/password", headers=old, json={"old_password": PW, "new_password": "analyst12345"})
    assert r.status_code == 400  # contains the user name
    r = client.post("/api/auth/password", headers=old, json={"old_password": PW, "new_password": new_pw})
    assert r.status_code == 200, r.text
    fresh = {"Authorization": f"Bearer {r.json()['token']}"}
    client.cookies.clear()
    assert client.get("/api/me", headers=fresh).status_code == 200
    for h in (old, other):  # every earlier session ended
        assert client.get("/api/me", headers=h).status_code == 401
    assert client.post("/api/auth/login", json={"username": "analyst", "password": PW}).status_code == 401
    assert client.post("/api/auth/login", json={"username": "analyst", "password": new_pw}).status_code == 200
    actions = store.query("SELECT action FROM audit_log WHERE entity_id = 'analyst'")["action"].tolist()
    assert "user.password" in actions


def test_change_password_needs_a_session(platform):  # noqa: F811
    client, _ = platform
    r = client.post("/api/auth/password", json={"old_password": PW, "new_password": "Lychee-season ferry 7 tides"})
    assert r.status_code == 401


def test_cli_passwd(tmp_path, monkeypatch, capsys):
    db = db_location(tmp_path / "p.duckdb")
    with Store(db) as s:
        add_user(s, "carol", PW, "province_analyst")
    monkeypatch.setattr("sys.stdin", io.StringIO("aaaaaaaaaaaaaaaa\n"))
    assert main(["users", "passwd", "carol", "--password-stdin", "--db", str(db)]) == 2
    assert "repeat" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("Lychee-season ferry 7 tides\n"))
    assert main(["users", "passwd", "carol", "--password-stdin", "--db", str(db)]) == 0
    with Store(db) as s:
        assert authenticate(s, "carol", "Lychee-season ferry 7 tides").username == "carol"


def test_disabled_account_answers_exactly_like_a_wrong_password(platform, monkeypatch):  # noqa: F811
    client, store = platform
    set_disabled(store, "ent_b", True)
    calls: list[str] = []
    real_verify, real_hash = users_mod._hasher.verify, users_mod._hasher.hash

    class CountingHasher:
        def verify(self, h, pw):
            calls.append("verify")
            return real_verify(h, pw)

        def hash(self, pw):
            calls.append("hash")
            return real_hash(pw)

    monkeypatch.setattr(users_mod, "_hasher", CountingHasher())
    answers = {}
    work = {}
    for case, (user, pw) in {
        "disabled, right password": ("ent_b", PW),
        "disabled, wrong password": ("ent_b", "wrong password 1"),
        "wrong password": ("ent_a", "wrong password 1"),
        "unknown user": ("nobody", "wrong password 1"),
    }.items():
        calls.clear()
        r = client.post("/api/auth/login", json={"username": user, "password": pw})
        answers[case] = (r.status_code, r.content, r.headers.get("content-type"))
        work[case] = len(calls)  # argon2 operations: the timing class
    assert len(set(answers.values())) == 1, answers
    assert set(answers.values()) == {(401, b'{"error":"auth","message":"wrong username or password"}', "application/json")}
    assert set(work.values()) == {1}, work


@pytest.mark.browser
@pytest.mark.service
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_password_form_in_the_browser(server, browser, lang):  # noqa: F811 - imported fixtures
    """The dashboard's form (static script under the CSP): a weak password is refused with the
    reason, a good one is taken, and the new password logs in."""
    from carbonpeak.i18n import t

    user = {"en": "verifier_a", "zh": "gz_officer"}[lang]
    new_pw = f"Lychee-season ferry 7 tides {lang}"
    ctx, page = _login(browser, server, user, lang=lang)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.click("#account-password")
        page.wait_for_selector("#password-form", timeout=60000)
        assert t("password.title", lang) in page.inner_text("h1")
        page.fill("#old-password", PW)
        page.fill("#new-password", "password1234")
        page.fill("#new-password2", "password1234")
        page.click("#password-submit")
        page.wait_for_selector("#password-result.error", timeout=60000)
        assert "too weak" in page.inner_text("#password-result")
        page.fill("#new-password", new_pw)
        page.fill("#new-password2", new_pw)
        page.click("#password-submit")
        page.wait_for_selector("#password-result.ok", timeout=60000)
        assert t("password.changed", lang) in page.inner_text("#password-result")
        page.goto(f"{server}/monitoring")  # the session returned by the change is in use
        assert user in page.inner_text("#whoami")
        assert not [e for e in errors if "Content Security Policy" in e], errors
    finally:
        ctx.close()
    r = httpx.post(f"{server}/api/auth/login", json={"username": user, "password": new_pw})
    assert r.status_code == 200


def test_the_service_hashes_with_argon2id_at_the_library_defaults():
    """The tests run with a cheap hasher (tests/conftest.py); the one the code builds is argon2id
    with argon2-cffi's defaults, RFC 9106 §4's second recommended option (t=3, 64 MiB, p=4)."""
    from argon2 import PasswordHasher, Type
    from tests import conftest

    prod = conftest.PRODUCTION_HASHER
    assert isinstance(prod, PasswordHasher)
    assert prod.type is Type.ID
    assert (prod.time_cost, prod.memory_cost, prod.parallelism) == (3, 65536, 4)
    assert prod.hash("a long password!").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
