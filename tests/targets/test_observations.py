"""Observation files: validation, unit conversion, all-or-nothing and idempotent import."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.stores import db_location

from carbonpeak.cli import main
from carbonpeak.demo import demo_files
from carbonpeak.errors import ValidationError
from carbonpeak.model.observation import load_observations, validate_observations
from carbonpeak.store import Store

HEADER = "indicator,region,year,value,unit,source,status,note\n"


def _write(tmp_path, name, body):
    p = tmp_path / name
    p.write_text(HEADER + body, encoding="utf-8")
    return p


def test_units_converted_to_indicator_unit(tmp_path):
    p = _write(tmp_path, "ok.csv",
               "wind_capacity,GD,2023,16.57,GW,NBS,verified,\n"
               "energy_consumption,GD,2019,3.41,亿tce,paper,unverified,\n"
               "forest_coverage,GD,2020,0.5866,1,x,unverified,fraction\n"
               "gdp_current,GD-GZ,2020,2.50191,1e12 yuan,bulletin,unverified,\n")
    o = load_observations([p]).set_index("indicator")
    assert o.loc["wind_capacity", "value"] == pytest.approx(1657)
    assert o.loc["wind_capacity", "unit"] == "万kW"
    assert o.loc["wind_capacity", "value_reported"] == pytest.approx(16.57)
    assert o.loc["energy_consumption", "value"] == pytest.approx(34100)
    assert o.loc["forest_coverage", "value"] == pytest.approx(58.66)
    assert o.loc["gdp_current", "value"] == pytest.approx(25019.1)


def test_bad_file_rejected_with_file_row_field(tmp_path):
    p = _write(tmp_path, "bad.csv",
               "wind_capacity,GD,2023,abc,万kW,NBS,verified,\n"
               "no_such_indicator,GD,2023,1,%,x,verified,\n"
               "forest_coverage,GD-XX,2023,58,%,x,verified,\n"
               "forest_coverage,GD,2023,58,%,,verified,\n"
               "forest_coverage,GD,2024,58,%,x,official,\n")
    with pytest.raises(ValidationError) as ei:
        load_observations([p])
    got = {(pr.row, pr.field) for pr in ei.value.problems}
    assert {(2, "value"), (3, "indicator"), (4, "region"), (5, "source"), (6, "status")} <= got
    assert all(pr.file.endswith("bad.csv") for pr in ei.value.problems)


def test_wrong_unit_dimension_and_share_range(tmp_path):
    p = _write(tmp_path, "u.csv", "wind_capacity,GD,2023,16,t,NBS,verified,\nforest_coverage,GD,2023,158,%,x,verified,\n")
    with pytest.raises(ValidationError) as ei:
        load_observations([p])
    msgs = {(pr.row, pr.field): pr.message for pr in ei.value.problems}
    assert "does not fit wind_capacity" in msgs[(2, "unit")]
    assert "between 0 and 100" in msgs[(3, "value")]


def test_computed_indicator_refused(tmp_path):
    p = _write(tmp_path, "c.csv", "co2_intensity,GD,2020,0.5,t/万元,typed,verified,\n")
    with pytest.raises(ValidationError, match="computed by carbonpeak"):
        load_observations([p])


def test_duplicates_across_files_all_or_nothing(tmp_path):
    a = _write(tmp_path, "a.csv", "forest_coverage,GD,2020,58.66,%,x,unverified,\n")
    b = _write(tmp_path, "b.csv", "forest_coverage,GD,2020,58.7,%,y,unverified,\n")
    with pytest.raises(ValidationError, match="duplicate"):
        load_observations([a, b])


def test_empty_file_rejected(tmp_path):
    p = _write(tmp_path, "e.csv", "")
    with pytest.raises(ValidationError, match="no data rows"):
        load_observations([p])


def test_demo_observations_valid_and_sourced():
    o = load_observations(demo_files("observations"))
    assert len(o) > 200
    assert (o["source"].str.len() > 0).all()
    assert o["status"].isin(["verified", "derived", "unverified", "estimate", "consistent"]).all()
    cities = o[(o["indicator"] == "gdp_current") & (o["year"] == 2020) & (o["region"] != "GD")]
    prov = o[(o["indicator"] == "gdp_current") & (o["year"] == 2020) & (o["region"] == "GD")]["value"].iloc[0]
    assert len(cities) == 21
    assert cities["value"].sum() == pytest.approx(prov, rel=1e-3)


def test_import_idempotent_and_atomic(tmp_path):
    db = db_location(tmp_path / "s.duckdb")
    good = _write(tmp_path, "g.csv", "forest_coverage,GD,2020,58.66,%,x,unverified,\n")
    assert main(["observations", "import", str(good), "--db", str(db), "--format", "json"]) == 0
    assert main(["observations", "import", str(good), "--db", str(db), "--format", "json"]) == 0
    bad = _write(tmp_path, "b.csv", "forest_coverage,GD,2021,58.7,%,x,unverified,\nforest_coverage,GD,2022,x,%,x,unverified,\n")
    assert main(["observations", "import", str(bad), "--db", str(db)]) == 2
    with Store(db) as s:
        n = s.con.execute("select count(*) from observations").fetchone()[0]
        b = s.con.execute("select count(*) from batches where kind='observations'").fetchone()[0]
    assert n == 1
    assert b == 1


def test_validate_frame_in_code():
    df = pd.DataFrame({"indicator": ["population"], "region": ["GD"], "year": [2022], "value": [12656.8],
                       "unit": ["万人"], "source": ["bulletin"]})
    o = validate_observations(df)
    assert o["value"].iloc[0] == pytest.approx(12656.8)


def test_rate_in_percent_may_be_negative_but_a_share_may_not(tmp_path):
    """A yearly change (kind rate, unit %) can be negative (NBS 2018 bulletin: Guangdong energy
    intensity −3.38 %); a share (kind share) must stay within 0–100 %."""
    ok = _write(tmp_path, "r.csv", "energy_intensity_change,GD,2018,-3.38,%,NBS bulletin 2018,unverified,\n")
    assert load_observations([ok])["value"].iloc[0] == pytest.approx(-3.38)
    bad = _write(tmp_path, "s.csv", "forest_coverage,GD,2018,-3.38,%,x,unverified,\n")
    with pytest.raises(ValidationError, match="share must lie between 0 and 100"):
        load_observations([bad])
