"""The lever page: sliders drive the Monte Carlo outlook through /api/projections/levers (issue 15 §8).

Chromium is driven by Playwright as in tests/platform/test_browser.py; the page must work with no
inline script (the dashboard's Content-Security-Policy), so console errors fail the test.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect
from tests.platform.conftest import PW, seed_users, serve_in_thread
from tests.stores import db_location

from carbonpeak.store import Store

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
USERS = {"analyst": dict(role="province_analyst"), "gz_officer": dict(role="city_officer", city="GD-GZ"),
         "ent_a": dict(role="enterprise", enterprise_id="ENT-A")}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    store = Store(db_location(tmp_path_factory.mktemp("levers") / "web.duckdb"))
    seed_users(store, USERS)
    with serve_in_thread(store) as url:
        yield url
    store.close()


@pytest.mark.service
def test_lever_api_roles_and_validation(server):
    import httpx

    def login(user):
        c = httpx.Client(base_url=server, timeout=60)
        r = c.post("/api/auth/login", json={"username": user, "password": PW})
        assert r.status_code == 200, r.text
        return c

    c = login("gz_officer")
    table = c.get("/api/projections/levers").json()
    assert {r["lever"] for r in table} >= {"wind_solar_delivery", "storage_delivery", "gdp_growth_shift"}
    base = c.post("/api/projections/levers", json={"scenario": "plan", "draws": 200}).json()
    more = c.post("/api/projections/levers", json={"scenario": "plan", "draws": 200,
                                                   "settings": {"wind_solar_delivery": 2.0, "ev_delivery": 2.0,
                                                                "heavy_industry_delivery": 2.0}}).json()
    assert more["p_peak_before_2030"] > base["p_peak_before_2030"]
    assert base["headline"].startswith("plan: median peak year")
    lo, hi = base["p_peak_before_2030_interval"]
    assert lo <= base["p_peak_before_2030"] <= hi
    bad = c.post("/api/projections/levers", json={"scenario": "plan", "settings": {"no_such": 1.0}})
    assert bad.status_code == 422
    out = c.post("/api/projections/levers", json={"scenario": "plan", "settings": {"ev_delivery": 99}})
    assert out.status_code == 422
    assert login("ent_a").post("/api/projections/levers", json={}).status_code == 403


@pytest.mark.browser
@pytest.mark.service
def test_lever_page_updates_in_the_browser(server):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            ctx = b.new_context(viewport={"width": 1280, "height": 1000})
            # log in through the API (the province page computes a full outlook on first load)
            r = ctx.request.post(f"{server}/api/auth/login", data={"username": "analyst", "password": PW})
            assert r.ok
            page = ctx.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text)
                    if m.type == "error" and "Failed to load resource" not in m.text else None)
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("favicon.ico") else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{server}/levers?lang=en")
            assert page.locator("#nav-levers").count() == 1
            # the page's CSP forbids eval, so wait through locators, not wait_for_function(string)
            expect(page.locator("#lever-p")).to_contain_text("%", timeout=60000)
            first = page.inner_text("#lever-p")
            assert "±" in page.inner_text("#lever-p-ci")
            page.locator("#lever-gdp_growth_shift").fill("0.02")
            expect(page.locator("#lever-p")).not_to_have_text(first, timeout=60000)
            assert page.inner_text("#lever-p") != first
            assert "median peak year" in page.inner_text("#lever-headline")
            page.screenshot(path=str(SHOTS / "levers.png"), full_page=True)
            assert not errors, errors
        finally:
            b.close()
