"""Grid CO2 factors and the nearest-earlier-year rule of carbonpeak.catalog.grid."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonpeak.catalog.factors import FactorSet
from carbonpeak.catalog.grid import SERIES, available_grids, grid_factor, grid_years
from carbonpeak.errors import CatalogError


def test_published_values():
    """MEE & NBS announcements of the 2021 (公告2024年第12号) and 2022 (2024-12-20) factors."""
    assert grid_factor(2021).value == 0.5568
    assert grid_factor(2022).value == 0.5366
    assert grid_factor(2022, "south").value == 0.3869
    assert grid_factor(2022, "yunnan").value == 0.1073
    assert grid_factor(2022, "national_fossil").value == 0.8325
    assert grid_factor(2021, series="ets").value == 0.5810
    assert grid_factor(2022, series="ets").value == 0.5703
    fv = grid_factor(2022)
    assert fv.unit == "tCO2/MWh"
    assert fv.to("kg/kWh") == pytest.approx(0.5366)
    assert fv.note == ""
    assert fv.status == "verified"


def test_missing_year_uses_nearest_earlier_and_says_so():
    fv = grid_factor(2024, "south")
    assert fv.value == 0.4042
    assert fv.year_from == 2023
    assert fv.note.startswith("year 2024 not published; using 2023")


def test_before_first_year_uses_first_year():
    fv = grid_factor(2015)
    assert fv.value == 0.5568
    assert fv.note.startswith("year 2015 not published; using 2021")


@given(st.integers(1990, 2060))
def test_fallback_year_is_latest_not_after_or_first(year):
    years = grid_years("national")
    fv = grid_factor(year)
    earlier = [y for y in years if y <= year]
    assert fv.year_from == (earlier[-1] if earlier else years[0])
    assert ("not published" in fv.note) == (year not in years)


def test_unknown_grid_or_series():
    with pytest.raises(CatalogError, match="unknown grid"):
        grid_factor(2022, "atlantis")
    with pytest.raises(CatalogError, match="series"):
        grid_factor(2022, "national", series="eu")
    assert "south" in available_grids()
    assert "national" in available_grids()
    assert SERIES == ("mee_nbs", "ets")


def test_user_file_adds_a_grid_and_overrides(tmp_path: Path):
    f = tmp_path / "gd.csv"
    f.write_text(
        "item,parameter,value,unit,year_from,year_to,source,status\n"
        "grid_guangdong,ef_co2,0.4000,tCO2/MWh,2022,2022,test figure,synthetic\n"
        "grid_south,ef_co2,0.3000,tCO2/MWh,2023,2023,test figure,synthetic\n",
        encoding="utf-8",
    )
    fs = FactorSet.default(overrides=[f])
    gd = grid_factor(2022, "guangdong", factors=fs)
    assert gd.value == 0.4
    assert gd.overridden
    assert grid_factor(2023, "guangdong", factors=fs).value == 0.4419  # the default's own 2023 row
    assert grid_factor(2023, "south", factors=fs).value == 0.3
    assert grid_factor(2022, "south", factors=fs).value == 0.3869  # default still used for 2022
    assert "guangdong" in available_grids(fs)


def test_catalog_grid_without_value_says_how_to_add_it(tmp_path: Path):
    """A grid item whose rows were all removed (here: a factor set without grid rows)."""
    fs = FactorSet([[r for r in FactorSet.default().rows() if r.item != "grid_guangdong"]])
    with pytest.raises(CatalogError, match="--factors"):
        grid_factor(2022, "guangdong", factors=fs)


def test_guangdong_2023():
    """MEE & NBS 公告2025年第47号 annex table 3 (transcription, unverified): 广东 0.4419; earlier years fall back."""
    fv = grid_factor(2023, "guangdong")
    assert fv.value == 0.4419
    assert fv.status == "unverified"
    assert grid_factor(2020, "guangdong").note.startswith("year 2020 not published; using 2021")
    assert grid_factor(2021, "guangdong").value == 0.4715
    assert grid_factor(2022, "guangdong").value == 0.4403


def test_unpublished_year_uses_the_closest_published_year():
    """南方 regional averages exist for 2012 (NDRC, 2014 release) and 2021/2022 (MEE+NBS): 2015
    is closer to 2012, 2019 to 2021; a tie (2016/2017 lie 4-5 years off) goes by distance."""
    fv15 = grid_factor(2015, "south")
    assert fv15.value == 0.5271
    assert fv15.note.startswith("year 2015 not published; using 2012")
    assert grid_factor(2019, "south").value == 0.4326
    assert not grid_factor(2012, "south").note.startswith("year ")


def test_om_factors_are_not_a_series():
    """2016 baseline OM release: 南方 2014 OM 0.8306; never returned by grid_factor."""
    fs = FactorSet.default()
    assert fs.get("grid_south", "ef_co2_om", year=2014).value == 0.8306
    assert grid_factor(2014, "south").value != 0.8306
