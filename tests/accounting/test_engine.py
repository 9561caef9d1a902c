"""Inventory engine and energy methods: reference tests and behaviour."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from tests.accounting.engine_fixtures import activity, factor_set, fv

from carbonpeak.accounting.base import RESULT_COLUMNS, SCOPES
from carbonpeak.accounting.engine import Inventory, compile_inventory
from carbonpeak.catalog.factors import FactorSet
from carbonpeak.catalog.gwp import gwp_values
from carbonpeak.errors import ValidationError


def co2(inv: Inventory, scope: str = "territorial") -> float:
    r = inv.results
    return float(r.loc[(r.scope == scope) & (r.gas == "CO2"), "mass_t"].sum())


def test_ipcc_2006_eq_2_1_natural_gas_worked_numbers() -> None:
    """IPCC 2006 GL Vol 2 Ch 2 Eq 2.1: Emissions = fuel consumption (TJ) × EF (kg/TJ).

    Natural gas: default carbon content 15.3 tC/TJ (Vol 2 Ch 1 Table 1.3) with oxidation 1 gives
    the default CO2 EF 56 100 kg/TJ (Table 1.4 / Table 2.2); stationary combustion in energy
    industries CH4 1 kg/TJ and N2O 0.1 kg/TJ (Table 2.2).  1 000 TJ → 56 100 t CO2, 1 t CH4,
    0.1 t N2O.
    """
    fs = FactorSet(
        [
            [
                fv("natural_gas", "carbon_content", 15.3, "tC/TJ"),
                fv("natural_gas", "oxidation", 1.0, "1"),
                fv("natural_gas", "ef", 1.0, "kg/TJ", gas="CH4"),
                fv("natural_gas", "ef", 0.1, "kg/TJ", gas="N2O"),
            ]
        ]
    )
    inv = compile_inventory(activity([(2020, "GD", "1.A.1.a.i", "natural_gas", 1000, "TJ")]), fs)
    by = inv.results.set_index("gas")["mass_t"]
    assert by["CO2"] == pytest.approx(56_100.0, rel=1e-9)
    assert by["CH4"] == pytest.approx(1.0, rel=1e-9)
    assert by["N2O"] == pytest.approx(0.1, rel=1e-9)
    # AR5: 56 100 + 1 × 28 + 0.1 × 265
    assert inv.summary()["total_co2e_t"] == pytest.approx(56_100 + 28 + 26.5, rel=1e-9)


def test_ipcc_2006_table_1_4_bituminous_coal_ef() -> None:
    """IPCC 2006 GL Vol 2 Ch 1 Table 1.3/1.4: other bituminous coal 25.8 tC/TJ → 94 600 kg CO2/TJ."""
    fs = FactorSet(
        [
            [
                fv("raw_coal", "carbon_content", 25.8, "tC/TJ"),
                fv("raw_coal", "oxidation", 1.0, "1"),
                fv("raw_coal", "ef", 1.0, "kg/TJ", gas="CH4"),
                fv("raw_coal", "ef", 1.5, "kg/TJ", gas="N2O"),
            ]
        ]
    )
    inv = compile_inventory(activity([(2020, "GD", "1.A.1.a", "raw_coal", 1, "TJ")]), fs)
    assert co2(inv) == pytest.approx(94.6, rel=1e-9)


def test_provincial_guideline_raw_coal_1_9003() -> None:
    """省级温室气体清单编制指南(试行) (NDRC 2011) formula CO2 = AD × NCV × CC × OF × 44/12.

    Raw coal: NCV 20.908 GJ/t (NBS yearbook), CC 26.37 tC/TJ, OF 0.94 → 1.9003 tCO2/t
    (shared/reference/accounting.md §1.2, the widely used provincial-guideline factor).
    """
    inv = compile_inventory(activity([(2020, "GD", "1.A.2.a", "raw_coal", 10_000, "t")]), factor_set())
    assert co2(inv) / 10_000 == pytest.approx(1.9003, abs=5e-5)


def test_packaged_catalog_raw_coal_matches_guideline() -> None:
    """The packaged fuel factors reproduce the guideline raw-coal factor 1.9003 tCO2/t (1.A.2)."""
    from carbonpeak.model.activity import validate_activity

    df = pd.DataFrame(
        {
            "year": ["2020"],
            "region": ["GD"],
            "category": ["1.A.2.a"],
            "item": ["raw_coal"],
            "amount": ["1"],
            "unit": ["万吨"],
        }
    )
    inv = compile_inventory(validate_activity(df))
    assert co2(inv) / 10_000 == pytest.approx(1.9003, abs=5e-5)


def test_category_specific_oxidation_and_factor_key() -> None:
    """A category row (OF 0.98 for 1.A.1) beats the blank-category row (0.94)."""
    inv = compile_inventory(
        activity([(2020, "GD", "1.A.1.a", "raw_coal", 1, "t"), (2020, "GD", "1.A.2.a", "raw_coal", 1, "t")]),
        factor_set(),
    )
    r = inv.results[inv.results.gas == "CO2"].set_index("category")
    assert r.loc["1.A.1.a", "mass_t"] / r.loc["1.A.2.a", "mass_t"] == pytest.approx(0.98 / 0.94)
    assert r.loc["1.A.1.a", "factor_key"] == "raw_coal|CO2|1.A.1"
    assert r.loc["1.A.2.a", "factor_key"] == "raw_coal|CO2|*"


def test_energy_units_skip_ncv() -> None:
    """An amount in tce or GJ is already energy: 1 tce = 29.3076 GJ (GB/T 2589-2020)."""
    a = compile_inventory(activity([(2020, "GD", "1.A.3.b", "diesel_oil", 1, "tce")]), factor_set())
    b = compile_inventory(activity([(2020, "GD", "1.A.3.b", "diesel_oil", 29.3076, "GJ")]), factor_set())
    assert co2(a) == pytest.approx(co2(b), rel=1e-12)
    assert co2(a) == pytest.approx(29.3076e-3 * 20.2 * 0.98 * 44 / 12, rel=1e-12)
    assert "ncv" not in inv_parameters(a)


def inv_parameters(inv: Inventory) -> set[str]:
    out: set[str] = set()
    for text in inv.results["explain"]:
        out |= {f["parameter"] for f in json.loads(text)["factors"]}
    return out


def test_gas_volume_units() -> None:
    """Natural gas in 10^4 Nm3 × NCV in GJ/10^4 Nm3; 亿立方米 = 10^4 × 10^4 m3."""
    a = compile_inventory(activity([(2020, "GD", "1.A.4.b", "natural_gas", 1, "亿立方米")]), factor_set())
    b = compile_inventory(
        activity([(2020, "GD", "1.A.4.b", "natural_gas", 10_000, "10^4 Nm3")]), factor_set()
    )
    assert co2(a) == pytest.approx(co2(b), rel=1e-12)
    assert co2(b) == pytest.approx(10_000 * 389.31e-3 * 15.3 * 0.99 * 44 / 12, rel=1e-12)


def test_biomass_co2_is_memo_but_ch4_n2o_count() -> None:
    """IPCC 2006 Vol 2 Ch 2 §2.3.3.4: biomass CO2 is an information item; CH4/N2O are counted."""
    inv = compile_inventory(activity([(2020, "GD", "1.A.4.b", "biomass", 100, "t")]), factor_set())
    s = inv.summary()
    assert s["memo"]["biomass_co2_t"] == pytest.approx(100 * 15e-3 * 30.5 * 44 / 12)
    assert s["by_gas"].get("CO2", 0.0) == 0.0
    assert s["by_gas"]["CH4"] == pytest.approx(100 * 15e-6)


def test_international_bunkers_are_memo() -> None:
    """IPCC 2006 Vol 2 Ch 3 §3.5.1/§3.6.1: international aviation and navigation are memo items."""
    inv = compile_inventory(
        activity(
            [(2020, "GD", "1.A.3.a.i", "kerosene", 10, "t"), (2020, "GD", "1.A.3.d.i", "fuel_oil", 10, "t")]
        ),
        factor_set(),
    )
    s = inv.summary()
    assert s["total_co2e_t"] == 0.0
    expected = 10 * 43.07e-3 * 19.5 * 0.98 * 44 / 12 + 10 * 41.816e-3 * 21.1 * 0.98 * 44 / 12
    assert s["memo"]["international_bunkers_co2_t"] == pytest.approx(expected)
    assert set(inv.results["scope"]) == {"memo_international_bunkers"}


def test_electricity_in_end_use_is_rejected() -> None:
    with pytest.raises(ValidationError) as e:
        compile_inventory(activity([(2020, "GD", "1.A.2.c", "electricity", 10, "MWh")]), factor_set())
    p = e.value.problems[0]
    assert (p.file, p.row, p.field) == ("act.csv", 2, "item")
    assert "M.ELEC" in p.message


def test_imported_electricity_memo_and_consumption_total() -> None:
    """Net imports × grid factor: 1 亿kWh = 100 000 MWh × 0.5 t/MWh = 50 000 t; net export negative."""
    inv = compile_inventory(
        activity(
            [
                (2020, "GD", "M.ELEC", "electricity", 1, "亿kWh"),
                (2020, "GD-GZ", "M.ELEC", "electricity", -1000, "MWh"),
                (2020, "GD", "1.A.2.a", "raw_coal", 1, "t"),
            ]
        ),
        factor_set(),
    )
    gd = inv.summary(region="GD")
    assert gd["memo"]["imported_electricity_co2_t"] == pytest.approx(50_000.0)
    assert gd["consumption_based_co2e_t"] == pytest.approx(gd["total_co2e_t"] + 50_000.0)
    assert inv.summary(region="GD-GZ")["memo"]["imported_electricity_co2_t"] == pytest.approx(-500.0)


def test_imported_electricity_catalog_grid_factor() -> None:
    """Without a user factor the catalog series is used (China Southern Grid region by default)."""
    from carbonpeak.catalog.grid import grid_factor
    from carbonpeak.model.activity import validate_activity

    df = pd.DataFrame(
        {
            "year": ["2022"],
            "region": ["GD"],
            "category": ["M.ELEC.SOUTH"],
            "item": ["electricity"],
            "amount": ["1000"],
            "unit": ["MWh"],
        }
    )
    inv = compile_inventory(validate_activity(df))
    ef = grid_factor(2022, "south").to("t/MWh")
    assert inv.summary()["memo"]["imported_electricity_co2_t"] == pytest.approx(1000 * ef)


def test_fugitive_coal_mining() -> None:
    """IPCC 2006 Vol 2 Ch 4 Eq 4.1.3: CH4 = coal production × EF (m3/t) × 0.67e-6 Gg/m3.

    10^6 t underground coal × 18 m3/t × 0.67 kg/m3 = 12 060 t CH4.
    """
    inv = compile_inventory(activity([(2020, "GD", "1.B.1.a.i.1", "raw_coal", 1e6, "t")]), factor_set())
    assert inv.results["mass_t"].sum() == pytest.approx(12_060.0)
    assert inv.summary()["by_category"]["1.B"] == pytest.approx(12_060.0 * gwp_values("AR5")["CH4"])


def test_reference_approach_and_difference() -> None:
    """IPCC 2006 Vol 2 Ch 6 Eq 6.1: apparent consumption = production + imports − exports − bunkers −
    stock change; CO2 = AC × NCV × CC × OF × 44/12; differences > 5 % are flagged (§6.8)."""
    rows = [
        (2020, "GD", "1.A.1.a", "raw_coal", 100, "t"),
        (2020, "GD", "M.REF.PROD", "raw_coal", 40, "t"),
        (2020, "GD", "M.REF.IMP", "raw_coal", 80, "t"),
        (2020, "GD", "M.REF.EXP", "raw_coal", 10, "t"),
        (2020, "GD", "M.REF.STOCK", "raw_coal", -2, "t"),
        (2020, "GD", "M.REF.NEU", "raw_coal", 2, "t"),
    ]
    inv = compile_inventory(activity(rows), factor_set())
    ac = 40 + 80 - 10 + 2 - 2
    per_t = 20.908e-3 * 26.37 * 0.94 * 44 / 12
    memo = inv.summary()["memo"]
    assert memo["reference_approach_co2_t"] == pytest.approx(ac * per_t)
    sect = 100 * 20.908e-3 * 26.37 * 0.98 * 44 / 12
    assert memo["sectoral_approach_co2_t"] == pytest.approx(sect)
    assert memo["reference_vs_sectoral_difference_pct"] == pytest.approx((ac * per_t - sect) / sect * 100)
    chk = memo["reference_check"][0]
    assert chk["flag"] is (abs(chk["difference_pct"]) > 5)


def test_no_method_for_category() -> None:
    with pytest.raises(ValidationError) as e:
        compile_inventory(activity([(2020, "GD", "1.C", "raw_coal", 1, "t")]), factor_set())
    p = e.value.problems[0]
    assert (p.file, p.row, p.field) == ("act.csv", 2, "category")
    assert "no method" in p.message


def test_missing_factor_names_row() -> None:
    fs = FactorSet([[fv("raw_coal", "ncv", 20.9, "GJ/t")]])
    with pytest.raises(ValidationError) as e:
        compile_inventory(activity([(2020, "GD", "1.A.2.a", "raw_coal", 1, "t")]), fs)
    msgs = [p.message for p in e.value.problems]
    assert any("carbon_content" in m for m in msgs)
    assert all(p.row == 2 for p in e.value.problems)


def test_results_contract() -> None:
    inv = compile_inventory(
        activity(
            [(2020, "GD", "1.A.2.a", "raw_coal", 1, "t"), (2021, "GD-GZ", "1.A.3.b", "diesel_oil", 2, "t")]
        ),
        factor_set(),
    )
    assert list(inv.results.columns) == [*RESULT_COLUMNS, "co2e_t"]
    assert set(inv.results["scope"]) <= set(SCOPES)
    for text in inv.results["explain"]:
        ex = json.loads(text)
        assert ex["activity"]["file"] == "act.csv"
        assert all("source" in f and "status" in f for f in ex["factors"])
    s = inv.summary()
    for k in (
        "total_co2e_t",
        "total_excluding_lulucf_co2e_t",
        "by_category",
        "by_gas",
        "memo",
        "years",
        "regions",
        "gwp",
        "factor_overrides",
        "consumption_based_co2e_t",
    ):
        assert k in s
    assert s["years"] == [2020, 2021]
    assert s["by_category"]["1"] == pytest.approx(s["total_co2e_t"])
    assert s["by_category"]["1.A"] == pytest.approx(s["by_category"]["1.A.2"] + s["by_category"]["1.A.3"])
    t = inv.totals(by=["year"])
    assert t["co2e_t"].sum() == pytest.approx(s["total_co2e_t"])
    assert inv.summary(year=2021)["regions"] == ["GD-GZ"]


def test_explain_shows_override() -> None:
    """A user factor file wins over the defaults and is flagged in explain and the summary."""
    user = [fv("raw_coal", "carbon_content", 25.0, "tC/TJ", origin="my_factors.csv")]
    inv = compile_inventory(activity([(2020, "GD", "1.A.2.a", "raw_coal", 1000, "t")]), factor_set(user))
    assert co2(inv) == pytest.approx(1000 * 20.908e-3 * 25.0 * 0.94 * 44 / 12)
    ex = inv.explain("1.A.2", year=2020, gas="CO2")
    assert ex["overridden"] is True
    cc = next(f for f in ex["factors"] if f["parameter"] == "carbon_content")
    assert cc["origin"] == "my_factors.csv"
    assert cc["overridden"] is True
    assert ex["rows"][0]["explain"]["activity"]["row"] == 2
    used = inv.summary()["factor_overrides"]["used"]
    assert [u["parameter"] for u in used] == ["carbon_content"]
    assert (
        compile_inventory(activity([(2020, "GD", "1.A.2.a", "raw_coal", 1, "t")]), factor_set()).explain(
            "1.A", 2020
        )["overridden"]
        is False
    )


def test_region_specific_and_year_bounded_factors() -> None:
    """Region and year rows are honoured even though factors are resolved once per key."""
    extra = [
        fv("raw_coal", "ncv", 22.0, "GJ/t", category="", year_from=2021, year_to=2021),
    ]
    inv = compile_inventory(
        activity([(2020, "GD", "1.A.2.a", "raw_coal", 1, "t"), (2021, "GD", "1.A.2.a", "raw_coal", 1, "t")]),
        factor_set(extra),
    )
    r = inv.results[inv.results.gas == "CO2"].set_index("year")["mass_t"]
    assert r[2021] / r[2020] == pytest.approx(22.0 / 20.908)


def test_sinks_and_lulucf_totals() -> None:
    """sinks() reports LULUCF removals on their own; totals with and without LULUCF differ by them."""
    res = pd.DataFrame(
        {
            "year": [2020, 2020, 2020],
            "region": ["GD", "GD", "GD"],
            "category": ["1.A.1.a", "3.B.1.a", "3.B.4.a.i"],
            "item": ["raw_coal", "forest", "mangrove"],
            "gas": ["CO2", "CO2", "CO2"],
            "mass_t": [100.0, -40.0, -5.0],
            "scope": ["territorial"] * 3,
            "ad_uncertainty_pct": [math.nan] * 3,
            "ef_uncertainty_pct": [math.nan] * 3,
            "factor_key": ["a", "b", "c"],
            "explain": ["{}"] * 3,
            "co2e_t": [100.0, -40.0, -5.0],
        }
    )
    inv = Inventory(results=res)
    s = inv.summary()
    assert s["total_co2e_t"] == pytest.approx(55.0)
    assert s["total_excluding_lulucf_co2e_t"] == pytest.approx(100.0)
    assert s["removals_co2e_t"] == pytest.approx(-45.0)
    sinks = inv.sinks()
    assert list(sinks["category"]) == ["3.B.1.a", "3.B.4.a.i"]
    assert inv.totals(by=[], include_lulucf=False)["co2e_t"].iloc[0] == pytest.approx(100.0)
    assert s["by_category"]["3.B.4"] == pytest.approx(-5.0)
    assert s["by_category"]["3"] == pytest.approx(-45.0)


def test_unknown_gwp_set() -> None:
    from carbonpeak.errors import CatalogError

    with pytest.raises(CatalogError):
        compile_inventory(activity([(2020, "GD", "1.A.2.a", "raw_coal", 1, "t")]), factor_set(), gwp="SAR2")


def test_unit_not_fitting_ncv_names_row() -> None:
    """Natural gas in tonnes cannot use an NCV per 10^4 Nm3: the row and field are named."""
    with pytest.raises(ValidationError) as e:
        compile_inventory(activity([(2020, "GD", "1.A.2.a", "natural_gas", 5, "t")]), factor_set())
    p = e.value.problems[0]
    assert (p.file, p.row, p.field) == ("act.csv", 2, "unit")
    assert "net calorific value" in p.message


def test_summary_warns_about_province_plus_cities_and_reference_gap() -> None:
    inv = compile_inventory(
        activity(
            [
                (2020, "GD", "1.A.2.a", "raw_coal", 100, "t"),
                (2020, "GD-GZ", "1.A.2.a", "raw_coal", 10, "t"),
                (2020, "GD", "M.REF.IMP", "raw_coal", 200, "t"),
            ]
        ),
        factor_set(),
    )
    w = inv.summary()["warnings"]
    assert any("double count" in x for x in w)
    assert any("reference approach differs" in x and "GD 2020" in x for x in w)
    assert inv.summary(region="GD-GZ")["warnings"] == []
