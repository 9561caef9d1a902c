"""The markets pages in a real browser (headless Chromium, Playwright): an enterprise surrenders
from its accounts page in zh and en; the province sees the market overview (issue 11 §6)."""

from __future__ import annotations

import pytest
from tests.markets.market_fixtures import seed_markets
from tests.platform.conftest import seed_registry, seed_users, serve_in_thread
from tests.platform.test_browser import PW, ROLES, SHOTS
from tests.platform.test_browser import browser as browser
from tests.stores import db_location

from carbonpeak.i18n import t
from carbonpeak.store import Store
from carbonpeak.store import markets as sm

pytestmark = [pytest.mark.browser, pytest.mark.service]


def _login(browser, base, user, lang="zh"):
    """As tests/platform/test_browser.py, with a longer timeout (the home page of a province role
    computes the province overview; a loaded CI machine needs more than 30 s)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(120_000)
    page = ctx.new_page()
    page.goto(f"{base}/login?lang={lang}")
    page.fill("#username", user)
    page.fill("#password", PW)
    page.click("#login-submit")
    page.wait_for_selector("#whoami")
    return ctx, page


@pytest.fixture(scope="module")
def market_server(tmp_path_factory):
    store = Store(db_location(tmp_path_factory.mktemp("mkweb") / "web.duckdb"))
    seed_users(store, ROLES)
    seed_registry(store)
    seed_markets(store)
    with serve_in_thread(store) as url:
        yield url, store
    store.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_enterprise_surrenders_from_its_page(market_server, browser, lang):
    url, store = market_server
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx, page = _login(browser, url, "ent_a", lang)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        before = int(sm.balance(store, "ENT-A:holding")["balance"].sum())
        page.goto(f"{url}/markets/enterprise?year=2024&lang={lang}")
        assert t("markets.enterprise_title", lang) in page.inner_text("h1")
        assert "ENT-A:holding" in page.inner_text("#my-balances")
        assert "ENT-B" not in page.content()  # another enterprise's accounts never appear
        page.fill("#surrender-quantity", "5")
        # markets.js reloads the page 0.8 s after a surrender: wait for that reload, or the next
        # goto races with it (net::ERR_ABORTED, seen in a fresh-clone run)
        with page.expect_navigation():
            page.click("#surrender-submit")
            page.wait_for_selector("#surrender-result.ok")
            assert page.inner_text("#surrender-result") == t("markets.msg.done", lang, n=5, unit="GDEA")
        assert int(sm.balance(store, "ENT-A:holding")["balance"].sum()) == before - 5
        page.screenshot(path=str(SHOTS / f"markets-enterprise-{lang}.png"), full_page=True)
        # a refusal is shown, nothing moves
        page.goto(f"{url}/markets/enterprise?year=2024&lang={lang}")
        page.fill("#surrender-quantity", "999999")
        page.click("#surrender-submit")
        page.wait_for_selector("#surrender-result.error")
        assert t("markets.msg.refused", lang) in page.inner_text("#surrender-result")
        assert int(sm.balance(store, "ENT-A:holding")["balance"].sum()) == before - 5
        assert not [e for e in errors if "Content Security Policy" in e], errors
        # the province's overview is not for an enterprise
        page.goto(f"{url}/markets")
        assert page.locator("#error-message").inner_text() == "403"
    finally:
        ctx.close()


def test_province_sees_the_market_overview(market_server, browser):
    url, _ = market_server
    ctx, page = _login(browser, url, "analyst", "en")
    try:
        page.goto(f"{url}/markets?year=2024")
        page.wait_for_selector("#chart-market-units .main-svg")
        assert "ENT-B" in page.inner_text("#market-positions")
        assert page.inner_text("#market-integrity") == t("markets.check_ok", "en")
        page.screenshot(path=str(SHOTS / "markets-province-en.png"), full_page=True)
    finally:
        ctx.close()
