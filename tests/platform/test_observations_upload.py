"""Issue 12: observations (GDP, population …) loaded into a running service, and Excel templates
downloaded from it — API and `carbonpeak remote`."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from tests.platform.conftest import PW, serve_in_thread
from tests.stores import db_location

from carbonpeak.cli import main
from carbonpeak.store import Store
from carbonpeak.store.users import add_user

pytestmark = pytest.mark.service

OBS = "指标,地区,年份,数值,单位,来源\n常住人口(年末),广州市,2022,1873.41,万人,广州统计年鉴2023\n"
OTHER_CITY = OBS + "population,GD-SZ,2022,1766.18,万人,深圳统计年鉴2023\n"


def test_observations_into_running_service(tmp_path, monkeypatch, capsys):
    import carbonpeak.cli.remote as remote

    monkeypatch.setattr(remote, "SESSION_FILE", tmp_path / "session.json")
    store = Store(db_location(tmp_path / "svc.duckdb"))
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

    store = Store(db_location(tmp_path / "svc.duckdb"))
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


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_excel_round_trip_and_hostile_uploads(platform):
    """Template → fill → upload of activity data through the service; hostile files give 4xx, never 500."""
    from tests.platform.conftest import login

    from carbonpeak.io.templates import template_xlsx

    client, store = platform
    h = login(client, "analyst")
    r = client.get("/api/templates/activity", params={"lang": "zh"}, headers=h)
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    wb["能源活动 energy"].append([2021, "广州市", "1.A.1.a 公用电力与热力生产", "原煤", 120.5, "万吨", None, "统计年鉴", None])
    buf = io.BytesIO()
    wb.save(buf)
    up = {"files": ("填报.xlsx", buf.getvalue(), "application/octet-stream")}
    r = client.post("/api/activity", headers=h, files=up)
    assert r.status_code == 201, r.text
    assert r.json()["rows"] == 1
    row = store.query(
        "SELECT region, item, source_file FROM activity WHERE batch_id = ?", [r.json()["batch_id"]]
    ).to_dict("records")[0]
    assert row["region"] == "GD-GZ"
    assert row["item"] == "raw_coal"
    assert row["source_file"] == "填报.xlsx [能源活动 energy]"  # the sheet is kept
    # the same filled template again: stored once
    assert client.post("/api/activity", headers=h, files=up).json()["created"] is False

    hostile = {
        "formula.xlsx": _xlsx([["indicator", "region", "year", "value", "unit", "source"],
                               ["population", "GD", 2022, "=1+1", "万人", '=HYPERLINK("http://x","y")']]),
        "not-a-zip.xlsx": b"PK\x03\x04 broken",
        "latin1.csv": "indicator,region,year,value,unit,source\npopulation,GD,2022,1,万人,caf\xe9 \xff\xfe\n".encode("latin-1", errors="replace"),
        "binary.csv": bytes(range(256)) * 40,
        "empty.xlsx": template_xlsx("observations", "en"),
    }
    for name, body in hostile.items():
        r = client.post("/api/observations", headers=h, files={"files": (name, body, "application/octet-stream")})
        assert 400 <= r.status_code < 500, (name, r.status_code, r.text[:300])
        assert "problems" in r.json() or "message" in r.json() or "detail" in r.json(), name
    r = client.post("/api/observations", headers=h,
                    files={"files": ("formula.xlsx", hostile["formula.xlsx"], "application/octet-stream")})
    fields = {p["field"] for p in r.json()["problems"]}
    assert "value" in fields  # a formula without a saved value is an empty cell, named by row and field


def test_service_compile_of_several_years_is_by_year(platform):
    from tests.platform.conftest import login

    client, _ = platform
    h = login(client, "analyst")
    d = client.post("/api/inventory/compile", headers=h, json={"region": "GD"}).json()
    assert len(d["years"]) > 1
    assert "total_co2e_t" not in d  # never the sum of the years
    one = client.post("/api/inventory/compile", headers=h, json={"region": "GD", "year": d["years"][0]}).json()
    assert d["by_year"][str(d["years"][0])]["total_co2e_t"] == one["total_co2e_t"]
