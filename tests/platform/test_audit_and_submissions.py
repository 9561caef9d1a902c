"""Versioned submissions, idempotent re-sends, row-level upload errors and the audit chain."""

from __future__ import annotations

import pytest
from tests.platform.conftest import login
from tests.platform.test_scoping import READINGS, upload
from tests.stores import db_location

from carbonpeak.store import audit
from carbonpeak.store.users import add_user


def test_resend_is_not_counted_twice_and_correction_is_a_new_version(platform):
    client, store = platform
    h = login(client, "ent_a")
    r1 = upload(client, h, "ENT-A").json()
    r2 = upload(client, h, "ENT-A").json()
    assert r1["created"]
    assert not r2["created"]
    assert r2["version"] == 1
    corrected = READINGS.replace(",12\n", ",13\n")
    r3 = upload(client, h, "ENT-A", body=corrected).json()
    assert r3["version"] == 2
    n = store.query("SELECT count(*) n FROM submissions WHERE enterprise_id='ENT-A'")["n"][0]
    assert n == 2  # the first version is kept
    v1 = client.get("/api/submissions/ENT-A/readings/2025-01?version=1", headers=h).json()
    assert '"value":12' in v1["payload"]


def test_upload_errors_name_row_and_field(platform):
    client, store = platform
    h = login(client, "ent_a")
    bad = "meter_id,ts,value\nM1,2025-01-01T00:00:00+08:00,abc\nM1,not-a-time,1\n"
    r = upload(client, h, "ENT-A", body=bad)
    assert r.status_code == 422
    probs = r.json()["problems"]
    assert {(p["row"], p["field"]) for p in probs} == {(2, "value"), (3, "ts")}
    assert store.query("SELECT count(*) n FROM submissions")["n"][0] == 0


def test_audit_chain_detects_tampering_behind_the_service(platform):
    client, store = platform
    h = login(client, "ent_a")
    upload(client, h, "ENT-A")
    upload(client, h, "ENT-A", body=READINGS.replace(",12\n", ",99\n"))
    ha = login(client, "admin")
    ok = client.get("/api/audit/verify", headers=ha).json()
    assert ok["ok"]
    assert ok["entries"] >= 9  # 7 users + 2 submissions
    # edit a past entry directly in the database, as an insider with file access could
    store.con.execute("UPDATE audit_log SET actor = 'someone_else' WHERE action = 'submission.create'")
    bad = client.get("/api/audit/verify", headers=ha).json()
    assert not bad["ok"]
    assert bad["problem"] == "entry content does not match its hash"


def test_audit_detects_deletion_and_reordering(store):
    for i in range(5):
        add_user(store, f"user{i}", "a long password!", "province_analyst")
    assert audit.verify_chain(store).ok
    store.con.execute("DELETE FROM audit_log WHERE seq = 3")
    rep = audit.verify_chain(store)
    assert not rep.ok
    assert rep.first_bad_seq == 4


def test_audit_detects_swapped_entries(store):
    for i in range(3):
        add_user(store, f"user{i}", "a long password!", "province_analyst")
    # swap the content of entries 1 and 2 while keeping their seq numbers
    rows = store.con.execute("SELECT seq, entity_id FROM audit_log ORDER BY seq").fetchall()
    store.con.execute("UPDATE audit_log SET entity_id = ? WHERE seq = 1", [rows[1][1]])
    store.con.execute("UPDATE audit_log SET entity_id = ? WHERE seq = 2", [rows[0][1]])
    assert not audit.verify_chain(store).ok


def test_login_rate_limited_and_wrong_password(tmp_path):
    from datetime import timedelta

    from fastapi.testclient import TestClient

    from carbonpeak.api import create_app
    from carbonpeak.store import Store

    s = Store(db_location(tmp_path / "x.duckdb"))
    add_user(s, "alice", "a long password!", "province_analyst")
    with TestClient(create_app(s, session_ttl=timedelta(minutes=1), login_limit=3)) as c:
        codes = [
            c.post("/api/auth/login", json={"username": "alice", "password": "wrong"}).status_code
            for _ in range(4)
        ]
    assert codes == [401, 401, 401, 429]


