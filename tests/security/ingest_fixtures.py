"""Fixtures of the ingest-side security tests (issue 9 part A).

A copy of the platform tests' template store (one user per role and scope, a small monitoring
registry: ENT-A owns meters M1, M2 in GD-GZ, ENT-B owns MB1 in GD-SZ), served as the whole site
(API + dashboard) with server exceptions turned into real 500 answers, so that a 500 is seen and
fails a test instead of being raised inside the client.
"""

from __future__ import annotations

import shutil
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.platform.conftest import PW, REGISTRY, USERS, _template_db, login, seed_registry
from tests.stores import copy_store, db_location

from carbonpeak.store import Store

__all__ = ["PW", "REGISTRY", "USERS", "_template_db", "login", "make_client", "seed_registry", "wait_job"]

#: A reading of another enterprise's meter, stored before each test.
FOREIGN = ("MB1", "2025-01-01T00:00:00+08:00", 42.0)


def _seed_foreign(store: Store) -> None:
    from carbonpeak.store.monitoring import ingest_readings_frame

    df = pd.DataFrame(
        {"meter_id": [FOREIGN[0]], "ts": [FOREIGN[1]], "value": [str(FOREIGN[2])], "__row__": [2], "__file__": ["seed.csv"]}
    )
    ingest_readings_frame(store, df, source="seed.csv", submitter="seed")


def make_client(store: Store, **kw: Any) -> TestClient:
    from carbonpeak.web import create_site

    kw.setdefault("session_ttl", timedelta(minutes=5))
    kw.setdefault("login_limit", 10_000)
    return TestClient(create_site(store, **kw), raise_server_exceptions=False)


@pytest.fixture
def upload_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The server-owned upload folder of the test service (and a clean working folder)."""
    root = tmp_path / "server-uploads"
    root.mkdir()
    monkeypatch.setattr("carbonpeak.api.uploads.upload_root", lambda: root)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return root


@pytest.fixture
def svc(tmp_path: Path, _template_db: Path, upload_root: Path):
    copy_store(_template_db, tmp_path / "svc.duckdb")
    # the audit keyring travels with its store (docs/security.md, "Key handling")
    shutil.copy(f"{_template_db}.audit-keys.json", tmp_path / "svc.duckdb.audit-keys.json")
    store = Store(db_location(tmp_path / "svc.duckdb"))
    _seed_foreign(store)
    with make_client(store) as client:
        yield client, store
        wait_idle(store)
    store.close()


def wait_idle(store: Store, timeout: float = 120) -> None:
    """Wait until no job is queued or running (so that a test never closes the store under one)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if store.query("SELECT count(*) n FROM jobs WHERE status IN ('queued', 'running')")["n"][0] == 0:
            return
        time.sleep(0.05)


def wait_job(client: TestClient, headers: dict[str, str], job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rec = client.get(f"/api/jobs/{job_id}", headers=headers).json()
        if rec["status"] in ("done", "failed"):
            return rec  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def foreign_rows(store: Store) -> pd.DataFrame:
    return store.query(
        "SELECT meter_id, ts, value, version, is_current, batch_id FROM mon_readings WHERE meter_id = ? ORDER BY ALL",
        [FOREIGN[0]],
    )
