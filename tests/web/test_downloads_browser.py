"""Downloads as a browser user makes them (issue 12): the Excel input templates (zh and en) from a
city's page, and dashboard tables as Excel and CSV from their pages, opened and read back with
openpyxl/pandas; and the scoping of downloads: a city officer gets its own city, an enterprise its
own units, and a role without a table gets 403.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from tests.web.test_pages_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.service]


def _click_download(page, selector: str) -> tuple[str, bytes]:
    with page.expect_download() as dl:
        page.click(selector)
    d = dl.value
    return d.suggested_filename, Path(d.path()).read_bytes()


def _validations(ws) -> list:
    return list(ws.data_validations.dataValidation)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_excel_templates_from_the_city_page(data_site, browser, lang):
    base, _ = data_site
    ctx, page = login(browser, base, "gz_officer", lang)
    try:
        page.goto(f"{base}/cities/GD-GZ")
        label = "中文 .xlsx" if lang == "zh" else "English .xlsx"
        got = {}
        for kind in ("activity", "observations"):
            name, body = _click_download(page, f"#templates a[href='/api/templates/{kind}?lang={lang}']")
            assert name == f"{kind}_template_{lang}.xlsx"
            assert page.locator(f"#templates a[href='/api/templates/{kind}?lang={lang}']").inner_text() == label
            got[kind] = openpyxl.load_workbook(io.BytesIO(body))
    finally:
        ctx.close()
    instructions = "说明" if lang == "zh" else "instructions"
    for kind, wb in got.items():
        # the instructions sheet first, the lists hidden, the data sheets between
        assert wb.sheetnames[0] == instructions, kind
        assert wb["_lists"].sheet_state == "hidden"
        data_sheets = [ws for ws in wb.worksheets if ws.title not in (instructions, "_lists")]
        assert data_sheets, kind
        text = " ".join(str(c.value) for row in wb[instructions].iter_rows() for c in row if c.value)
        # says how to fill it in: from row 2, the drop-downs, what is not read
        assert ("用法" if lang == "zh" else "How to use") in text
        assert ("下拉列表" if lang == "zh" else "drop-downs") in text
        assert ("第2行" if lang == "zh" else "row 2") in text
        for ws in data_sheets:
            headers = [c.value for c in ws[1] if c.value]
            assert headers, (kind, ws.title)
            if lang == "zh":
                assert "年份" in " ".join(headers), headers
                assert "地区" in " ".join(headers), headers
            else:
                assert any("year" in h.lower() for h in headers)
                assert any("region" in h.lower() for h in headers)
            dvs = _validations(ws)
            lists = [dv for dv in dvs if dv.type == "list"]
            assert lists, (kind, ws.title)  # drop-downs of the catalog's items, units, regions
            assert all("_lists" in dv.formula1 for dv in lists)
            assert any(dv.type == "whole" for dv in dvs)  # the year is checked
            # the region column's drop-down spans exactly the 22 regions of the lists sheet
            assert "'_lists'!$A$2:$A$23" in {dv.formula1 for dv in lists}, (kind, ws.title)
        # the region drop-down offers the province and the 21 cities (zh: their names; en: the codes)
        cols = {col[0].value: [c.value for c in col[1:] if c.value is not None] for col in wb["_lists"].iter_cols()}
        assert len(cols["regions"]) == 22, kind
        assert ("广州市" if lang == "zh" else "GD-GZ") in cols["regions"]
    items = " ".join(str(c.value) for col in got["activity"]["_lists"].iter_cols() if col[0].value == "items:energy"
                     for c in col[1:] if c.value is not None)
    assert ("原煤" if lang == "zh" else "raw_coal") in items or "Raw coal" in items


def test_dashboard_table_as_excel_and_csv(data_site, browser):
    base, _ = data_site
    ctx, page = login(browser, base, "analyst", "zh")
    try:
        page.goto(f"{base}/cities")
        xname, xbody = _click_download(page, "a[href='/download/cities?format=xlsx']")
        cname, cbody = _click_download(page, "a[href='/download/cities?format=csv']")
    finally:
        ctx.close()
    assert (xname, cname) == ("cities.xlsx", "cities.csv")
    wb = openpyxl.load_workbook(io.BytesIO(xbody))
    assert wb.sheetnames == ["cities", "sources", "columns"]
    assert wb["columns"].sheet_state == "hidden"  # the column ids, for programs (docs/dashboard.md)
    ws = wb["cities"]
    headers = [c.value for c in ws[1]]
    assert any(h and "tCO2e" in str(h) for h in headers), headers  # the unit in the header
    assert ws.max_row == 22  # 21 cities and the header
    src = " ".join(str(c.value) for row in wb["sources"].iter_rows() for c in row if c.value)
    assert "/download/cities" in src
    assert "analyst" in src
    assert cbody[:3] == b"\xef\xbb\xbf"  # UTF-8 BOM: zh-CN Excel opens it unmangled
    df = pd.read_csv(io.BytesIO(cbody), encoding="utf-8-sig")
    assert len(df) == 21
    assert "广州市" in set(df.astype(str).to_numpy().ravel())  # the zh page's names, not mojibake
    # the Excel and the CSV hold the same rows
    xl = pd.read_excel(io.BytesIO(xbody), sheet_name="cities")
    assert len(xl) == len(df)


def test_city_officer_downloads_only_its_city(data_site, browser):
    base, _ = data_site
    ctx, page = login(browser, base, "gz_officer", "en")
    try:
        page.goto(f"{base}/cities")
        _, body = _click_download(page, "a[href='/download/cities?format=csv']")
        forbidden = page.request.get(f"{base}/download/audit?format=csv")
    finally:
        ctx.close()
    df = pd.read_csv(io.BytesIO(body), encoding="utf-8-sig")
    assert len(df) == 1
    assert "Guangzhou" in set(df.astype(str).to_numpy().ravel())
    assert forbidden.status == 403  # the audit log is not the city officer's


def test_enterprise_downloads_only_its_own_units(data_site, browser):
    base, _ = data_site
    ctx, page = login(browser, base, "ent", "en")
    try:
        page.goto(f"{base}/enterprise")
        page.locator("#chart-meters .main-svg").first.wait_for()
        _, allzip = _click_download(page, "#download-all")
        page.goto(f"{base}/monitoring")
        _, own_budgets = _click_download(page, "a[href='/download/budgets?format=xlsx']")
        refused = {t: page.request.get(f"{base}/download/{t}?format=csv").status for t in ("cities", "audit", "targets")}
    finally:
        ctx.close()
    ctx, page = login(browser, base, "analyst", "en")
    try:
        page.goto(f"{base}/monitoring")
        _, all_budgets = _click_download(page, "a[href='/download/budgets?format=xlsx']")
    finally:
        ctx.close()
    from carbonpeak.io.aliases import canonical_header

    # the downloads are for people (headers in the page's language with units): map them back to ids
    def ids(df: pd.DataFrame) -> pd.DataFrame:
        return df.rename(columns=lambda c: canonical_header(c))

    units = ids(pd.read_csv(io.BytesIO(zipfile.ZipFile(io.BytesIO(allzip)).read("units.csv")), encoding="utf-8-sig"))
    mine = set(units["unit_id"])
    own = ids(pd.read_excel(io.BytesIO(own_budgets), sheet_name="budgets"))
    everyone = ids(pd.read_excel(io.BytesIO(all_budgets), sheet_name="budgets"))
    uid = "unit_id"
    assert len(own) > 0
    assert set(own[uid]) <= mine
    # the province sees units of other enterprises, which the enterprise's download left out
    others = set(everyone[uid]) - mine
    assert others, "the synthetic set should hold more than one enterprise"
    assert not (set(own[uid]) & others)
    assert refused == {"cities": 403, "audit": 403, "targets": 403}
