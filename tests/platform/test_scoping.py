"""Every role against every other scope's resources, through the API: denial is asserted."""

from __future__ import annotations

import itertools

import pytest
from tests.platform.conftest import USERS, login

READINGS = "meter_id,ts,value\nM1,2025-01-01T00:00:00+08:00,10\nM1,2025-01-01T00:15:00+08:00,12\n"


def upload(client, headers, ent, period="2025-01", body=READINGS, city=None):
    data = {"kind": "readings", "period": period, "enterprise_id": ent}
    if city:
        data["city"] = city
    return client.post(
        "/api/submissions",
        headers=headers,
        data=data,
        files={"file": ("readings.csv", body.encode(), "text/csv")},
    )


@pytest.fixture
def seeded(platform):
    client, store = platform
    ha = login(client, "ent_a")
    hb = login(client, "ent_b")
    assert upload(client, ha, "ENT-A", city="GD-GZ").status_code == 201
    assert upload(client, hb, "ENT-B", city="GD-SZ", body=READINGS.replace("M1", "MB1")).status_code == 201
    return client, store


def visible(client, user):
    h = login(client, user)
    r = client.get("/api/submissions", headers=h)
    assert r.status_code == 200
    return {s["enterprise_id"] for s in r.json()}


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("admin", {"ENT-A", "ENT-B"}),
        ("analyst", {"ENT-A", "ENT-B"}),
        ("gz_officer", {"ENT-A"}),
        ("sz_officer", {"ENT-B"}),
        ("ent_a", {"ENT-A"}),
        ("ent_b", {"ENT-B"}),
        ("verifier_a", {"ENT-A"}),
    ],
)
def test_lists_are_scoped(seeded, user, expected):
    client, _ = seeded
    assert visible(client, user) == expected


OWN = {"ent_a": "ENT-A", "ent_b": "ENT-B"}


@pytest.mark.parametrize(("user", "target"), list(itertools.product(USERS, ["ENT-A", "ENT-B"])))
def test_direct_read_of_other_scope_is_denied(seeded, user, target):
    client, _ = seeded
    h = login(client, user)
    r = client.get(f"/api/submissions/{target}/readings/2025-01", headers=h)
    role = USERS[user]
    may = (
        role["role"] in ("admin", "province_analyst")
        or role.get("enterprise_id") == target
        or target in role.get("assigned", [])
        or (role.get("city") == "GD-GZ" and target == "ENT-A")
        or (role.get("city") == "GD-SZ" and target == "ENT-B")
    )
    assert r.status_code == (200 if may else 404), (user, target, r.text)


@pytest.mark.parametrize("user", [u for u in USERS if u not in ("admin",)])
def test_nobody_but_the_enterprise_writes_its_data(seeded, user):
    client, _ = seeded
    h = login(client, user)
    r = upload(client, h, "ENT-A", period="2025-02")
    assert r.status_code == (201 if user == "ent_a" else 403)


@pytest.mark.parametrize("user", list(USERS))
def test_sign_off_only_by_assigned_verifier(seeded, user):
    client, _ = seeded
    h = login(client, user)
    r = client.post("/api/submissions/ENT-A/readings/2025-01/versions/1/sign-off", headers=h)
    if user in ("verifier_a", "admin"):
        assert r.status_code == 200
    else:
        assert r.status_code in (403, 404)


@pytest.mark.parametrize("user", [u for u in USERS if u != "admin"])
def test_user_admin_is_admin_only(seeded, user):
    client, _ = seeded
    h = login(client, user)
    assert client.get("/api/users", headers=h).status_code == 403
    r = client.post(
        "/api/users", headers=h, json={"username": "mallory", "password": "x" * 12, "role": "admin"}
    )
    assert r.status_code == 403


def test_unauthenticated_is_401(seeded):
    client, _ = seeded
    client.cookies.clear()
    for path in ("/api/submissions", "/api/me", "/api/audit", "/api/credit"):
        assert client.get(path).status_code == 401


def test_city_officer_cannot_compile_another_city(seeded):
    client, _ = seeded
    h = login(client, "gz_officer")
    r = client.post("/api/inventory/compile", headers=h, json={"region": "GD-SZ"})
    assert r.status_code == 403


def test_credit_records_scoped_and_exported(seeded):
    client, _ = seeded
    h = login(client, "analyst")
    r = client.post(
        "/api/credit",
        headers=h,
        json={"enterprise_id": "ENT-B", "kind": "missed_deadline", "detail": "2025-01 report 10 days late"},
    )
    assert r.status_code == 201
    assert client.get("/api/credit", headers=login(client, "ent_a")).json() == []
    assert len(client.get("/api/credit", headers=login(client, "ent_b")).json()) == 1
    csv = client.get("/api/credit/export.csv", headers=login(client, "analyst"))
    assert csv.status_code == 200
    assert "ENT-B,missed_deadline" in csv.text
    assert client.get("/api/credit/export.csv", headers=login(client, "ent_b")).status_code == 403