def test_expired_session_is_refused(tmp_path):
    from datetime import timedelta

    from fastapi.testclient import TestClient

    from carbonpeak.api import create_app
    from carbonpeak.store import Store

    s = Store(db_location(tmp_path / "x.duckdb"))
    add_user(s, "alice", "a long password!", "province_analyst")
    with TestClient(create_app(s, session_ttl=timedelta(seconds=-1))) as c:
        tok = c.post("/api/auth/login", json={"username": "alice", "password": "a long password!"}).json()[
            "token"
        ]
        c.cookies.clear()
        r = c.get("/api/me", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 401
    assert "expired" in r.json()["message"]


def test_disabled_user_cannot_log_in(platform):
    client, _ = platform
    ha = login(client, "admin")
    assert client.post("/api/users/ent_b/disable", headers=ha).status_code == 200
    r = client.post("/api/auth/login", json={"username": "ent_b", "password": "correct horse battery"})
    assert r.status_code == 401


def test_passwords_are_argon2_hashed(platform):
    _, store = platform
    hashes = store.query("SELECT password_hash FROM users")["password_hash"]
    assert all(h.startswith("$argon2id$") for h in hashes)


def test_activity_import_through_the_service_is_audited_and_idempotent(empty_platform, tmp_path):
    client, store = empty_platform
    good = "year,region,category,item,amount,unit,source\n2020,GD,1.A.1.a,natural_gas,1000,10^4 Nm3,test\n"
    h = login(client, "analyst")
    files = [("files", ("act.csv", good.encode(), "text/csv"))]
    r1 = client.post("/api/activity", headers=h, files=files)
    assert r1.status_code == 201, r1.text
    assert r1.json()["created"]
    r2 = client.post("/api/activity", headers=h, files=files)
    assert not r2.json()["created"]
    assert store.query("SELECT count(*) n FROM activity")["n"][0] == 1
    assert store.query("SELECT count(*) n FROM audit_log WHERE action = 'activity.import'")["n"][0] == 1
    bad = good.replace("1000", "-5").replace("natural_gas", "unobtainium")
    r3 = client.post("/api/activity", headers=h, files=[("files", ("bad.csv", bad.encode(), "text/csv"))])
    assert r3.status_code == 422
    assert all(p["file"] == "bad.csv" and p["row"] == 2 for p in r3.json()["problems"])
    assert client.post("/api/activity", headers=login(client, "ent_a"), files=files).status_code == 403


@pytest.mark.slow
def test_assessment_and_report_job(platform, tmp_path, monkeypatch):
    """The demo assessment through the API, and the report written by a background job."""
    import time

    from carbonpeak.config import get_settings

    monkeypatch.setenv("CARBONPEAK_REPORTS_DIR", str(tmp_path / "reports"))
    get_settings.cache_clear()
    client, _ = platform
    h = login(client, "analyst")
    a = client.get("/api/assessment", headers=h)
    assert a.status_code == 200, a.text
    ids = {t["id"]: t for t in a.json()["targets"]}
    assert "peak_before_2030" in ids
    assert {"id", "status", "value", "target", "gap"} <= set(ids["peak_before_2030"])
    assert client.get("/api/assessment", headers=login(client, "ent_a")).status_code == 403
    job = client.post("/api/reports/assessment", headers=h, json={"lang": "en", "pdf": False}).json()
    for _ in range(600):
        st = client.get(f"/api/jobs/{job['job_id']}", headers=h).json()
        if st["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert st["status"] == "done", st.get("error")
    html = next(f for f in st["result"]["files"] if f.endswith(".html"))
    r = client.get(f"/api/reports/{html}", headers=h)
    assert r.status_code == 200
    assert "<html" in r.text.lower()
    assert client.get("/api/reports/..%2F..%2Fetc%2Fpasswd", headers=h).status_code == 404
    get_settings.cache_clear()


def test_stored_activity_is_compiled_and_a_correction_replaces_it(empty_platform):
    """The service compiles the stored activity (newest batch per key), not the demo data."""
    client, store = empty_platform
    h = login(client, "analyst")
    v1 = "year,region,category,item,amount,unit,source\n2020,GD,1.A.1.a,natural_gas,1000,10^4 Nm3,test\n"
    v2 = v1.replace(",1000,", ",2000,")
    assert (
        client.post(
            "/api/activity", headers=h, files=[("files", ("a.csv", v1.encode(), "text/csv"))]
        ).status_code
        == 201
    )
    t1 = client.post("/api/inventory/compile", headers=h, json={"year": 2020, "region": "GD"}).json()
    assert t1["total_co2e_t"] > 0
    assert (
        client.post(
            "/api/activity", headers=h, files=[("files", ("a2.csv", v2.encode(), "text/csv"))]
        ).status_code
        == 201
    )
    t2 = client.post("/api/inventory/compile", headers=h, json={"year": 2020, "region": "GD"}).json()
    assert t2["total_co2e_t"] == pytest.approx(2 * t1["total_co2e_t"], rel=1e-9)
    assert store.query("SELECT count(*) n FROM activity")["n"][0] == 2  # the first version is kept


def test_a_missing_number_in_an_audit_payload_is_json_null(store):
    """An audit payload with NaN/inf (a missing figure in a provenance table) is strict JSON: the
    PostgreSQL pass read such an entry back as a 500 (``json`` refuses ``NaN``)."""
    import json

    import pandas as pd

    with store.transaction():
        seq = audit.append(store, actor="t", action="x.test", entity="e", entity_id="1",
                           payload={"product": float("nan"), "rows": [1.5, float("inf"), pd.NaT]})  # fmt: skip
    (text,) = store.con.execute("SELECT payload FROM audit_log WHERE seq = ?", [seq]).fetchone()
    assert json.loads(text) == {"product": None, "rows": [1.5, None, None]}
    assert "NaN" not in text
    (kind,) = store.con.execute(  # the database reads it as JSON too
        "SELECT CAST(payload AS JSON) IS NOT NULL FROM audit_log WHERE seq = ?", [seq]
    ).fetchone()
    assert kind
    assert audit.verify_chain(store).ok
