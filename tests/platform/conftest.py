"""A service with one user per role and scope, on a temporary store."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from tests.stores import copy_store, db_location

from carbonpeak.api import create_app
from carbonpeak.store import Store
from carbonpeak.store.users import add_user

PW = "correct horse battery"

USERS = {
    "admin": dict(role="admin"),
    "analyst": dict(role="province_analyst"),
    "gz_officer": dict(role="city_officer", city="GD-GZ"),
    "sz_officer": dict(role="city_officer", city="GD-SZ"),
    "ent_a": dict(role="enterprise", enterprise_id="ENT-A"),
    "ent_b": dict(role="enterprise", enterprise_id="ENT-B"),
    "verifier_a": dict(role="verifier", assigned=["ENT-A"]),
}


def seed_users(store: Store, users: dict[str, dict]) -> None:
    """Create each user of ``users`` (name -> role, city, enterprise_id, assigned) with password PW."""
    for name, kw in users.items():
        add_user(
            store,
            name,
            PW,
            kw["role"],
            city=kw.get("city"),
            enterprise_id=kw.get("enterprise_id"),
            assigned=kw.get("assigned"),
        )


#: The monitoring registry of the test enterprises: unit -> (enterprise, city, meters).
REGISTRY = {
    "U-A": ("ENT-A", "GD-GZ", ("M1", "M2")),
    "U-B": ("ENT-B", "GD-SZ", ("MB1",)),
}


def seed_registry(store: Store, registry: dict = REGISTRY) -> None:
    """Register units and meters to the test enterprises.

    Written straight to the registry tables: the test enterprise ids (ENT-A) are not unified
    social credit codes, which the registry importer would (rightly) refuse.
    """
    import pandas as pd

    units = pd.DataFrame(
        [
            dict(unit_id=u, name=u, uscc=e, industry_code="C30", city=c, kind="industrial",
                 hub_node=False, registered_level="provincial", synthetic=True)
            for u, (e, c, _) in registry.items()
        ]
    )
    meters = pd.DataFrame(
        [
            dict(meter_id=m, unit_id=u, energy_type="electricity", point="site", kind="interval", unit="kWh",
                 interval_minutes=15, parent_meter_id="", product="", rollover=None, max_interval_value=None)
            for u, (_, _, ms) in registry.items()
            for m in ms
        ]
    )
    store.import_frame("mon_units", units, kind="mon_units", source="test registry")
    store.import_frame("mon_meters", meters, kind="mon_meters", source="test registry")


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory):
    """The users are created once (argon2 hashing is slow on purpose); each test gets a copy."""
    path = db_location(tmp_path_factory.mktemp("template") / "svc.duckdb")
    store = Store(path)
    seed_users(store, USERS)
    seed_registry(store)
    store.con.execute("CHECKPOINT")
    store.close()
    return path


@pytest.fixture
def platform(tmp_path, _template_db):
    copy_store(_template_db, tmp_path / "svc.duckdb")
    # the audit keyring travels with its store (docs/security.md, "Key handling")
    shutil.copy(f"{_template_db}.audit-keys.json", tmp_path / "svc.duckdb.audit-keys.json")
    store = Store(db_location(tmp_path / "svc.duckdb"))
    app = create_app(store, session_ttl=timedelta(minutes=5), login_limit=50)
    with TestClient(app) as client:
        yield client, store
    store.close()


def login(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/auth/login", json={"username": username, "password": PW})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


@contextmanager
def serve_in_thread(store: Store, **kw):
    """Run the whole site (API + dashboard) with uvicorn on a free loopback port; yield its URL."""
    import uvicorn

    from carbonpeak.web import create_site

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(
        uvicorn.Config(create_site(store, **kw), host="127.0.0.1", port=port, log_level="warning")
    )
    th = threading.Thread(target=srv.run, daemon=True)
    th.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        th.join(timeout=10)


def monitored_store(folder) -> Store:
    """A store with a synthetic monitoring data set (40 units, 35 days, seed 7), ingested and run."""
    import datetime as dt

    from carbonpeak.monitoring.synthetic import generate
    from carbonpeak.store.monitoring import ingest_path
    from carbonpeak.workflows.monitoring_run import run_monitoring

    generate(folder / "gen", units=40, days=35, seed=7)
    store = Store(db_location(folder / "mon.duckdb"))
    for kind in ("units", "meters", "output", "budgets", "reported"):
        ingest_path(store, folder / "gen" / "registry" / f"{kind}.csv")
    ingest_path(store, folder / "gen" / "readings")
    run_monitoring(store, dt.date(2025, 1, 1), dt.date(2025, 2, 4))
    return store
