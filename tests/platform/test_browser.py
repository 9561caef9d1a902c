"""The dashboard in a real browser: headless Chromium driven by Playwright (issue 6 §4).

Logs in as each role, checks what each sees and may not see, uploads a file (good and bad)
and saves screenshots under ``test-artifacts/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.platform.conftest import seed_registry, seed_users, serve_in_thread
from tests.stores import db_location

from carbonpeak.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.service]

PW = "correct horse battery"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
ROLES = {
    "admin": dict(role="admin"),
    "analyst": dict(role="province_analyst"),
    "gz_officer": dict(role="city_officer", city="GD-GZ"),
    "ent_a": dict(role="enterprise", enterprise_id="ENT-A"),
    "verifier_a": dict(role="verifier", assigned=["ENT-A"]),
}
# which nav links each role has (the pages themselves are also checked for 403 below)
NAV = {
    "admin": {"province", "cities", "monitoring", "enterprise", "audit"},
    "analyst": {"province", "cities", "monitoring", "audit"},
    "gz_officer": {"province", "cities", "monitoring"},
    "ent_a": {"monitoring", "enterprise"},
    "verifier_a": {"province", "monitoring", "audit"},
}
ALL_NAV = {"province", "cities", "monitoring", "enterprise", "audit"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = db_location(tmp_path_factory.mktemp("web") / "web.duckdb")
    store = Store(db)
    seed_users(store, ROLES)
    seed_registry(store)  # ENT-A's meters: an enterprise submits readings of its own meters only
    from carbonpeak.web.data import province_overview
    from carbonpeak.workflows.demo import load_demo

    load_demo(store)  # the charts need inventory data: the demo, loaded on purpose
    province_overview(store, "zh")  # inventory, assessment and peak outlook once, before a page waits for them
    with serve_in_thread(store) as url:
        yield url
    store.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make system-deps` (Debian package chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


def _login(browser, base, user, lang="zh"):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.goto(f"{base}/login?lang={lang}")
    page.fill("#username", user)
    page.fill("#password", PW)
    page.click("#login-submit")
    page.wait_for_selector("#whoami")
    return ctx, page


@pytest.mark.parametrize("user", list(ROLES))
def test_each_role_sees_its_pages_only(server, browser, user):
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx, page = _login(browser, server, user)
    try:
        assert user in page.inner_text("#whoami")
        for nav in ALL_NAV:
            assert (page.locator(f"#nav-{nav}").count() == 1) == (nav in NAV[user]), (user, nav)
        page.screenshot(path=str(SHOTS / f"{user}-home.png"), full_page=True)
        for nav in ALL_NAV - NAV[user]:
            if nav == "monitoring":
                continue
            page.goto(f"{server}/{nav}")
            assert page.locator("#error-message").inner_text() == "403", (user, nav)
    finally:
        ctx.close()


def test_city_officer_cannot_open_another_city(server, browser):
    ctx, page = _login(browser, server, "gz_officer")
    try:
        page.goto(f"{server}/cities")
        codes = page.locator(".tile").evaluate_all("els => els.map(e => e.dataset.code)")
        assert codes == ["GD-GZ"]
        page.goto(f"{server}/cities/GD-SZ")
        assert page.locator("#error-message").inner_text() == "403"
    finally:
        ctx.close()


def test_enterprise_upload_good_and_bad_file(server, browser, tmp_path):
    good = tmp_path / "readings.csv"
    good.write_text("meter_id,ts,value\nM1,2025-03-01T00:00:00+08:00,10\nM1,2025-03-01T00:15:00+08:00,11\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("meter_id,ts,value\nM1,2025-03-01T00:00:00+08:00,ten\nM1,yesterday,11\n")
    ctx, page = _login(browser, server, "ent_a", lang="en")
    try:
        page.goto(f"{server}/enterprise")
        page.set_input_files("#upload-file", str(bad))
        page.click("#upload-submit")
        page.wait_for_selector("#upload-errors:not([hidden])")
        rows = page.locator("#upload-errors tbody tr").all_inner_texts()
        cells = {tuple(r.split("\t")[:2]) for r in rows}
        assert cells == {("2", "value"), ("3", "ts")}
        page.screenshot(path=str(SHOTS / "enterprise-upload-errors.png"), full_page=True)
        page.set_input_files("#upload-file", str(good))
        page.click("#upload-submit")
        page.wait_for_selector("#upload-result.ok")
        assert "version 1" in page.inner_text("#upload-result")
        page.wait_for_load_state("load")
        page.wait_for_timeout(1200)
        page.goto(f"{server}/enterprise")
        assert "ENT-A/readings/" in page.inner_text("#submissions-table")
        page.screenshot(path=str(SHOTS / "enterprise-after-upload.png"), full_page=True)
    finally:
        ctx.close()


def test_language_switch(server, browser):
    ctx, page = _login(browser, server, "analyst", lang="zh")
    try:
        assert "全省概览" in page.inner_text("header")
        page.click("#lang-switch")
        page.wait_for_load_state("load")
        assert "Province" in page.inner_text("header")
        page.goto(f"{server}/province")
        assert "Province" in page.inner_text("header")  # the choice is remembered
        page.screenshot(path=str(SHOTS / "province-en.png"), full_page=True)
        page.goto(f"{server}/cities")
        page.screenshot(path=str(SHOTS / "cities-en.png"), full_page=True)
    finally:
        ctx.close()


def test_charts_load_offline(server, browser):
    """Plotly is served by the app itself; the page makes no request to any other host."""
    ctx, page = _login(browser, server, "analyst")
    foreign: list[str] = []
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(server) else None)
    try:
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        resp = page.goto(f"{server}/province")
        assert "script-src 'self'" in resp.headers["content-security-policy"]
        assert page.evaluate("typeof Plotly") == "object"
        # the charts are drawn under the Content-Security-Policy (no inline script, no eval)
        page.wait_for_selector("#chart-sectors .main-svg")
        assert page.locator(".js-plotly-plot").count() >= 1
        assert not [e for e in errors if "Content Security Policy" in e], errors
        assert foreign == []
    finally:
        ctx.close()
