"""A verifier reads only the audit entries of its assigned enterprises (and its own actions)."""

from __future__ import annotations

import pytest
from tests.platform.conftest import _template_db, login, platform  # noqa: F401 - fixtures
from tests.platform.test_scoping import READINGS, upload

from carbonpeak.web.site import mount_dashboard


def _about(entry: dict) -> str:
    return f"{entry['action']} {entry['entity']}:{entry['entity_id']} {entry['payload']}"


@pytest.fixture
def trail(platform):  # noqa: F811 - the imported fixture
    client, store = platform
    assert upload(client, login(client, "ent_a"), "ENT-A").status_code == 201
    assert upload(client, login(client, "ent_b"), "ENT-B", body=READINGS.replace("M1", "MB1")).status_code == 201
    ha = login(client, "analyst")
    for ent in ("ENT-A", "ENT-B"):
        r = client.post(
            "/api/credit",
            headers=ha,
            json={"enterprise_id": ent, "kind": "confirmed_falsification", "detail": f"case of {ent}"},
        )
        assert r.status_code == 201, r.text
    return client, store


def test_province_sees_every_entry(trail):
    client, store = trail
    rows = client.get("/api/audit", headers=login(client, "analyst")).json()
    n = store.query("SELECT count(*) n FROM audit_log")["n"][0]
    assert len(rows) == n
    assert any("ENT-B" in _about(e) for e in rows)


def test_verifier_sees_only_its_enterprises(trail):
    client, _ = trail
    rows = client.get("/api/audit", headers=login(client, "verifier_a")).json()
    text = "\n".join(_about(e) for e in rows)
    assert "ENT-A" in text
    assert "ENT-B" not in text
    # no other users' accounts (only those of the assigned enterprise), no other enterprise's data
    users = {e["entity_id"] for e in rows if e["entity"] == "user"}
    assert users <= {"verifier_a", "ent_a"}
    assert {e["action"] for e in rows} >= {"submission.create", "credit.record"}
    for e in rows:
        assert "ENT-A" in _about(e) or e["actor"] == "verifier_a" or e["entity_id"] == "verifier_a"


def test_verifier_dashboard_audit_page_is_scoped(trail):
    client, _ = trail
    mount_dashboard(client.app)
    r = client.post("/api/auth/login", json={"username": "verifier_a", "password": "correct horse battery"})
    assert r.status_code == 200
    page = client.get("/audit")
    assert page.status_code == 200
    assert "ENT-A" in page.text
    assert "ENT-B" not in page.text


def test_enterprises_and_city_officers_have_no_audit_log(trail):
    client, _ = trail
    for user in ("ent_a", "gz_officer"):
        assert client.get("/api/audit", headers=login(client, user)).status_code == 403
