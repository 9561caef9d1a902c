"""``carbonpeak users`` and ``carbonpeak audit`` from the command line."""

from __future__ import annotations

import io
import json

import pytest
from tests.stores import db_location, on_postgres

from carbonpeak.cli import main
from carbonpeak.store import Store


def test_bootstrap_once_then_users_and_audit(tmp_path, monkeypatch, capsys):
    db = str(db_location(tmp_path / "cli.duckdb"))
    assert main(["users", "bootstrap", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "Password (shown once" in out
    # never a second bootstrap, never a default password
    assert main(["users", "bootstrap", "--db", db]) == 2
    assert "users exist already" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("a sufficiently long password\n"))
    add_gz = ["users", "add", "gzofficer", "--role", "city_officer", "--city", "GD-GZ", "--password-stdin"]
    assert main([*add_gz, "--db", db]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "bob", "--role", "province_analyst", "--password-stdin", "--db", db]) == 2
    assert "at least 12" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("a sufficiently long password\n"))
    assert main(["users", "add", "xy1", "--role", "city_officer", "--password-stdin", "--db", db]) == 2
    assert "--city" in capsys.readouterr().err
    assert main(["users", "disable", "gzofficer", "--db", db]) == 0
    capsys.readouterr()
    assert main(["users", "list", "--db", db, "--format", "json"]) == 0
    users = {u["username"]: u for u in json.loads(capsys.readouterr().out)}
    assert users["gzofficer"]["disabled"] is True
    assert users["admin"]["role"] == "admin"
    assert main(["audit", "verify", "--db", db, "--format", "json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["ok"] is True
    assert rep["entries"] == 3  # bootstrap admin, add gzofficer, disable it
    s = Store(db)
    s.con.execute("UPDATE audit_log SET payload = '{}' WHERE seq = 2")
    s.close()
    assert main(["audit", "verify", "--db", db, "--format", "json"]) == 1
    rep = json.loads(capsys.readouterr().out)
    assert rep["ok"] is False
    assert rep["first_bad_seq"] == 2


@pytest.mark.skipif(on_postgres(), reason="DuckDB's file lock (one writing process per DuckDB file); PostgreSQL has none")
def test_second_writer_gets_a_clear_message(tmp_path, capsys):
    """DuckDB allows one writing process per file; the CLI says what to do instead of a traceback."""
    import subprocess
    import sys

    db = tmp_path / "held.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({str(db)!r}); print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        assert main(["users", "list", "--db", str(db)]) == 2
        err = " ".join(capsys.readouterr().err.split())  # rich wraps long lines
        assert "in use by another process" in err
        assert "carbonpeak remote" in err
    finally:
        holder.kill()
        holder.wait()
