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

    w1 = run("markets", "allocation", str(tmp_path / "w1.csv"), "--ruleset", "guangdong-2024", "--year", "2024",
             "--param", "allocation.history.base_years=3")
    assert (w1[0]["allocation_t"], w1[0]["free_t"], w1[0]["paid_t"]) == (98000.0, 93100.0, 4900.0)
    w2 = run("markets", "banking", "--surplus-t", "400000", "--ruleset", "national-power-2023-2024",
             "--net-sales-t", "200000")
    assert w2["carried_t"] == 310000.0
    w3 = run("markets", "allocation", str(tmp_path / "w3.csv"), "--ruleset", "national-draft-2017", "--year", "2017")
    assert abs(w3[0]["allocation_t"] - 1_044_561.6) < 1e-6
    # --issue puts the free allocation (whole tonnes) into the ledger
    db = str(db_location(tmp_path / "m.duckdb"))
    res = r.invoke(app, ["markets", "allocation", str(tmp_path / "w1.csv"), "--ruleset", "guangdong-2024", "--year",
                         "2024", "--param", "allocation.history.base_years=3", "--issue", "--db", db])
    assert res.exit_code == 0, res.output
    bal = json.loads(r.invoke(app, ["markets", "balance", "W1:holding", "--db", db, "-f", "json"]).output)
    assert bal["balance"] == [{"unit_type": "GDEA", "vintage": 2024, "balance": 93100}]
