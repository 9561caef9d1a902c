"""FactorSet lookup precedence and table validation (the all-or-nothing contract)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import psycopg
import pytest

from carbonpeak.catalog.factors import FactorSet, FactorValue, read_factor_table
from carbonpeak.errors import CatalogError, ValidationError
from carbonpeak.io import Column, TableSpec, read_table, validate_table


def fv(**kw):
    base = {
        "item": "raw_coal",
        "parameter": "oxidation",
        "value": 0.9,
        "unit": "1",
        "source": "test",
        "status": "verified",
    }
    base.update(kw)
    return FactorValue(**base)


def test_most_specific_category_wins():
    fs = FactorSet([[fv(value=0.90), fv(value=0.98, category="1.A.1"), fv(value=0.95, category="1.A.1.a")]])
    assert fs.get("raw_coal", "oxidation", category="1.A.1.a.i").value == 0.95
    assert fs.get("raw_coal", "oxidation", category="1.A.1.b").value == 0.98
    assert fs.get("raw_coal", "oxidation", category="1.A.2.f").value == 0.90
    # whole-part prefix match: 1.A.1 does not match 1.A.10
    assert fs.get("raw_coal", "oxidation", category="1.A.10").value == 0.90


def test_region_and_year_specificity():
    fs = FactorSet(
        [
            [
                fv(value=1.0),
                fv(value=2.0, region="GD-SZ"),
                fv(value=3.0, year_from=2020, year_to=2020),
                fv(value=4.0, year_from=2015),
            ]
        ]
    )
    assert fs.get("raw_coal", "oxidation", region="GD-SZ", year=2019).value == 2.0
    assert fs.get("raw_coal", "oxidation", region="GD", year=2020).value == 3.0
    assert fs.get("raw_coal", "oxidation", region="GD", year=2018).value == 4.0
    assert fs.get("raw_coal", "oxidation", region="GD", year=2010).value == 1.0


def test_override_layer_wins_even_if_less_specific():
    fs = FactorSet([[fv(value=0.98, category="1.A.1")], [fv(value=0.5, origin="mine.csv")]])
    got = fs.get("raw_coal", "oxidation", category="1.A.1.a")
    assert got.value == 0.5
    assert got.overridden


def test_missing_factor_error_says_how_to_fix():
    with pytest.raises(CatalogError, match="--factors"):
        FactorSet([[]]).get("unobtainium", "ncv")


def test_bad_factor_file_names_row_and_field(tmp_path: Path):
    f = tmp_path / "f.csv"
    f.write_text(
        "item,parameter,value,unit,source,status\n"
        "raw_coal,ncv,20.9,GJ/t,my plant,verified\n"
        "raw_coal,ncv,abc,GJ/t,my plant,verified\n"
        "raw_coal,ncv,1,furlongz,my plant,maybe\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as ei:
        read_factor_table(f)
    msgs = [str(p) for p in ei.value.problems]
    assert any("row 3" in m and "'value'" in m for m in msgs)
    assert any("row 4" in m and "'unit'" in m for m in msgs)


SPEC = TableSpec(
    "t",
    (Column("year", "year"), Column("item", allowed={"a", "b"}), Column("amount", "float", nonnegative=True)),
    unique=("year", "item"),
)


def test_validation_reports_every_bad_cell(tmp_path: Path):
    f = tmp_path / "x.csv"
    f.write_text("year,item,amount\n2020,a,1\n2020,c,-1\nabc,a,2\n", encoding="utf-8")
    with pytest.raises(ValidationError) as ei:
        validate_table(read_table(f), SPEC)
    fields = {(p.row, p.field) for p in ei.value.problems}
    assert fields == {(3, "item"), (3, "amount"), (4, "year")}
    assert str(f) in str(ei.value)


def test_duplicates_name_the_first_row(tmp_path: Path):
    f = tmp_path / "x.csv"
    f.write_text("year,item,amount\n2020,a,1\n2021,a,1\n2020,a,5\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="duplicate of row 2"):
        validate_table(read_table(f), SPEC)


def test_excel_and_parquet_read_the_same(tmp_path: Path):
    df = pd.DataFrame({"year": [2020, 2021], "item": ["a", "b"], "amount": [1.5, 2.0]})
    df.to_excel(tmp_path / "x.xlsx", index=False)
    df.to_parquet(tmp_path / "x.parquet")
    a = validate_table(read_table(tmp_path / "x.xlsx"), SPEC)
    b = validate_table(read_table(tmp_path / "x.parquet"), SPEC)
    pd.testing.assert_series_equal(a["amount"], b["amount"])
    assert list(a["year"]) == [2020, 2021]


def test_store_import_is_idempotent_and_atomic(store):
    store.con.execute(
        "CREATE TABLE t (year INTEGER, item VARCHAR, amount DOUBLE PRECISION NOT NULL, "
        "source_row INTEGER, source_file VARCHAR, batch_id VARCHAR)"
    )
    df = validate_table(pd.DataFrame({"year": ["2020"], "item": ["a"], "amount": ["1"]}), SPEC)
    r1 = store.import_frame("t", df, kind="t", source="x.csv")
    r2 = store.import_frame("t", df.iloc[::-1], kind="t", source="again.csv")
    assert r1.created
    assert not r2.created
    assert r1.batch_id == r2.batch_id
    assert store.query("select count(*) n from t")["n"][0] == 1
    bad = pd.DataFrame({"year": [2021, 2022], "item": ["a", "b"], "amount": [1.0, None]})
    not_null = psycopg.errors.NotNullViolation if store.is_postgres else duckdb.Error
    with pytest.raises(not_null):  # NOT NULL violation on the second row
        store.import_frame("t", bad, kind="t", source="bad.csv")
    assert store.query("select count(*) n from t")["n"][0] == 1
    assert store.query("select count(*) n from batches")["n"][0] == 1
