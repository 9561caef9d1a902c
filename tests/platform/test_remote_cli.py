"""The CLI as a client of a running service (the one-writer design of docs/operations.md)."""

from __future__ import annotations

import io
import json

import pytest
from tests.platform.conftest import PW, serve_in_thread
from tests.stores import db_location

from carbonpeak.cli import main
from carbonpeak.store import Store
from carbonpeak.store.users import add_user

pytestmark = pytest.mark.service

ACT = "year,region,category,item,amount,unit,source\n2020,GD,1.A.1.a,natural_gas,1000,10^4 Nm3,test\n"


def test_remote_login_import_and_verify(tmp_path, monkeypatch, capsys):
    import carbonpeak.cli.remote as remote

    monkeypatch.setattr(remote, "SESSION_FILE", tmp_path / "session.json")
    store = Store(db_location(tmp_path / "svc.duckdb"))
    add_user(store, "analyst", PW, "province_analyst")
    (tmp_path / "act.csv").write_text(ACT)
    (tmp_path / "bad.csv").write_text(ACT.replace("1000", "abc"))
    with serve_in_thread(store) as url:
        monkeypatch.setattr("sys.stdin", io.StringIO(PW + "\n"))
        assert main(["remote", "login", url, "analyst", "--password-stdin"]) == 0
        assert oct((tmp_path / "session.json").stat().st_mode)[-3:] == "600"
        capsys.readouterr()
        assert main(["remote", "import-activity", str(tmp_path / "act.csv"), "--format", "json"]) == 0
        first = json.loads(capsys.readouterr().out)
        assert first["created"] is True
        assert main(["remote", "import-activity", str(tmp_path / "act.csv"), "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["created"] is False
        assert main(["remote", "import-activity", str(tmp_path / "bad.csv")]) == 2
        err = capsys.readouterr().err
        assert "bad.csv, row 2, field 'amount'" in err
        assert main(["remote", "audit-verify", "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["ok"] is True
        assert main(["remote", "logout"]) == 0
    assert store.query("SELECT count(*) n FROM activity")["n"][0] == 1
    store.close()
