"""Key category analysis: IPCC 2006 Vol 1 Ch 4 (Eq 4.1, 4.2, 4.4, 4.5; Tables 4.2 and 4.3 layout)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonpeak.accounting.keycategory import key_categories

BASE = {"A": 100.0, "B": 50.0, "C": -30.0, "D": 20.0}
CUR = {"A": 120.0, "B": 40.0, "C": -50.0, "D": 20.0}
CODES = {"A": "1.A.1", "B": "1.A.2", "C": "3.B.1.a", "D": "2.A.1"}


def results(values: dict[str, dict[str, float]], unc: dict[str, float] | None = None) -> pd.DataFrame:
    recs = []
    for year, vals in values.items():
        for k, e in vals.items():
            recs.append(
                {
                    "year": int(year),
                    "region": "GD",
                    "category": CODES[k],
                    "item": k,
                    "gas": "CO2",
                    "scope": "territorial",
                    "co2e_t": e,
                    "ad_uncertainty_pct": 0.0 if unc else float("nan"),
                    "ef_uncertainty_pct": (unc or {}).get(k, float("nan")),
                }
            )
    return pd.DataFrame(recs)


def test_level_and_trend_reference_example():
    """Hand-computed in the layout of IPCC 2006 Vol 1 Ch 4 Table 4.2 (level) and 4.3 (trend).

    Level 2019 (Eq 4.1), Σ|E| = 230: A 0.52174, C 0.21739 (a sink counts by its size),
    B 0.17391, D 0.08696; cumulative 0.52174, 0.73913, 0.91304, 1.
    Trend 2005→2019 (Eq 4.2), Σ|E0| = 200, ΣE0 = 140, ΣEt = 130, total trend −0.0714286:
    T_A = |20/200 − 0.5·(−0.0714286)|  = 0.1357143
    T_B = |−10/200 − 0.25·(−0.0714286)| = 0.0321429
    T_C = |−20/200 − 0.15·(−0.0714286)| = 0.0892857
    T_D = |0 − 0.1·(−0.0714286)|       = 0.0071429   (ΣT = 0.2642857)
    """
    df = results({"2005": BASE, "2019": CUR})
    kc = key_categories(df, 2019, 2005, threshold=0.90).set_index("category")
    assert list(kc.index) == ["1.A.1", "3.B.1.a", "1.A.2", "2.A.1"]  # by level, descending
    assert kc.loc["1.A.1", "level"] == pytest.approx(120 / 230)
    assert kc.loc["3.B.1.a", "level"] == pytest.approx(50 / 230)
    assert kc.loc["1.A.2", "level_cumulative"] == pytest.approx(210 / 230)
    assert kc["key_level"].tolist() == [True, True, True, False]  # D starts above 90 %
    expected = {"1.A.1": 0.1357143, "1.A.2": 0.0321429, "3.B.1.a": 0.0892857, "2.A.1": 0.0071429}
    for c, t in expected.items():
        assert kc.loc[c, "trend"] == pytest.approx(t, abs=1e-7)
    assert kc.loc["1.A.1", "trend_contribution"] == pytest.approx(0.1357143 / 0.2642857, abs=1e-6)
    assert not kc.loc["2.A.1", "key_trend"]
    assert kc.loc["1.A.2", "key_trend"]
    # 2006 form of Eq 4.2 gives the same for a non-zero base: (|E0|/Σ|E0|)·|ΔE/|E0| − ΔT/|T0||
    assert kc.loc["3.B.1.a", "trend"] == pytest.approx(0.15 * abs(-20 / 30 - (-10 / 140)))
    assert kc.loc["1.A.1", "criteria"].startswith("L1, T1")  # Approach 2 uses default uncertainties


def test_new_category_with_zero_base_has_a_trend():
    """A source that did not occur in the base year, declared NO there, has base 0 and a trend."""
    df = results({"2005": {"A": 100.0, "B": 50.0}, "2019": {"A": 100.0, "B": 50.0, "D": 30.0}})
    no = pd.DataFrame([{"year": 2005, "region": "GD", "category": "2.A.1", "gas": "", "key": "NO"}])
    kc = key_categories(df, 2019, 2005, notation=no).set_index("category")
    assert kc.loc["2.A.1", "base_co2e_t"] == 0.0
    # |30/150 − 0| = 0.2
    assert kc.loc["2.A.1", "trend"] == pytest.approx(0.2)
    assert kc.loc["2.A.1", "notation"] == ""


def test_category_missing_in_base_year_is_ne_not_zero():
    """Issue 13: without a declaration a missing figure is NE; it makes no trend key category."""
    df = results({"2005": {"A": 100.0, "B": 50.0}, "2019": {"A": 100.0, "B": 50.0, "C": -60.0}})
    kc = key_categories(df, 2019, 2005).set_index("category")
    assert kc.loc["3.B.1.a", "notation"] == "NE 2005"
    assert pd.isna(kc.loc["3.B.1.a", "base_co2e_t"])
    assert pd.isna(kc.loc["3.B.1.a", "trend"])
    assert not kc.loc["3.B.1.a", "key_trend"]
    # the comparable categories did not change: no trend anywhere else
    assert kc.loc["1.A.1", "trend"] == pytest.approx(0.0)
    assert kc.loc["3.B.1.a", "key_level"]  # it still counts in the 2019 level assessment


def test_approach2_weights_by_uncertainty():
    """Eq 4.4: LU = L·U normalised; with U_D = 200 % the small category D becomes key (90 %)."""
    df = results({"2019": CUR}, unc={"A": 5.0, "B": 5.0, "C": 50.0, "D": 200.0})
    kc = key_categories(df, 2019).set_index("category")
    lu = {k: abs(CUR[k]) / 230 * u for k, u in {"A": 5.0, "B": 5.0, "C": 50.0, "D": 200.0}.items()}
    s = sum(lu.values())
    assert kc.loc["2.A.1", "level_a2"] == pytest.approx(lu["D"] / s)
    assert kc.loc["2.A.1", "key_level_a2"]
    assert not kc.loc["1.A.2", "key_level_a2"]
    assert "L2" in kc.loc["2.A.1", "criteria"]


def test_excluding_lulucf_and_levels():
    df = results({"2019": CUR})
    kc = key_categories(df, 2019, include_lulucf=False)
    assert "3.B.1.a" not in set(kc["category"])
    assert kc["level"].sum() == pytest.approx(1.0)
    by_sector = key_categories(df, 2019, level="sector")
    assert set(by_sector["category"]) == {"1", "2", "3"}
    assert by_sector.set_index("category").loc["1", "co2e_t"] == pytest.approx(160.0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6).filter(lambda v: abs(v) > 1), min_size=2, max_size=12))
def test_level_shares_sum_to_one_and_key_set_reaches_threshold(values):
    codes = [f"1.A.{i + 1}" for i in range(len(values))]
    df = pd.DataFrame(
        {"year": 2019, "category": codes, "gas": "CO2", "co2e_t": values, "scope": "territorial"}
    )
    kc = key_categories(df, 2019)
    assert kc["level"].sum() == pytest.approx(1.0)
    assert kc.loc[kc["key_level"], "level"].sum() >= 0.95 - 1e-9
    # removing any key category's share would drop below the threshold (minimal set)
    key = kc[kc["key_level"]]
    assert key["level"].sum() - key["level"].min() < 0.95 + 1e-9
