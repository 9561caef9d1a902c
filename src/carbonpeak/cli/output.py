"""One way to print results: ``--format table|json|csv|parquet``.

JSON is the machine contract (stable keys, documented in ``docs/``); CSV prints one table; the
table format is for people (rich).  Use :data:`FormatOption` in every command that prints a
result and call :func:`emit`.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console

from carbonpeak.jsonutil import to_json


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    parquet = "parquet"


FormatOption = typer.Option(
    Format.table,
    "--format",
    "-f",
    help="Output format: table, json, csv or parquet (binary: redirect it to a file).",
)

console = Console()

__all__ = ["Format", "FormatOption", "console", "emit", "print_table", "to_json", "write_parquet"]


def _fmt_cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, (float, np.floating)):
        av = abs(float(v))
        if av >= 1000:
            return f"{float(v):,.0f}"
        if av >= 1:
            return f"{float(v):,.2f}"
        return f"{float(v):.4g}"
    return str(v)


def print_table(df: pd.DataFrame, title: str | None = None, *, out: Console | None = None) -> None:
    """Print a DataFrame as a rich table (numbers right-aligned, probabilities as %), fitted to
    the terminal's width unless ``--wide`` (see :mod:`carbonpeak.cli.tablefit`)."""
    from carbonpeak.cli.tablefit import fit_and_print, fmt_percent, is_percent_column

    headers = [str(c) for c in df.columns]
    numeric = [bool(pd.api.types.is_numeric_dtype(df[c])) for c in df.columns]
    pct = [n and is_percent_column(h) for h, n in zip(headers, numeric, strict=True)]
    rows = [
        [fmt_percent(v) if p else _fmt_cell(v) for v, p in zip(row, pct, strict=True)]
        for row in df.itertuples(index=False, name=None)
    ]
    fit_and_print(headers, numeric, rows, title, out or console)


def write_parquet(df: pd.DataFrame, out: Any = None) -> None:
    """Write ``df`` as Parquet to ``out`` (a path or binary file; default: standard output, which must
    not be a terminal).  Columns of mixed Python objects are written as text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if out is None:
        if sys.stdout.isatty():
            raise typer.BadParameter("--format parquet is binary: redirect it to a file (> out.parquet)")
        out = sys.stdout.buffer
    try:
        t = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        obj = [c for c in df.columns if df[c].dtype == object]
        t = pa.Table.from_pandas(df.astype({c: "string" for c in obj}), preserve_index=False)
    pq.write_table(t, out)


def emit(
    fmt: Format,
    *,
    data: Any = None,
    table: pd.DataFrame | Sequence[Mapping[str, Any]] | None = None,
    title: str | None = None,
    extra_tables: Sequence[tuple[str, pd.DataFrame]] = (),
) -> None:
    """Print a result.

    ``data`` is what JSON prints (defaults to the table's records); ``table`` is what the
    table and CSV formats print; ``extra_tables`` are more tables shown in table format only.
    """
    df = pd.DataFrame(table) if table is not None and not isinstance(table, pd.DataFrame) else table
    if fmt == Format.json:
        payload = data if data is not None else (df if df is not None else {})
        sys.stdout.write(to_json(payload) + "\n")
    elif fmt == Format.csv:
        if df is None:
            raise typer.BadParameter("this command has no tabular output; use --format json")
        from carbonpeak.io.export import to_csv

        sys.stdout.write(to_csv(df))
    elif fmt == Format.parquet:
        if df is None:
            raise typer.BadParameter("this command has no tabular output; use --format json")
        write_parquet(df)
    else:
        if df is not None:
            print_table(df, title)
        for t, extra in extra_tables:
            print_table(extra, t)
