"""The empty-store notice and the demo banner in a real browser (headless Chromium via Playwright).

Screenshots under ``test-artifacts/screenshots/`` (``empty-store-*.png``, ``demo-banner-*.png``)
for a person to look at; the pages run under the same Content-Security-Policy (no inline script).
"""

from __future__ import annotations

import pytest
from tests.platform.conftest import seed_registry, seed_users, serve_in_thread
from tests.platform.test_browser import ROLES, SHOTS, _login, browser  # noqa: F401 - fixture
from tests.stores import db_location

from carbonpeak.i18n import t
from carbonpeak.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.service]


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Two sites: one on an empty store, one with the demo loaded."""
    from carbonpeak.workflows.demo import load_demo

    stores = {}
    for name in ("empty", "demo"):
        s = Store(db_location(tmp_path_factory.mktemp(name) / f"{name}.duckdb"))
        seed_users(s, ROLES)
        seed_registry(s)
        if name == "demo":
            from carbonpeak.web.data import province_overview

            load_demo(s)
            province_overview(s, "zh")  # inventory, assessment and peak outlook once, before the clock runs
        stores[name] = s
    with serve_in_thread(stores["empty"]) as empty, serve_in_thread(stores["demo"]) as demo:
        yield {"empty": empty, "demo": demo}
    for s in stores.values():
        s.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_empty_store_and_demo_banner_render(servers, browser, lang):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, key in (("empty", "data.empty"), ("demo", "data.demo")):
        ctx, page = _login(browser, servers[name], "analyst", lang=lang)
        try:
            errors: list[str] = []
            page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
            page.goto(f"{servers[name]}/province?lang={lang}")
            banner = page.locator("#data-banner")
            assert banner.is_visible()
            assert banner.inner_text().strip() == t(key, lang)
            assert f"data-banner {name}" in (banner.get_attribute("class") or "")
            if name == "demo":
                page.wait_for_selector("#chart-sectors .main-svg")
            else:
                assert page.locator("#chart-sectors").count() == 0
            assert not [e for e in errors if "Content Security Policy" in e], errors
            page.screenshot(path=str(SHOTS / f"{'empty-store' if name == 'empty' else 'demo-banner'}-province-{lang}.png"),
                            full_page=True)
        finally:
            ctx.close()
