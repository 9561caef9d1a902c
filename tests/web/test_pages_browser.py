"""Every dashboard page, as every role, in zh and en, in headless Chromium (issue 12, pages).

A zh page has no untranslated text in its headings, table headers, statuses and labels; no page
shows a message key; every page is saved as a screenshot under test-artifacts/screenshots/pages/
for a person to look at.
"""

from __future__ import annotations

import re

import pytest
from tests.platform.conftest import PW
from tests.web.conftest import SHOTS

pytestmark = [pytest.mark.browser, pytest.mark.service]

PAGES = {
    "admin": ["province", "cities", "cities/GD-GZ", "map", "levers", "monitoring", "enterprise", "audit",
              "account/password", "markets", "markets/enterprise", "markets/verifier", "admin/schedule"],
    "analyst": ["province", "cities", "cities/GD-SZ", "map", "levers", "monitoring", "audit", "markets"],
    "gz_officer": ["province", "cities", "cities/GD-GZ", "map", "levers", "monitoring", "markets"],
    "ent": ["monitoring", "enterprise", "account/password", "markets/enterprise"],
    "verifier": ["province", "monitoring", "audit", "markets/verifier"],
}
# text a zh page may show in Latin letters: identifiers, units and the names of standards
LATIN_OK = re.compile(r"^[\sA-Z0-9\-_.·,:/()%#⁰¹²³⁴⁵⁶⁷⁸⁹±–+]*(tCO2e?|tce|kWh|PUE|ID|CO2e?|GDP|MWh|Mt)?[\s\d%)/]*$")
KEY_LIKE = re.compile(r"\b[a-z]+(?:_[a-z]+)*\.[a-z]+(?:_[a-z]+)*\b")


def login(browser, base, user, lang):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    # the first request of a page compiles the inventory and runs the outlook: slow on a loaded machine
    ctx.set_default_timeout(180_000)
    page = ctx.new_page()
    page.goto(f"{base}/login?lang={lang}")
    page.fill("#username", user)
    page.fill("#password", PW)
    page.click("#login-submit")
    page.locator("#whoami").wait_for()
    return ctx, page


def untranslated(page) -> list[str]:
    texts = page.locator("main h1, main h2, main th, main label, .status, .light, .kpi .label, nav a, .seam").all_inner_texts()
    return [s for s in (x.strip() for x in texts) if s and not re.search(r"[\u4e00-\u9fff]", s) and not LATIN_OK.match(s)]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("user", list(PAGES))
def test_every_page_in_every_language(data_site, browser, user, lang):
    base, _ = data_site
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx, page = login(browser, base, user, lang)
    problems: list[str] = []
    try:
        for path in PAGES[user]:
            resp = page.goto(f"{base}/{path}")
            assert resp is not None, (user, path)
            assert resp.status == 200, (user, path, resp.status)
            page.locator("main h1").wait_for()
            for chart in page.locator(".chart").all():
                chart.locator(".main-svg").first.wait_for()
            page.screenshot(path=str(SHOTS / f"{user}-{path.replace('/', '_')}-{lang}.png"), full_page=True)
            # codes shown on purpose (identifiers in monospace: unit ids, unknown audit actions) aside
            body = page.evaluate(
                "() => { const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT); const out = [];"
                " while (w.nextNode()) { const p = w.currentNode.parentElement;"
                " if (!p.closest('.mono, script, style')) out.push(w.currentNode.nodeValue); }"
                " return out.join('\\n'); }"
            )
            keys = [k for k in KEY_LIKE.findall(body) if not k.endswith((".csv", ".xlsx", ".js"))]
            if keys:
                problems.append(f"{path}: message keys shown {sorted(set(keys))[:5]}")
            if lang == "zh":
                bad = untranslated(page)
                if bad:
                    problems.append(f"{path}: untranslated {sorted(set(bad))[:8]}")
    finally:
        ctx.close()
    assert not problems, "\n".join(problems)
