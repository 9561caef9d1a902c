"""Issue 12: observations (GDP, population …) loaded into a running service, and Excel templates
downloaded from it — API and `carbonpeak remote`."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from tests.platform.conftest import PW, serve_in_thread

from carbonpeak.cli import main
from carbonpeak.store import Store
from carbonpeak.store.users import add_user

pytestmark = pytest.mark.service

OBS = "指标,地区,年份,数值,单位,来源\n常住人口(年末),广州市,2022,1873.41,万人,广州统计年鉴2023\n"
OTHER_CITY = OBS + "population,GD-SZ,2022,1766.18,万人,深圳统计年鉴2023\n"


def test_observations_into_running_service(tmp_path, monkeypatch, capsys):
    import carbonpeak.cli.remote as remote

    monkeypatch.setattr(remote, "SESSION_FILE", tmp_path / "session.json")
    store = Store(tmp_path / "svc.duckdb")
    add_user(store, "gz_officer", PW, "city_officer", city="GD-GZ")
    (tmp_path / "obs.csv").write_bytes(OBS.encode("gbk"))
    (tmp_path / "other.csv").write_text(OTHER_CITY, encoding="utf-8")
    (tmp_path / "bad.csv").write_bytes(OBS.encode("utf-8") + b"population,GD-GZ,2023,\xff\xfe\x00,x,y\n")
    with serve_in_thread(store) as url:
        monkeypatch.setattr("sys.stdin", io.StringIO(PW + "\n"))
        assert main(["remote", "login", url, "gz_officer", "--password-stdin"]) == 0
        capsys.readouterr()
        # a row of another city refuses the whole upload (all-or-nothing), naming row and field
        assert main(["remote", "import-observations", str(tmp_path / "other.csv")]) == 2
        err = capsys.readouterr().err
        assert "other.csv, row 3, field 'region'" in err
        # an undecodable byte: a 422 naming row and field, not a 500
        assert main(["remote", "import-observations", str(tmp_path / "bad.csv")]) == 2
        assert "row 3" in capsys.readouterr().err
        assert main(["remote", "import-observations", str(tmp_path / "obs.csv"), "-f", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["created"] is True
        assert main(["remote", "import-observations", str(tmp_path / "obs.csv"), "-f", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["created"] is False  # idempotent
        out = tmp_path / "t.xlsx"
        assert main(["remote", "template", "observations", "--lang", "en", "--out", str(out)]) == 0
        assert "observations" in openpyxl.load_workbook(out).sheetnames
        assert main(["remote", "logout"]) == 0
    rows = store.query("SELECT indicator, region, year, value FROM observations")
    assert rows.to_dict("records") == [{"indicator": "population", "region": "GD-GZ", "year": 2022, "value": 1873.41}]
    audit = store.query("SELECT action FROM audit_log")
    assert "observations.import" in set(audit["action"])
    store.close()


def test_city_page_offers_templates_and_upload(tmp_path):
    import httpx

    store = Store(tmp_path / "svc.duckdb")
    add_user(store, "gz_officer", PW, "city_officer", city="GD-GZ")
    with serve_in_thread(store) as url, httpx.Client(base_url=url, timeout=300) as c:
        tok = c.post("/api/auth/login", json={"username": "gz_officer", "password": PW}).json()["token"]
        c.cookies.set("cp_session", tok)
        html = c.get("/cities/GD-GZ").text
        assert 'href="/api/templates/observations?lang=zh"' in html
        assert 'id="obs-form"' in html
        assert c.get("/static/observations.js").status_code == 200
        r = c.get("/api/templates/activity", params={"lang": "zh"})
        assert r.status_code == 200
        assert "说明" in openpyxl.load_workbook(io.BytesIO(r.content)).sheetnames
        assert c.get("/api/templates/nosuch").status_code == 404
        assert c.get("/api/templates/activity", params={"lang": "fr"}).status_code == 422
    store.close()
