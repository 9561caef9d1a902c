"""The independent CEADs comparison: Guangdong's published energy balance 2010–2014 (NBS, via the
LBL China Energy Databook) compiled with carbonpeak's default factors, beside CEADs' own Guangdong
inventory, year by year and fuel by fuel.

Unlike the 2015–2019 demo rows (CEADs CO2 divided by our factors, so they agree by construction),
the activity here never saw a CEADs number: agreement and disagreement are both informative.  Every
band below is the gap observed with the 2026-12 catalog widened by a margin, and every gap outside
±5 % is explained in docs/validation.md ("The independent comparison").  A band fails when the
data, the sector/non-energy boundary or a factor moves — which is the point: then the explanation
in the docs must be revisited.

Reference: CEADs Guangdong inventory (Shan et al. 2018 Sci Data 5:170201; Shan et al. 2020 Sci Data
7:54; Guan et al. 2021 Earth's Future 9:e2021EF002241), total row, as committed in
``carbonpeak/demo/data/reference/ceads_gd_fuel_co2.csv``.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from carbonpeak.demo import demo_files
from carbonpeak.model.activity import load_activity

REPO = Path(__file__).resolve().parents[2]

#: (low, high) gap % per CEADs fuel, every year 2010–2014, and the reason (docs/validation.md).
BANDS: dict[str, tuple[float, float, str]] = {
    # same NBS quantities, same carbon content and oxidation within rounding: a factor change shows here
    "diesel_oil": (-2.5, 2.5, "same data and factors"),
    "gasoline": (-2.5, 2.5, "same data and factors; 2012 +1.5 % is a statistical revision"),
    "fuel_oil": (-2.5, 2.5, "same data and factors"),
    "kerosene": (-2.5, 2.5, "same data and factors"),
    "crude_oil": (-2.5, 2.5, "same data and factors"),
    "coke": (-2.5, 2.5, "same data and factors"),
    "other_coking_products": (-2.5, 3.0, "same data, factor within 2 %"),
    "natural_gas": (-1.5, 1.5, "same data and factors (LNG is reported apart: CEADs does not carry it)"),
    # explained gaps
    "raw_coal": (5.0, 16.0, "oxidation factor of power coal (0.98 vs CEADs' 0.92-0.94) + activity vintage"),
    "cleaned_coal": (5.0, 14.0, "carbon content / oxidation factor of cleaned coal (constant +9.7 %)"),
    "other_gas": (35.0, 65.0, "blast-furnace gas at IPCC's 70.8 tC/TJ (CEADs: a lower other-gas factor)"),
    "coke_oven_gas": (-30.0, -20.0, "coke-oven-gas factor (constant -25.7 %)"),
    "refinery_gas": (-14.0, -5.0, "refinery-gas factor (constant -9 %)"),
    "lpg": (-13.0, -2.0, "we deduct LPG non-energy use (feedstock); CEADs does not"),
    "briquettes": (-50.0, -15.0, "CEADs' briquette CO2 rises while the balance's briquette use falls"),
    "other_washed_coal": (-35.0, 12.0, "factor +7 %; 2012 tiny amount after the non-energy deduction"),
}
#: Fuels whose relative gap is large because the amounts are small: bounded in Mt instead.
ABSOLUTE_MT: dict[str, float] = {"other_petroleum_products": 3.0}
#: Groups and the like-for-like total.  The coal and total bands also hold if the oxidation factor of
#: coal in power plants (1.A.1) is settled at 0.94 instead of 0.98 (issue 13 §1): coal +8.3 to +10.0 %,
#: total +5.9 to +7.0 % in that case.
GROUP_BANDS: dict[str, tuple[float, float]] = {
    "coal": (6.0, 16.0),
    "oil": (-3.0, 3.0),
    "gas": (-1.5, 1.5),
    "total": (4.0, 12.0),
}


@functools.cache
def _validate() -> ModuleType:
    path = REPO / "scripts" / "validate_demo.py"
    sys.path.insert(0, str(REPO / "scripts"))
    spec = importlib.util.spec_from_file_location("validate_demo", path)
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["validate_demo"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return _validate().balance_comparison()


def test_balance_rows_are_published_data_not_ceads():
    act = load_activity(demo_files("activity_history"))
    assert set(act["year"]) == {2010, 2011, 2012, 2013, 2014}
    assert set(act["unit"]) == {"10^4 tce"}
    assert act["note"].astype(str).str.startswith("derived — ").all()
    assert not act["source"].astype(str).str.contains("CEADs").any()
    assert act["source"].astype(str).str.contains("Energy Statistical Yearbook").all()


def test_balance_is_the_extract_times_100():
    """2014 raw coal to power: thermal power 76.826757 + heating supply 5.770548 Mtce (the
    databook rows) → 8,259.7305 × 10^4 tce; industry 28.5356526 − non-energy 1.2514278 Mtce."""
    act = load_activity(demo_files("activity_history"))
    raw = act[(act["year"] == 2014) & (act["item"] == "raw_coal")].set_index("category")["amount"]
    assert raw["1.A.1.a"] == pytest.approx((76.826757 + 5.770548) * 100, rel=1e-9)
    assert raw["1.A.2"] == pytest.approx((28.5356526 - 1.2514278) * 100, rel=1e-9)
    assert "lubricants" not in set(act["item"])
    assert "asphalt" not in set(act["item"])


def test_every_year_and_fuel_is_compared(table: pd.DataFrame):
    fuels = table[table["kind"] == "fuel"]
    assert set(fuels["year"]) == {2010, 2011, 2012, 2013, 2014}
    assert set(fuels["fuel"]) == set(BANDS) | set(ABSOLUTE_MT)
    assert fuels["ceads_mt"].gt(0).all()
    assert set(table.loc[table["kind"] == "not_in_ceads", "fuel"]) <= {"lng", "naphtha", "petroleum_coke"}


@pytest.mark.parametrize("fuel", sorted(BANDS))
def test_fuel_gap_within_its_explained_band(table: pd.DataFrame, fuel: str):
    lo, hi, why = BANDS[fuel]
    t = table[(table["kind"] == "fuel") & (table["fuel"] == fuel)]
    assert len(t) == 5
    bad = t[(t["gap_pct"] < lo) | (t["gap_pct"] > hi)]
    assert bad.empty, f"{fuel}: gap outside [{lo}, {hi}] % ({why}):\n{bad.to_string()}"


@pytest.mark.parametrize("fuel", sorted(ABSOLUTE_MT))
def test_small_fuel_gap_within_mt(table: pd.DataFrame, fuel: str):
    t = table[(table["kind"] == "fuel") & (table["fuel"] == fuel)]
    assert len(t) == 5
    assert (t["ours_mt"] - t["ceads_mt"]).abs().max() <= ABSOLUTE_MT[fuel]


@pytest.mark.parametrize("group", sorted(GROUP_BANDS))
def test_group_and_total_gap_within_band(table: pd.DataFrame, group: str):
    lo, hi = GROUP_BANDS[group]
    t = table[table["kind"].isin(["group", "total"]) & (table["fuel"] == group)]
    assert len(t) == 5
    assert t["gap_pct"].between(lo, hi).all(), t.to_string()


def test_products_outside_ceads_are_small(table: pd.DataFrame):
    """LNG, naphtha and petroleum coke burnt in Guangdong are outside CEADs' 17 fuels (scope)."""
    extra = table[table["kind"] == "not_in_ceads"].groupby("year")["ours_mt"].sum()
    total = table[table["kind"] == "total"].set_index("year")["ours_mt"]
    assert (extra / total).max() < 0.03


