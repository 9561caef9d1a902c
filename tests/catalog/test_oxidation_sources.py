"""Oxidation rates (issue 13 §1, last bullet): every sector-specific rate says where it comes from.

Reference values: the enterprise-guideline default table 常用化石燃料相关参数缺省值 (NDRC 2013-2015
industry accounting guidelines, annex; GB/T 32151.x Table C.1), as transcribed in public code and
recorded in each row's note (docs/factors.md §8.1). The standard's text was not opened, so these rows
stay unverified/consistent; the test pins the values so that a change has to be made on purpose.
"""

from __future__ import annotations

import pytest

from carbonpeak.catalog.factors import FactorSet

# fuel -> generic (blank-category) oxidation rate = the enterprise-guideline default table value
ENTERPRISE_DEFAULTS = {
    "crude_oil": 0.98,
    "gasoline": 0.98,
    "kerosene": 0.98,
    "diesel_oil": 0.98,
    "fuel_oil": 0.98,
    "lpg": 0.98,
    "natural_gas": 0.99,
    "coke": 0.93,
}


def _rows(item: str, category: str = "") -> list:
    return [
        r
        for r in FactorSet.default().rows()
        if r.item == item and r.parameter == "oxidation" and (r.category or "") == category
    ]


@pytest.mark.parametrize(("item", "value"), sorted(ENTERPRISE_DEFAULTS.items()))
def test_generic_oxidation_equals_enterprise_default(item: str, value: float) -> None:
    rows = _rows(item)
    assert len(rows) == 1, rows
    assert float(rows[0].value) == pytest.approx(value)
    assert "常用化石燃料相关参数缺省值" in (rows[0].note or "")


def test_sector_rows_name_their_table_or_say_it_was_not_found() -> None:
    sector_rows = [
        r for r in FactorSet.default().rows() if r.parameter == "oxidation" and r.category
    ]
    assert sector_rows, "expected 1.A.1 coal rows"
    for r in sector_rows:
        text = f"{r.source} {r.note or ''}"
        assert "table" in text.lower() or "表" in text, (r.item, r.category)
        assert "not found" in text or r.status == "verified", (r.item, r.category, r.status)


def test_power_coal_rows_keep_098_and_cite_the_power_guideline() -> None:
    for item in ("raw_coal", "cleaned_coal", "other_washed_coal", "briquettes"):
        (row,) = _rows(item, "1.A.1")
        assert float(row.value) == pytest.approx(0.98)
        assert "中国发电企业温室气体排放核算方法与报告指南" in (row.note or "")


def test_washed_coal_discrepancy_is_flagged() -> None:
    for item in ("cleaned_coal", "other_washed_coal"):
        (row,) = _rows(item)
        assert row.status != "verified"
        assert "REFERENCE DISCREPANCY" in (row.note or "")
