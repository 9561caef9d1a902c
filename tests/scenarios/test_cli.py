"""CLI: scenario commands and decompose, through carbonpeak.cli.main."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.stores import db_location

from carbonpeak.cli import main

DEMO = Path(__file__).resolve().parents[2] / "src/carbonpeak/demo/data/decomposition"


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_run_json_contract(capsys):
    r = _json(capsys, ["scenario", "run", "plan", "--format", "json"])
    assert {"peak_year", "peak_co2_t", "trajectory"} <= set(r)
    assert r["trajectory"][str(r["peak_year"])] == pytest.approx(r["peak_co2_t"])


def test_run_user_file_inherits(tmp_path, capsys):
    f = tmp_path / "slow_wind.yaml"
    f.write_text(
        "name: slow_wind\ninherits: plan\nparameters:\n"
        "  power.wind_offshore.capacity: {unit: GW, values: {2020: 1.0, 2030: 10.0}, note: test}\n",
        encoding="utf-8")
    slow = _json(capsys, ["scenario", "run", str(f), "--format", "json"])
    plan = _json(capsys, ["scenario", "run", "plan", "--format", "json"])
    assert slow["chain"] == ["slow_wind", "plan", "baseline"]
    assert slow["trajectory"]["2030"] > plan["trajectory"]["2030"]


def test_compare_and_csv(capsys):
    r = _json(capsys, ["scenario", "compare", "baseline", "plan", "--format", "json"])
    assert set(r["scenarios"]) == {"baseline", "plan"}
    assert main(["scenario", "compare", "baseline", "plan", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("year,baseline_mt,plan_mt")


def test_montecarlo_seeded(capsys):
    a = _json(capsys, ["scenario", "montecarlo", "plan", "--draws", "300", "--seed", "5", "--format", "json"])
    b = _json(capsys, ["scenario", "montecarlo", "plan", "--draws", "300", "--seed", "5", "--format", "json"])
    assert a["p_peak_before_2030"] == b["p_peak_before_2030"]
    assert 0.0 <= a["p_peak_before_2030"] <= 1.0


def test_sobol_small(capsys):
    r = _json(capsys, ["scenario", "sobol", "plan", "--n", "64", "--format", "json"])
    assert r["levers"][0]["rank"] == 1


def test_export_import_iamc(tmp_path, capsys):
    out = tmp_path / "runs.csv"
    e = _json(capsys, ["scenario", "export", "plan", "baseline", "--iamc", str(out), "--format", "json"])
    assert out.exists()
    i = _json(capsys, ["scenario", "import-iamc", str(out), "--format", "json"])
    assert i["rows"] == e["rows"]
    assert {s["scenario"] for s in i["scenarios"]} == {"plan", "baseline"}


def test_bad_scenario_file_exit_2(tmp_path, capsys):
    f = tmp_path / "bad.yaml"
    f.write_text("name: bad\ninherits: plan\nparameters:\n  power.solar.capacity: {values: {2030: 9}}\n",
                 encoding="utf-8")
    assert main(["scenario", "run", str(f)]) == 2
    assert "unit" in capsys.readouterr().err


def test_decompose_kaya_residual_zero(capsys):
    r = _json(capsys, ["decompose", str(DEMO / "guangdong_kaya.csv"), "--from", "2015", "--to", "2019",
                       "--format", "json"])
    assert r["unit"] == "MtCO2"
    assert r["v_from"] == pytest.approx(515.08, abs=0.01)
    assert abs(r["residual"]) < 1e-9
    assert sum(r["effects"].values()) == pytest.approx(r["total"])


def test_decompose_sectors_multiplicative_chained(capsys):
    r = _json(capsys, ["decompose", str(DEMO / "guangdong_sectors.csv"), "--from", "2015", "--to", "2019",
                       "--method", "multiplicative", "--chained", "--format", "json"])
    prod = 1.0
    for v in r["effects"].values():
        prod *= v
    assert prod == pytest.approx(r["total"])
    assert len(r["steps"]) == 4


def test_kaya_of_projection_decomposes(tmp_path, capsys):
    out = tmp_path / "plan_kaya.csv"
    k = _json(capsys, ["scenario", "kaya", "plan", "--out", str(out), "--format", "json"])
    run = _json(capsys, ["scenario", "run", "plan", "--format", "json"])
    assert (tmp_path / "plan_kaya.meta.yaml").exists()
    row = k["rows"][0]
    prod = 1.0
    for f in ("population", "gdp_per_capita", "energy_intensity", "fossil_share", "co2_per_fossil_energy"):
        prod *= row[f]
    assert prod * 1e-3 == pytest.approx(run["trajectory"]["2020"], rel=1e-9)  # kgce/yuan → tce
    d = _json(capsys, ["decompose", str(out), "--from", "2020", "--to", "2030", "--format", "json"])
    assert d["unit"] == "MtCO2"
    assert d["total"] == pytest.approx((run["trajectory"]["2030"] - run["trajectory"]["2020"]) / 1e6, rel=1e-9)


def test_run_is_labelled_one_path_and_montecarlo_leads_with_p(capsys):
    r = _json(capsys, ["scenario", "run", "plan", "--format", "json"])
    assert r["kind"].startswith("deterministic: one path")
    assert r["last_observed_year"] >= 2023
    m = _json(capsys, ["scenario", "montecarlo", "plan", "--draws", "200", "--format", "json"])
    assert m["headline"].startswith("plan: median peak year")
    assert "±" in m["headline"]
    lo, hi = m["p_peak_before_2030_interval"]
    assert lo <= m["p_peak_before_2030"] <= hi


def test_diff_breakdown_balance(capsys):
    d = _json(capsys, ["scenario", "diff", "baseline", "plan", "--format", "json"])
    names = {r["parameter"] for r in d["differences"]}
    assert "power.solar.capacity" in names
    assert "macro.gdp" not in names
    b = _json(capsys, ["scenario", "breakdown", "baseline", "plan", "--format", "json"])
    g = b["co2_2030_t"]
    assert g["gap"] == pytest.approx(sum(r["co2_2030_t"] for r in b["levers"]) + g["interaction"])
    assert g["gap"] < 0
    assert "one-at-a-time" in b["method"]
    bal = _json(capsys, ["scenario", "balance", "plan", "--year", "2030", "--format", "json"])
    rows = bal["rows"]
    supply = {r["fuel"]: r["mtce"] for r in rows if r["section"] == "supply"}
    assert supply["all"] == pytest.approx(sum(v for k, v in supply.items() if k != "all"))
    assert any(r["item"] == "input: chp_heat_coal" for r in rows)


def test_runs_stored_listed_compared(tmp_path, capsys):
    db = str(db_location(tmp_path / "runs.duckdb"))
    a = _json(capsys, ["scenario", "montecarlo", "plan", "--draws", "100", "--seed", "1", "--save", "--db", db,
                       "--format", "json"])
    again = _json(capsys, ["scenario", "montecarlo", "plan", "--draws", "100", "--seed", "1", "--save", "--db", db,
                           "--format", "json"])
    assert again["run_id"] == a["run_id"]
    b = _json(capsys, ["scenario", "montecarlo", "plan", "--draws", "100", "--seed", "2", "--save", "--db", db,
                       "--format", "json"])
    listed = _json(capsys, ["scenario", "runs", "list", "--db", db, "--format", "json"])
    assert {r["run_id"] for r in listed} == {a["run_id"], b["run_id"]}
    assert all(r["tool_version"] and len(r["input_hash"]) == 64 for r in listed)
    shown = _json(capsys, ["scenario", "runs", "show", a["run_id"], "--db", db, "--format", "json"])
    assert shown["seed"] == 1
    assert shown["summary"]["p_peak_before_2030"] == a["p_peak_before_2030"]
    cmp_ = _json(capsys, ["scenario", "runs", "compare", a["run_id"], b["run_id"], "--db", db, "--format", "json"])
    assert cmp_["same_inputs"] is True
    assert [r["seed"] for r in cmp_["runs"]] == [1, 2]
