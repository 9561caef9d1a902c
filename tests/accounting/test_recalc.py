"""Recalculations and time-series checks (IPCC 2006 Vol 1 Ch 5 and Ch 6 §6.7)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from carbonpeak.accounting.recalc import (
    implied_ef_outliers,
    recalculation_report,
    row_reasons,
    year_on_year_jumps,
)


def row(year, cat, item, gas, amount, ef, fk=None, gwp=1.0, region="GD"):
    mass = amount * ef
    return {
        "year": year,
        "region": region,
        "category": cat,
        "item": item,
        "gas": gas,
        "mass_t": mass,
        "scope": "territorial",
        "factor_key": fk or f"{item}|{gas}",
        "explain": json.dumps(
            {
                "activity": {"amount": amount, "unit": "t"},
                "factors": [{"item": item, "parameter": "ef", "gas": gas, "value": ef, "unit": "t/t"}],
            }
        ),
        "co2e_t": mass * gwp,
    }


def test_reasons():
    prev = pd.DataFrame(
        [
            row(2020, "1.A.1", "coal", "CO2", 100, 2.0),
            row(2020, "1.A.2", "coal", "CO2", 100, 2.0),
            row(2020, "1.A.3", "gasoline", "CO2", 10, 3.0),
            row(2020, "3.A.1", "cattle", "CH4", 10, 0.05, gwp=28),
            row(2020, "2.A.1", "clinker", "CO2", 10, 0.5),
        ]
    )
    cur = pd.DataFrame(
        [
            row(2020, "1.A.1", "coal", "CO2", 110, 2.0),  # activity
            row(2020, "1.A.2", "coal", "CO2", 100, 2.1),  # factor value
            row(2020, "1.A.3", "gasoline", "CO2", 10, 3.0),  # unchanged
            row(2020, "3.A.1", "cattle", "CH4", 10, 0.05, gwp=27),  # GWP set
            row(2020, "4.A", "msw", "CH4", 5, 1.0),  # new; clinker removed
        ]
    )
    r = row_reasons(prev, cur).set_index(["category"])
    assert r.loc["1.A.1", "reason"] == "activity changed"
    assert r.loc["1.A.2", "reason"] == "factor changed"
    assert r.loc["1.A.3", "reason"] == "unchanged"
    assert r.loc["3.A.1", "reason"] == "gwp changed"
    assert r.loc["4.A", "reason"] == "new"
    assert r.loc["2.A.1", "reason"] == "removed"
    rep = recalculation_report(prev, cur).set_index(["category", "gas"])
    assert rep.loc[("1.A.1", "CO2"), "difference_co2e_t"] == pytest.approx(20.0)
    assert rep.loc[("1.A.1", "CO2"), "change_pct"] == pytest.approx(10.0)
    assert rep.loc[("2.A.1", "CO2"), "current_co2e_t"] != rep.loc[("2.A.1", "CO2"), "current_co2e_t"]  # NaN
    assert rep.loc[("4.A", "CH4"), "reason"] == "new"


def test_factor_key_change_counts_as_factor_change():
    prev = pd.DataFrame([row(2020, "1.A.1", "coal", "CO2", 100, 2.0, fk="coal|CO2|default")])
    cur = pd.DataFrame([row(2020, "1.A.1", "coal", "CO2", 100, 2.0, fk="coal|CO2|@plant.csv")])
    cur.loc[0, "co2e_t"] = 190.0
    assert row_reasons(prev, cur)["reason"].iloc[0] == "factor changed"


def test_group_reason_orders_by_contribution():
    prev = pd.DataFrame(
        [row(2020, "1.A.1", "coal", "CO2", 100, 2.0), row(2020, "1.A.1", "oil", "CO2", 100, 3.0)]
    )
    cur = pd.DataFrame(
        [row(2020, "1.A.1", "coal", "CO2", 101, 2.0), row(2020, "1.A.1", "oil", "CO2", 100, 4.0)]
    )
    rep = recalculation_report(prev, cur)
    assert rep["reason"].iloc[0] == "factor changed; activity changed"
    assert rep["rows_changed"].iloc[0] == 2


def test_year_on_year_jumps():
    df = pd.DataFrame(
        [
            row(y, "1.A.1", "coal", "CO2", a, 1.0)
            for y, a in ((2018, 100), (2019, 105), (2020, 130), (2022, 10))
        ]
    )
    j = year_on_year_jumps(df, threshold_pct=10).set_index("year")
    assert j.loc[2019, "yoy_change_pct"] == pytest.approx(5.0)
    assert not j.loc[2019, "yoy_jump"]
    assert j.loc[2020, "yoy_jump"]
    assert pd.isna(j.loc[2022, "yoy_change_pct"])  # 2021 missing: not consecutive
    rep = recalculation_report(df, df, jump_threshold_pct=10).set_index("year")
    assert rep.loc[2020, "yoy_jump"]
    assert not rep.loc[2019, "yoy_jump"]


def test_implied_ef_outliers():
    df = pd.DataFrame(
        [
            row(2020, "1.A.1", "coal", "CO2", 100, ef, region=f"R{i}")
            for i, ef in enumerate((2.0, 2.1, 1.9, 2.0, 5.0))
        ]
    )
    out = implied_ef_outliers(df, tolerance_pct=50)
    assert out["implied_ef"].tolist() == pytest.approx([2.0, 2.1, 1.9, 2.0, 5.0])
    assert out["outlier"].tolist() == [False, False, False, False, True]
