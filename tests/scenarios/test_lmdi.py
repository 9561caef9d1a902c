"""LMDI-I decomposition: exactness properties, zero handling and a reference implementation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonpeak.errors import ValidationError
from carbonpeak.scenarios.lmdi import decompose, logmean

FACTORS = ["a", "b", "c"]


def _frame(values: dict[tuple[int, str], tuple[float, ...]], factors=FACTORS) -> pd.DataFrame:
    rows = [{"year": y, "sector": s, **dict(zip(factors, v, strict=True))} for (y, s), v in values.items()]
    return pd.DataFrame(rows)


def test_logmean():
    assert logmean(2.0, 2.0) == pytest.approx(2.0)
    assert logmean(math.e, 1.0) == pytest.approx((math.e - 1.0) / 1.0)
    assert logmean(5.0, 0.0) == 0.0


def test_hand_computed_single_sector():
    """V = a·b; a doubles, b constant: ΔV_a = L(4, 2)·ln 2 = (4−2)/ln2 · ln2 = 2, ΔV_b = 0."""
    df = pd.DataFrame({"year": [2000, 2001], "a": [1.0, 2.0], "b": [2.0, 2.0]})
    d = decompose(df, ["a", "b"], 2000, 2001)
    assert d.effects["a"] == pytest.approx(2.0)
    assert d.effects["b"] == pytest.approx(0.0)
    m = decompose(df, ["a", "b"], 2000, 2001, method="multiplicative")
    assert m.effects["a"] == pytest.approx(2.0)
    assert m.effects["b"] == pytest.approx(1.0)


positive = st.floats(min_value=0.01, max_value=1e4, allow_nan=False, allow_infinity=False)


@st.composite
def identities(draw):
    n_sec = draw(st.integers(1, 4))
    n_years = draw(st.integers(2, 4))
    vals = {}
    for y in range(2000, 2000 + n_years):
        for s in range(n_sec):
            vals[(y, f"s{s}")] = tuple(draw(positive) for _ in FACTORS)
    return _frame(vals), 2000 + n_years - 1


@settings(max_examples=60, deadline=None)
@given(identities(), st.booleans())
def test_additive_effects_sum_to_change(data, chained):
    df, last = data
    d = decompose(df, FACTORS, 2000, last, chained=chained)
    scale = max(abs(d.v_to), abs(d.v_from))
    assert abs(d.residual) <= 1e-9 * scale
    assert sum(d.effects.values()) == pytest.approx(d.v_to - d.v_from, rel=1e-9, abs=1e-9 * scale)


@settings(max_examples=60, deadline=None)
@given(identities(), st.booleans())
def test_multiplicative_effects_multiply_to_ratio(data, chained):
    df, last = data
    d = decompose(df, FACTORS, 2000, last, method="multiplicative", chained=chained)
    assert abs(d.residual) <= 1e-9
    assert np.prod(list(d.effects.values())) == pytest.approx(d.v_to / d.v_from, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(identities(), st.permutations(FACTORS))
def test_factor_order_invariance(data, order):
    df, last = data
    a = decompose(df, FACTORS, 2000, last)
    b = decompose(df, list(order), 2000, last)
    for k in FACTORS:
        assert b.effects[k] == pytest.approx(a.effects[k], rel=1e-12, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(identities())
def test_additive_multiplicative_link(data):
    """Ang (2015): ΔV_k / ln D_k = L(V^T, V^0) for every factor."""
    df, last = data
    a = decompose(df, FACTORS, 2000, last)
    m = decompose(df, FACTORS, 2000, last, method="multiplicative")
    lm = float(logmean(a.v_to, a.v_from))
    for k in FACTORS:
        assert a.effects[k] == pytest.approx(lm * math.log(m.effects[k]), rel=1e-9, abs=1e-9 * lm)


def test_consistent_in_aggregation():
    """Additive LMDI-I: the effects of the total equal the sum of each sector's own decomposition."""
    vals = {(2000, "x"): (1.0, 2.0, 3.0), (2000, "y"): (4.0, 1.0, 0.5),
            (2001, "x"): (1.5, 2.5, 2.0), (2001, "y"): (3.0, 1.2, 0.7)}
    df = _frame(vals)
    whole = decompose(df, FACTORS, 2000, 2001)
    parts = [decompose(df[df.sector == s], FACTORS, 2000, 2001) for s in ("x", "y")]
    for k in FACTORS:
        assert whole.effects[k] == pytest.approx(sum(p.effects[k] for p in parts))
        assert whole.by_sector["x"][k] == pytest.approx(parts[0].effects[k])


