"""`carbonpeak factors list|show|gwp|check|grid`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from carbonpeak.catalog.factor_tools import check_factor_file
from carbonpeak.cli import app
from carbonpeak.errors import ValidationError

runner = CliRunner()

OVERRIDE = (
    "# plant-measured raw coal (example of docs/factors.md)\n"
    "item,parameter,value,unit,category,region,source,status,note\n"
    "raw_coal,ncv,21.50,GJ/t,,,Plant lab report 2023 (GB/T 213),verified,\n"
    "raw_coal,oxidation,0.96,1,1.A.1,GD,Plant ash-carbon test 2023,verified,\n"
)


@pytest.fixture
def override(tmp_path: Path) -> Path:
    p = tmp_path / "plant.csv"
    p.write_text(OVERRIDE, encoding="utf-8")
    return p


def run(*args: str) -> str:
    res = runner.invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res.output


def test_list_json_filters():
    data = json.loads(run("factors", "list", "--item", "natural_gas", "--parameter", "ncv", "-f", "json"))
    assert len(data["rows"]) == 1
    row = data["rows"][0]
    assert row["value"] == 389.31
    assert row["unit"] == "GJ/(10^4 Nm3)"
    assert row["overridden"] == "no"
    assert row["source"]
    assert row["status"] == "consistent"


def test_list_csv_and_table():
    df = pd.read_csv(io.StringIO(run("factors", "list", "--parameter", "standard_coal_coef", "-f", "csv")))
    assert {"item", "value", "unit", "source", "status", "overridden", "origin"} <= set(df.columns)
    assert df.loc[df["item"] == "electricity", "value"].iloc[0] == 0.1229
    out = run("factors", "list", "--item", "coke", "--parameter", "ncv")
    assert "28.4" in out
    assert "coke" in out


def test_show_marks_override(override: Path):
    data = json.loads(run("factors", "show", "raw_coal", "--factors", str(override), "-f", "json"))
    assert data["item"]["name_zh"] == "原煤"
    ncv = [r for r in data["factors"] if r["parameter"] == "ncv"]
    default = next(r for r in ncv if r["origin"] == "default")
    mine = next(r for r in ncv if r["origin"] != "default")
    assert default["overridden"] == "yes"
    assert default["overridden_by"] == str(override)
    assert mine["value"] == 21.5
    assert mine["from_override_file"] is True
    ox = {
        (r["category"], r["origin"] == "default"): r["overridden"]
        for r in data["factors"]
        if r["parameter"] == "oxidation"
    }
    # the GD-only 1.A.1 row overrides the 1.A.1 default only where region = GD: partly
    assert ox[("1.A.1", True)] == "partly"
    assert ox[(None, True)] == "partly"
    table = run("--wide", "factors", "show", "raw_coal", "--factors", str(override))
    assert "原煤" in table
    assert "yes" in table


def test_show_unknown_item_exits_2():
    res = runner.invoke(app, ["factors", "show", "unobtainium"])
    assert res.exit_code != 0


def test_gwp_table():
    data = json.loads(run("factors", "gwp", "--set", "AR5", "-f", "json"))
    vals = {v["gas"]: v["value"] for v in data["values"]}
    assert vals["CH4"] == 28
    assert vals["N2O"] == 265
    assert vals["SF6"] == 23500
    assert data["default_set"] == "AR5"
    assert "18/CMA.1" in data["default_source"]
    wide = pd.read_csv(io.StringIO(run("factors", "gwp", "-f", "csv")))
    assert wide.set_index("gas").loc["N2O", "AR6"] == 273


def test_check_ok(override: Path):
    data = json.loads(run("factors", "check", str(override), "-f", "json"))
    assert data["ok"]
    assert data["rows"] == 2
    assert data["factors"][0]["replaces_default_rows"] >= 1


def test_check_rejects_bad_file_with_rows_and_fields(tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "item,parameter,value,unit,source,status\n"
        "raw_coal,ncv,abc,GJ/t,x,verified\n"  # row 2: value
        "raw_coal,ncv,20,tC/TJ,x,verified\n"  # row 3: unit dimension
        "foo_fuel,ncv,20,GJ/t,x,verified\n"  # row 4: item
        "coke,oxidation,1.3,1,x,verified\n"  # row 5: value out of range
        "coke,carbon_content,29,tC/TJ,,verified\n",  # row 6: source empty
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as ei:
        check_factor_file(bad)
    got = {(p.row, p.field) for p in ei.value.problems}
    assert got == {(2, "value"), (3, "unit"), (4, "item"), (5, "value"), (6, "source")}
    res = runner.invoke(app, ["factors", "check", str(bad)])
    assert res.exit_code != 0
    from carbonpeak.cli import main

    assert main(["factors", "check", str(bad)]) == 2


def test_list_with_bad_override_fails(tmp_path: Path):
    from carbonpeak.cli import main

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "item,parameter,value,unit,source,status\nraw_coal,ncv,1,tC/TJ,x,verified\n", encoding="utf-8"
    )
    assert main(["factors", "list", "--factors", str(bad)]) == 2


def test_grid_command():
    data = json.loads(run("factors", "grid", "2020", "--grid", "south", "-f", "json"))
    assert data["value"] == 0.4326
    assert "not published" in data["note"]


def test_check_yaml_file_with_optional_keys_missing(tmp_path: Path):
    """YAML rows may omit optional keys (year_from, category, ...): they read as blank."""
    p = tmp_path / "city.yaml"
    p.write_text(
        "factors:\n"
        "  - {item: natural_gas, parameter: ncv, value: 36.0, unit: MJ/m3, source: city gas 2023, status: verified}\n"
        "  - {item: grid_guangdong, parameter: ef_co2, value: 0.45, unit: tCO2/MWh, year_from: 2022,"
        " year_to: 2022, source: test, status: synthetic}\n",
        encoding="utf-8",
    )
    rows = check_factor_file(p)
    assert [r.year_from for r in rows] == [None, 2022]
    from carbonpeak.catalog.factor_tools import load_factor_set

    fs = load_factor_set([p])
    assert fs.get("natural_gas", "ncv").to("GJ/(10^4 Nm3)") == pytest.approx(360.0)
