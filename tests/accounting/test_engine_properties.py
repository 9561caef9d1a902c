"""Property tests (hypothesis) of the inventory engine: additivity, order and unit invariance, GWP."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.accounting.engine_fixtures import activity, factor_set

from carbonpeak.accounting.engine import compile_inventory
from carbonpeak.catalog.gwp import gwp_for

CATS = ["1.A.1.a", "1.A.2.a", "1.A.2.f", "1.A.3.b", "1.A.4.b", "1.A.3.a.i", "1.B.1.a.i.1", "M.REF.IMP"]
FUELS = {
    "1.B.1.a.i.1": ["raw_coal"],
}
ALL_FUELS = ["raw_coal", "natural_gas", "diesel_oil", "biomass", "fuel_oil"]
UNITS = {"natural_gas": "10^4 Nm3"}

FS = factor_set()

row = st.tuples(
    st.sampled_from([2019, 2020]),
    st.sampled_from(["GD", "GD-GZ", "GD-SZ"]),
    st.sampled_from(CATS),
    st.sampled_from(ALL_FUELS),
    st.floats(min_value=0.0, max_value=1e7, allow_nan=False, allow_infinity=False),
)


def _records(raw: list[tuple[int, str, str, str, float]]) -> list[tuple[object, ...]]:
    seen: set[tuple[int, str, str, str]] = set()
    out: list[tuple[object, ...]] = []
    for y, r, c, f, a in raw:
        if c in FUELS and f not in FUELS[c]:
            f = FUELS[c][0]
        if c.startswith("M.REF") and f == "biomass":
            f = "raw_coal"
        if (y, r, c, f) in seen:
            continue
        seen.add((y, r, c, f))
        out.append((y, r, c, f, a, UNITS.get(f, "t")))
    return out


rows_strategy = st.lists(row, min_size=1, max_size=15).map(_records)
SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _by(inv_results: pd.DataFrame) -> pd.Series:
    return (
        inv_results.groupby(["year", "region", "category", "item", "gas", "scope"])["mass_t"]
        .sum()
        .sort_index()
    )


@SETTINGS
@given(rows_strategy)
def test_additivity_across_categories(recs: list[tuple[object, ...]]) -> None:
    """Compiling the union equals the sum of compiling each category on its own."""
    whole = compile_inventory(activity(recs), FS)
    parts = []
    for cat in sorted({r[2] for r in recs}):
        sub = [r for r in recs if r[2] == cat]
        parts.append(compile_inventory(activity(sub), FS).results)
    summed = pd.concat(parts, ignore_index=True)
    a, b = _by(whole.results), _by(summed)
    assert list(a.index) == list(b.index)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-12, atol=1e-9)
    assert whole.summary()["total_co2e_t"] == pytest.approx(
        float(summed.loc[summed.scope == "territorial", "co2e_t"].sum()), rel=1e-12, abs=1e-6
    )


@SETTINGS
@given(rows_strategy, st.randoms(use_true_random=False))
def test_invariance_to_row_order(recs: list[tuple[object, ...]], rnd) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(recs)
    rnd.shuffle(shuffled)
    a = compile_inventory(activity(recs), FS).summary()
    b = compile_inventory(activity(shuffled), FS).summary()
    assert a["by_category"].keys() == b["by_category"].keys()
    for k, v in a["by_category"].items():
        assert b["by_category"][k] == pytest.approx(v, rel=1e-12, abs=1e-9)
    assert b["memo"]["reference_approach_co2_t"] == pytest.approx(a["memo"]["reference_approach_co2_t"])


@SETTINGS
@given(rows_strategy)
def test_unit_conversion_invariance(recs: list[tuple[object, ...]]) -> None:
    """The same data in t and in 万吨 (10^4 t) gives the same inventory."""
    in_wan = [(y, r, c, f, a / 1e4, "万吨") if u == "t" else (y, r, c, f, a, u) for y, r, c, f, a, u in recs]
    a = _by(compile_inventory(activity(recs), FS).results)
    b = _by(compile_inventory(activity(in_wan), FS).results)
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-9, atol=1e-9)


@SETTINGS
@given(rows_strategy, st.sampled_from(["AR4", "AR6"]))
def test_gwp_switch_changes_only_co2e(recs: list[tuple[object, ...]], other: str) -> None:
    act = activity(recs)
    a = compile_inventory(act, FS, gwp="AR5").results
    b = compile_inventory(act, FS, gwp=other).results
    np.testing.assert_array_equal(a["mass_t"].to_numpy(), b["mass_t"].to_numpy())
    # the GWP of a row depends on its gas and, for CH4, on whether it is fossil (AR6 Table 7.15)
    g = np.array(
        [gwp_for(gs, c, i, other)[0] for gs, c, i in zip(b["gas"], b["category"], b["item"], strict=True)],
        dtype=float,
    )
    np.testing.assert_allclose(b["co2e_t"].to_numpy(), a["mass_t"].to_numpy() * g, rtol=1e-12)
    co2 = (a["gas"] == "CO2").to_numpy()
    np.testing.assert_array_equal(a["co2e_t"].to_numpy()[co2], b["co2e_t"].to_numpy()[co2])
