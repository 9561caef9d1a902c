"""Issue 12: every dashboard table has an Excel (and CSV with BOM) download, scoped like its page."""

from __future__ import annotations

import io

import httpx
import openpyxl
import pandas as pd
import pytest
from tests.platform.conftest import PW, serve_in_thread
from tests.stores import db_location

from carbonpeak.store import Store
from carbonpeak.store.users import add_user
from carbonpeak.web.downloads import TABLES

pytestmark = pytest.mark.service


def _login(c: httpx.Client, user: str) -> None:
    tok = c.post("/api/auth/login", json={"username": user, "password": PW}).json()["token"]
    c.cookies.set("cp_session", tok)


def test_table_downloads(tmp_path):
    store = Store(db_location(tmp_path / "svc.duckdb"))
    add_user(store, "analyst", PW, "province_analyst")
    add_user(store, "gz_officer", PW, "city_officer", city="GD-GZ")
    add_user(store, "ent_a", PW, "enterprise", enterprise_id="ENT-A")
    with serve_in_thread(store) as url, httpx.Client(base_url=url, timeout=300) as c:
        assert c.get("/download/audit").status_code == 303  # anonymous: to the login page
        _login(c, "analyst")
        r = c.get("/download/audit", params={"format": "xlsx"})
        assert r.status_code == 200
        wb = openpyxl.load_workbook(io.BytesIO(r.content))
        assert wb.sheetnames == ["audit", "sources", "columns"]
        assert wb["columns"].sheet_state == "hidden"  # the column ids, for programs
        assert wb["audit"]["A1"].value is not None
        assert wb["audit"].max_row >= 2  # the logins are audited
        src = [row[1].value for row in wb["sources"].iter_rows(min_row=2)]
        assert "carbonpeak dashboard /download/audit" in src
        r = c.get("/download/audit", params={"format": "csv"})
        assert r.content.startswith(b"\xef\xbb\xbf")
        assert len(pd.read_csv(io.BytesIO(r.content), encoding="utf-8-sig")) >= 1
        assert c.get("/download/nosuch").status_code == 404
        assert c.get("/download/audit", params={"format": "pdf"}).status_code == 422
        _login(c, "gz_officer")
        r = c.get("/download/cities")
        assert r.status_code == 200
        ws = openpyxl.load_workbook(io.BytesIO(r.content))["cities"]
        codes = [row[0].value for row in ws.iter_rows(min_row=2)]
        assert codes == ["GD-GZ"]  # a city officer's download holds its own city only
        heads = [c_.value for c_ in ws[1]]
        assert "排放量 (tCO2e)" in heads  # headers for people, in the page's language (default zh)
        r = c.get("/download/cities", params={"headers": "ids"})
        assert "emissions (tCO2e)" in [c_.value for c_ in openpyxl.load_workbook(io.BytesIO(r.content))["cities"][1]]
        assert c.get("/download/audit").status_code == 403
        _login(c, "ent_a")
        assert c.get("/download/cities").status_code == 403
        assert c.get("/download/submissions").status_code == 200
    store.close()


def test_every_page_table_has_a_download_link():
    from pathlib import Path

    import carbonpeak.web as web

    html = "".join(p.read_text() for p in (Path(web.__file__).parent / "templates").glob("*.html"))
    for name in TABLES:
        assert f'href="/download/{name}?format=xlsx"' in html, name
