"""A service with one user per role and scope, on a temporary store."""

from __future__ import annotations

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


_EMPTY_TEMPLATES: dict[str, object] = {}


def _empty_template(tmp_path_factory):
    """Users and registry, no inventory data: an empty platform. Built once per session (argon2 is slow)."""
    key = str(tmp_path_factory.getbasetemp())
    if key not in _EMPTY_TEMPLATES:
        path = db_location(tmp_path_factory.mktemp("template-empty") / "svc.duckdb")
        store = Store(path)
        seed_users(store, USERS)
        seed_registry(store)
        store.con.execute("CHECKPOINT")
        store.close()
        _EMPTY_TEMPLATES[key] = path
    return _EMPTY_TEMPLATES[key]


@pytest.fixture(scope="session")
def _empty_template_db(tmp_path_factory):
    return _empty_template(tmp_path_factory)


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory):
    """The empty template with the bundled demo loaded explicitly (`carbonpeak demo load`); each test gets a copy."""
    from carbonpeak.workflows.demo import load_demo

    path = copy_store(_empty_template(tmp_path_factory), tmp_path_factory.mktemp("template") / "svc.duckdb")
    store = Store(path)
    load_demo(store)
    store.con.execute("CHECKPOINT")
    store.close()
    return path


def _platform(tmp_path, template):
    # the audit keyring travels with its store (docs/security.md, "Key handling")
    copy_store(template, tmp_path / "svc.duckdb")
    store = Store(db_location(tmp_path / "svc.duckdb"))
    app = create_app(store, session_ttl=timedelta(minutes=5), login_limit=50)
    with TestClient(app) as client:
        yield client, store
    store.close()


@pytest.fixture
def platform(tmp_path, _template_db):
    """The service on a copy of the demo-loaded template store."""
    yield from _platform(tmp_path, _template_db)


@pytest.fixture
def empty_platform(tmp_path, _empty_template_db):
    """The service on a store with users but no inventory data (the demo not loaded)."""
    yield from _platform(tmp_path, _empty_template_db)


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
