"""City targets add up to the provincial target (property), for both methods and both modes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonpeak.targets.decompose import DecompositionError, decompose, entropy_weights

TIERS = ("leading", "growing", "lagging")


@st.composite
def bases(draw):
    n = draw(st.integers(min_value=2, max_value=21))
    f = st.floats(min_value=0.1, max_value=1000.0, allow_nan=False)
    emissions = draw(st.lists(f, min_size=n, max_size=n))
    gdp = draw(st.lists(st.floats(min_value=10.0, max_value=30000.0), min_size=n, max_size=n))
    growth = draw(st.lists(st.floats(min_value=1.0, max_value=1.6), min_size=n, max_size=n))
    tiers = draw(st.lists(st.sampled_from(TIERS), min_size=n, max_size=n))
    gpc = draw(st.lists(st.floats(min_value=1.0, max_value=30.0), min_size=n, max_size=n))
    return pd.DataFrame({
        "region": [f"GD-{i:02d}" for i in range(n)], "tier": tiers, "emissions": emissions, "gdp": gdp,
        "gdp_target_year": np.array(gdp) * np.array(growth), "gdp_per_capita": gpc,
        "co2_intensity": np.array(emissions) / np.array(gdp),
    })


def _implied_intensity_reduction(base, r):
    e0, g0, g1 = (base[c].to_numpy(float) for c in ("emissions", "gdp", "gdp_target_year"))
    i0 = e0 / g0
    return (1 - ((1 - r) * i0 * g1).sum() / g1.sum() / (e0.sum() / g0.sum())) * 100


@settings(max_examples=60, deadline=None)
@given(base=bases(), r_p=st.floats(min_value=1.0, max_value=30.0))
def test_entropy_city_targets_sum_to_provincial_intensity_target(base, r_p):
    d = decompose(base, r_p, method="entropy", mode="intensity")
    r = d.table["reduction_pct"].to_numpy() / 100
    assert _implied_intensity_reduction(base, r) == pytest.approx(r_p, rel=1e-9, abs=1e-9)
    assert d.check["implied_provincial_reduction_pct"] == pytest.approx(r_p, rel=1e-9, abs=1e-9)
    assert abs(sum(d.weights.values()) - 1) < 1e-9


@settings(max_examples=60, deadline=None)
@given(base=bases(), r_p=st.floats(min_value=1.0, max_value=30.0))
def test_optimised_city_targets_sum_and_respect_bounds(base, r_p):
    bounds = {"leading": (1.0, 1.6), "growing": (0.7, 1.3), "lagging": (0.4, 1.1)}
    try:
        d = decompose(base, r_p, method="optimise", mode="intensity", tier_bounds=bounds)
    except DecompositionError:
        # infeasible only if the tier bounds cannot reach the required mean
        w = base["emissions"].to_numpy() / base["gdp"].to_numpy() * base["gdp_target_year"].to_numpy()
        lo = np.array([bounds[t][0] for t in base["tier"]])
        hi = np.array([bounds[t][1] for t in base["tier"]])
        assert (w * lo).sum() / w.sum() > 1 - 1e-12 or (w * hi).sum() / w.sum() < 1 + 1e-12
        return
    r = d.table["reduction_pct"].to_numpy() / 100
    assert _implied_intensity_reduction(base, r) == pytest.approx(r_p, rel=1e-9, abs=1e-9)
    R = d.required_mean_pct / 100
    for t, ri in zip(base["tier"], r, strict=True):
        lo, hi = sorted((R * bounds[t][0], R * bounds[t][1]))
        assert lo - 1e-12 <= ri <= hi + 1e-12


@settings(max_examples=40, deadline=None)
@given(base=bases(), r_p=st.floats(min_value=-20.0, max_value=30.0), method=st.sampled_from(["entropy", "optimise"]))
def test_total_mode_caps_add_up(base, r_p, method):
    try:
        d = decompose(base, r_p, method=method, mode="total")
    except DecompositionError:
        assert method == "optimise"
        return
    assert d.table["cap"].sum() == pytest.approx(base["emissions"].sum() * (1 - r_p / 100), rel=1e-9)


def test_uniform_growth_required_mean_equals_provincial():
    base = pd.DataFrame({"region": ["a", "b", "c"], "tier": ["leading", "growing", "lagging"],
                         "emissions": [10.0, 20.0, 30.0], "gdp": [100.0, 50.0, 20.0]})
    d = decompose(base, 18.0, method="optimise")
    assert d.required_mean_pct == pytest.approx(18.0)
    # preference 1.2/1.0/0.8 x R shifted by one common mu, inside the bounds
    r = d.table.set_index("region")["reduction_pct"]
    assert r["a"] - r["b"] == pytest.approx(0.2 * 18.0)
    assert r["b"] - r["c"] == pytest.approx(0.2 * 18.0)


def test_infeasible_bounds_raise():
    base = pd.DataFrame({"region": ["a", "b"], "tier": ["lagging", "lagging"], "emissions": [1.0, 1.0],
                         "gdp": [1.0, 1.0]})
    with pytest.raises(DecompositionError, match="cannot be met"):
        decompose(base, 10.0, method="optimise", tier_bounds={"lagging": (0.4, 0.9)})


def test_entropy_weights_reference():
    """Hand-computed entropy weights: a constant column gets weight 0, two varying columns share the rest."""
    x = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [5.0, 5.0, 5.0], "c": [1.0, 1.0, 10.0]})
    w, z = entropy_weights(x, {"a": 1, "b": 1, "c": 1})
    assert w["b"] == 0.0
    assert w["a"] + w["c"] == pytest.approx(1.0)
    # c is more concentrated (lower entropy) than a, so it gets the larger weight
    assert w["c"] > w["a"]
    zp = z + 1e-4
    p = zp / zp.sum()
    e = -(p * np.log(p)).sum() / np.log(3)
    assert w["a"] == pytest.approx((1 - e["a"]) / ((1 - e["a"]) + (1 - e["c"])))


def test_entropy_needs_index_columns():
    base = pd.DataFrame({"region": ["a", "b"], "tier": ["leading", "lagging"], "emissions": [1.0, 2.0],
                         "gdp": [1.0, 1.0]})
    with pytest.raises(DecompositionError, match="index columns"):
        decompose(base, 10.0, method="entropy", index_columns={"gdp_per_capita": 1})
