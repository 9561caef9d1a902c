"""Issue 9: the role × endpoint matrix, generated from the app's own route table.

Every route of the site (API and dashboard) must have a rule in
:data:`carbonpeak.api.scopes.ROUTE_ROLES` (so a new endpoint without a declared scope rule fails
this suite), and every rule must name a real route.  Then every route is called by every role
and anonymously, with a valid example request: the declared roles succeed, the others get
401/403 (an anonymous dashboard visitor is sent to the login page), and nothing answers 500.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route
from tests.security import ingest_fixtures as fx
from tests.security.ingest_fixtures import PW

from carbonpeak.api.scopes import PUBLIC, ROUTE_ROLES
from carbonpeak.store.users import ROLES

_template_db, svc, upload_root = fx._template_db, fx.svc, fx.upload_root  # fixtures

#: One user per role (from the platform tests' users).
AS = {
    "admin": "admin",
    "province_analyst": "analyst",
    "city_officer": "gz_officer",
    "enterprise": "ent_a",
    "verifier": "verifier_a",
}
READINGS = b"meter_id,ts,value\nM1,2025-01-01T00:00:00+08:00,10\n"
ACTIVITY = b"year,region,category,item,amount,unit,source\n2020,GD,1.A.1.a,natural_gas,100,10^4 Nm3,test\n"
SUB = "/api/submissions/ENT-A/readings/2025-01"
OBSERVATIONS = "indicator,region,year,value,unit,source\npopulation,GD-GZ,2022,1873,万人,广州统计年鉴2023\n".encode()

Req = tuple[str, str, dict[str, Any]]
#: (method, path) -> a valid request as the given user: (method, url, httpx keyword arguments).
EXAMPLES: dict[tuple[str, str], Callable[[str], Req]] = {
    ("GET", "/api/health"): lambda u: ("GET", "/api/health", {}),
    ("POST", "/api/auth/login"): lambda u: ("POST", "/api/auth/login", {"json": {"username": "analyst", "password": PW}}),
    ("POST", "/api/auth/logout"): lambda u: ("POST", "/api/auth/logout", {}),
    ("GET", "/api/me"): lambda u: ("GET", "/api/me", {}),
    ("POST", "/api/auth/password"): lambda u: (
        "POST",
        "/api/auth/password",
        {"json": {"old_password": PW, "new_password": f"Lychee-season ferry 7 tides {len(u)}"}},
    ),
    ("GET", "/api/users"): lambda u: ("GET", "/api/users", {}),
    ("POST", "/api/users"): lambda u: (
        "POST",
        "/api/users",
        {"json": {"username": f"new_{u}", "password": "a long enough passphrase", "role": "province_analyst"}},
    ),
    ("POST", "/api/users/{username}/disable"): lambda u: ("POST", "/api/users/mallory/disable", {}),
    ("GET", "/api/factors"): lambda u: ("GET", "/api/factors?item=natural_gas", {}),
    ("GET", "/api/targets"): lambda u: ("GET", "/api/targets", {}),
    ("POST", "/api/inventory/compile"): lambda u: ("POST", "/api/inventory/compile", {"json": {}}),
    ("POST", "/api/activity"): lambda u: ("POST", "/api/activity", {"files": {"files": ("a.csv", ACTIVITY, "text/csv")}}),
    ("POST", "/api/observations"): lambda u: (
        "POST",
        "/api/observations",
        {"files": {"files": ("o.csv", OBSERVATIONS, "text/csv")}},
    ),
    ("GET", "/api/templates/{kind}"): lambda u: ("GET", "/api/templates/activity?lang=en", {}),
    ("POST", "/api/submissions"): lambda u: (
        "POST",
        "/api/submissions",
        {
            "data": {"kind": "readings", "period": "2025-01", **({"enterprise_id": "ENT-A"} if u == "admin" else {})},
            "files": {"file": ("r.csv", READINGS, "text/csv")},
        },
    ),
    ("GET", "/api/submissions"): lambda u: ("GET", "/api/submissions", {}),
    ("GET", "/api/submissions/{enterprise_id}/{kind}/{period}"): lambda u: ("GET", SUB, {}),
    ("POST", "/api/submissions/{enterprise_id}/{kind}/{period}/versions/{version}/sign-off"): lambda u: (
        "POST",
        f"{SUB}/versions/1/sign-off",
        {},
    ),
    ("GET", "/api/assessment"): lambda u: ("GET", "/api/assessment", {}),
    ("POST", "/api/reports/assessment"): lambda u: ("POST", "/api/reports/assessment", {"json": {"pdf": False}}),
    ("GET", "/api/reports/{name}"): lambda u: ("GET", "/api/reports/r.html", {}),
    ("GET", "/api/projections/scenarios"): lambda u: ("GET", "/api/projections/scenarios", {}),
    ("POST", "/api/projections/run"): lambda u: ("POST", "/api/projections/run", {"json": {"scenario": "plan"}}),
    ("POST", "/api/projections/montecarlo"): lambda u: (
        "POST",
        "/api/projections/montecarlo",
        {"json": {"scenario": "plan", "draws": 10}},
    ),
    ("GET", "/api/projections/levers"): lambda u: ("GET", "/api/projections/levers", {}),
    ("POST", "/api/projections/levers"): lambda u: (
        "POST",
        "/api/projections/levers",
        {"json": {"scenario": "plan", "draws": 10}},
    ),
    ("POST", "/api/monitoring/ingest"): lambda u: (
        "POST",
        "/api/monitoring/ingest",
        {"files": {"files": ("r.csv", READINGS, "text/csv")}},
    ),
    ("GET", "/api/monitoring/units"): lambda u: ("GET", "/api/monitoring/units", {}),
    ("GET", "/api/monitoring/alerts"): lambda u: ("GET", "/api/monitoring/alerts", {}),
    ("POST", "/api/monitoring/alerts/{alert_id}/review"): lambda u: (
        "POST",
        "/api/monitoring/alerts/AL-A/review",
        {"json": {"comment": "checked"}},
    ),
    ("GET", "/api/monitoring/pue"): lambda u: ("GET", "/api/monitoring/pue", {}),
    ("GET", "/api/enterprise/export"): lambda u: ("GET", "/api/enterprise/export", {}),
    ("POST", "/api/credit"): lambda u: (
        "POST",
        "/api/credit",
        {"json": {"enterprise_id": "ENT-A", "kind": "missed_deadline", "detail": "late"}},
    ),
    ("POST", "/api/credit/check-deadlines"): lambda u: (
        "POST",
        "/api/credit/check-deadlines",
        {"json": {"kind": "readings", "period": "2025-01", "due": "2025-02-15"}},
    ),
    ("GET", "/api/credit"): lambda u: ("GET", "/api/credit", {}),
    ("GET", "/api/credit/export.csv"): lambda u: ("GET", "/api/credit/export.csv", {}),
    # markets (tests/markets/market_fixtures.py seeds what these refer to)
    ("GET", "/api/markets/accounts"): lambda u: ("GET", "/api/markets/accounts", {}),
    ("GET", "/api/markets/accounts/{account_id}"): lambda u: ("GET", "/api/markets/accounts/ENT-A:holding", {}),
    ("GET", "/api/markets/accounts/{account_id}/statement"): lambda u: (
        "GET", "/api/markets/accounts/ENT-A:holding/statement?start=2020-01-01&end=2100-01-01", {}),
    ("GET", "/api/markets/serials/{unit_type}/{vintage}/{serial}"): lambda u: (
        "GET", "/api/markets/serials/GDEA/2024/1", {}),
    ("GET", "/api/markets/positions"): lambda u: ("GET", "/api/markets/positions", {}),
    ("GET", "/api/markets/overview"): lambda u: ("GET", "/api/markets/overview", {}),
    ("GET", "/api/markets/obligations"): lambda u: ("GET", "/api/markets/obligations?year=2024", {}),
    ("POST", "/api/markets/emissions/sign-off"): lambda u: (
        "POST", "/api/markets/emissions/sign-off", {"json": {"enterprise_id": "ENT-A", "year": 2024, "verified_t": 990}}),
    ("GET", "/api/markets/phcer/methodologies"): lambda u: ("GET", "/api/markets/phcer/methodologies", {}),
    ("GET", "/api/markets/phcer/applications"): lambda u: ("GET", "/api/markets/phcer/applications", {}),
    ("POST", "/api/markets/transfer"): lambda u: ("POST", "/api/markets/transfer", {"json": {
        "from_account": "ENT-A:holding", "to_account": "ENT-B:holding", "unit_type": "GDEA", "vintage": 2024,
        "quantity": 1}}),
    ("POST", "/api/markets/surrender"): lambda u: ("POST", "/api/markets/surrender", {"json": {
        "enterprise_id": "ENT-A", "year": 2024, "unit_type": "GDEA", "vintage": 2024, "quantity": 1}}),
    ("POST", "/api/markets/retire"): lambda u: ("POST", "/api/markets/retire", {"json": {
        "from_account": "ENT-A:holding", "unit_type": "GDEA", "vintage": 2024, "quantity": 1,
        "reference": "carbon-neutral event"}}),
    ("POST", "/api/markets/allocate"): lambda u: ("POST", "/api/markets/allocate", {"json": {
        "year": 2025, "allocations": [{"enterprise_id": "ENT-A", "city": "GD-GZ", "quantity": 10}]}}),
    ("POST", "/api/markets/energy-rights/allocate"): lambda u: (
        "POST", "/api/markets/energy-rights/allocate", {"json": {"year": 2025}}),
    ("POST", "/api/markets/phcer/applications"): lambda u: ("POST", "/api/markets/phcer/applications", {"json": {
        "application_id": f"APP-new-{u}", "methodology_id": "gd_pv_distributed", "version": "V01",
        "project": "rooftop PV", "owner": "ENT-A", "city": "GD-GZ", "vintage": 2024,
        "inputs": {"EG_y": 10, "EF_grid_y": 0.5}}}),
    ("POST", "/api/markets/phcer/applications/{application_id}/notice"): lambda u: (
        "POST", f"/api/markets/phcer/applications/APP-N-{u}/notice", {"json": {"start": "2025-03-03"}}),
    ("POST", "/api/markets/phcer/applications/{application_id}/verify"): lambda u: (
        "POST", f"/api/markets/phcer/applications/APP-V-{u}/verify", {"json": {"verified_t": 4.5}}),
    ("POST", "/api/markets/phcer/applications/{application_id}/issue"): lambda u: (
        "POST", f"/api/markets/phcer/applications/APP-I-{u}/issue", {}),
    ("POST", "/api/markets/phcer/applications/{application_id}/reject"): lambda u: (
        "POST", f"/api/markets/phcer/applications/APP-N-{u}/reject", {"json": {"reason": "benefit-sharing terms missing"}}),
    ("GET", "/api/markets/offset-pool"): lambda u: ("GET", "/api/markets/offset-pool?year=2024", {}),
    ("GET", "/api/markets/peak-link"): lambda u: ("GET", "/api/markets/peak-link?year=2024", {}),
    ("GET", "/api/markets/caps"): lambda u: ("GET", "/api/markets/caps", {}),
    ("PUT", "/api/markets/caps"): lambda u: ("PUT", "/api/markets/caps", {"json": {
        "year": 2031, "value": 2.7, "unit": "亿t", "source": "synthetic route-matrix value"}}),
    ("POST", "/api/markets/coverage"): lambda u: ("POST", "/api/markets/coverage", {"json": {
        "year": 2024, "widening": True, "enterprises": [{"enterprise_id": "ENT-P", "sector": "textiles"},
                                                        {"enterprise_id": "ENT-Q", "sector": "ceramics"}]}}),
    ("POST", "/api/markets/allocation"): lambda u: ("POST", "/api/markets/allocation", {"json": {
        "ruleset": "guangdong-2024", "year": 2024, "params": {"allocation.history.base_years": 3},
        "entities": [{"enterprise_id": "ENT-A", "sector": "textiles", "city": "GD-GZ"}],
        "override": [{"enterprise_id": "ENT-A", "base_emissions": "2021:1000;2022:1000;2023:1000",
                      "reason": "route-matrix override"}]}}),
    ("PUT", "/api/markets/offset-pool"): lambda u: ("PUT", "/api/markets/offset-pool", {"json": {
        "year": 2024, "value": 1.0, "unit": "Mt", "source": "route matrix example"}}),
    ("GET", "/api/audit"): lambda u: ("GET", "/api/audit", {}),
    ("GET", "/api/audit/verify"): lambda u: ("GET", "/api/audit/verify", {}),
    ("GET", "/api/jobs/{job_id}"): lambda u: ("GET", f"/api/jobs/job-of-{u}", {}),
    ("GET", "/api/admin/schedule"): lambda u: ("GET", "/api/admin/schedule", {}),
    ("GET", "/api/admin/schedule/history"): lambda u: ("GET", "/api/admin/schedule/history?limit=5", {}),
    ("POST", "/api/admin/schedule/{name}/run"): lambda u: (
        "POST",
        "/api/admin/schedule/deadline-readings-monthly/run",
        {},
    ),
    ("GET", "/openapi.json"): lambda u: ("GET", "/openapi.json", {}),
    ("GET", "/docs"): lambda u: ("GET", "/docs", {}),
    ("GET", "/static/vendor/plotly.min.js"): lambda u: ("GET", "/static/vendor/plotly.min.js", {}),
    ("GET", "/static/{name}"): lambda u: ("GET", "/static/app.css", {}),
    ("GET", "/"): lambda u: ("GET", "/", {}),
    ("GET", "/login"): lambda u: ("GET", "/login", {}),
    ("GET", "/download/{table}"): lambda u: ("GET", "/download/submissions?format=xlsx", {}),
    ("GET", "/logout"): lambda u: ("GET", "/logout", {}),
    ("GET", "/province"): lambda u: ("GET", "/province", {}),
    ("GET", "/cities"): lambda u: ("GET", "/cities", {}),
    ("GET", "/levers"): lambda u: ("GET", "/levers", {}),
    ("GET", "/account/password"): lambda u: ("GET", "/account/password", {}),
    ("GET", "/cities/{code}"): lambda u: ("GET", "/cities/GD-GZ", {}),
    ("GET", "/map"): lambda u: ("GET", "/map?indicator=emissions", {}),
    ("GET", "/monitoring"): lambda u: ("GET", "/monitoring", {}),
    ("GET", "/enterprise"): lambda u: ("GET", "/enterprise", {}),
    ("GET", "/audit"): lambda u: ("GET", "/audit", {}),
    ("GET", "/admin/schedule"): lambda u: ("GET", "/admin/schedule", {}),
    ("GET", "/markets"): lambda u: ("GET", "/markets?year=2024", {}),
    ("GET", "/markets/enterprise"): lambda u: ("GET", "/markets/enterprise?year=2024", {}),
    ("GET", "/markets/verifier"): lambda u: ("GET", "/markets/verifier?year=2024", {}),
    ("GET", "/markets/peak"): lambda u: ("GET", "/markets/peak?year=2024", {}),
}

#: Allowed callers whose valid request still answers a documented non-2xx (resource scope).
EXPECTED_NOT_2XX: dict[tuple[tuple[str, str], str], int] = {}


def _route_table(app) -> set[tuple[str, str]]:
    out = set()
    for r in app.routes:
        if isinstance(r, (APIRoute, Route)):
            for m in r.methods or ():
                if m != "HEAD":
                    out.add((m, r.path))
    return out


def test_every_route_has_a_declared_rule_and_an_example(svc):
    client, _ = svc
    table = _route_table(client.app)
    assert sorted(table - set(ROUTE_ROLES)) == [], "declare these routes in carbonpeak.api.scopes.ROUTE_ROLES"
    assert sorted(set(ROUTE_ROLES) - table) == [], "ROUTE_ROLES names routes that do not exist"
    assert sorted(table - set(EXAMPLES)) == [], "add an example request for these routes here"
    for rule in ROUTE_ROLES.values():
        assert rule == PUBLIC or (isinstance(rule, frozenset) and rule <= set(ROLES)), rule


def _seed(store) -> None:
    """What the example requests refer to: a submission of ENT-A, an alert on its unit, a job
    of every user, a report file, a user to disable."""
    import pandas as pd

    from carbonpeak.store.access import DataAccess
    from carbonpeak.store.users import Principal, add_user

    rows = pd.DataFrame({"meter_id": ["M1"], "ts": ["2025-01-01T00:00:00+08:00"], "value": [1.0], "__row__": [2], "__file__": ["r.csv"]})
    DataAccess(store, Principal("ent_a", "enterprise", enterprise_id="ENT-A")).submit(
        submission_id="ENT-A/readings/2025-01", kind="readings", rows=rows, enterprise_id="ENT-A", city="GD-GZ"
    )
    store.con.execute(
        "INSERT INTO mon_alerts (alert_id, kind, severity, unit_id, city, observed, location, why, rule_source, status) "
        "VALUES ('AL-A', 'negative_reading', 'high', 'U-A', 'GD-GZ', 'x', 'U-A', 'test', 'test', 'open')"
    )
    for user in AS.values():
        store.con.execute(
            "INSERT INTO jobs (job_id, kind, status, progress, owner, created_at) VALUES (?, 'test', 'done', 1, ?, ?)",
            [f"job-of-{user}", user, datetime.now(UTC)],
        )
    add_user(store, "mallory", "a long enough passphrase", "province_analyst")
    from tests.markets.market_fixtures import seed_markets, seed_peak_link

    seed_markets(store)
    seed_peak_link(store)
    Path("reports").mkdir()
    Path("reports/r.html").write_text("<p>report</p>", encoding="utf-8")


def _token(client, user: str) -> str:
    r = client.post("/api/auth/login", json={"username": user, "password": PW})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return r.json()["token"]


def _call(client, req: Req, token: str | None):
    method, url, kw = req
    client.cookies.clear()
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
        client.cookies.set("cp_session", token)
    return client.request(method, url, headers=headers, follow_redirects=False, **kw)


def _wait_for_jobs(store, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if store.query("SELECT count(*) n FROM jobs WHERE status IN ('queued', 'running')")["n"][0] == 0:
            return
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.parametrize("route", sorted(ROUTE_ROLES), ids=lambda r: f"{r[0]} {r[1]}")
def test_role_matrix(svc, route):
    client, store = svc
    _seed(store)
    rule = ROUTE_ROLES[route]
    example = EXAMPLES[route]
    web = not route[1].startswith("/api/")
    failures = []
    try:
        # anonymous
        r = _call(client, example("anonymous"), None)
        if rule == PUBLIC:
            ok = r.status_code < 400
        elif web:
            ok = r.status_code == 303 and r.headers["location"] == "/login"
        else:
            ok = r.status_code == 401
        if not ok:
            failures.append(("anonymous", r.status_code, r.text[:200]))
        for role, user in AS.items():
            r = _call(client, example(user), _token(client, user))
            if r.status_code >= 500:
                failures.append((user, r.status_code, r.text[:200]))
            elif rule == PUBLIC or role in rule:
                want = EXPECTED_NOT_2XX.get((route, user))
                if (r.status_code != want) if want else (r.status_code >= 400):
                    failures.append((user, r.status_code, r.text[:200]))
            elif r.status_code not in (401, 403):
                failures.append((user, r.status_code, r.text[:200]))
    finally:
        _wait_for_jobs(store)
    assert failures == [], failures
