"""The markets' link to the peak plan in a real browser (headless Chromium, Playwright), in zh and
en: the province sees the verdict, the cap path against the projection, surplus/deficit by sector
and city with their Excel downloads and the balance values; a city officer only its own city's
covered entities (issue 11 §2, §6)."""

from __future__ import annotations

import pytest
from tests.markets.market_fixtures import seed_markets, seed_peak_link
from tests.markets.test_ledger_browser import _login
from tests.platform.conftest import seed_registry, seed_users, serve_in_thread
from tests.platform.test_browser import ROLES, SHOTS
from tests.platform.test_browser import browser as browser
from tests.stores import db_location

from carbonpeak.i18n import t
from carbonpeak.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.service]


@pytest.fixture(scope="module")
def peak_server(tmp_path_factory):
    store = Store(db_location(tmp_path_factory.mktemp("peakweb") / "web.duckdb"))
    seed_users(store, ROLES)
    seed_registry(store)
    seed_markets(store)
    seed_peak_link(store)
    with serve_in_thread(store) as url:
        yield url, store
    store.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_province_sees_the_cap_against_the_peak(peak_server, browser, lang):
    url, _ = peak_server
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx, page = _login(browser, url, "analyst", lang)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{url}/markets/peak?lang={lang}")   # no year: the latest allocated year (2024)
        assert t("markets.peak.title", lang) in page.inner_text("h1")
        for chart in ("path", "sector", "city"):
            page.wait_for_selector(f"#chart-peak-{chart} .main-svg")
        verdict = page.inner_text("#peak-consistent")
        assert verdict in (t("markets.peak.consistent", lang, peak_by=2030),
                           t("markets.peak.not_consistent", lang, peak_by=2030))
        assert page.inner_text("#peak-cap-share").endswith("%")
        assert "2030" in page.inner_text("#peak-path")
        sectors = page.inner_text("#peak-by_sector")
        assert "cement" in sectors
        assert "textiles" in sectors
        assert "GD-FS" in page.inner_text("#peak-by_city")
        # 880,000 t verified on 1,000,000 t clinker: balance value 0.8800 tCO2/t against the 0.85 run benchmark
        bv = page.inner_text("#peak-balance-values")
        assert "cement/clinker" in bv
        assert "0.8800" in bv
        assert t("markets.peak.method.benchmark", lang) in page.inner_text("#peak-entities")
        r = page.request.get(f"{url}/download/peak_by_sector?format=xlsx")
        assert r.status == 200
        assert r.body()[:2] == b"PK"
        assert not [e for e in errors if "Content Security Policy" in e], errors
        page.screenshot(path=str(SHOTS / f"markets-peak-{lang}.png"), full_page=True)
    finally:
        ctx.close()


def test_a_city_officer_sees_its_own_city_only(peak_server, browser):
    url, _ = peak_server
    ctx, page = _login(browser, url, "gz_officer", "zh")
    try:
        page.goto(f"{url}/markets/peak?year=2024")
        page.wait_for_selector("#chart-peak-city .main-svg")
        assert "ENT-P" in page.inner_text("#peak-entities")
        assert "ENT-Q" not in page.content()
        assert page.locator("#peak-verdict").count() == 0
        assert page.request.get(f"{url}/download/peak_path?format=csv").status == 403
        csv = page.request.get(f"{url}/download/peak_entities?format=csv&headers=ids").text()
        assert "ENT-P" in csv
        assert "ENT-Q" not in csv
        page.screenshot(path=str(SHOTS / "markets-peak-city-zh.png"), full_page=True)
    finally:
        ctx.close()
    ctx, page = _login(browser, url, "ent_a", "en")
    try:
        page.goto(f"{url}/markets/peak")
        assert page.locator("#error-message").inner_text() == "403"
    finally:
        ctx.close()
