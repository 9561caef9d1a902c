"""Issue 9: jobs tell the truth about what happened.

* A job that was queued or running when the process died is marked failed at start-up, with a
  reason that says to send the upload again (and which files it had); sending it again works
  and counts nothing twice.
* A job whose data committed is reported as succeeded even when the CHECKPOINT after the commit
  fails.
* A job that fails on a bug reports a reference, never a traceback or a server path.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import duckdb
import pandas as pd
import pytest
from tests.security import ingest_fixtures as fx
from tests.security.ingest_fixtures import login, make_client, wait_job
from tests.stores import copy_store, db_location

from carbonpeak.store import Store

_template_db, svc, upload_root = fx._template_db, fx.svc, fx.upload_root  # fixtures

READINGS = "meter_id,ts,value\nM1,2025-01-01T00:00:00+08:00,10\nM1,2025-01-01T00:15:00+08:00,12\n"


def _ingest(client, h, body=READINGS, name="mine.csv"):
    r = client.post("/api/monitoring/ingest", headers=h, files={"files": (name, body.encode(), "text/csv")})
    assert r.status_code == 202, r.text
    return r.json()["job_id"]


def test_a_job_left_running_by_a_dead_process_is_failed_at_start_up(tmp_path, _template_db, upload_root):  # noqa: PT019
    copy_store(_template_db, tmp_path / "s.duckdb")
    store = Store(db_location(tmp_path / "s.duckdb"))
    # what a process killed in the middle of an ingest leaves behind
    for job_id, status in (("j-running", "running"), ("j-queued", "queued"), ("j-done", "done")):
        store.con.execute(
            "INSERT INTO jobs (job_id, kind, status, progress, owner, created_at, result) VALUES (?, 'monitoring.ingest', ?, 0.5, 'ent_a', ?, ?)",
            [job_id, status, datetime.now(UTC), '{"files": ["mine.csv"]}'],
        )
    with make_client(store) as client:  # start-up
        h = login(client, "ent_a")
        for job_id in ("j-running", "j-queued"):
            rec = client.get(f"/api/jobs/{job_id}", headers=h).json()
            assert rec["status"] == "failed"
            assert "interrupted" in rec["error"]
            assert "Send the upload again" in rec["error"]
            assert rec["result"] == {"files": ["mine.csv"]}  # which upload to send again
        assert client.get("/api/jobs/j-done", headers=h).json()["status"] == "done"
        # the upload is sent again: it works, and a second time changes nothing
        first = wait_job(client, h, _ingest(client, h))
        assert first["status"] == "done", first
        again = wait_job(client, h, _ingest(client, h))
        assert again["status"] == "done"
        assert again["result"][0]["created"] is False
    assert store.query("SELECT count(*) n FROM mon_readings WHERE meter_id = 'M1'")["n"][0] == 2
    store.close()


class _FailingCheckpoint:
    """A connection whose CHECKPOINT fails (as a full disk or a concurrent reader can make it)."""

    def __init__(self, con):
        self._con = con

    def execute(self, sql, *args, **kw):
        if sql.strip().upper() == "CHECKPOINT":
            raise duckdb.IOException("simulated: could not checkpoint")
        return self._con.execute(sql, *args, **kw)

    def __getattr__(self, name):
        return getattr(self._con, name)


def test_committed_data_are_reported_as_succeeded_when_the_checkpoint_fails(svc, monkeypatch):
    client, store = svc
    real = Store.con
    monkeypatch.setattr(Store, "con", property(lambda self: _FailingCheckpoint(real.fget(self))))
    h = login(client, "ent_a")
    rec = wait_job(client, h, _ingest(client, h))
    assert rec["status"] == "done", rec
    assert rec["result"][0]["inserted"] == 2
    monkeypatch.undo()
    assert store.query("SELECT count(*) n FROM mon_readings WHERE meter_id = 'M1'")["n"][0] == 2


def test_a_job_that_hits_a_bug_reports_no_traceback_or_path(svc, monkeypatch):
    client, _ = svc

    def boom(*a, **k):
        raise RuntimeError("/srv/secret/carbonpeak/storage.py line 12: boom")

    monkeypatch.setattr("carbonpeak.store.monitoring.ingest_path", boom)
    h = login(client, "ent_a")
    rec = wait_job(client, h, _ingest(client, h))
    assert rec["status"] == "failed"
    assert "internal error" in rec["error"]
    assert "/srv/secret" not in rec["error"]
    assert "Traceback" not in rec["error"]


def test_a_job_with_bad_data_names_the_clients_file(svc, upload_root):
    client, _ = svc
    h = login(client, "ent_a")
    bad = "meter_id,ts,value\nM1,2025-01-01T00:00:00+08:00,inf\n"
    rec = wait_job(client, h, _ingest(client, h, body=bad, name="my readings.csv"))
    assert rec["status"] == "failed"
    assert "my readings.csv" in rec["error"]
    assert str(upload_root) not in rec["error"]
    assert rec["result"]["problems"][0]["file"] == "my readings.csv"
    assert (rec["result"]["problems"][0]["row"], rec["result"]["problems"][0]["field"]) == (2, "value")
    # the same job in Chinese (issue 12): the stored problems rendered from their message keys
    zh = client.get(f"/api/jobs/{rec['job_id']}", headers={**h, "Accept-Language": "zh-CN"}).json()
    assert zh["result"]["problems"][0]["message"] == "不是有限数值:“inf”(不接受inf和nan)"
    assert zh["result"]["problems"][0]["message_key"] == "io.not_finite"
    assert "my readings.csv 第2行 字段“value”:不是有限数值" in zh["error"]
    assert str(upload_root) not in zh["error"]


@pytest.mark.parametrize("fmt", ["parquet"])
def test_parquet_job_names_the_clients_file(svc, fmt):
    client, store = svc
    buf = io.BytesIO()
    pd.DataFrame({"meter_id": ["M1"], "ts": pd.to_datetime(["2025-01-01T00:00:00+08:00"]), "value": [1.0]}).to_parquet(buf)
    h = login(client, "ent_a")
    r = client.post("/api/monitoring/ingest", headers=h, files={"files": (f"day one.{fmt}", buf.getvalue(), "x")})
    rec = wait_job(client, h, r.json()["job_id"])
    assert rec["status"] == "done", rec
    assert rec["result"][0]["file"] == f"day one.{fmt}"
    assert store.query("SELECT DISTINCT source_file FROM mon_readings WHERE meter_id = 'M1'")["source_file"].tolist() == [
        f"day one.{fmt}"
    ]
