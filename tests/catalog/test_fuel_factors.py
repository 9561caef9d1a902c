"""The fuel catalog (items/fuels.yaml) and its factor files (factors/fuels.csv, standard_coal.csv)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonpeak.catalog.factor_tools import PARAMETER_DIMENSIONS, unit_dimension_ok
from carbonpeak.catalog.factors import FactorSet, read_factor_table
from carbonpeak.catalog.items import get_items
from carbonpeak.catalog.loader import DATA_DIR, STATUSES
from carbonpeak.catalog.units import convert, parse_unit

FUEL_IDS = [
    "raw_coal",
    "cleaned_coal",
    "other_washed_coal",
    "briquettes",
    "coke",
    "coke_oven_gas",
    "blast_furnace_gas",
    "converter_gas",
    "other_gas",
    "crude_oil",
    "gasoline",
    "kerosene",
    "diesel_oil",
    "fuel_oil",
    "naphtha",
    "lubricants",
    "paraffin",
    "white_spirit",
    "asphalt",
    "petroleum_coke",
    "lpg",
    "refinery_gas",
    "other_petroleum_products",
    "natural_gas",
    "lng",
    "other_coking_products",
    "biomass",
    "municipal_solid_waste",
    "electricity",
    "heat",
]
#: Secondary energy has no combustion factors: its emissions are those of the fuels burnt to
#: make it (territorial) or a grid/heat factor (consumption-based), see docs/factors.md.
SECONDARY = {"electricity", "heat"}
MY_FILES = ("fuels.csv", "standard_coal.csv", "grid.csv")


@pytest.fixture(scope="module")
def fs() -> FactorSet:
    return FactorSet.default()


@pytest.fixture(scope="module")
def my_rows():
    rows = []
    for name in MY_FILES:
        rows.extend(read_factor_table(DATA_DIR / "factors" / name))
    return rows


def test_every_fuel_is_an_item_with_kind_group_unit():
    items = get_items()
    kinds = {"fossil_solid", "fossil_liquid", "fossil_gas", "biomass", "waste", "secondary"}
    for fid in FUEL_IDS:
        it = items[fid]
        assert it.kind in kinds, fid
        assert it.group in {"coal", "oil", "gas", "other"}, fid
        assert it.name_zh
        assert it.name_en
        parse_unit(it.unit)
    assert {i.kind for i in items.values() if i.id.startswith("grid_")} == {"grid"}
    assert "grid_south" in items
    assert "grid_national" in items
    assert "grid_guangdong" in items


@pytest.mark.parametrize("fid", [f for f in FUEL_IDS if f not in SECONDARY])
def test_every_combustible_fuel_has_ncv_cc_of_and_non_co2(fs, fid):
    ncv = fs.get(fid, "ncv")
    cc = fs.get(fid, "carbon_content")
    of = fs.get(fid, "oxidation")
    assert ncv.value > 0
    assert 5 < cc.value < 80
    assert 0.8 < of.value <= 1
    for cat in ("1.A.1.a", "1.A.2.f", "1.A.4.a", "1.A.4.b", "1.A.5"):
        for gas in ("CH4", "N2O"):
            assert fs.get(fid, "ef", gas=gas, category=cat).to("kg/TJ") > 0
    # GB/T 2589-2020 gives no coefficient for these (documented in docs/factors.md)
    if fid not in {"biomass", "municipal_solid_waste", "other_petroleum_products"}:
        assert fs.get(fid, "standard_coal_coef").value > 0


def test_secondary_energy_has_no_combustion_factors(fs):
    for fid in SECONDARY:
        assert fs.lookup(fid, "carbon_content") is None
        assert fs.lookup(fid, "oxidation") is None
    assert fs.get("electricity", "ncv").to("GJ/MWh") == pytest.approx(3.6)


def test_every_row_has_source_and_a_known_status(my_rows):
    assert len(my_rows) > 400
    for r in my_rows:
        assert len(r.source) > 10, r
        assert r.status in STATUSES, r


def test_units_parse_with_the_right_dimension(my_rows):
    items = get_items()
    for r in my_rows:
        ok = unit_dimension_ok(r.parameter, r.unit, items[r.item].kind)
        assert ok is True, (r.item, r.parameter, r.unit)
    assert set(PARAMETER_DIMENSIONS) >= {r.parameter for r in my_rows if r.parameter != "ef"}


def test_gas_volume_units_convert():
    assert convert(1, "GJ/(10^4 Nm3)", "GJ/m3") == pytest.approx(1e-4)
    assert convert(389.31, "GJ/(10^4 Nm3)", "MJ/m3") == pytest.approx(38.931)


def test_raw_coal_mass_emission_factor(fs):
    """accounting.md §1.2 (NBS NCV + provincial-guideline CC/OF set): raw coal 1.9003 tCO2/t.

    EF = NCV 20.908 GJ/t x CC 26.37 tC/TJ x OF 0.94 x 44/12 / 1000.
    """
    ncv = fs.get("raw_coal", "ncv", category="1.A.2.f").to("GJ/t")
    cc = fs.get("raw_coal", "carbon_content", category="1.A.2.f").to("tC/TJ")
    of = fs.get("raw_coal", "oxidation", category="1.A.2.f").value
    assert (ncv, cc, of) == (20.908, 26.37, 0.94)
    assert ncv * cc * of * 44 / 12 / 1000 == pytest.approx(1.9003, abs=5e-5)


@pytest.mark.parametrize(
    ("fuel", "expected"),
    [
        ("coke", 2.8604),
        ("crude_oil", 3.0202),
        ("fuel_oil", 3.1705),
        ("gasoline", 2.9251),
        ("diesel_oil", 3.0959),
        ("lpg", 3.1013),
    ],
)
def test_mass_emission_factors_of_accounting_reference(fs, fuel, expected):
    """accounting.md §1.2 table, column 'EF tCO2/unit' (values [C] in public code)."""
    v = (
        fs.get(fuel, "ncv").to("GJ/t")
        * fs.get(fuel, "carbon_content").to("tC/TJ")
        * fs.get(fuel, "oxidation").value
        * 44
        / 12
        / 1000
    )
    assert v == pytest.approx(expected, abs=6e-4)


def test_natural_gas_cc_matches_ipcc_table_1_4(fs):
    """IPCC 2006 Vol 2 Ch 1 Table 1.4: natural gas default CO2 EF 56 100 kg/TJ = CC 15.3 kgC/GJ x 44/12."""
    cc = fs.get("natural_gas", "carbon_content").to("kg/GJ")
    assert cc * 44 / 12 * 1000 == pytest.approx(56_100, rel=1e-3)
    # and the per-volume factor of accounting.md §1.2: 21.622 tCO2/10^4 m3
    ef = fs.get("natural_gas", "ncv").to("GJ/(10^4 Nm3)") * cc * 0.99 * 44 / 12 / 1000
    assert ef == pytest.approx(21.622, abs=2e-3)


def test_category_specific_oxidation_and_non_co2(fs):
    assert fs.get("raw_coal", "oxidation", category="1.A.1.a").value == 0.98
    assert fs.get("raw_coal", "oxidation", category="1.A.2.a").value == 0.94
    # IPCC 2006 Vol 2 Tables 2.2 / 2.3 / 2.5 for coal CH4
    assert fs.get("raw_coal", "ef", gas="CH4", category="1.A.1.a").value == 1
    assert fs.get("raw_coal", "ef", gas="CH4", category="1.A.2.c").value == 10
    assert fs.get("raw_coal", "ef", gas="CH4", category="1.A.4.b").value == 300
    # Table 3.2.2 road gasoline (uncontrolled), Table 3.6.5 aviation
    assert fs.get("gasoline", "ef", gas="CH4", category="1.A.3.b.i").value == 33
    assert fs.get("kerosene", "ef", gas="N2O", category="1.A.3.a.ii").value == 2


def test_uncertainty_is_larger_side_of_ipcc_range(fs):
    """IPCC 2006 Vol 2 Table 2.2: coal CH4 1 (0.3-3) kg/TJ -> +200 % is the larger deviation."""
    assert fs.get("raw_coal", "ef", gas="CH4", category="1.A.1").uncertainty_pct == pytest.approx(200)
    assert fs.get("natural_gas", "carbon_content").uncertainty_pct == pytest.approx(3.9)


def test_standard_coal_coefficients(fs):
    assert fs.get("raw_coal", "standard_coal_coef").to("kgce/kg") == 0.7143
    # 0.7143 kgce/kg x 29.3076 GJ/tce = 20.934 GJ/t (GB/T 2589 basis, 4.1868 kJ/kcal)
    assert convert(0.7143, "kgce/kg", "GJ/t") == pytest.approx(20.934, abs=1e-3)
    e = fs.get("electricity", "standard_coal_coef")
    assert e.to("kgce/kWh") == 0.1229
    assert convert(1, "kWh", "kgce") == pytest.approx(e.value, abs=1e-4)  # physical content
    assert convert(1, "MJ", "kgce") == pytest.approx(fs.get("heat", "standard_coal_coef").value, abs=1e-5)


def test_substitution_coefficient_by_year(fs):
    for y in range(2005, 2023):
        v = fs.get("electricity", "standard_coal_coef_substitution", year=y)
        assert v.year_from == v.year_to == y
        assert 0.29 < v.to("kgce/kWh") < 0.38
    # needs a year: the coefficient is year-bound
    assert fs.lookup("electricity", "standard_coal_coef_substitution") is None
    vals = [fs.get("electricity", "standard_coal_coef_substitution", year=y).value for y in range(2005, 2023)]
    assert vals == sorted(vals, reverse=True)


def _energy_gj(amount: float, unit: str, fuel: str, fs: FactorSet) -> float:
    ncv = fs.get(fuel, "ncv")
    q = amount * parse_unit(unit) * ncv.value * parse_unit(ncv.unit)
    return float(q.to("GJ").magnitude)


@given(st.sampled_from([f for f in FUEL_IDS if f not in SECONDARY]), st.floats(0.001, 1e7))
def test_energy_does_not_depend_on_the_unit_the_amount_is_given_in(fuel, amount):
    """Activity in t vs 万吨, or 10^4 Nm3 vs 亿立方米, gives the same energy."""
    fs = FactorSet.default()
    unit = get_items()[fuel].unit
    big = {"t": "万吨", "10^4 Nm3": "亿立方米"}[unit]
    assert _energy_gj(amount, unit, fuel, fs) == pytest.approx(
        _energy_gj(amount / 1e4, big, fuel, fs), rel=1e-9
    )
