"""Incineration (4.C.1), biological treatment (4.B) and wastewater (4.D): IPCC 2006 Vol 5 Ch 4-6."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.accounting.aw_helpers import act, ctx, factors, mass, ov

from carbonpeak.accounting.engine import compile_inventory
from carbonpeak.accounting.methods.waste import biological_treatment, waste_incineration, wastewater
from carbonpeak.errors import ValidationError


def test_incineration_eq_5_1_fossil_and_biogenic_split() -> None:
    """IPCC 2006 Vol 5 Ch 5 Eq 5.1: CO2 = SW × dm × CF × FCF × OF × 44/12, only the fossil part counts.

    1 000 t of textiles with dm 0.80, CF 0.50, FCF 0.20 (Vol 5 Ch 2 Table 2.4), OF 1:
    carbon 400 t, fossil 80 t C → 293.33 t CO2; non-fossil 320 t C → 1 173.33 t CO2 (memo)."""
    res = waste_incineration(act([(2020, "GD", "4.C.1", "msw_textile", 1000.0, "t")]), ctx())
    assert mass(res, gas="CO2", scope="territorial") == pytest.approx(80 * 44 / 12)
    assert mass(res, gas="CO2", scope="memo_biomass_co2") == pytest.approx(320 * 44 / 12)
    # per-tonne CH4 and N2O (Eq 5.4-5.5) with the packaged factors 0.2 kg/Gg and 50 g/t
    assert mass(res, gas="CH4") == pytest.approx(1000 * 0.0002 / 1000)
    assert mass(res, gas="N2O") == pytest.approx(1000 * 0.05 / 1000)


def test_incineration_of_mixed_msw_uses_the_composition() -> None:
    """Mixed MSW = Σ share_i × component i: plastics alone give all their carbon as fossil CO2."""
    c = ctx([ov("msw_plastic", "msw_share", 1.0, "1", category="4")])  # replaces the whole default composition
    res = waste_incineration(act([(2020, "GD", "4.C.1", "msw_bulk", 10.0, "10^3 t")]), c)
    assert mass(res, gas="CO2", scope="territorial") == pytest.approx(10_000 * 1.0 * 0.75 * 1.0 * 44 / 12)
    assert mass(res, gas="CO2", scope="memo_biomass_co2") == pytest.approx(0.0)
    ex = json.loads(res.loc[(res.gas == "CO2") & (res.scope == "territorial"), "explain"].iloc[0])
    assert ex["components"]["msw_plastic"]["share"]["overridden"] is True


def test_incineration_composition_above_one_is_rejected() -> None:
    c = ctx([ov("msw_food", "msw_share", 0.9, "1", category="4"), ov("msw_paper", "msw_share", 0.5, "1", category="4")])
    with pytest.raises(ValidationError, match="composition"):
        waste_incineration(act([(2020, "GD", "4.C.1", "msw_bulk", 1.0, "t")]), c)


def test_biological_treatment_eq_4_1_table_4_1() -> None:
    """IPCC 2006 Vol 5 Ch 4 Eq 4.1-4.2 with Table 4.1 (wet weight): composting 4 g CH4 and 0.24 g N2O
    per kg; 10 000 t composted → 40 t CH4, 2.4 t N2O."""
    res = biological_treatment(act([(2020, "GD", "4.B", "composting", 10_000.0, "t")]), ctx())
    assert mass(res, gas="CH4") == pytest.approx(40.0)
    assert mass(res, gas="N2O") == pytest.approx(2.4)


def test_wastewater_eq_6_1_and_recovery() -> None:
    """IPCC 2006 Vol 5 Ch 6 Eq 6.1-6.2: CH4 = TOW × B0 × MCF − R; septic (MCF 0.5), B0 0.6:
    1 000 t BOD → 300 t CH4; 100 t recovered → 200 t."""
    rows = [(2020, "GD", "4.D.1", "domestic_bod_septic", 1000.0, "t"),
            (2020, "GD", "4.D.1", "wastewater_ch4_recovered", 100.0, "t"),
            (2020, "GD", "4.D.2", "industrial_cod_lagoon_deep", 1000.0, "t")]
    res = wastewater(act(rows), ctx())
    assert mass(res, category="4.D.1") == pytest.approx(200.0)
    assert mass(res, category="4.D.2") == pytest.approx(1000 * 0.25 * 0.8)


def test_wastewater_n2o_from_population_eq_6_7_6_8() -> None:
    """Eq 6.8: N_effluent = P × Protein × F_NPR × F_NON-CON × F_IND-COM; Eq 6.7: N2O = N × EF × 44/28.
    1 000 000 people × 30 kg protein × 0.16 × 1.4 × 1.25 = 8 400 t N; × 0.005 × 44/28 = 66 t N2O."""
    c = ctx([ov("population_wastewater", "protein", 30.0, "kg/person/yr", category="4.D.1")])
    res = wastewater(act([(2020, "GD", "4.D.1", "population_wastewater", 100.0, "万人")]), c)
    assert mass(res, gas="N2O") == pytest.approx(8400 * 0.005 * 44 / 28)
    # without a protein factor the error says what to add
    with pytest.raises(ValidationError, match="protein"):
        wastewater(act([(2020, "GD", "4.D.1", "population_wastewater", 1.0, "person")]), ctx())


def test_wastewater_pathway_category_and_overrecovery_rejected() -> None:
    with pytest.raises(ValidationError) as e:
        wastewater(act([(2020, "GD", "4.D.2", "domestic_bod_septic", 1.0, "t")]), ctx())
    assert e.value.problems[0].field == "category"
    with pytest.raises(ValidationError) as e:
        wastewater(act([(2020, "GD", "4.D.1", "domestic_bod_septic", 1.0, "ha"),
                        (2020, "GD", "4.D.1", "population_wastewater", 1.0, "t")]), ctx())
    assert sorted((p.row, p.field) for p in e.value.problems) == [(2, "unit"), (3, "unit")]
    with pytest.raises(ValidationError, match="exceeds"):
        wastewater(act([(2020, "GD", "4.D.1", "domestic_bod_aerobic_plant", 1000.0, "t"),
                        (2020, "GD", "4.D.1", "wastewater_ch4_recovered", 1.0, "t")]), ctx())


@settings(max_examples=25, deadline=None)
@given(a=st.floats(0, 1e6), b=st.floats(0, 1e6))
def test_incineration_is_linear_and_additive(a: float, b: float) -> None:
    c = ctx()
    one = waste_incineration(act([(2020, "GD", "4.C.1", "msw_bulk", a + b, "t")]), c)
    two = waste_incineration(act([(2020, "GD", "4.C.1", "msw_bulk", a, "t"),
                                  (2020, "GD-GZ", "4.C.1", "msw_bulk", b, "t")]), c)
    for gas in ("CO2", "CH4", "N2O"):
        assert mass(two, gas=gas) == pytest.approx(mass(one, gas=gas), rel=1e-9, abs=1e-9)


def test_waste_through_the_engine() -> None:
    rows = [(2020, "GD", "4.C.1", "msw_bulk", 1.0, "万吨"), (2020, "GD", "4.B", "anaerobic_digestion", 100.0, "t"),
            (2020, "GD", "4.D.1", "domestic_bod_aerobic_overloaded", 10.0, "t")]
    inv = compile_inventory(act(rows), factors(), gwp="AR5")
    s = inv.summary()
    assert s["by_category"]["4.D.1"] == pytest.approx(10 * 0.6 * 0.3 * 28)
    assert s["memo"]["biomass_co2_t"] > 0
    assert {"4.B", "4.C.1", "4.D.1"} <= set(s["by_category"])
