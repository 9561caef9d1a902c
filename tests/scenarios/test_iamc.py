"""IAMC export/import and a round trip through pyam."""

from __future__ import annotations

import pandas as pd
import pytest

from carbonpeak.errors import ValidationError
from carbonpeak.io import read_table
from carbonpeak.scenarios.iamc import read_iamc, run_to_iamc, summarise_iamc
from carbonpeak.scenarios.runs import run_scenario
from carbonpeak.scenarios.scenario import load_scenario


@pytest.fixture(scope="module")
def plan_run():
    return run_scenario(load_scenario("plan"))


def test_export_columns_and_total(plan_run):
    df = run_to_iamc(plan_run)
    assert list(df.columns) == ["model", "scenario", "region", "variable", "unit", "year", "value"]
    tot = df[(df.variable == "Emissions|CO2") & (df.year == plan_run["peak_year"])]["value"].iloc[0]
    assert tot == pytest.approx(plan_run["peak_co2_t"] / 1e6)


def test_import_long_and_summary(tmp_path, plan_run):
    p = tmp_path / "run.csv"
    run_to_iamc(plan_run).to_csv(p, index=False)
    long = read_iamc(read_table(p), str(p))
    s = summarise_iamc(long)
    assert s["peak_year"].iloc[0] == plan_run["peak_year"]


def test_import_reports_bad_cells(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("model,scenario,region,variable,unit,year,value\nm,s,r,Emissions|CO2,Mt CO2/yr,2020,abc\n"
                 "m,s,r,Emissions|CO2,Mt CO2/yr,20x1,5\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        read_iamc(read_table(p), str(p))
    got = {(pr.row, pr.field) for pr in exc.value.problems}
    assert (2, "value") in got
    assert (3, "year") in got


def test_import_missing_column(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("model,scenario,variable,unit,year,value\nm,s,v,u,2020,1\n", encoding="utf-8")
    with pytest.raises(ValidationError) as exc:
        read_iamc(read_table(p), str(p))
    assert exc.value.problems[0].field == "region"


@pytest.mark.slow
def test_pyam_round_trip(tmp_path, plan_run):
    """Export → pyam.IamDataFrame (wide CSV written by pyam) → import: same data; sector sums hold."""
    pyam = pytest.importorskip("pyam")
    ours = run_to_iamc(plan_run)
    idf = pyam.IamDataFrame(ours)
    assert idf.check_aggregate("Emissions|CO2") is None
    for group in ("Industry", "Buildings", "Transport"):
        assert idf.check_aggregate(f"Emissions|CO2|{group}") is None
    wide = tmp_path / "pyam.csv"
    idf.to_csv(wide)
    back = read_iamc(read_table(wide), str(wide))
    a = ours.sort_values(["variable", "year"]).reset_index(drop=True)
    b = back.sort_values(["variable", "year"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[["variable", "unit", "year"]], b[["variable", "unit", "year"]])
    assert b["value"].to_numpy() == pytest.approx(a["value"].to_numpy(), rel=1e-12)
    again = pyam.IamDataFrame(back)
    pyam.testing.assert_iamframe_equal(idf, again)
