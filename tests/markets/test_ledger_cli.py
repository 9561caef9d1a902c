"""``carbonpeak markets …``: the ledger from the command line (issue 11 §6)."""

from __future__ import annotations

import json

from tests.stores import db_location
from typer.testing import CliRunner

from carbonpeak.cli import app


def test_allocate_transfer_surrender_statement_history_check(tmp_path) -> None:
    db = str(db_location(tmp_path / "m.duckdb"))
    (tmp_path / "alloc.csv").write_text("enterprise_id,city,quantity\nENT-A,GD-GZ,1000\nENT-B,GD-SZ,500\n")
    r = CliRunner()

    def run(*args: str) -> str:
        res = r.invoke(app, [*args, "--db", db])
        assert res.exit_code == 0, res.output
        return res.output

    run("markets", "setup")
    out = json.loads(run("markets", "allocate", str(tmp_path / "alloc.csv"), "--year", "2024", "-f", "json"))
    assert out["issued"] == 1500
    run("markets", "transfer", "--from", "ENT-A:holding", "--to", "ENT-B:holding", "-u", "GDEA", "-v", "2024",
        "--serials", "11-20")
    run("markets", "surrender", "--enterprise", "ENT-A", "--year", "2024", "-u", "GDEA", "-v", "2024", "-q", "900")
    bal = json.loads(run("markets", "balance", "ENT-A:holding", "-f", "json"))
    assert bal["balance"] == [{"unit_type": "GDEA", "vintage": 2024, "balance": 90}]
    st = json.loads(run("markets", "statement", "ENT-B:holding", "--from", "2000-01-01", "--to", "2100-01-01",
                        "-f", "json"))
    assert [e["change"] for e in st["entries"]] == [500, 10]
    assert st["opening"] == []
    later = json.loads(run("markets", "statement", "ENT-B:holding", "--from", "2099-01-01", "--to", "2100-01-01",
                           "-f", "json"))
    assert later["entries"] == []
    assert later["opening"] == later["closing"] == [{"unit_type": "GDEA", "vintage": 2024, "balance": 510}]
    h = json.loads(run("markets", "history", "GDEA", "2024", "15", "-f", "json"))
    assert h["holder"] == "ENT-B:holding"
    assert [e["kind"] for e in h["entries"]] == ["issue", "transfer"]
    assert json.loads(run("markets", "check", "-f", "json")) == {"ok": True, "problems": []}
    # a double spend is refused with a clear message and exit code 1
    res = r.invoke(app, ["markets", "transfer", "--from", "ENT-A:holding", "--to", "ENT-B:holding", "-u", "GDEA",
                         "-v", "2024", "--serials", "15-15", "--db", db])
    assert res.exit_code != 0
    assert "does not hold" in (res.output + str(res.exception))


def test_worked_examples_w1_w2_w3_from_the_command_line(tmp_path) -> None:
    """shared/reference/markets.md §(c) W1–W3 through ``carbonpeak markets`` (docs/markets.md §7)."""
    (tmp_path / "w1.csv").write_text("enterprise_id,sector,city,base_emissions\n"
                                     "W1,textiles,GD-GZ,2021:102000;2022:98000;2023:100000\n")
    (tmp_path / "w3.csv").write_text("enterprise_id,sector,activity,output,coprocessed_waste_t\n"
                                     "W3,cement,clinker,clinker:1200000,60000\n")
    r = CliRunner()

    def run(*args: str) -> object:
        res = r.invoke(app, [*args, "-f", "json"])
        assert res.exit_code == 0, res.output
        return json.loads(res.output)

    db = str(db_location(tmp_path / "m.duckdb"))
    # the reference examples have no store behind them: their figures are an explicit override
    w1 = run("markets", "allocation", str(tmp_path / "w1.csv"), "--override", str(tmp_path / "w1.csv"), "--ruleset",
             "guangdong-2024", "--year", "2024", "--param", "allocation.history.base_years=3", "--db", db)
    a = w1["allocation"][0]
    assert (a["allocation_t"], a["free_t"], a["paid_t"]) == (98000.0, 93100.0, 4900.0)
    assert {p["source"].split(" row ")[0] for p in w1["provenance"]} == {f"override w1.csv sha256:{w1['override'][-16:]}"}
    # without the override the figures are looked for in the store (none there): the file's columns are refused
    res = r.invoke(app, ["markets", "allocation", str(tmp_path / "w1.csv"), "--ruleset", "guangdong-2024", "--year",
                         "2024", "--db", db])
    assert res.exit_code != 0
    assert "come from the store" in (res.output + str(res.exception))
    w2 = run("markets", "banking", "--surplus-t", "400000", "--ruleset", "national-power-2023-2024",
             "--net-sales-t", "200000")
    assert w2["carried_t"] == 310000.0
    w3 = run("markets", "allocation", str(tmp_path / "w3.csv"), "--override", str(tmp_path / "w3.csv"), "--ruleset",
             "national-draft-2017", "--year", "2017", "--db", db)
    assert abs(w3["allocation"][0]["allocation_t"] - 1_044_561.6) < 1e-6
    # --issue puts the free allocation (whole tonnes) into the ledger
    res = r.invoke(app, ["markets", "allocation", str(tmp_path / "w1.csv"), "--override", str(tmp_path / "w1.csv"),
                         "--ruleset", "guangdong-2024", "--year", "2024", "--param", "allocation.history.base_years=3",
                         "--issue", "--db", db])
    assert res.exit_code == 0, res.output
    bal = json.loads(r.invoke(app, ["markets", "balance", "W1:holding", "--db", db, "-f", "json"]).output)
    assert bal["balance"] == [{"unit_type": "GDEA", "vintage": 2024, "balance": 93100}]


