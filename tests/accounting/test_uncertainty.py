"""Uncertainty: IPCC 2006 Vol 1 Ch 3 Approach 1 (Eq 3.1, 3.2) and Approach 2 (Monte Carlo)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonpeak.accounting.uncertainty import (
    LOGNORMAL_THRESHOLD,
    approach1,
    distribution_parameters,
    fill_uncertainty_defaults,
    monte_carlo,
)
from carbonpeak.catalog.uncertainty_defaults import default_uncertainties


def frame(rows):
    """rows: (category, item, gas, co2e_t, ad_pct, ef_pct, factor_key)."""
    recs = []
    for cat, item, gas, e, ad, ef, fk in rows:
        recs.append(
            {
                "year": 2020,
                "region": "GD",
                "category": cat,
                "item": item,
                "gas": gas,
                "mass_t": e,
                "scope": "territorial",
                "ad_uncertainty_pct": ad,
                "ef_uncertainty_pct": ef,
                "factor_key": fk,
                "explain": "{}",
                "co2e_t": e,
            }
        )
    return pd.DataFrame(recs)


def test_approach1_reference_eq31_eq32():
    """IPCC 2006 Vol 1 Ch 3 Eq 3.1 (product) and Eq 3.2 (sum), hand-computed.

    Category A: E = 100, U_AD 5 %, U_EF 10 %  -> U_A = sqrt(5² + 10²) = 11.1803 %
    Category B: E = 300, U_AD 2 %, U_EF 50 %  -> U_B = sqrt(2² + 50²) = 50.0400 %
    Total:  U = sqrt((11.1803·100)² + (50.0400·300)²) / 400
              = sqrt(1 250 000 + 225 360 000) / 400 = 15 053.57 / 400 = 37.6339 %
    """
    df = frame(
        [
            ("1.A.1", "coal", "CO2", 100.0, 5.0, 10.0, "k1"),
            ("2.A.1", "clinker", "CO2", 300.0, 2.0, 50.0, "k2"),
        ]
    )
    r = approach1(df)
    assert r.total_co2e_t == pytest.approx(400.0)
    assert r.uncertainty_pct == pytest.approx(37.6339, abs=1e-3)
    assert r.lower_95_co2e_t == pytest.approx(400 - 150.5357, abs=1e-2)
    cats = r.by_category.set_index("category")
    assert cats.loc["1.A.1", "uncertainty_pct"] == pytest.approx(11.1803, abs=1e-4)
    assert cats.loc["2.A.1", "uncertainty_pct"] == pytest.approx(50.0400, abs=1e-4)
    # IPCC Table 3.2 column "contribution to variance": (U_i x_i)² / Σ (U_j x_j)²
    assert cats.loc["1.A.1", "contribution_to_variance"] == pytest.approx(1_250_000 / 226_610_000, rel=1e-4)
    assert cats["contribution_to_variance"].sum() == pytest.approx(1.0)
    d = r.to_dict()
    assert {
        "method",
        "total_co2e_t",
        "lower_95_co2e_t",
        "upper_95_co2e_t",
        "uncertainty_pct",
        "draws",
        "seed",
        "by_category",
    } <= set(d)
    assert d["by_category"][0]["category"] == "1.A.1"


def test_approach1_shared_factor_key_is_correlated():
    """Rows sharing a factor key: the factor term is summed before squaring (fully correlated)."""
    rows = [
        ("1.A.1", "coal", "CO2", 100.0, 5.0, 10.0, "same"),
        ("1.A.2", "coal", "CO2", 100.0, 5.0, 10.0, "same"),
    ]
    shared = approach1(frame(rows))
    indep = approach1(frame([(*r[:6], f"k{i}") for i, r in enumerate(rows)]))
    # var = (5·100)² + (5·100)² + (10·200)² = 4 500 000 -> 2121.32 / 200 = 10.6066 %
    assert shared.uncertainty_pct == pytest.approx(math.sqrt(4_500_000) / 200, rel=1e-9)
    # independent: (5·100)²·2 + (10·100)²·2 = 2 500 000 -> 7.9057 %
    assert indep.uncertainty_pct == pytest.approx(math.sqrt(2_500_000) / 200, rel=1e-9)


def test_defaults_fill_missing_uncertainties():
    df = frame(
        [
            ("1.A.1.a", "coal", "CO2", 100.0, np.nan, np.nan, "k"),
            ("3.A.1", "cattle", "CH4", 5.0, 3.0, np.nan, None),
        ]
    )
    filled = fill_uncertainty_defaults(df)
    d = default_uncertainties()
    assert filled["ad_uncertainty_pct"].iloc[0] == d.lookup("1.A.1.a", "CO2").ad_uncertainty_pct
    assert filled["ef_uncertainty_pct"].iloc[0] == d.lookup("1.A.1.a", "CO2").ef_uncertainty_pct
    assert filled["ad_uncertainty_pct"].iloc[1] == 3.0  # given values are kept
    assert filled["uncertainty_default"].tolist() == [True, True]
    # most specific prefix and gas win
    assert d.lookup("1.A.1.a", "N2O").category == "1.A"
    assert d.lookup("1.A.1.a", "N2O").gas == "N2O"
    assert d.lookup("9.Z", "CO2").category == ""  # fallback row


def test_distribution_rule():
    logn, a, b = distribution_parameters(np.array([0.1, LOGNORMAL_THRESHOLD, 1.0]))
    assert logn.tolist() == [False, False, True]
    # lognormal with mean 1 and sd u/1.96
    mean = math.exp(a[2] + b[2] ** 2 / 2)
    sd = math.sqrt((math.exp(b[2] ** 2) - 1) * math.exp(2 * a[2] + b[2] ** 2))
    assert mean == pytest.approx(1.0)
    assert sd == pytest.approx(1.0 / 1.959963984540054)


def test_seed_reproducibility():
    df = frame([("1.A.1", f"i{i}", "CO2", 10.0 + i, 5.0, 20.0 + i, f"k{i % 3}") for i in range(30)])
    a = monte_carlo(df, draws=5000, seed=7)
    b = monte_carlo(df, draws=5000, seed=7)
    c = monte_carlo(df, draws=5000, seed=8)
    assert a.to_dict() == b.to_dict()
    assert (a.lower_95_co2e_t, a.upper_95_co2e_t) != (c.lower_95_co2e_t, c.upper_95_co2e_t)
    assert a.draws == 5000
    assert a.seed == 7


def test_correlation_widens_interval():
    rows = [("1.A.1", f"i{i}", "CO2", 100.0, 2.0, 20.0, "shared") for i in range(20)]
    shared = monte_carlo(frame(rows), draws=20000, seed=1)
    indep = monte_carlo(frame([(*r[:6], f"k{i}") for i, r in enumerate(rows)]), draws=20000, seed=1)
    assert shared.uncertainty_pct > 3 * indep.uncertainty_pct
    # fully correlated factor: ≈ sqrt(20² + 2²/20) ≈ 20.0 %
    assert shared.uncertainty_pct == pytest.approx(20.0, rel=0.05)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.floats(1.0, 1e6),
            st.floats(0.5, 10.0),
            st.floats(0.5, 10.0),
            st.integers(0, 4),
            st.sampled_from(["1.A.1", "1.A.2", "2.A.1", "3.A.1"]),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_mc_converges_to_approach1_for_small_normal_uncertainties(rows):
    """Approach 2 ≈ Approach 1 when all uncertainties are small and normal (IPCC Vol 1 Ch 3 §3.2.3)."""
    df = frame([(cat, f"i{i}", "CO2", e, ad, ef, f"f{k}") for i, (e, ad, ef, k, cat) in enumerate(rows)])
    a1 = approach1(df)
    mc = monte_carlo(df, draws=40000, seed=3)
    assert mc.uncertainty_pct == pytest.approx(a1.uncertainty_pct, rel=0.05, abs=0.02)
    assert mc.total_co2e_t == pytest.approx(a1.total_co2e_t)


def naive_mc(df: pd.DataFrame, draws: int, seed: int) -> np.ndarray:
    """Row-by-row simulation with the documented rule (reference for the aggregated sampler)."""
    rng = np.random.default_rng(seed)
    akey = df["category"] + "|" + df["item"]
    a_idx, _ = pd.factorize(akey)
    f_idx, _ = pd.factorize(df["factor_key"])

    def mult(u):
        logn, a, b = distribution_parameters(u)
        z = rng.standard_normal((draws, len(u)))
        return np.where(logn, np.exp(a + b * z), np.maximum(1 + a * z, 0))

    ua = df.groupby(a_idx)["ad_uncertainty_pct"].max().to_numpy() / 100
    uf = df.groupby(f_idx)["ef_uncertainty_pct"].max().to_numpy() / 100
    ma, mf = mult(ua), mult(uf)
    x = df["co2e_t"].to_numpy()
    return (x * ma[:, a_idx] * mf[:, f_idx]).sum(axis=1)


def test_aggregated_sampler_matches_naive_simulation():
    rows = []
    for r in range(8):  # regions share factors, activities carry CO2/CH4/N2O
        for fuel, e in (("coal", 1000.0), ("gas", 400.0)):
            rows.append(("1.A.1", f"{fuel}{r}", "CO2", e * (1 + r / 10), 10.0, 7.0, f"{fuel}|CO2"))
            rows.append(("1.A.1", f"{fuel}{r}", "CH4", e / 100, 10.0, 100.0, f"{fuel}|CH4"))
            rows.append(("1.A.1", f"{fuel}{r}", "N2O", e / 50 * (1 + r / 5), 10.0, 150.0, f"{fuel}|N2O"))
    rows.append(("3.A.1", "cattle", "CH4", 300.0, 60.0, 40.0, "cattle"))  # lognormal activity
    df = frame(rows)
    mc = monte_carlo(df, draws=60000, seed=11)
    ref = naive_mc(df, 60000, 12)
    lo, hi = np.percentile(ref, [2.5, 97.5])
    assert mc.lower_95_co2e_t == pytest.approx(lo, rel=0.01)
    assert mc.upper_95_co2e_t == pytest.approx(hi, rel=0.01)


def test_chunking_and_contributions():
    df = frame([(f"1.A.{i % 4}", f"i{i}", "CO2", 50.0 + i, 5.0, 10.0, f"k{i % 5}") for i in range(40)])
    big = monte_carlo(df, draws=30000, seed=2)
    small = monte_carlo(df, draws=30000, seed=2, memory_budget=1)  # many small chunks
    assert small.uncertainty_pct == pytest.approx(big.uncertainty_pct, rel=0.05)
    assert big.by_category["contribution_to_variance"].sum() == pytest.approx(1.0, abs=1e-6)


def test_sign_is_kept_for_removals_and_large_uncertainties():
    sink = frame([("3.B.1.a", "forest", "CO2", -1000.0, 40.0, 80.0, "forest")])
    r = monte_carlo(sink, draws=20000, seed=0)
    assert r.upper_95_co2e_t < 0
    assert r.lower_95_co2e_t < r.upper_95_co2e_t
    src = frame([("5.A", "msw", "CH4", 100.0, 30.0, 150.0, "fod")])
    r2 = monte_carlo(src, draws=20000, seed=0)
    assert r2.lower_95_co2e_t > 0
    assert r2.upper_95_co2e_t - 100 > 100 - r2.lower_95_co2e_t  # lognormal: right-skewed


def test_year_region_and_scope_selection():
    df = frame([("1.A.1", "coal", "CO2", 100.0, 5.0, 5.0, "k")])
    other = df.assign(year=2019, co2e_t=1e9)
    memo = df.assign(scope="memo_imported_electricity", co2e_t=1e9)
    city = df.assign(region="GD-GZ", co2e_t=1e9)
    all_ = pd.concat([df, other, memo, city], ignore_index=True)
    r = approach1(all_, region="GD")
    assert r.total_co2e_t == pytest.approx(100.0)
    assert r.year == 2020  # the latest year by default
    assert approach1(all_, year=2019).total_co2e_t == pytest.approx(1e9)


def test_missing_column_is_a_validation_error():
    from carbonpeak.errors import ValidationError

    with pytest.raises(ValidationError):
        approach1(pd.DataFrame({"category": ["1.A"], "co2e_t": [1.0]}))


@settings(max_examples=10, deadline=None)
@given(st.randoms(use_true_random=False))
def test_results_do_not_depend_on_row_order(rnd):
    rows = [
        (f"1.A.{i % 3}", f"i{i}", g, 10.0 + i, 5.0, 30.0 + 20 * (g != "CO2"), f"k{i % 4}|{g}")
        for i in range(12)
        for g in ("CO2", "CH4")
    ]
    df = frame(rows)
    shuffled = df.sample(frac=1.0, random_state=rnd.randint(0, 10_000)).reset_index(drop=True)
    assert (
        monte_carlo(df, draws=2000, seed=5).to_dict() == monte_carlo(shuffled, draws=2000, seed=5).to_dict()
    )
    assert approach1(df).uncertainty_pct == pytest.approx(approach1(shuffled).uncertainty_pct, rel=1e-12)


def test_mixed_signs_sharing_a_factor_match_naive_simulation():
    """Gains and losses of one land category that share a factor key (sink and source rows)."""
    rows = [
        ("3.B.1.a", "growth", "CO2", -1000.0, 10.0, 30.0, "forest|C"),
        ("3.B.1.a", "harvest", "CO2", 600.0, 20.0, 30.0, "forest|C"),
        ("3.B.1.a", "fire", "CO2", 100.0, 40.0, 30.0, "forest|C"),
        ("1.A.1", "coal", "CO2", 2000.0, 5.0, 7.0, "coal"),
    ]
    df = frame(rows)
    mc = monte_carlo(df, draws=60000, seed=4)
    ref = naive_mc(df, 60000, 5)
    lo, hi = np.percentile(ref, [2.5, 97.5])
    assert mc.lower_95_co2e_t == pytest.approx(lo, rel=0.01)
    assert mc.upper_95_co2e_t == pytest.approx(hi, rel=0.01)
    cat = mc.by_category.set_index("category").loc["3.B.1.a"]
    ref_cat = naive_mc(df[df["category"] == "3.B.1.a"].reset_index(drop=True), 60000, 6)
    assert cat["lower_95_co2e_t"] == pytest.approx(np.percentile(ref_cat, 2.5), rel=0.03)


def test_trend_uncertainty_table32_columns():
    """IPCC 2006 Vol 1 Ch 3 Table 3.2 columns I-M, hand-computed.

    Base C: A 100, B 50 (ΣC 150); year t D: A 120, B 40 (ΣD 160); trend = 6.6667 %.
    I_A = (1.2 + 160 − 1 − 150)/151·100 − 6.6667 = 0.088300; I_B = |9.9/150.5·100 − 6.6667| = 0.088594
    J_A = 120/150 = 0.8; J_B = 40/150 = 0.26667
    K = I·F: 0.88300, 4.4297; L = J·E·√2: 5.65685, 0.75425
    trend uncertainty = sqrt(0.883² + 5.65685² + 4.4297² + 0.75425²) = 7.2781 percentage points
    """
    from carbonpeak.accounting.uncertainty import approach1_trend

    base = frame(
        [("1.A.1", "a", "CO2", 100.0, 5.0, 10.0, "ka"), ("2.A.1", "b", "CO2", 50.0, 2.0, 50.0, "kb")]
    ).assign(year=2005)
    cur = frame([("1.A.1", "a", "CO2", 120.0, 5.0, 10.0, "ka"), ("2.A.1", "b", "CO2", 40.0, 2.0, 50.0, "kb")])
    r = approach1_trend(pd.concat([base, cur], ignore_index=True), 2005, 2020)
    t = r.table.set_index("category")
    assert r.trend_pct == pytest.approx(100 * 10 / 150)
    i_a = (1.2 + 160 - 1 - 150) / 151 * 100 - 100 * 10 / 150
    i_b = abs((0.4 + 160 - 0.5 - 150) / 150.5 * 100 - 100 * 10 / 150)
    assert t.loc["1.A.1", "sensitivity_a"] == pytest.approx(i_a)
    assert t.loc["2.A.1", "sensitivity_a"] == pytest.approx(i_b)
    assert t.loc["1.A.1", "sensitivity_b"] == pytest.approx(0.8)
    expected = math.sqrt(
        (i_a * 10) ** 2 + (0.8 * 5 * math.sqrt(2)) ** 2 + (i_b * 50) ** 2 + (40 / 150 * 2 * math.sqrt(2)) ** 2
    )
    assert r.trend_uncertainty_pct_points == pytest.approx(expected)
    assert r.trend_uncertainty_pct_points == pytest.approx(7.2781, abs=1e-3)
    # the level part equals Approach 1 (Eq 3.1/3.2) of year t
    assert r.level_uncertainty_pct == pytest.approx(approach1(cur).uncertainty_pct)
    assert r.to_dict()["by_category"][0]["category"] == "1.A.1"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),  # activity (item) id: rows of one item share the activity draw
            st.sampled_from(["CO2", "CH4", "N2O"]),
            st.floats(1.0, 1e5),
            st.floats(0.5, 15.0),
            st.floats(0.5, 15.0),
            st.integers(0, 3),
        ),
        min_size=2,
        max_size=30,
        unique_by=lambda t: (t[0], t[1]),
    )
)
def test_mc_matches_approach1_with_shared_activity_and_factor_keys(rows):
    df = frame([("1.A.1", f"i{a}", g, e, ad, ef, f"f{k}|{g}") for a, g, e, ad, ef, k in rows])
    a1 = approach1(df)
    mc = monte_carlo(df, draws=40000, seed=9)
    assert mc.uncertainty_pct == pytest.approx(a1.uncertainty_pct, rel=0.05, abs=0.02)
