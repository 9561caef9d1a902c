"""The markets section of the annual assessment report (issue 11 §6), zh and en."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.reports.test_assessment_report import OUTLOOK
from tests.targets.test_indicators_assess import _obs, _results

from carbonpeak.i18n import Messages
from carbonpeak.reports.assessment import render_html
from carbonpeak.store.users import Principal
from carbonpeak.targets.assess import assess
from carbonpeak.targets.indicators import compute_indicators
from carbonpeak.workflows import markets as wm

ADMIN = Principal("admin", "admin")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_has_a_markets_section_when_the_ledger_has_units(store, lang) -> None:
    assert wm.report_section(store, 2024) is None  # an empty ledger: no section
    wm.setup(store)
    wm.allocate(store, ADMIN, year=2024, allocations=pd.DataFrame(
        {"enterprise_id": ["ENT-A", "ENT-B"], "city": ["GD-GZ", "GD-SZ"], "quantity": [1000, 500]}))
    wm.sign_off_emissions(store, ADMIN, enterprise_id="ENT-A", year=2024, verified_t=900)
    wm.surrender(store, ADMIN, enterprise_id="ENT-A", year=2024, unit_type="GDEA", vintage=2024, quantity=900)
    sec = wm.report_section(store, 2024)
    assert sec["units"] == [{"unit_type": "GDEA", "unit": "tCO2e", "issued": 1500, "held": 600, "surrendered": 900,
                             "retired": 0}]
    assert sec["obligations"]["status"] == {"compliant": 1, "awaiting_sign_off": 1}
    a = {**assess(2023, compute_indicators(_obs(), _results(), base_year=2020), inventory_results=_results(),
                  outlook=OUTLOOK), "markets": sec}
    html = render_html(a, lang=lang, inventory_results=_results(), outlook=OUTLOOK)
    t = Messages(lang)
    assert '<section id="markets">' in html
    for key in ("sec.markets", "markets.unit.GDEA", "markets.check_ok", "markets.status.compliant"):
        assert t(key) in html, key
    # without the key the report is as before
    assert '<section id="markets">' not in render_html({k: v for k, v in a.items() if k != "markets"}, lang=lang,
                                                        inventory_results=_results(), outlook=OUTLOOK)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_markets_section_carries_the_peak_link(store, lang) -> None:
    from tests.markets.market_fixtures import seed_peak_link

    wm.setup(store)
    seed_peak_link(store)
    sec = wm.report_section(store, 2024)
    pl = sec["peak_link"]
    assert pl["cap_basis"] == "cap"
    assert pl["consistent"] in (True, False)
    assert {r["sector"] for r in pl["by_sector"]} == {"cement", "textiles"}
    a = {**assess(2023, compute_indicators(_obs(), _results(), base_year=2020), inventory_results=_results(),
                  outlook=OUTLOOK), "markets": sec}
    html = render_html(a, lang=lang, inventory_results=_results(), outlook=OUTLOOK)
    t = Messages(lang)
    assert 'id="markets-peak"' in html
    verdict = "markets.peak_consistent" if pl["consistent"] else "markets.peak_not_consistent"
    assert t(verdict, peak_by=2030) in html
    assert t("markets.peak_basis.cap") in html
    assert "cement/clinker" in html
