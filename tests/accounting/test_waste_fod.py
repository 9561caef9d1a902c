"""Solid waste disposal: the IPCC first-order-decay model (IPCC 2006 Vol 5 Ch 3).

Reference values are computed by hand from the closed forms of Eq 3.4-3.6 (the IPCC Waste
Model's published default case could not be obtained, so it is not reproduced here).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.accounting.aw_helpers import act, ctx, factors, mass, ov

from carbonpeak.accounting.engine import compile_inventory
from carbonpeak.accounting.fod import fod_decomposed
from carbonpeak.accounting.methods.waste import solid_waste_disposal
from carbonpeak.errors import ValidationError

# Packaged defaults used below (factors/waste.csv): food DOC 0.15, k 0.40 (tropical moist);
# DOCf 0.5, F 0.5, MCF 1.0 for managed sites (4.A.1), delay 6 months; OX 0 because a site has no
# CH4-oxidising cover unless its data say so (IPCC 2006 Vol 5 Ch 3 Table 3.2; tests below with cover).
FOOD_DDOCM_PER_T = 0.15 * 0.5 * 1.0
K_FOOD = 0.40
F = 0.5
OX_MANAGED = 0.0


def _constant(w: float, years: range, item: str = "msw_food", cat: str = "4.A.1") -> list[tuple[object, ...]]:
    return [(y, "GD", cat, item, w, "t") for y in years]


def test_constant_deposition_closed_form_and_steady_state() -> None:
    """IPCC 2006 Vol 5 Ch 3 Eq 3.4-3.6 with a 6-month delay (decay starts 1 January after deposit):
    constant deposition D from year 0 gives DDOCm decomposed in year T = D (1 − e^{−kT}), so CH4
    emitted = W·DOC·DOCf·MCF·F·16/12·(1 − e^{−kT})·(1 − OX), tending to the steady state
    W·DDOCm·F·16/12·(1 − OX) (what is deposited each year decays each year)."""
    w = 100_000.0
    res = solid_waste_disposal(act(_constant(w, range(2000, 2041))), ctx())
    ddocm = w * FOOD_DDOCM_PER_T
    for t in (0, 1, 2, 5, 10, 40):
        expected = ddocm * (1 - math.exp(-K_FOOD * t)) * F * 16 / 12 * (1 - OX_MANAGED)
        assert mass(res, year=2000 + t) == pytest.approx(expected, rel=1e-12)
    steady = ddocm * F * 16 / 12 * (1 - OX_MANAGED)
    assert mass(res, year=2040) == pytest.approx(steady, rel=1e-6)


def test_single_deposit_decays_exponentially() -> None:
    """One deposit D in year 0 (delay 6 months): decomposed in year T ≥ 1 =
    D (1 − e^{−k}) e^{−k(T−1)} (IPCC 2006 Vol 5 Ch 3 Eq 3.4-3.5), nothing in year 0."""
    w = 50_000.0
    rows = [(2000, "GD", "4.A.1", "msw_paper", w, "t"), *_constant(0.0, range(2001, 2031), "msw_paper")]
    res = solid_waste_disposal(act(rows), ctx())
    d = w * 0.40 * 0.5 * 1.0  # paper DOC 0.40
    k = 0.07
    assert mass(res, year=2000) == 0.0
    for t in (1, 2, 10, 30):
        expected = d * (1 - math.exp(-k)) * math.exp(-k * (t - 1)) * F * 16 / 12 * (1 - OX_MANAGED)
        assert mass(res, year=2000 + t) == pytest.approx(expected, rel=1e-12)
    # successive years fall by exactly e^{-k}
    assert mass(res, year=2011) / mass(res, year=2010) == pytest.approx(math.exp(-k), rel=1e-12)


def test_no_delay_decays_half_a_year_in_the_deposition_year() -> None:
    """IPCC Waste Model with delay 0 (M = 7): the year-T deposit decays for the half year after mid-year,
    so DDOCm decomposed in year 0 = D (1 − e^{−k/2}), in year 1 = D e^{−k/2} (1 − e^{−k})."""
    w = 10_000.0
    rows = [(2010, "GD", "4.A.3", "msw_food", w, "t"), (2011, "GD", "4.A.3", "msw_food", 0.0, "t")]
    c = ctx([ov("swds", "delay_months", 0, "1", category="4.A")])
    res = solid_waste_disposal(act(rows), c)
    d = w * 0.15 * 0.5 * 0.6  # uncategorised MCF 0.6, OX 0
    assert mass(res, year=2010) == pytest.approx(d * (1 - math.exp(-K_FOOD / 2)) * F * 16 / 12, rel=1e-12)
    assert mass(res, year=2011) == pytest.approx(
        d * math.exp(-K_FOOD / 2) * (1 - math.exp(-K_FOOD)) * F * 16 / 12, rel=1e-12
    )


@settings(max_examples=60, deadline=None)
@given(
    deposits=st.lists(st.floats(0, 1e6), min_size=1, max_size=40),
    k=st.floats(0.01, 1.5),
    delay=st.floats(0, 6),
)
def test_mass_conservation_at_every_year(deposits: list[float], k: float, delay: float) -> None:
    """Everything deposited is either decomposed or still in the site: Σ decomposed + stock = Σ deposited,
    and over a long tail Σ decomposed → Σ deposited (CH4 over infinite time = DDOCm × F × 16/12)."""
    d = np.array(deposits + [0.0] * math.ceil(40 / k))  # tail long enough for e^{-k t} < e^{-40}
    dec, stock = fod_decomposed(d, k, delay)
    np.testing.assert_allclose(np.cumsum(dec) + stock, np.cumsum(d), rtol=1e-9, atol=1e-6)
    assert dec.sum() == pytest.approx(d.sum(), rel=1e-6, abs=1e-3)
    assert (dec >= -1e-9).all()


@settings(max_examples=30, deadline=None)
@given(base=st.lists(st.floats(0, 1e5), min_size=4, max_size=15), extra=st.floats(1.0, 1e5),
       at=st.integers(0, 2))
def test_more_waste_never_less_methane(base: list[float], extra: float, at: int) -> None:
    """Monotonicity: adding waste in one year never lowers CH4 in any year, and raises it afterwards."""
    years = range(2000, 2000 + len(base))
    more = list(base)
    more[at] += extra
    a = solid_waste_disposal(act([(y, "GD", "4.A.1", "msw_food", w, "t") for y, w in zip(years, base, strict=True)]), ctx())
    b = solid_waste_disposal(act([(y, "GD", "4.A.1", "msw_food", w, "t") for y, w in zip(years, more, strict=True)]), ctx())
    diff = b["mass_t"].to_numpy() - a["mass_t"].to_numpy()
    assert (diff >= -1e-9).all()
    assert diff[at + 1] > 0


def test_additive_across_waste_types_and_bulk_is_its_composition() -> None:
    """Multi-phase FOD: each waste type decays on its own, so results add; mixed MSW split by the
    composition factors equals the components deposited separately (IPCC Waste Model composition option)."""
    years = range(1995, 2021)
    w = 200_000.0
    c = ctx()
    food = solid_waste_disposal(act(_constant(w, years, "msw_food")), c)
    paper = solid_waste_disposal(act(_constant(w, years, "msw_paper")), c)
    both = solid_waste_disposal(act(_constant(w, years, "msw_food") + _constant(w, years, "msw_paper")), c)
    for y in (1996, 2005, 2020):
        assert mass(both, year=y) == pytest.approx(mass(food, year=y) + mass(paper, year=y), rel=1e-12)
    fs = factors()
    shares = {it: fs.get(it, "msw_share", category="4.A.1").value
              for it in ("msw_food", "msw_paper", "msw_wood", "msw_textile", "msw_rubber_leather", "msw_plastic", "msw_inert")}
    bulk = solid_waste_disposal(act(_constant(w, years, "msw_bulk")), c)
    parts = solid_waste_disposal(
        act([row for it, s in shares.items() for row in _constant(w * s, years, it)]), c
    )
    for y in (1996, 2010, 2020):
        assert mass(bulk, year=y) == pytest.approx(mass(parts, year=y), rel=1e-10)


def test_recovery_is_subtracted_before_oxidation() -> None:
    """IPCC 2006 Vol 5 Ch 3 Eq 3.1: CH4 emitted = (Σ generated − R) × (1 − OX)."""
    rows = [*_constant(100000.0, range(2000, 2021)), (2020, "GD", "4.A.1", "landfill_gas_recovered", 500.0, "t")]
    res = solid_waste_disposal(act(rows), ctx())
    gen = mass(res, year=2020, item="msw_food") / (1 - OX_MANAGED)
    assert mass(res, year=2020, item="landfill_gas_recovered") == pytest.approx(-500.0 * (1 - OX_MANAGED))
    assert mass(res, year=2020) == pytest.approx((gen - 500.0) * (1 - OX_MANAGED))


def test_recovery_above_generation_and_gaps_are_rejected() -> None:
    rows = [*_constant(1000.0, range(2000, 2003)), (2002, "GD", "4.A.1", "landfill_gas_recovered", 1000000.0, "t")]
    with pytest.raises(ValidationError) as e:
        solid_waste_disposal(act(rows), ctx())
    assert e.value.problems[0].field == "amount"
    assert "exceeds" in e.value.problems[0].message
    gap = [(2000, "GD", "4.A.1", "msw_food", 1.0, "t"), (2005, "GD", "4.A.1", "msw_food", 1.0, "t")]
    with pytest.raises(ValidationError) as e:
        solid_waste_disposal(act(gap), ctx())
    p = e.value.problems[0]
    assert p.field == "year"
    assert p.row == 3
    assert "2001-2004" in p.message


def test_bad_rows_name_file_row_and_field() -> None:
    rows = [(2000, "GD", "4.A.1", "msw_food", -5.0, "t"), (2001, "GD", "4.A.1", "dairy_cattle", 1.0, "t"),
            (2002, "GD", "4.A.1", "msw_food", 1.0, "ha")]
    with pytest.raises(ValidationError) as e:
        solid_waste_disposal(act(rows), ctx())
    fields = {(p.row, p.field) for p in e.value.problems}
    assert {(2, "amount"), (3, "item"), (4, "unit")} <= fields


def test_through_the_engine_with_units_and_gwp() -> None:
    """The same constant-deposition case through compile_inventory, deposits given in 万吨."""
    rows = _constant(10.0, range(2000, 2031), cat="4.A.2")  # 10 万吨 = 100 000 t, unmanaged deep MCF 0.8
    df = act([(y, r, c, i, a, "万吨") for y, r, c, i, a, _u in rows])
    inv = compile_inventory(df, factors(), gwp="AR5")
    r = inv.results
    expected = 1e5 * 0.15 * 0.5 * 0.8 * (1 - math.exp(-K_FOOD * 30)) * F * 16 / 12
    got = float(r.loc[(r.year == 2030) & (r.gas == "CH4"), "mass_t"].sum())
    assert got == pytest.approx(expected, rel=1e-12)
    assert float(r.loc[r.year == 2030, "co2e_t"].sum()) == pytest.approx(expected * 28, rel=1e-12)
    assert inv.summary(year=2030)["by_category"]["4.A"] == pytest.approx(expected * 28, rel=1e-12)
