"""LULUCF: forest stock-difference and gain-loss, land conversion, coastal wetlands (IPCC 2006 Vol 4,
2013 Wetlands Supplement)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.accounting.aw_helpers import act, ctx, factors, mass, ov

from carbonpeak.accounting.engine import compile_inventory
from carbonpeak.accounting.methods.lulucf import land_use
from carbonpeak.errors import ValidationError

C2CO2 = 44 / 12

# Zhu, Xu, Wang, Du 2020, 林业科学 56(5):1-11, doi:10.11707/j.1001-7488.20200501 (eucalyptus plantations
# in China): BCEF 0.658 Mg/m3, BEF 1.251, R 0.190.  SVD is implied as BCEF / BEF.
ZHU = [
    ov("eucalyptus", "svd", 0.658 / 1.251, "t/m3", category="3.B"),
    ov("eucalyptus", "bef", 1.251, "1", category="3.B"),
    ov("eucalyptus", "r", 0.190, "1", category="3.B"),
]


def test_stock_difference_with_zhu_2020_eucalyptus_factors() -> None:
    """IPCC 2006 Vol 4 Ch 2 Eq 2.8 (stock-difference) with C = V × BCEF × (1 + R) × CF:
    standing volume 1.0 → 1.5 million m3 over 2015-2020 = 100 000 m3/yr;
    ΔC = 100 000 × 0.658 × 1.190 × 0.5 = 39 151 t C/yr → −143 553.7 t CO2 in each year 2016-2020."""
    rows = [(2015, "GD", "3.B.1.a", "eucalyptus", 100.0, "万立方米"), (2020, "GD", "3.B.1.a", "eucalyptus", 150.0, "万立方米")]
    res = land_use(act(rows), ctx(ZHU))
    assert sorted(res["year"]) == [2016, 2017, 2018, 2019, 2020]
    per_year = -100_000 * 0.658 * 1.190 * 0.5 * C2CO2
    assert per_year == pytest.approx(-143_553.67, abs=0.01)
    for y in range(2016, 2021):
        assert mass(res, year=y) == pytest.approx(per_year, rel=1e-12)


def test_stock_difference_with_default_guideline_factors() -> None:
    """Packaged 杉木 (Chinese fir) factors SVD 0.307, BEF 1.634, R 0.246, CF 0.5: 10 000 m3/yr of growth
    → 10 000 × 0.307 × 1.634 × 1.246 × 0.5 t C."""
    rows = [(2019, "GD", "3.B.1.a", "chinese_fir", 1_000_000.0, "m3"), (2020, "GD", "3.B.1.a", "chinese_fir", 1_010_000.0, "m3")]
    res = land_use(act(rows), ctx())
    assert mass(res) == pytest.approx(-10_000 * 0.307 * 1.634 * 1.246 * 0.5 * C2CO2, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(v0=st.floats(1e3, 1e9), g1=st.floats(0, 1e7), g2=st.floats(0, 1e7))
def test_more_growth_more_removal(v0: float, g1: float, g2: float) -> None:
    """Monotonicity: a larger standing-volume increase never gives a smaller removal."""
    lo, hi = sorted((g1, g2))
    c = ctx()
    a = land_use(act([(2019, "GD", "3.B.1.a", "masson_pine", v0, "m3"), (2020, "GD", "3.B.1.a", "masson_pine", v0 + lo, "m3")]), c)
    b = land_use(act([(2019, "GD", "3.B.1.a", "masson_pine", v0, "m3"), (2020, "GD", "3.B.1.a", "masson_pine", v0 + hi, "m3")]), c)
    assert mass(b) <= mass(a) + 1e-6 * max(1.0, abs(mass(a)))
    assert mass(a) <= 0


def test_gain_loss_with_user_increment_and_harvest() -> None:
    """Gain-loss (Eq 2.9-2.12): gain = A × Iv × SVD × BEF × (1+R) × CF, loss = H × the same chain.
    1 000 ha × 10 m3/ha/yr = 10 000 m3 gained, 4 000 m3 harvested → net 6 000 m3 of eucalyptus."""
    c = ctx([*ZHU, ov("eucalyptus", "volume_increment", 10.0, "m3/ha/yr", category="3.B")])
    rows = [(2020, "GD", "3.B.1.a", "eucalyptus", 1000.0, "ha"), (2020, "GD", "3.B.1.a", "harvest_eucalyptus", 4000.0, "m3")]
    res = land_use(act(rows), c)
    chain = 0.658 * 1.190 * 0.5 * C2CO2
    assert mass(res, item="eucalyptus") == pytest.approx(-10_000 * chain)
    assert mass(res, item="harvest_eucalyptus") == pytest.approx(4_000 * chain)
    # no default increment is shipped: the error says what to add
    with pytest.raises(ValidationError, match="volume_increment"):
        land_use(act(rows[:1]), ctx())


def test_stock_difference_and_gain_loss_together_are_rejected() -> None:
    rows = [(2019, "GD", "3.B.1.a", "eucalyptus", 1e6, "m3"), (2020, "GD", "3.B.1.a", "eucalyptus", 1.1e6, "m3"),
            (2020, "GD", "3.B.1.a", "harvest_eucalyptus", 100.0, "m3")]
    with pytest.raises(ValidationError) as e:
        land_use(act(rows), ctx())
    p = e.value.problems[0]
    assert p.row == 4
    assert "stock-difference" in p.message


def test_single_year_stock_and_wrong_category_rejected() -> None:
    with pytest.raises(ValidationError, match="at least two years"):
        land_use(act([(2020, "GD", "3.B.1.a", "eucalyptus", 1e6, "m3")]), ctx())
    with pytest.raises(ValidationError) as e:
        land_use(act([(2020, "GD", "3.B.2.b", "forest_to_settlement", 1.0, "ha"),
                      (2020, "GD", "3.B.4.b", "mangrove", 1.0, "ha")]), ctx())
    assert [p.field for p in e.value.problems] == ["category", "category"]


def test_land_conversion_eq_2_16() -> None:
    """IPCC 2006 Vol 4 Eq 2.16 (Tier 1): ΔC = A × (C_after − C_before); forest (user value 60 t C/ha) to
    settlement (0 after conversion): 100 ha → 6 000 t C lost → +22 000 t CO2."""
    c = ctx([ov("land_forest", "biomass_c_stock", 60.0, "t/ha", category="3.B")])
    res = land_use(act([(2020, "GD", "3.B.5.b", "forest_to_settlement", 100.0, "ha")]), c)
    assert mass(res) == pytest.approx(6000 * C2CO2)
    res2 = land_use(act([(2020, "GD", "3.B.1.b", "cropland_to_forest", 100.0, "ha")]), c)
    assert mass(res2) == pytest.approx(-100 * (60 - 5.0) * C2CO2)


def test_blue_carbon_soil_accumulation_table_4_12() -> None:
    """IPCC 2013 Wetlands Supplement Ch 4 Table 4.12 soil C accumulation: mangrove 1.62, tidal marsh
    0.91, seagrass 0.43 t C/ha/yr.  10 000 ha each → −59 400, −33 366.7 and −15 766.7 t CO2."""
    rows = [(2020, "GD", "3.B.4.a.i", "mangrove", 1.0, "万公顷"), (2020, "GD", "3.B.4.a.ii", "salt_marsh", 10_000.0, "ha"),
            (2020, "GD", "3.B.4.a.iii", "seagrass", 10_000.0, "ha"), (2020, "GD", "3.B.4.a", "tidal_flat", 10_000.0, "ha")]
    res = land_use(act(rows), ctx())
    assert mass(res, item="mangrove") == pytest.approx(-10_000 * 1.62 * C2CO2)
    assert mass(res, item="salt_marsh") == pytest.approx(-10_000 * 0.91 * C2CO2)
    assert mass(res, item="seagrass") == pytest.approx(-10_000 * 0.43 * C2CO2)
    assert mass(res, item="tidal_flat") == 0.0


def test_mangrove_biomass_loss_and_optional_growth() -> None:
    """Mangrove area lost releases the mature stock AGB × (1+R) × CF (2013 Wetlands Supplement Ch 4,
    subtropical 75 t dm/ha, R 0.96, CF 0.451); growth counts only with a user growth rate."""
    rows = [(2019, "GD", "3.B.4.a.i", "mangrove", 1000.0, "ha"), (2020, "GD", "3.B.4.a.i", "mangrove", 900.0, "ha")]
    res = land_use(act(rows), ctx())
    soil = -900 * 1.62 * C2CO2
    loss = 100 * 75 * 1.96 * 0.451 * C2CO2
    assert mass(res, year=2020) == pytest.approx(soil + loss)
    grown = land_use(act(rows), ctx([ov("mangrove", "agb_growth", 5.0, "t/ha/yr", category="3.B.4")]))
    assert mass(grown, year=2020) == pytest.approx(soil + loss - 900 * 5 * 1.96 * 0.451 * C2CO2)
    assert len(grown[grown.year == 2020]) == 1  # one row per (year, region, category, item, gas)


def test_lulucf_through_the_engine_totals_with_and_without() -> None:
    rows = [(2019, "GD", "3.B.1.a", "eucalyptus", 1e6, "m3"), (2020, "GD", "3.B.1.a", "eucalyptus", 1.1e6, "m3"),
            (2020, "GD", "3.B.4.a.i", "mangrove", 1000.0, "ha"), (2020, "GD", "3.A.1", "swine", 1000.0, "head")]
    inv = compile_inventory(act(rows), factors())
    s = inv.summary(year=2020)
    assert s["lulucf_co2e_t"] < 0
    assert s["total_excluding_lulucf_co2e_t"] == pytest.approx(s["total_co2e_t"] - s["lulucf_co2e_t"])
    assert s["removals_co2e_t"] == pytest.approx(s["lulucf_co2e_t"])
