"""Activity validation: every problem names file, row and field; imports are all-or-nothing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from tests.stores import db_location

from carbonpeak.errors import ValidationError
from carbonpeak.model.activity import load_activity

HEADER = "year,region,category,item,amount,unit,uncertainty_pct,source,note\n"
GOOD = "2020,GD,1.A.2.a,raw_coal,10,万吨,5,test,\n2020,GD-GZ,1.A.3.b,diesel_oil,2,t,,test,\n"


def write(tmp_path: Path, name: str, body: str) -> Path:
    p = tmp_path / name
    p.write_text(HEADER + body, encoding="utf-8")
    return p


def problems(tmp_path: Path, body: str) -> list[tuple[int | None, str | None, str]]:
    p = write(tmp_path, "bad.csv", body)
    with pytest.raises(ValidationError) as e:
        load_activity([p])
    assert all(pr.file == str(p) for pr in e.value.problems)
    return [(pr.row, pr.field, pr.message) for pr in e.value.problems]


def test_good_file_is_typed(tmp_path: Path) -> None:
    df = load_activity([write(tmp_path, "a.csv", GOOD)])
    assert list(df["amount"]) == [10.0, 2.0]
    assert df["year"].dtype == "int64"
    assert list(df["__row__"]) == [2, 3]
    assert df["uncertainty_pct"].iloc[0] == 5.0


@pytest.mark.parametrize(
    ("line", "field", "needle"),
    [
        ("2020,GD,9.Z,raw_coal,1,t,,,", "category", "unknown value '9.Z'"),
        ("2020,GD,1.A.2.c,unobtainium,1,t,,,", "item", "unknown value 'unobtainium'"),
        ("2020,GD,1.A.2.c,raw_coal,1,bananas,,,", "unit", "unknown unit"),
        ("2020,GD,1.A.2.c,raw_coal,-1,t,,,", "amount", "must not be negative"),
        ("20x0,GD,1.A.2.c,raw_coal,1,t,,,", "year", "not a whole number"),
        ("2020,GD,1.A.2.c,raw_coal,abc,t,,,", "amount", "not a number"),
        ("2020,HK,1.A.2.c,raw_coal,1,t,,,", "region", "unknown value 'HK'"),
        ("2020,GD,1.A.2.c,raw_coal,1,head,,,", "unit", "does not fit category 1.A.2.c"),
        ("2020,GD,M.ELEC,electricity,1,t,,,", "unit", "does not fit category M.ELEC"),
        ("2020,GD,1.A.2.c,raw_coal,1,t,-3,,", "uncertainty_pct", "must not be negative"),
    ],
)
def test_bad_cell(tmp_path: Path, line: str, field: str, needle: str) -> None:
    got = problems(tmp_path, GOOD + line + "\n")
    assert len(got) == 1, got
    row, fld, msg = got[0]
    assert row == 4
    assert fld == field
    assert needle in msg


def test_negative_allowed_for_stock_change_and_net_imports(tmp_path: Path) -> None:
    df = load_activity(
        [
            write(
                tmp_path,
                "a.csv",
                "2020,GD,M.REF.STOCK,raw_coal,-5,t,,,\n2020,GD,M.ELEC,electricity,-3,MWh,,,\n",
            )
        ]
    )
    assert list(df["amount"]) == [-5.0, -3.0]


def test_duplicates_within_and_across_files(tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", GOOD + "2020,GD,1.A.2.a,raw_coal,11,t,,,\n")
    b = write(tmp_path, "b.csv", "2020,GD-GZ,1.A.3.b,diesel_oil,3,t,,,\n")
    with pytest.raises(ValidationError) as e:
        load_activity([a, b])
    got = sorted((p.file, p.row, p.field, p.message) for p in e.value.problems)
    assert got[0][:3] == (str(a), 4, "year,region,category,item")
    assert "duplicate of row 2" in got[0][3]
    assert got[1][:3] == (str(b), 2, "year,region,category,item")
    assert f"row 3 of {a}" in got[1][3]


def test_all_problems_of_all_files_reported(tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", "2020,GD,9.Z,raw_coal,1,t,,,\n")
    b = write(tmp_path, "b.csv", "2020,GD,1.A.2.a,raw_coal,x,t,,,\n")
    c = tmp_path / "c.csv"
    c.write_text("year,region,category,item,amount\n2020,GD,1.A.2.a,raw_coal,1\n", encoding="utf-8")
    with pytest.raises(ValidationError) as e:
        load_activity([a, b, c])
    files = {p.file for p in e.value.problems}
    assert files == {str(a), str(b), str(c)}
    assert any(p.field == "unit" and "missing" in p.message for p in e.value.problems if p.file == str(c))


def test_excel_and_parquet(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "year": [2020],
            "region": ["GD"],
            "category": ["1.A.2.a"],
            "item": ["raw_coal"],
            "amount": [1.5],
            "unit": ["t"],
        }
    )
    df.to_parquet(tmp_path / "a.parquet")
    df.assign(year=[2021]).to_excel(tmp_path / "b.xlsx", index=False)
    out = load_activity([tmp_path / "a.parquet", tmp_path / "b.xlsx"])
    assert sorted(out["year"]) == [2020, 2021]
    assert set(out["amount"]) == {1.5}


def test_import_all_or_nothing_and_idempotent(tmp_path: Path, store) -> None:  # type: ignore[no-untyped-def]
    from carbonpeak.cli import main

    db = db_location(tmp_path / "test.duckdb")
    store.close()
    good = write(tmp_path, "good.csv", GOOD)
    bad = write(tmp_path, "bad.csv", "2020,GD,1.A.2.a,raw_coal,-1,t,,,\n")
    assert main(["inventory", "import", str(good), str(bad), "--db", str(db), "-f", "json"]) == 2
    from carbonpeak.store import Store

    with Store(db) as s:
        assert int(s.query("SELECT count(*) AS n FROM activity")["n"].iloc[0]) == 0
    assert main(["inventory", "import", str(good), "--db", str(db), "-f", "json"]) == 0
    assert main(["inventory", "import", str(good), "--db", str(db), "-f", "json"]) == 0
    # the same content from another file name is the same batch
    again = write(tmp_path, "again.csv", GOOD)
    assert main(["inventory", "import", str(again), "--db", str(db), "-f", "json"]) == 0
    with Store(db) as s:
        assert int(s.query("SELECT count(*) AS n FROM activity")["n"].iloc[0]) == 2
        assert int(s.query("SELECT count(*) AS n FROM batches WHERE kind = 'activity'")["n"].iloc[0]) == 1
        rows = s.query("SELECT source_row, source_file FROM activity ORDER BY source_row")
        assert list(rows["source_row"]) == [2, 3]
