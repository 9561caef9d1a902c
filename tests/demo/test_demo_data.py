"""The bundled Guangdong demo activity data: it loads, compiles, carries its provenance and agrees
with the independent CEADs Guangdong inventory it was derived from.

Reference: CEADs Guangdong inventory 2015–2019 (Shan et al. 2018 Sci Data 5:170201; Shan et al.
2020 Sci Data 7:54; Guan et al. 2021 Earth's Future 9:e2021EF002241), as extracted in
``shared/reference/data/ceads_guangdong_province_co2_1997_2019.csv``.  Tolerances and the reasons
for them are in ``docs/validation.md``.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonpeak.accounting.engine import compile_inventory
from carbonpeak.demo import demo_files
from carbonpeak.model.activity import load_activity

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "reference" / "data"
KINDS = ("activity", "activity_cities")

#: Fuel-combustion CO2 of the demo data vs CEADs, per year and per fuel group (coal/oil/gas) and
#: in total: |gap| must stay within this many percent.  The demo activity is CEADs CO2 divided by
#: the catalog's own NCV × CC × OF, so the only legitimate gaps are rounding of the amounts (7
#: significant digits) and the rows below 1 t CO2 that the build drops (< 1e-6 of the total); a
#: larger gap means the catalog factors, the engine's formula or the sector mapping changed
#: without the demo data being rebuilt (``scripts/build_demo_data.py``).
TOLERANCE_PCT = 0.1

#: Words that say how an estimate was made (at least one must be in an estimate row's note).
METHOD_WORDS = (
    "derived",
    "dividing",
    "×",
    "interpolat",
    "carried forward",
    "share",
    "scaled",
    "=",
    "held at",
    "assigned",
)


@functools.cache
def _load_script(name: str) -> ModuleType:
    path = REPO / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def province() -> pd.DataFrame:
    return load_activity(demo_files("activity"))


@pytest.fixture(scope="module")
def cities() -> pd.DataFrame:
    return load_activity(demo_files("activity_cities"))


def test_demo_files_exist_and_are_small():
    files = [f for k in KINDS for f in demo_files(k)]
    assert len(demo_files("activity")) >= 3
    assert len(demo_files("activity_cities")) == 5
    assert sum(f.stat().st_size for f in files) < 5_000_000
    for f in files:
        assert sum(1 for _ in f.open(encoding="utf-8")) <= 5000, f


@pytest.mark.parametrize("kind", KINDS)
def test_every_row_has_source_and_labelled_note(kind: str):
    df = load_activity(demo_files(kind))
    assert (df["source"].astype(str).str.strip().str.len() > 0).all()
    note = df["note"].astype(str)
    # every row says what it is: an estimate (and how) or a derived / sourced figure
    assert note.str.match(r"^(estimate|derived|verified) — ").all()
    est = note.str.startswith("estimate")
    assert est.any()
    how = note[est].map(lambda n: any(w in n for w in METHOD_WORDS))
    assert how.all(), note[est][~how].head().tolist()
    # anything computed from CEADs is an estimate, never presented as an official statistic
    from_ceads = df["source"].astype(str).str.contains("CEADs")
    assert est[from_ceads].all()


def test_regions_and_years(province: pd.DataFrame, cities: pd.DataFrame):
    energy = province[province["category"].str.startswith("1.A")]
    assert set(energy["region"]) == {"GD"}
    assert set(energy["year"]) == {2015, 2016, 2017, 2018, 2019}
    assert cities["region"].nunique() == 21
    assert "GD" not in set(cities["region"])


def test_cities_add_up_to_the_province(province: pd.DataFrame, cities: pd.DataFrame):
    """The city rows are the provincial rows ≥ 10 kt CO2 split by CEADs city shares."""
    key = ["year", "category", "item"]
    city_sum = cities.groupby(key)["amount"].sum()
    prov = province.set_index(key)["amount"].reindex(city_sum.index)
    rel = (city_sum - prov).abs() / prov
    assert (rel < 1e-4).all(), rel.sort_values().tail()
    # and they cover almost all of the provincial fuel use (rows < 10 kt CO2 are not split)
    assert len(city_sum) > 0.6 * len(province[province["category"].str.startswith("1.A")])


def test_electricity_import_is_consumption_minus_generation(province: pd.DataFrame):
    """guangdong.md §2b: 2016 consumption 5,610.1 − generation (2,971.0 + 359.3 + 703.5 + 49.6 + 2.5)."""
    e = province[(province["item"] == "electricity") & (province["year"] == 2016)]
    assert len(e) == 1
    assert e["amount"].iloc[0] == pytest.approx(5610.1 - (2971.0 + 359.3 + 703.5 + 49.6 + 2.5), abs=0.05)


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="needs ../shared/reference/data (CEADs CSVs)")
def test_committed_demo_csvs_are_up_to_date():
    """Rebuilding from CEADs with the current catalog gives byte-identical CSVs."""
    build = _load_script("build_demo_data")
    assert build.main(["--shared", str(SHARED_DATA), "--check"]) == 0


def test_province_and_cities_compile(province: pd.DataFrame, cities: pd.DataFrame):
    inv = compile_inventory(province)
    assert len(inv.results) > 0
    inv_c = compile_inventory(cities)
    assert set(inv_c.results["region"]) == set(cities["region"])


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="needs ../shared/reference/data (CEADs CSVs)")
def test_fuel_combustion_co2_matches_ceads():
    validate = _load_script("validate_demo")
    table = validate.comparison(SHARED_DATA)[0]
    assert len(table) == 5 * 4
    worst = table.loc[table["gap_pct"].abs().idxmax()]
    assert table["gap_pct"].abs().max() <= TOLERANCE_PCT, worst.to_dict()


# --- properties of the city downscaling (synthetic city tables, no shared/ needed) -------------


@st.composite
def _city_tables(draw: st.DrawFn) -> pd.DataFrame:
    """A CEADs-like city table: every city reports 2014 and a random subset of 2015–2019."""
    build = _load_script("build_demo_data")
    rows = []
    for city in build.CITIES:
        rows.append({"city_zh": city, "year": 2014, "mt_co2": draw(st.floats(0.5, 150.0))})
        for y in build.YEARS:
            if draw(st.booleans()):
                rows.append({"city_zh": city, "year": y, "mt_co2": draw(st.floats(0.5, 150.0))})
    return pd.DataFrame(rows)


@settings(max_examples=40, deadline=None)
@given(table=_city_tables())
def test_city_shares_are_a_partition(tmp_path_factory, table: pd.DataFrame):
    """Whatever years are missing, each year's shares are positive and sum to 1, and a reported
    year keeps its reported value (interpolation only fills gaps)."""
    build = _load_script("build_demo_data")
    d = tmp_path_factory.mktemp("cities")
    table.to_csv(d / "ceads_guangdong_cities_co2_1997_2019.csv", index=False)
    shares, basis = build.city_shares(d, build.YEARS)
    assert (shares > 0).all().all()
    assert shares.sum(axis=0).to_numpy() == pytest.approx([1.0] * len(build.YEARS))
    reported = table[table["year"].isin(build.YEARS)]
    for city, year in zip(reported["city_zh"], reported["year"], strict=True):
        assert basis.loc[city, year].endswith("reported")