def test_coverage_peak_link_offset_pool_and_rejection_from_the_command_line(tmp_path) -> None:
    """Hand cases: Guangdong 2024 thresholds (>= 10,000 tCO2 or >= 5,000 tce; 345wk.com 16255, ICAP
    2024); textiles voluntary, made mandatory by the plan's widening; the cap path against a
    projection (peak by 2030, plan 一(二))."""
    db = str(db_location(tmp_path / "m.duckdb"))
    r = CliRunner()

    def run(*args: str, db_arg: bool = True) -> str:
        res = r.invoke(app, [*args, *(("--db", db) if db_arg else ())])
        assert res.exit_code == 0, res.output
        return res.output

    (tmp_path / "ents.csv").write_text(
        "enterprise_id,sector,year,city,emissions_tco2,energy_tce\n"
        "P1,paper,2024,GD-GZ,12000,\nP2,paper,2024,GD-FS,8000,6000\nP3,paper,2024,GD-FS,8000,3000\n"
        "T1,textiles,2024,GD-ST,20000,\n")
    cov = json.loads(run("markets", "coverage", str(tmp_path / "ents.csv"), "--widening", "-f", "json", db_arg=False))
    status = {d["enterprise_id"]: d["status"] for d in cov["decisions"]}
    assert status["P1"] == status["P2"] == "mandatory"
    assert status["P3"] == "below_threshold"
    assert status["T1"] != "mandatory"
    paper = next(s for s in cov["by_sector"] if s["sector"] == "paper")
    assert (paper["entities"], paper["emissions_tco2"]) == (2, 20000.0)
    assert [e["enterprise_id"] for e in cov["widening"]["entities"]] == ["T1"]
    assert cov["widening"]["emissions_tco2"] == 20000.0

    (tmp_path / "run.csv").write_text(
        "model,scenario,region,variable,unit,year,value\n"
        + "".join(f"m,base,GD,Emissions|CO2,Mt CO2/yr,{y},{v}\n" for y, v in ((2025, 600), (2028, 620), (2030, 610),
                                                                             (2035, 580))))
    (tmp_path / "cap.csv").write_text("year,value,unit\n2025,94000000,tCO2\n2028,95000000,tCO2\n2030,93000000,tCO2\n"
                                      "2035,90000000,tCO2\n")
    ok = json.loads(run("markets", "peak-link", "--cap", str(tmp_path / "cap.csv"), "--projection",
                        str(tmp_path / "run.csv"), "--scenario", "base", "-f", "json", db_arg=False))
    assert ok["consistent"] is True
    assert ok["cap_peak_year"] == 2028
    assert [round(x["share"], 4) for x in ok["table"]] == [round(94 / 600, 4), round(95 / 620, 4), round(93 / 610, 4),
                                                           round(90 / 580, 4)]
    (tmp_path / "cap.csv").write_text("year,value,unit\n2025,94000000,tCO2\n2030,93000000,tCO2\n2035,96000000,tCO2\n")
    bad = json.loads(run("markets", "peak-link", "--cap", str(tmp_path / "cap.csv"), "--projection",
                         str(tmp_path / "run.csv"), "-f", "json", db_arg=False))
    assert bad["consistent"] is False
    assert any("rises after 2030 (in 2035)" in x for x in bad["reasons"])

    run("markets", "setup")
    pool = json.loads(run("markets", "offset-pool", "--year", "2024", "--set", "1", "--unit", "Mt", "--source",
                          "test notice", "-f", "json"))
    assert pool["pool_t"] == 1_000_000.0
    assert pool["previous"] is None
    assert json.loads(run("markets", "offset-pool", "--year", "2024", "-f", "json"))["remaining_t"] == 1_000_000.0
    res = r.invoke(app, ["markets", "offset-pool", "--year", "2024", "--set", "-5", "--source", "x", "--db", db])
    assert res.exit_code != 0
    run("markets", "phcer", "apply", "APP-C1", "--methodology", "gd_pv_distributed", "--version", "V01", "--project",
        "PV", "--owner", "ENT-A", "--city", "GD-GZ", "--vintage", "2024", "--input", "EG_y=10", "--input",
        "EF_grid_y=0.5")
    rej = json.loads(run("markets", "phcer", "reject", "APP-C1", "--reason", "no benefit-sharing notice", "-f", "json"))
    assert rej["state"] == "rejected"
    assert rej["reason"] == "no benefit-sharing notice"
