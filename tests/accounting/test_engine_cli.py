"""``carbonpeak inventory`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carbonpeak.cli import app, main

ACT = """year,region,category,item,amount,unit,uncertainty_pct,source,note
2020,GD,1.A.1.a,raw_coal,100,万吨,5,test,
2020,GD,1.A.3.b,diesel_oil,50,万吨,,test,
2020,GD,1.A.3.a.i,kerosene,1,万吨,,test,
2020,GD,M.ELEC,electricity,10,亿kWh,,test,West-to-East
2020,GD,M.REF.IMP,raw_coal,101,万吨,,test,
2020,GD,M.REF.IMP,diesel_oil,50,万吨,,test,
"""

runner = CliRunner()


@pytest.fixture
def act_file(tmp_path: Path) -> Path:
    p = tmp_path / "act.csv"
    p.write_text(ACT, encoding="utf-8")
    return p


def run_json(args: list[str]) -> dict:  # type: ignore[type-arg]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_compile_json_contract(act_file: Path) -> None:
    d = run_json(["inventory", "compile", str(act_file), "--format", "json"])
    for k in ("total_co2e_t", "total_excluding_lulucf_co2e_t", "by_category", "by_gas", "memo", "gwp"):
        assert k in d
    assert d["gwp"] == "AR5"
    assert d["memo"]["imported_electricity_co2_t"] > 0
    assert d["memo"]["international_bunkers_co2_t"] > 0
    assert d["memo"]["reference_vs_sectoral_difference_pct"] is not None
    assert d["by_category"]["1.A.1.a"] > 0
    assert "uncertainty" not in d


def test_compile_gwp_and_csv(act_file: Path) -> None:
    a = run_json(["inventory", "compile", str(act_file), "--format", "json", "--gwp", "AR4"])
    b = run_json(["inventory", "compile", str(act_file), "--format", "json", "--gwp", "AR6"])
    assert a["by_gas"] == b["by_gas"]
    assert a["total_co2e_t"] != b["total_co2e_t"]
    r = runner.invoke(app, ["inventory", "compile", str(act_file), "--format", "csv", "--detail"])
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0].startswith("year,region,category,item,gas,mass_t,scope")


def test_compile_table(act_file: Path) -> None:
    r = runner.invoke(app, ["inventory", "compile", str(act_file)])
    assert r.exit_code == 0
    assert "Fuel combustion activities" in r.stdout
    assert "memo.imported_electricity_co2_t" in r.stdout


def test_compile_with_uncertainty(act_file: Path) -> None:
    pytest.importorskip("carbonpeak.accounting.uncertainty")
    d = run_json(
        ["inventory", "compile", str(act_file), "-f", "json", "--uncertainty", "mc", "--draws", "2000"]
    )
    u = d["uncertainty"]
    assert u["lower_95_co2e_t"] < d["total_co2e_t"] < u["upper_95_co2e_t"]
    d1 = run_json(["inventory", "compile", str(act_file), "-f", "json", "--uncertainty", "approach1"])
    assert d1["uncertainty"]["method"]


def test_explain_with_override(act_file: Path, tmp_path: Path) -> None:
    f = tmp_path / "mine.csv"
    f.write_text(
        "item,parameter,value,unit,source,status\nraw_coal,carbon_content,25.0,tC/TJ,plant measurement 2020,estimate\n",
        encoding="utf-8",
    )
    d = run_json(
        [
            "inventory",
            "explain",
            str(act_file),
            "--category",
            "1.A.1",
            "--year",
            "2020",
            "--gas",
            "CO2",
            "--factors",
            str(f),
            "-f",
            "json",
        ]
    )
    assert d["overridden"] is True
    cc = [x for x in d["factors"] if x["parameter"] == "carbon_content"]
    assert cc[0]["origin"] == str(f)
    assert cc[0]["value"] == 25.0
    r = runner.invoke(
        app, ["--wide", "inventory", "explain", str(act_file), "--category", "1.A.1", "--factors", str(f)]
    )
    assert "USER FACTOR OVERRIDE" in r.stdout
    s = run_json(["inventory", "compile", str(act_file), "--factors", str(f), "-f", "json"])
    assert s["factor_overrides"]["files"] == [str(f)]


def test_compile_bad_file_exit_2(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("year,region,category,item,amount,unit\n2020,GD,1.A.1.a,raw_coal,-1,t\n", encoding="utf-8")
    assert main(["inventory", "compile", str(p)]) == 2


def test_categories_lists_tree() -> None:
    d = run_json(["inventory", "categories", "--sector", "lulucf", "-f", "json"])
    codes = {c["code"] for c in d}
    assert {"3.B.1.a", "3.B.4.a.i"} <= codes
    assert "3.A.1" not in codes


def test_import_grid_option(act_file: Path) -> None:
    """M.ELEC uses the China Southern Grid factor unless --import-grid says otherwise."""
    from carbonpeak.catalog.grid import grid_factor

    south = run_json(["inventory", "compile", str(act_file), "-f", "json"])
    nat = run_json(["inventory", "compile", str(act_file), "-f", "json", "--import-grid", "national"])
    mwh = 10 * 1e8 / 1e3
    assert south["memo"]["imported_electricity_co2_t"] == pytest.approx(mwh * grid_factor(2020, "south").value)
    assert nat["memo"]["imported_electricity_co2_t"] == pytest.approx(mwh * grid_factor(2020, "national").value)