#: 2015–2019: the CEADs-derived demo energy (fossil fuels at GB/T 2589 coefficients) plus primary and
#: imported electricity (NBS coal-substitution method), against Guangdong's published total energy
#: consumption (research compilation of the yearbook totals, unverified; docs/validation.md).  The
#: bottom-up figure must be *below* the total — it leaves out non-energy use, losses, LNG and coal
#: gangue, as CEADs' combustion boundary does — but not by more than those can explain (2010–2014:
#: LNG, naphtha and petroleum coke alone are 2–3 % of the combustion CO2).  Observed −8.5 % (2015)
#: to −4.1 % (2019).
TOTAL_ENERGY_BAND_PCT = (-10.0, -2.0)


@pytest.mark.parametrize("year", [2015, 2016, 2017, 2018, 2019])
def test_back_calculated_energy_is_consistent_with_the_published_total(year: int):
    v = _validate()
    totals = {y: (p, s) for y, p, s in v.published_energy_totals() if "observations" in s}
    assert set(totals) == {2015, 2016, 2017, 2018, 2019}
    published, source = totals[year]
    act = load_activity(demo_files("activity"))
    row = v.total_energy_check(act, year, published, source)
    lo, hi = TOTAL_ENERGY_BAND_PCT
    assert lo <= row["gap_pct"] <= hi, row
