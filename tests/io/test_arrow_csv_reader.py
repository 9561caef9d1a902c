"""Issue 12 (``inventory compile`` of 100 000 rows under 1 s): CSV files are read by Arrow's reader
(bench/bench_cli.py), and what comes out is what pandas' reader gave — same headers, same text,
same row numbers — or pandas reads the file (ragged rows, repeated headers, quoted values after
blanks), so that errors still name the file, row and field."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from carbonpeak.errors import ValidationError
from carbonpeak.io.tables import _arrow_csv, read_table
from carbonpeak.io.validate import _arrow_numbers

CASES = {
    "plain": "year,region,amount\n2020,GD,1.5\n2021,GD-GZ,2\n",
    "bom": "\ufeffyear,region,amount\n2020,GD,1.5\n",
    "quoted": 'year,note,amount\n2020,"a, b",1\n2021,"say ""hi""",2\n',
    "newline in value": 'year,note,amount\n2020,"line one\nline two",1\n',
    "empty cells": "year,note,amount\n2020,,\n,,3\n",
    "blank lines": "year,amount\n2020,1\n\n2021,2\n",
    "crlf": "year,amount\r\n2020,1\r\n2021,2\r\n",
    "chinese": "年份,地区,数量\n2020,广州市,1\n",
    "thousands": 'year,amount\n2020,"1,234.5"\n',
    "blanks after commas": "year, region, amount\n2020, GD, 1\n2021,GD-GZ,  2\n",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_frame_as_pandas(tmp_path, name: str) -> None:
    text = CASES[name]
    p = tmp_path / "a.csv"
    p.write_bytes(text.encode("utf-8"))
    got = read_table(p)
    want = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), dtype=str, keep_default_na=False, skipinitialspace=True)
    assert list(got.columns[:-2]) == [c for c in got.columns if not c.startswith("__")]
    assert got.drop(columns=["__row__", "__file__"]).astype(object).values.tolist() == want.astype(object).values.tolist()
    assert got["__row__"].tolist() == list(range(2, 2 + len(want)))


def test_gbk_file_read_through_arrow(tmp_path) -> None:
    p = tmp_path / "gbk.csv"
    p.write_bytes("年份,地区,数量\n2020,广州市,1\n".encode("gb18030"))
    df = read_table(p)
    assert df["region"].tolist() == ["广州市"]


@pytest.mark.parametrize("data", [
    b"a,b\n1,2,3\n",            # a ragged row: pandas' error names it
    b"a,a\n1,2\n",              # repeated headers: pandas numbers them
    b'a,b\n1, "x, y"\n',        # a quoted value after a blank: pandas unquotes it
])
def test_what_arrow_does_not_read_as_pandas_goes_to_pandas(data: bytes) -> None:
    assert _arrow_csv(data) is None


def test_ragged_file_still_named_by_row(tmp_path) -> None:
    p = tmp_path / "bad.csv"
    p.write_bytes(b"year,region,amount\n2020,GD,1\n2021,GD,2,9\n")
    with pytest.raises(ValidationError) as exc:
        read_table(p)
    assert "bad.csv" in str(exc.value)


def test_numbers_cast_in_one_kernel_or_not_at_all() -> None:
    s = pd.Series(["1,000.5", "", "2e3", "-4", ".5"], dtype="str")
    assert _arrow_numbers(s).fillna(-1).tolist() == [1000.5, -1, 2000.0, -4.0, 0.5]
    assert _arrow_numbers(pd.Series(["1", "x"], dtype="str")) is None  # the caller names the bad cell


def test_default_gwp_without_settings_is_the_settings_default() -> None:
    """``inventory compile`` takes the default GWP set without loading pydantic-settings when nothing
    sets it: the two defaults must agree."""
    from carbonpeak.catalog.gwp import DEFAULT_GWP
    from carbonpeak.config import Settings

    assert Settings.model_fields["gwp"].default == DEFAULT_GWP