def test_zero_handling_matches_small_value_limit():
    """Ang & Liu (2007): analytic zero rules equal the SV strategy's limit (δ → 0)."""
    vals = {(2000, "old"): (2.0, 3.0, 1.0), (2000, "new"): (0.0, 2.0, 1.5),
            (2001, "old"): (2.5, 2.0, 1.1), (2001, "new"): (1.0, 2.5, 1.2)}
    exact = decompose(_frame(vals), FACTORS, 2000, 2001)
    sv = dict(vals)
    sv[(2000, "new")] = (1e-12, 2.0, 1.5)
    approx = decompose(_frame(sv), FACTORS, 2000, 2001)
    for k in FACTORS:
        assert exact.effects[k] == pytest.approx(approx.effects[k], abs=0.05)
    assert exact.by_sector["new"]["a"] == pytest.approx(1.0 * 2.5 * 1.2)
    assert exact.by_sector["new"]["b"] == 0.0
    assert exact.residual == pytest.approx(0.0, abs=1e-12)


def test_sector_disappearing_and_both_zero():
    vals = {(2000, "gone"): (2.0, 1.0, 1.0), (2001, "gone"): (0.0, 1.0, 1.0),
            (2000, "none"): (0.0, 0.0, 1.0), (2001, "none"): (0.0, 1.0, 0.0),
            (2000, "x"): (1.0, 1.0, 1.0), (2001, "x"): (2.0, 1.0, 1.0)}
    d = decompose(_frame(vals), FACTORS, 2000, 2001)
    assert d.by_sector["gone"]["a"] == pytest.approx(-2.0)
    assert all(v == 0.0 for v in d.by_sector["none"].values())
    assert d.residual == pytest.approx(0.0, abs=1e-12)


def test_negative_values_rejected_with_row():
    df = pd.DataFrame({"year": [2000, 2001], "a": [1.0, -2.0], "b": [1.0, 1.0]})
    with pytest.raises(ValidationError) as exc:
        decompose(df, ["a", "b"], 2000, 2001)
    assert exc.value.problems[0].field == "a"
    assert exc.value.problems[0].row == 3


def test_missing_year_is_an_error():
    df = pd.DataFrame({"year": [2000, 2001], "a": [1.0, 2.0]})
    with pytest.raises(ValidationError):
        decompose(df, ["a"], 2000, 2005)


def test_reference_kaya_decomposition_package():
    """Independent implementation: kaya-decomposition 0.4.0 (PyPI, Z. Schmidt),
    ``lmdi_cumulative._calc_uncorrected_lmdi_cumulative`` — the plain LMDI-I additive terms
    L(TFC_t, TFC_0)·ln(x_t/x_0) against a fixed base year (its public ``compute_lmdi*`` functions
    clip negative terms and are not LMDI-I, see shared/reference/scenarios-and-code-style.md §2).
    Same data decomposed by ours (non-chained, base 2020) must agree to rounding.
    """
    pyam = pytest.importorskip("pyam")
    lc = pytest.importorskip("kaya_decomposition.lmdi_cumulative")
    from kaya_decomposition.constants import input_variables as iv
    from kaya_decomposition.constants import kaya_factors as kf
    from kaya_decomposition.constants import kaya_variables as kv

    names = [iv.POPULATION, kf.GNP_per_P, kf.FE_per_GNP, kf.PEdeq_per_FE, kf.PEFF_per_PEDEq, kf.TFC_per_PEFF]
    years = [2020, 2025, 2030]
    rng = np.random.default_rng(7)
    base = np.array([126.0, 8.8, 0.35, 1.4, 0.68, 2.5])
    table = {y: base * (1 + rng.uniform(-0.3, 0.3, size=6)) for y in years}
    table[2030][2] = table[2020][2] * 0.6  # a falling intensity: a negative term
    rows = []
    for y in years:
        for n, v in zip(names, table[y], strict=True):
            rows.append(["m", "s", "GD", n, "1", y, float(v)])
        rows.append(["m", "s", "GD", kv.TFC, "Mt CO2/yr", y, float(np.prod(table[y]))])
    idf = pyam.IamDataFrame(pd.DataFrame(rows, columns=["model", "scenario", "region", "variable", "unit",
                                                         "year", "value"]))
    ref = lc._calc_uncorrected_lmdi_cumulative(idf, 2020).data
    ours_df = pd.DataFrame([{"year": y, **{f"f{i}": v for i, v in enumerate(table[y])}} for y in years])
    cols = [f"f{i}" for i in range(6)]
    for y in (2025, 2030):
        ours = decompose(ours_df, cols, 2020, y, sector=None)
        for i, n in enumerate(names):
            out_name = lc.FACTOR_TO_CUMULATIVE_NAME[n]
            theirs = ref[(ref.variable == out_name) & (ref.year == y)]["value"].iloc[0]
            assert ours.effects[f"f{i}"] == pytest.approx(theirs, rel=1e-9)
