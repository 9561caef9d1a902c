"""AR6 fossil methane (issue 13 §1): CH4 from fossil carbon is weighted with the fossil GWP.

IPCC AR6 WG1 Ch 7 Table 7.15 gives CH4 GWP-100 = 29.8 for fossil CH4 and 27.0 for non-fossil
CH4.  AR5 (WG1 Table 8.A.1, as used under the ETF) has one value, 28, for both.
"""

from __future__ import annotations

import pytest
from tests.accounting.engine_fixtures import activity, factor_set

from carbonpeak.accounting.engine import compile_inventory
from carbonpeak.catalog.gwp import ch4_is_fossil, gwp_for


def _ch4_co2e(inv, category: str) -> float:  # type: ignore[no-untyped-def]
    r = inv.results
    sel = r[(r.gas == "CH4") & (r.category == category)]
    return float(sel["co2e_t"].sum()), float(sel["mass_t"].sum())


ACT = [
    (2020, "GD", "1.B.1.a.i.1", "raw_coal", 1000, "t"),  # coal-mine CH4: fossil
    (2020, "GD", "1.A.4.b", "raw_coal", 1000, "t"),  # coal combustion CH4: fossil
    (2020, "GD", "1.A.4.a", "biomass", 1000, "t"),  # biomass combustion CH4: not fossil
]


def test_ar6_fossil_ch4_gets_29_8_and_biomass_27() -> None:
    inv = compile_inventory(activity(ACT), factor_set(), gwp="AR6")
    for cat in ("1.B.1.a.i.1", "1.A.4.b"):
        co2e, mass = _ch4_co2e(inv, cat)
        assert mass > 0
        assert co2e == pytest.approx(mass * 29.8, rel=1e-12)
    co2e, mass = _ch4_co2e(inv, "1.A.4.a")
    assert mass > 0
    assert co2e == pytest.approx(mass * 27.0, rel=1e-12)


def test_ar5_uses_one_ch4_value() -> None:
    inv = compile_inventory(activity(ACT), factor_set(), gwp="AR5")
    for cat in ("1.B.1.a.i.1", "1.A.4.b", "1.A.4.a"):
        co2e, mass = _ch4_co2e(inv, cat)
        assert co2e == pytest.approx(mass * 28.0, rel=1e-12)


def test_explain_says_which_ch4_is_fossil() -> None:
    inv = compile_inventory(activity(ACT), factor_set(), gwp="AR6")
    rows = inv.explain("1.B", gas="CH4")["rows"]
    assert rows
    assert all(r["gwp"]["gas"] == "CH4_fossil" and r["gwp"]["value"] == 29.8 for r in rows)
    assert rows[0]["gwp"]["ch4_origin"] == "fossil"
    bio = inv.explain("1.A.4.a", gas="CH4")["rows"]
    assert bio
    assert bio[0]["gwp"]["ch4_origin"] == "non-fossil"
    assert bio[0]["gwp"]["value"] == 27.0


def test_rule_by_category() -> None:
    assert ch4_is_fossil("1.B.2.b.iii", "natural_gas")
    assert ch4_is_fossil("1.A.1.a.i", "natural_gas")
    assert not ch4_is_fossil("1.A.4.b", "biomass")
    assert not ch4_is_fossil("3.A.1", "dairy_cattle")
    assert not ch4_is_fossil("4.A.1", "")
    assert gwp_for("CH4", "4.A.1", "", "AR6") == (27.0, "CH4")
    assert gwp_for("CH4", "1.B.1", "raw_coal", "AR6") == (29.8, "CH4_fossil")
    assert gwp_for("CH4", "1.B.1", "raw_coal", "AR5") == (28.0, "CH4_fossil")
