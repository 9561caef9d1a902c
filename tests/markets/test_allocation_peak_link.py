"""Issue 11 §2: the cap against the provincial peak projection and city dual control."""

from __future__ import annotations

import pandas as pd
import pytest

from carbonpeak.errors import ValidationError
from carbonpeak.markets.peak_link import (
    balance_value,
    cap_share,
    city_comparison,
    peak_consistency,
    series_tco2,
    surplus_deficit,
)

# synthetic paths in tCO2 (not projections of the real province)
PROJ = {2024: 600e6, 2025: 610e6, 2026: 615e6, 2027: 618e6, 2028: 617e6, 2029: 612e6, 2030: 605e6, 2031: 598e6}
CAP = {2024: 94e6, 2025: 96e6, 2026: 95e6, 2027: 94e6, 2028: 92e6, 2029: 90e6, 2030: 88e6, 2031: 86e6}


def test_series_from_iamc_frame_converts_units():
    df = pd.DataFrame({"model": "m", "scenario": ["plan", "plan", "other"], "region": "GD",
                       "variable": "Emissions|CO2", "unit": "Mt CO2/yr", "year": [2025, 2026, 2025],
                       "value": [610.0, 615.0, 1.0]})
    s = series_tco2(df, filters={"scenario": "plan"})
    assert s == {2025: pytest.approx(610e6), 2026: pytest.approx(615e6)}
    with pytest.raises(ValidationError, match="several rows"):
        series_tco2(df)
    wan = pd.DataFrame({"year": [2024], "value": [9400.0]})
    assert series_tco2(wan, unit="万t") == {2024: pytest.approx(94e6)}


def test_cap_share():
    t = cap_share(CAP, PROJ).set_index("year")
    assert t.loc[2024, "share"] == pytest.approx(94 / 600)


def test_consistent_cap_path():
    r = peak_consistency(CAP, PROJ)
    assert r.consistent
    assert r.cap_peak_year == 2025
    assert r.projection_peak_year == 2027
    assert r.uncovered_peak_year == 2028   # 617 − 92 = 525 Mt > 618 − 94 = 524 Mt
    assert r.reasons == ()


def test_inconsistent_cap_paths_say_why():
    late = {**CAP, 2031: 100e6}
    r = peak_consistency(late, PROJ)
    assert not r.consistent
    assert any("peaks in 2031" in x for x in r.reasons)
    assert any("rises after 2030" in x for x in r.reasons)
    over = peak_consistency({2024: 700e6, 2025: 600e6}, {2024: 650e6, 2025: 640e6})
    assert any("exceeds projected provincial emissions in 2024" in x for x in over.reasons)
    rising = peak_consistency({2029: 1.0, 2030: 1.0, 2031: 1.0}, {2029: 5.0, 2030: 6.0, 2031: 7.0})
    assert any("projection peaks in 2031" in x for x in rising.reasons)
    with pytest.raises(ValidationError, match="share no year"):
        peak_consistency({2024: 1.0}, {2025: 1.0})


def test_surplus_deficit_by_sector_and_city():
    pos = pd.DataFrame([
        {"enterprise_id": "a", "year": 2024, "sector": "paper", "city": "GD-DG", "allocation_t": 100, "emissions_t": 90},
        {"enterprise_id": "b", "year": 2024, "sector": "paper", "city": "GD-GZ", "allocation_t": 50, "emissions_t": 70},
        {"enterprise_id": "c", "year": 2024, "sector": "ceramics", "city": "GD-FS", "allocation_t": 30,
         "emissions_t": 30},
    ])
    s = surplus_deficit(pos).set_index("sector")
    assert s.loc["paper", "balance_t"] == -10
    assert s.loc["paper", "entities"] == 2
    assert s.loc["ceramics", "ratio"] == 1.0
    c = surplus_deficit(pos, by=("city",)).set_index("city")
    assert c.loc["GD-GZ", "balance_t"] == -20
    with pytest.raises(ValidationError, match="missing column"):
        surplus_deficit(pos.drop(columns="emissions_t"))


def test_balance_value_per_class():
    """平衡值: class A emits 900 + 1,050 t on outputs 1,000 + 1,000 MWh with corrections 1.0 and 1.05 →
    1,950 / 2,050 = 0.95122 tCO2/MWh; a benchmark of 0.877 is 7.8 % below break-even."""
    f = pd.DataFrame([
        {"class": "A", "output": 1_000, "correction": 1.0, "emissions_t": 900, "benchmark": 0.877},
        {"class": "A", "output": 1_000, "correction": 1.05, "emissions_t": 1_050, "benchmark": 0.877},
        {"class": "B", "output": 500, "emissions_t": 200, "benchmark": 0.392},
    ])
    b = balance_value(f).set_index("class")
    assert b.loc["A", "balance_value"] == pytest.approx(1_950 / 2_050)
    assert b.loc["A", "benchmark_vs_balance"] == pytest.approx(0.877 / (1_950 / 2_050) - 1)
    assert b.loc["B", "balance_value"] == pytest.approx(0.4)


def test_city_comparison_against_dual_control_shares():
    t = city_comparison({"GD-GZ": 60.0, "GD-FS": 40.0}, {"GD-GZ": 300.0, "GD-FS": 200.0, "GD-MZ": 100.0},
                        {"GD-GZ": 0.5, "GD-FS": 0.3}).set_index("city")
    assert t.loc["GD-GZ", "cap_share"] == pytest.approx(0.6)
    assert t.loc["GD-GZ", "gap_pp"] == pytest.approx(10.0)        # vs dual-control 50 %
    assert t.loc["GD-MZ", "gap_pp"] == pytest.approx(-100 / 6)    # vs emission share 1/6


def test_peak_year_comes_from_the_targets_catalog():
    from carbonpeak.markets.peak_link import plan_peak_year

    assert plan_peak_year() == 2030
    # an explicit year overrides it
    r = peak_consistency({2026: 2.0, 2027: 1.0}, {2026: 5.0, 2027: 4.0}, peak_by=2025)
    assert any("peaks in 2026, after 2025" in x for x in r.reasons)
