"""A dashboard on a store with data in it: the demo activity (province and cities), the demo
observations and a synthetic monitoring data set, with one user per role.

The browser tests of tests/web/ walk every page on it, as every role, in zh and en.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.platform.conftest import seed_users, serve_in_thread
from tests.stores import db_location

from carbonpeak.store import Store

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots" / "pages"


def _monitoring_registry(store: Store) -> tuple[str, str]:
    """An enterprise (uscc) of the synthetic monitoring set and the city of its first unit."""
    row = store.query("SELECT uscc, city FROM mon_units ORDER BY unit_id LIMIT 1")
    return str(row.iloc[0]["uscc"]), str(row.iloc[0]["city"])


def build_data_store(folder: Path) -> tuple[Store, dict[str, dict]]:
    """The store described above and its users (name -> role and scope)."""
    import datetime as dt

    from carbonpeak.demo import demo_files
    from carbonpeak.model.observation import load_observations
    from carbonpeak.monitoring.synthetic import generate
    from carbonpeak.store.monitoring import ingest_path
    from carbonpeak.workflows.inventory import import_activity
    from carbonpeak.workflows.monitoring_run import run_monitoring

    generate(folder / "gen", units=12, days=35, seed=7)
    store = Store(db_location(folder / "pages.duckdb"))
    for kind in ("units", "meters", "output", "budgets", "reported"):
        ingest_path(store, folder / "gen" / "registry" / f"{kind}.csv")
    ingest_path(store, folder / "gen" / "readings")
    run_monitoring(store, dt.date(2025, 1, 1), dt.date(2025, 2, 4))
    files = demo_files("activity") + demo_files("activity_cities")
    import_activity(store, [(p, p.name) for p in files], submitter="test")
    obs = load_observations(demo_files("observations"))
    store.import_frame("observations", obs, kind="observations", source="demo observations", submitter="test")
    uscc, _ = _monitoring_registry(store)
    users = {
        "admin": dict(role="admin"),
        "analyst": dict(role="province_analyst"),
        "gz_officer": dict(role="city_officer", city="GD-GZ"),
        "ent": dict(role="enterprise", enterprise_id=uscc),
        "verifier": dict(role="verifier", assigned=[uscc]),
    }
    seed_users(store, users)
    return store, users


@pytest.fixture(scope="session")
def data_site(tmp_path_factory):
    store, users = build_data_store(tmp_path_factory.mktemp("pages"))
    with serve_in_thread(store) as url:
        yield url, users
    store.close()


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module: a second Playwright (sync) instance cannot start while one
    is running, and the other browser tests (tests/platform, tests/scenarios) start their own."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make system-deps` (Debian package chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()
