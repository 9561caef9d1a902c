"""Monitoring data through the API, scoped: each role sees only its units' alerts and PUE.

Uses the seeded SYNTHETIC generator of issue 5 (a few dozen units, 35 days), ingests and runs
the pipeline once per module, then asks as each role.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.platform.conftest import PW, monitored_store
from tests.stores import copy_store, db_location

from carbonpeak.store import Store
from carbonpeak.store.users import add_user
from carbonpeak.web import create_site

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mon(tmp_path_factory):
    d = tmp_path_factory.mktemp("mon")
    store = monitored_store(d)
    units = store.query("SELECT unit_id, uscc, city FROM mon_units_current")
    alerted = store.query("SELECT DISTINCT a.unit_id FROM mon_alerts a")["unit_id"]
    target = units[units["unit_id"].isin(alerted)].iloc[0]
    other = units[(units["city"] != target["city"]) & (units["uscc"] != target["uscc"])].iloc[0]
    add_user(store, "analyst", PW, "province_analyst")
    add_user(store, "officer", PW, "city_officer", city=target["city"])
    add_user(store, "ent", PW, "enterprise", enterprise_id=target["uscc"])
    add_user(store, "other_ent", PW, "enterprise", enterprise_id=other["uscc"])
    add_user(store, "verifier", PW, "verifier", assigned=[target["uscc"]])
    store.con.execute("CHECKPOINT")
    store.close()
    yield d / "mon.duckdb", target, units
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def client(mon, tmp_path):
    db, target, units = mon
    copy_store(db, tmp_path / "m.duckdb")
    store = Store(db_location(tmp_path / "m.duckdb"))
    with TestClient(create_site(store, session_ttl=timedelta(minutes=5), login_limit=100)) as c:
        yield c, target, units
    store.close()


def _h(c, user):
    tok = c.post("/api/auth/login", json={"username": user, "password": PW}).json()["token"]
    c.cookies.clear()
    return {"Authorization": f"Bearer {tok}"}


def test_alerts_scoped_by_role(client):
    c, target, units = client
    city_of = dict(zip(units["unit_id"], units["city"], strict=True))
    uscc_of = dict(zip(units["unit_id"], units["uscc"], strict=True))
    everything = c.get("/api/monitoring/alerts", headers=_h(c, "analyst")).json()
    assert len(everything) > 0
    officer = c.get("/api/monitoring/alerts", headers=_h(c, "officer")).json()
    assert officer
    assert {city_of[a["unit_id"]] for a in officer} == {target["city"]}
    ent = c.get("/api/monitoring/alerts", headers=_h(c, "ent")).json()
    assert ent
    assert {uscc_of[a["unit_id"]] for a in ent} == {target["uscc"]}
    other = c.get("/api/monitoring/alerts", headers=_h(c, "other_ent")).json()
    assert target["unit_id"] not in {a["unit_id"] for a in other}
    assert len(officer) < len(everything)


def test_review_by_assigned_verifier_only(client):
    c, _, _ = client
    alert = c.get("/api/monitoring/alerts", headers=_h(c, "ent")).json()[0]
    url = f"/api/monitoring/alerts/{alert['alert_id']}/review"
    body = {"comment": "checked the meter on site; reading confirmed"}
    assert c.post(url, headers=_h(c, "other_ent"), json=body).status_code == 404
    assert c.post(url, headers=_h(c, "ent"), json=body).status_code == 403
    assert c.post(url, headers=_h(c, "officer"), json=body).status_code == 403
    r = c.post(url, headers=_h(c, "verifier"), json=body)
    assert r.status_code == 200
    assert r.json()["status"] == "reviewed"
    reviewed = c.get("/api/monitoring/alerts?status=reviewed", headers=_h(c, "analyst")).json()
    assert alert["alert_id"] in {a["alert_id"] for a in reviewed}
    trail = c.get("/api/audit", headers=_h(c, "analyst")).json()
    assert any(e["entity_id"] == alert["alert_id"] for e in trail)


def test_pue_and_units_scoped(client):
    c, target, _ = client
    units = c.get("/api/monitoring/units", headers=_h(c, "ent")).json()
    assert {u["uscc"] for u in units} == {target["uscc"]}
    pue_all = c.get("/api/monitoring/pue", headers=_h(c, "analyst")).json()
    assert pue_all
    pue_other = c.get("/api/monitoring/pue", headers=_h(c, "other_ent")).json()
    assert all(p["unit_id"] != target["unit_id"] for p in pue_other)


def test_dashboard_monitoring_page_scoped(client):
    c, target, _ = client
    _h(c, "officer")
    c.post("/api/auth/login", json={"username": "officer", "password": PW})
    from carbonpeak.web.data import region_name

    html = c.get("/monitoring").text
    # the page names cities as people read them (东莞市), the code where no name is known
    assert target["city"] in html or region_name(target["city"], "zh") in html
    other_cities = {"GD-GZ", "GD-SZ", "GD-ZH"} - {target["city"]}
    assert not any(f"<td>{oc}</td>" in html or f"<td>{region_name(oc, 'zh')}</td>" in html for oc in other_cities)


def _wait(c, h, job_id):
    import time

    for _ in range(900):
        st = c.get(f"/api/jobs/{job_id}", headers=h).json()
        if st["status"] in ("done", "failed"):
            return st
        time.sleep(0.2)
    raise AssertionError("job did not finish")


def test_enterprise_ingests_own_readings_only(client):
    c, target, _ = client
    h = _h(c, "ent")
    meters = c.get("/api/monitoring/units", headers=h).json()
    assert meters
    own_meter = c.app.state.cp.store.query(
        "SELECT meter_id FROM mon_meters_current WHERE unit_id = ? LIMIT 1", [target["unit_id"]]
    )["meter_id"][0]
    other_meter = c.app.state.cp.store.query(
        "SELECT m.meter_id FROM mon_meters_current m JOIN mon_units_current u USING (unit_id) WHERE u.uscc <> ? LIMIT 1",
        [target["uscc"]],
    )["meter_id"][0]
    good = f"meter_id,ts,value\n{own_meter},2025-03-01T00:00:00+08:00,1.5\n".encode()
    r = c.post("/api/monitoring/ingest", headers=h, files=[("files", ("r.csv", good, "text/csv"))])
    assert r.status_code == 202, r.text
    st = _wait(c, h, r.json()["job_id"])
    assert st["status"] == "done", st["error"]
    assert st["result"][0]["kind"] == "readings"
    foreign = f"meter_id,ts,value\n{other_meter},2025-03-01T00:00:00+08:00,1.5\n".encode()
    r = c.post("/api/monitoring/ingest", headers=h, files=[("files", ("f.csv", foreign, "text/csv"))])
    assert r.status_code == 403
    units_csv = b"unit_id,name\nX,Y\n"
    r = c.post("/api/monitoring/ingest", headers=h, files=[("files", ("units.csv", units_csv, "text/csv"))])
    assert r.status_code in (403, 422)
    assert (
        c.post(
            "/api/monitoring/ingest", headers=_h(c, "officer"), files=[("files", ("r.csv", good, "text/csv"))]
        ).status_code
        == 403
    )


def test_projection_run_and_montecarlo_job(client):
    c, _, _ = client
    h = _h(c, "analyst")
    assert "plan" in c.get("/api/projections/scenarios", headers=h).json()
    run = c.post("/api/projections/run", headers=h, json={"scenario": "plan"}).json()
    assert {"peak_year", "peak_co2_t", "trajectory"} <= set(run)
    assert c.post("/api/projections/run", headers=h, json={"scenario": "../../etc/passwd"}).status_code == 422
    assert c.post("/api/projections/run", headers=_h(c, "ent"), json={"scenario": "plan"}).status_code == 403
    job = c.post(
        "/api/projections/montecarlo", headers=h, json={"scenario": "plan", "draws": 200, "seed": 1}
    ).json()
    st = _wait(c, h, job["job_id"])
    assert st["status"] == "done", st["error"]
    assert 0 <= st["result"]["p_peak_before_2030"] <= 1


FALSIFICATION_KINDS = (
    "reported_vs_metered",
    "flat_line",
    "submeter_mismatch",
    "negative_value",
    "spike",
    "counter_reset",
)


def test_confirmed_falsification_feeds_credit_record(client):
    c, _, _ = client
    store = c.app.state.cp.store
    row = store.query(
        "SELECT a.alert_id, a.kind, u.uscc FROM mon_alerts a JOIN mon_units_current u USING (unit_id) "
        f"WHERE a.kind IN ({', '.join(repr(k) for k in FALSIFICATION_KINDS)}) LIMIT 1"
    ).iloc[0]
    store.con.execute("UPDATE users SET assigned = ? WHERE username = 'verifier'", [row["uscc"]])
    hv = _h(c, "verifier")
    url = f"/api/monitoring/alerts/{row['alert_id']}/review"
    r = c.post(
        url, headers=hv, json={"comment": "metered data show 30 % more", "outcome": "confirmed_falsification"}
    )
    assert r.status_code == 200, r.text
    rec = c.get("/api/credit", headers=_h(c, "analyst")).json()
    assert any(e["enterprise_id"] == row["uscc"] and e["kind"] == "confirmed_falsification" for e in rec)
    # a PUE or budget alert cannot be "confirmed as falsification"
    other = store.query("SELECT alert_id FROM mon_alerts WHERE kind = 'pue_over_limit' LIMIT 1")["alert_id"][
        0
    ]
    r = c.post(
        f"/api/monitoring/alerts/{other}/review",
        headers=_h(c, "analyst"),
        json={"comment": "x", "outcome": "confirmed_falsification"},
    )
    assert r.status_code == 400


def test_missed_deadlines_recorded_once(client):
    c, target, units = client
    h = _h(c, "analyst")
    meter = c.app.state.cp.store.query(
        "SELECT m.meter_id FROM mon_meters_current m JOIN mon_units_current u USING (unit_id) WHERE u.uscc = ? LIMIT 1",
        [target["uscc"]],
    )["meter_id"][0]
    good = f"meter_id,ts,value\n{meter},2025-03-01T00:00:00+08:00,10\n".encode()  # a meter of its own
    he = _h(c, "ent")
    assert (
        c.post(
            "/api/submissions",
            headers=he,
            data={"kind": "readings", "period": "2025-03"},
            files={"file": ("r.csv", good, "text/csv")},
        ).status_code
        == 201
    )
    body = {"kind": "readings", "period": "2025-03", "due": "2099-04-15"}
    r1 = c.post("/api/credit/check-deadlines", headers=h, json=body).json()
    assert target["uscc"] not in r1["missed"]
    assert r1["count"] == units["uscc"].nunique() - 1
    c.post("/api/credit/check-deadlines", headers=h, json=body)
    rec = c.get("/api/credit", headers=h).json()
    assert sum(1 for e in rec if e["kind"] == "missed_deadline") == r1["count"]
    assert c.post("/api/credit/check-deadlines", headers=he, json=body).status_code == 403


def test_repeated_limit_breaches_are_derived(client):
    c, _, _ = client
    store = c.app.state.cp.store
    uscc = store.query(
        "SELECT u.uscc FROM mon_alerts a JOIN mon_units_current u USING (unit_id) "
        "WHERE a.kind IN ('pue_over_limit', 'product_over_limit') GROUP BY u.uscc ORDER BY count(*) DESC LIMIT 1"
    )["uscc"][0]
    n = int(
        store.query(
            "SELECT count(*) n FROM mon_alerts a JOIN mon_units_current u USING (unit_id) "
            "WHERE u.uscc = ? AND a.kind IN ('pue_over_limit', 'product_over_limit', 'budget_over')",
            [uscc],
        )["n"][0]
    )
    rec = c.get("/api/credit", headers=_h(c, "analyst")).json()
    derived = [e for e in rec if e["enterprise_id"] == uscc and e["kind"] == "repeated_limit_breach"]
    assert (len(derived) >= 1) == (n >= 2)


def test_alert_messages_in_the_request_language(client):
    """Issue 12: every stored alert has a message key; the API answers ``message`` in the request's
    language with ``message_key`` and ``params`` beside, and keeps ``observed``/``why`` in English."""
    c, target, units = client
    h = _h(c, "analyst")
    en = c.get("/api/monitoring/alerts", headers=h).json()
    zh = c.get("/api/monitoring/alerts?lang=zh", headers=h).json()
    zh_hdr = c.get("/api/monitoring/alerts", headers={**h, "Accept-Language": "zh-CN,zh;q=0.9"}).json()
    assert en
    assert len(en) == len(zh) == len(zh_hdr)
    for a, b, b2 in zip(en, zh, zh_hdr, strict=True):
        assert a["alert_id"] == b["alert_id"]
        assert a["message_key"]
        assert a["message_key"].startswith("alert_obs.")
        assert isinstance(a["params"], dict)
        assert a["params"] == b["params"]
        assert a["observed"] == b["observed"]
        assert a["why"] == b["why"]
        assert a["message"] == f"{a['observed']} — {a['why']}"
        assert b["message"] == b2["message"] != a["message"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in b["message"]), b["message"]
    # the enterprise page shows its alerts in the page's language
    import html

    c.post("/api/auth/login", json={"username": "ent", "password": PW})
    page = html.unescape(c.get("/enterprise?lang=zh").text)
    en_page = html.unescape(c.get("/enterprise?lang=en").text)
    mine = [a for a in zh if a["unit_id"] in set(units[units["uscc"] == target["uscc"]]["unit_id"])]
    assert mine
    assert mine[0]["message"] in page
    assert mine[0]["message"] not in en_page


def test_enterprise_export_for_people_reimports_unchanged(client, tmp_path):
    """Issue 12: the enterprise's ZIP export has headers for people (zh, with units) and re-imports
    as it was: its readings file, ingested again, changes nothing (every reading unchanged), and
    each labelled file reads back as the ids variant."""
    import io
    import zipfile

    from carbonpeak.io.tables import FILE_COL, ROW_COL, read_table
    from carbonpeak.store.monitoring import ingest_path

    c, _target, _ = client
    h = _h(c, "ent")
    lab = zipfile.ZipFile(io.BytesIO(c.get("/api/enterprise/export?lang=zh", headers=h).content))
    ids = zipfile.ZipFile(io.BytesIO(c.get("/api/enterprise/export?headers=ids", headers=h).content))
    head = lab.read("readings.csv").decode("utf-8-sig").splitlines()[0]
    assert head.startswith("计量器具编号,时间,数值")
    assert ids.read("readings.csv").decode("utf-8-sig").startswith("meter_id,ts,value")
    assert "能耗 (tce)" in lab.read("unit_day.csv").decode("utf-8-sig").splitlines()[0]
    for name in ("units.csv", "meters.csv", "readings.csv", "budgets.csv", "unit_day.csv"):
        (tmp_path / f"l-{name}").write_bytes(lab.read(name))
        (tmp_path / f"i-{name}").write_bytes(ids.read(name))
        a = read_table(tmp_path / f"l-{name}").drop(columns=[ROW_COL, FILE_COL])
        b = read_table(tmp_path / f"i-{name}").drop(columns=[ROW_COL, FILE_COL])
        pd.testing.assert_frame_equal(a, b)
    rows = len(read_table(tmp_path / "l-readings.csv"))
    assert rows > 0
    # the alerts say what was observed in the reader's language
    assert any("\u4e00" <= ch <= "\u9fff" for ch in lab.read("alerts.csv").decode("utf-8-sig").splitlines()[1])
    res = ingest_path(c.app.state.cp.store, tmp_path / "l-readings.csv", submitter="ent")
    assert res.kind == "readings"
    assert (res.inserted, res.corrected, res.unchanged) == (0, 0, rows)
