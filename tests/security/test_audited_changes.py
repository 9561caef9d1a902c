"""Issue 9: every change is an audit entry (ingest side; logins are sec-trust's tests).

Readings ingests and corrections (API and CLI path), submissions and their corrections,
registry imports, credit events and user creation each append to the audit chain in the same
transaction as the change; a re-sent batch changes nothing and appends nothing; the chain
verifies afterwards.
"""

from __future__ import annotations

import json

from tests.security import ingest_fixtures as fx
from tests.security.ingest_fixtures import login, wait_job

from carbonpeak.store import audit

_template_db, svc, upload_root = fx._template_db, fx.svc, fx.upload_root  # fixtures

READINGS = "meter_id,ts,value\nM1,2025-01-01T00:00:00+08:00,10\nM1,2025-01-01T00:15:00+08:00,12\n"


def entries(store, action=None):
    df = store.query("SELECT seq, actor, action, entity, entity_id, payload FROM audit_log ORDER BY seq")
    return df if action is None else df[df["action"] == action]


def _ingest(client, h, body, name="m.csv"):
    r = client.post("/api/monitoring/ingest", headers=h, files={"files": (name, body.encode(), "text/csv")})
    rec = wait_job(client, h, r.json()["job_id"])
    assert rec["status"] == "done", rec
    return rec["result"][0]


def test_readings_ingest_and_correction_are_audited(svc):
    client, store = svc
    h = login(client, "ent_a")
    res = _ingest(client, h, READINGS, "jan.csv")
    imp = entries(store, "mon_readings.import")
    imp = imp[imp["entity_id"] == res["batch_id"]]
    assert len(imp) == 1
    row = imp.iloc[0]
    assert row["actor"] == "ent_a"
    assert json.loads(row["payload"]) == {"source": "jan.csv", "rows": 2, "inserted": 2, "corrected": 0}

    # the same batch again: nothing changes, nothing is appended but the job's own records
    def data_entries():
        df = entries(store)
        return df[~df["action"].str.startswith("job.")]

    n = len(data_entries())
    assert _ingest(client, h, READINGS, "jan-again.csv")["created"] is False
    assert len(data_entries()) == n

    # a correction: one value differs
    res2 = _ingest(client, h, READINGS.replace(",12\n", ",13\n"), "jan-fixed.csv")
    cor = entries(store, "mon_readings.correct")
    assert list(cor["entity_id"]) == [res2["batch_id"]]
    assert json.loads(cor.iloc[0]["payload"])["corrected"] == 1
    assert audit.verify_chain(store).ok


def test_cli_path_readings_are_audited_too(svc, tmp_path):
    from carbonpeak.store.monitoring import ingest_path

    _, store = svc
    p = tmp_path / "cli.csv"
    p.write_text(READINGS, encoding="utf-8")
    res = ingest_path(store, p, submitter="operator")
    e = entries(store, "mon_readings.import")
    assert res.batch_id in set(e["entity_id"])
    assert "operator" in set(e["actor"])


def test_submissions_and_corrections_are_audited(svc):
    client, store = svc
    h = login(client, "ent_a")
    for body in (READINGS, READINGS.replace(",12\n", ",13\n")):
        r = client.post(
            "/api/submissions", headers=h, data={"kind": "readings", "period": "2025-01"}, files={"file": ("r.csv", body.encode(), "text/csv")}
        )
        assert r.status_code == 201
    assert list(entries(store, "submission.create")["entity_id"]) == ["ENT-A/readings/2025-01#v1"]
    assert list(entries(store, "submission.correct")["entity_id"]) == ["ENT-A/readings/2025-01#v2"]


def test_registry_import_credit_and_users_are_audited(svc):
    client, store = svc
    h = login(client, "admin")
    meters = "meter_id,unit_id,energy_type,point,kind,unit\nM9,U-A,electricity,site,interval,kWh\n"
    r = client.post("/api/monitoring/ingest", headers=h, files={"files": ("meters.csv", meters.encode(), "text/csv")})
    rec = wait_job(client, h, r.json()["job_id"])
    assert rec["status"] == "done", rec
    assert rec["result"][0]["batch_id"] in set(entries(store, "mon_meters.import")["entity_id"])
    client.post("/api/credit", headers=h, json={"enterprise_id": "ENT-A", "kind": "missed_deadline", "detail": "late"})
    assert list(entries(store, "credit.record")["entity_id"]) == ["ENT-A"]
    client.post(
        "/api/users", headers=h, json={"username": "newbie", "password": "a long enough passphrase", "role": "province_analyst"}
    )
    assert "newbie" in set(entries(store, "user.create")["entity_id"])
    assert audit.verify_chain(store).ok
