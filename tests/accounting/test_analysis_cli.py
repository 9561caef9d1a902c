"""`carbonpeak keycategories` and `carbonpeak recalc`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from carbonpeak.cli import app

HEADER = "year,region,category,item,amount,unit,uncertainty_pct\n"


def write(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_keycategories_json(tmp_path: Path):
    f = write(
        tmp_path / "a.csv",
        [
            "2015,GD,2.A.1,clinker,1000000,t,5",
            "2015,GD,2.A.2,lime,100000,t,5",
            "2020,GD,2.A.1,clinker,1200000,t,5",
            "2020,GD,2.A.2,lime,50000,t,5",
            "2020,GD,2.C.1,crude_steel_eaf,100000,t,5",
            "2020,GD-GZ,2.A.1,clinker,500000,t,5",
        ],
    )
    r = CliRunner().invoke(
        app, ["keycategories", str(f), "--year", "2020", "--base-year", "2015", "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["region"] == "GD"  # the province, not province + city
    cats = {c["category"]: c for c in doc["categories"]}
    assert cats["2.A.1"]["co2e_t"] == 1200000 * 0.510 * 1.02
    assert cats["2.A.1"]["key_level"] is True
    assert doc["summary"]["categories"] == 3
    tu = doc["trend_uncertainty"]
    assert tu["base_year"] == 2015
    assert tu["trend_pct"] > 0
    assert tu["trend_uncertainty_pct_points"] > 0


def test_recalc_json_with_factor_override(tmp_path: Path):
    prev = write(tmp_path / "p.csv", ["2019,GD,2.A.1,clinker,1000,t,5", "2020,GD,2.A.1,clinker,1000,t,5"])
    cur = write(tmp_path / "c.csv", ["2019,GD,2.A.1,clinker,1000,t,5", "2020,GD,2.A.1,clinker,1100,t,5"])
    fac = tmp_path / "f.csv"
    fac.write_text(
        "item,parameter,value,unit,category,gas,year_from,source,status\n"
        "clinker,cf_ckd,1.0,1,2.A.1,,2019,test,estimate\n",
        encoding="utf-8",
    )
    r = CliRunner().invoke(
        app,
        [
            "recalc",
            "--previous",
            str(prev),
            "--current",
            str(cur),
            "--current-factors",
            str(fac),
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    rows = {x["year"]: x for x in doc["rows"]}
    assert rows[2019]["reason"] == "factor changed"
    assert rows[2020]["reason"] == "activity changed; factor changed"
    assert rows[2020]["current_co2e_t"] == 1100 * 0.510
    r2 = CliRunner().invoke(
        app, ["recalc", "--previous", str(prev), "--current", str(cur), "--format", "csv"]
    )
    assert r2.exit_code == 0
    assert r2.stdout.startswith("year,category,gas,previous_co2e_t")
