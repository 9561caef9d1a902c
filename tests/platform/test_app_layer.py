"""Issue 10 §2: one application layer for the CLI, the API and the dashboard.

* ``CARBONPEAK_GWP=AR6`` changes the inventory of the CLI chain, of the API and of the dashboard
  alike (settings are resolved once, in ``carbonpeak.workflows.settings``).
* Reviewing an alert applies the same role checks and records the same credit event whether it
  comes from the CLI or from the API.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from tests.platform.conftest import PW, monitored_store
from tests.stores import db_location

from carbonpeak.cli import main
from carbonpeak.config import get_settings
from carbonpeak.demo import demo_files
from carbonpeak.model.activity import load_activity
from carbonpeak.store import Store
from carbonpeak.store.users import add_user
from carbonpeak.web import create_site


@pytest.fixture
def ar6(monkeypatch):
    monkeypatch.setenv("CARBONPEAK_GWP", "AR6")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("CARBONPEAK_GWP")
    get_settings.cache_clear()


@pytest.fixture
def activity_store(tmp_path):
    store = Store(db_location(tmp_path / "a.duckdb"))
    act = load_activity(demo_files("activity"))
    store.import_frame("activity", act, kind="activity", source="demo activity", submitter="test")
    add_user(store, "analyst", PW, "province_analyst")
    yield store
    store.close()


def _total(summary: dict) -> str:
    return json.dumps(summary, sort_keys=True, default=str)  # the whole summary: any figure may move


def test_gwp_setting_reaches_cli_api_and_dashboard_alike(activity_store, ar6, tmp_path):
    from carbonpeak.cli.targets import load_chain
    from carbonpeak.workflows.inventory import inventory
    from carbonpeak.workflows.settings import resolve

    assert resolve().gwp == "AR6"
    # the dashboard's inventory (web.data calls this workflow)
    assert inventory(activity_store).gwp == "AR6"
    # the CLI chain (carbonpeak assess)
    ch = load_chain(activity=demo_files("activity"), observations=None, db=None, base_year=2020,
                    outlook=False, scenario="plan", draws=10, seed=0)
    assert ch.inventory.gwp == "AR6"
    # the API: no gwp in the request means the setting's
    with TestClient(create_site(activity_store, session_ttl=timedelta(minutes=5), login_limit=100)) as c:
        tok = c.post("/api/auth/login", json={"username": "analyst", "password": PW}).json()["token"]
        h = {"Authorization": f"Bearer {tok}"}
        default = c.post("/api/inventory/compile", headers=h, json={"year": 2020}).json()
        ar6_ = c.post("/api/inventory/compile", headers=h, json={"year": 2020, "gwp": "AR6"}).json()
        ar5_ = c.post("/api/inventory/compile", headers=h, json={"year": 2020, "gwp": "AR5"}).json()
    assert _total(default) == _total(ar6_)
    assert _total(default) != _total(ar5_)


@pytest.fixture(scope="module")
def mon_db(tmp_path_factory):
    d = tmp_path_factory.mktemp("review")
    store = monitored_store(d)
    alerts = store.query(
        "SELECT a.alert_id, a.kind, u.uscc FROM mon_alerts a JOIN mon_units_current u USING (unit_id) "
        "WHERE a.kind IN ('reported_vs_metered', 'digit_test', 'flat_line', 'submeter_mismatch', "
        "'under_reporting', 'negative_value', 'spike', 'counter_reset') ORDER BY a.alert_id"
    )
    uscc = alerts["uscc"].value_counts().idxmax()  # the enterprise with the most such alerts
    assert (alerts["uscc"] == uscc).sum() >= 2, "the synthetic set must have falsification-type alerts"
    add_user(store, "analyst", PW, "province_analyst")
    add_user(store, "ent", PW, "enterprise", enterprise_id=uscc)
    add_user(store, "verifier", PW, "verifier", assigned=[uscc])
    store.con.execute("CHECKPOINT")
    store.close()
    yield d / "mon.duckdb", alerts[alerts["uscc"] == uscc]["alert_id"].tolist()
    shutil.rmtree(d, ignore_errors=True)


def _credit(db) -> list[tuple]:
    with Store(db) as store:
        return [tuple(r) for r in store.con.execute(
            "SELECT enterprise_id, kind, detail FROM credit_events ORDER BY detail").fetchall()]


def test_review_from_cli_and_api_same_checks_and_credit_event(mon_db, tmp_path, capsys):
    src, alert_ids = mon_db
    a_cli, a_api = alert_ids[0], alert_ids[1]
    db = db_location(tmp_path / "r.duckdb")
    shutil.copy(src, db)
    keys = src.parent / (src.name + ".audit-keys.json")
    if keys.exists():  # the audit keyring travels with its store
        shutil.copy(keys, tmp_path / (db.name + ".audit-keys.json"))

    # the enterprise itself may not review, from either side
    assert main(["monitor", "review", a_cli, "--comment", "mine", "--reviewer", "ent", "--db", str(db)]) == 2
    assert "verifier" in capsys.readouterr().err
    # an unknown name is not an operator of a store with accounts
    assert main(["monitor", "review", a_cli, "--comment", "x", "--reviewer", "nobody", "--db", str(db)]) == 2
    capsys.readouterr()
    store = Store(db)
    with TestClient(create_site(store, session_ttl=timedelta(minutes=5), login_limit=100)) as c:
        def h(user):
            tok = c.post("/api/auth/login", json={"username": user, "password": PW}).json()["token"]
            return {"Authorization": f"Bearer {tok}"}

        r = c.post(f"/api/monitoring/alerts/{a_api}/review", headers=h("ent"), json={"comment": "mine"})
        assert r.status_code == 403
        r = c.post(f"/api/monitoring/alerts/{a_api}/review", headers=h("verifier"),
                   json={"comment": "meter bypassed", "outcome": "confirmed_falsification"})
        assert r.status_code == 200, r.text
    store.close()
    assert main(["monitor", "review", a_cli, "--comment", "meter bypassed", "--reviewer", "verifier",
                 "--outcome", "confirmed_falsification", "--db", str(db), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "reviewed"
    assert out["reviewed_by"] == "verifier"
    events = _credit(db)
    kinds = {(e[1], e[2].split(":")[0]) for e in events}
    assert kinds == {("confirmed_falsification", f"alert {a_cli}"), ("confirmed_falsification", f"alert {a_api}")}
    assert len({e[0] for e in events}) == 1
