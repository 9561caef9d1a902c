"""``carbonpeak markets …``: the ledger from the command line (issue 11 §6)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from carbonpeak.cli import app


def test_allocate_transfer_surrender_statement_history_check(tmp_path) -> None:
    db = str(tmp_path / "m.duckdb")
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
    h = json.loads(run("markets", "history", "GDEA", "2024", "15", "-f", "json"))
    assert h["holder"] == "ENT-B:holding"
    assert [e["kind"] for e in h["entries"]] == ["issue", "transfer"]
    assert json.loads(run("markets", "check", "-f", "json")) == {"ok": True, "problems": []}
    # a double spend is refused with a clear message and exit code 1
    res = r.invoke(app, ["markets", "transfer", "--from", "ENT-A:holding", "--to", "ENT-B:holding", "-u", "GDEA",
                         "-v", "2024", "--serials", "15-15", "--db", db])
    assert res.exit_code != 0
    assert "does not hold" in (res.output + str(res.exception))
