"""Issue 12: downloaded tables have headers for people (the column's name in their language with
its unit, ``排放量 (tCO2e)``), and re-import as they were: the readers map the labels back to the
column ids, an xlsx lists the ids in a hidden ``columns`` sheet, and ``headers=ids`` keeps the ids."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from carbonpeak.i18n import load_messages
from carbonpeak.io.aliases import canonical_header, header_aliases
from carbonpeak.io.export import column_label, csv_bytes, labelled, workbook
from carbonpeak.io.tables import FILE_COL, ROW_COL, read_table

LABELLED = sorted(k.removeprefix("header.") for k in load_messages() if k.startswith("header."))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_label_maps_back_to_its_column(lang: str) -> None:
    units = {"emissions": "tCO2e"}
    seen: dict[str, str] = {}
    for col in LABELLED:
        label = column_label(col, lang, units)
        assert canonical_header(label) == col, (col, label)
        assert canonical_header(label.split(" (")[0]) == col, (col, label)
        assert label not in seen, f"{col} and {seen.get(label)} share the label {label!r}"
        seen[label] = col
        # a label never spells a header alias of another column
        alias = header_aliases().get(" ".join(label.lower().split()))
        assert alias in (None, col), (col, label, alias)
    assert column_label("co2e_t", "zh") == "二氧化碳当量 (tCO2e)"
    assert column_label("emissions", "zh", units) == "排放量 (tCO2e)"
    assert column_label("2020", lang) == "2020"  # a year column keeps its id


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "unit_id": ["U1", "U2"], "name": ["广州某厂", "=cmd"], "city": ["GD-GZ", "GD-SZ"],
        "budget_tce": [1200.5, 30.0], "used_share": [0.5, 1.25], "year": [2024, 2025],
        "co2e_t": [1.5e6, -2.0], "status": ["open", "reviewed"], "2020": [1.0, 2.0],
    })


def _read_back(path) -> pd.DataFrame:
    df = read_table(path)
    return df.drop(columns=[ROW_COL, FILE_COL])


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_csv_round_trip_with_labels_and_with_ids(tmp_path, lang: str) -> None:
    df = _frame()
    ids = tmp_path / "ids.csv"
    ids.write_bytes(csv_bytes(df))
    lab = tmp_path / "labels.csv"
    lab.write_bytes(csv_bytes(df, lang=lang))
    head = lab.read_bytes().decode("utf-8-sig").splitlines()[0]
    assert ("二氧化碳当量 (tCO2e)" if lang == "zh" else "CO2 equivalent (tCO2e)") in head
    assert ("用能预算 (tce)" if lang == "zh" else "Energy budget (tce)") in head
    a, b = _read_back(ids), _read_back(lab)
    assert list(a.columns) == list(df.columns)
    pd.testing.assert_frame_equal(a, b)  # export → import: identical, whatever the headers
    assert b["name"].tolist() == ["广州某厂", "'=cmd"]  # a formula stays neutralised text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_xlsx_round_trip_and_hidden_columns_sheet(tmp_path, lang: str) -> None:
    df = _frame()
    path = tmp_path / "t.xlsx"
    path.write_bytes(workbook([("budgets", df)], lang=lang, origin="test"))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["budgets", "sources", "columns"]
    assert wb["columns"].sheet_state == "hidden"
    heads = [c.value for c in wb["budgets"][1]]
    assert heads == [column_label(str(c), lang) for c in df.columns]
    index = pd.read_excel(path, sheet_name="columns")
    data = index[index["sheet"] == "budgets"]
    assert data["column"].tolist() == list(df.columns)  # the ids, for programs
    assert data["header"].tolist() == heads
    back = _read_back(path)
    assert list(back.columns) == list(df.columns)
    ids = tmp_path / "ids.xlsx"
    ids.write_bytes(workbook([("budgets", df)], origin="test"))
    pd.testing.assert_frame_equal(back, _read_back(ids))


def test_labelled_keeps_values_and_order() -> None:
    df = _frame()
    out = labelled(df, "zh")
    assert out.shape == df.shape
    assert out.iloc[:, 0].tolist() == ["U1", "U2"]
    assert list(out.columns)[:3] == ["单位编号", "名称", "所属地市"]
