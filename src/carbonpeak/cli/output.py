"""One way to print results: ``--format table|json|csv|xlsx|parquet`` and ``-o FILE``.

JSON is the machine contract (stable keys, documented in ``docs/``); CSV prints one table; the
table format is for people (rich); xlsx writes a workbook (every table of the result, formatted
numbers, units in the headers and a sources sheet; needs ``-o``).  Use :data:`FormatOption` in
every command that prints a result and call :func:`emit`; :func:`add_output_option` gives each
such command its ``-o/--output FILE`` (a CSV file gets a UTF-8 BOM for Excel).
"""

from __future__ import annotations

import functools
import inspect
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from enum import StrEnum
from pathlib import Path
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
    xlsx = "xlsx"
    parquet = "parquet"


FormatOption = typer.Option(
    Format.table, "--format", "-f", help="Output format: table, json, csv, xlsx or parquet (xlsx needs -o FILE; parquet needs -o FILE or a redirect)."
)

#: The ``-o`` file of the command being run (set by the wrapper of :func:`add_output_option`).
_OUTPUT: ContextVar[Path | None] = ContextVar("carbonpeak_output", default=None)
_HEADERS: ContextVar[str] = ContextVar("carbonpeak_headers", default="labels")
_WRAPPED = "_carbonpeak_output_option"

console = Console()

__all__ = ["Format", "FormatOption", "add_output_option", "console", "emit", "print_table", "to_json", "write_parquet"]


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


def _is_year_column(name: str) -> bool:
    low = name.lower()
    return low in ("year", "years", "from", "to") or low.endswith("_year") or low.startswith("year_")


def _fmt_year(v: Any) -> str:
    """A year as written (2030, not 2,030)."""
    if isinstance(v, (float, np.floating)) and not math.isnan(float(v)) and float(v).is_integer():
        return str(int(v))
    return _fmt_cell(v)


def print_table(df: pd.DataFrame, title: str | None = None, *, out: Console | None = None) -> None:
    """Print a DataFrame as a rich table (numbers right-aligned, probabilities as %), fitted to
    the terminal's width unless ``--wide`` (see :mod:`carbonpeak.cli.tablefit`)."""
    from carbonpeak.cli.tablefit import fit_and_print, fmt_percent, is_percent_column

    headers = [str(c) for c in df.columns]
    numeric = [bool(pd.api.types.is_numeric_dtype(df[c])) for c in df.columns]
    pct = [n and is_percent_column(h) for h, n in zip(headers, numeric, strict=True)]
    plain = [_is_year_column(h) for h in headers]
    rows = [
        [
            fmt_percent(v) if p else (_fmt_year(v) if y else _fmt_cell(v))
            for v, p, y in zip(row, pct, plain, strict=True)
        ]
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
    sources: Sequence[Mapping[str, Any]] = (),
    units: Mapping[str, str] | None = None,
) -> None:
    """Print a result (or write it to the command's ``-o`` file).

    ``data`` is what JSON prints (defaults to the table's records); ``table`` is what the
    table and CSV formats print; ``extra_tables`` are more tables shown in table format and
    written as more sheets in xlsx; ``sources`` and ``units`` (column → unit) go into the xlsx
    sources sheet and headers.
    """
    df = pd.DataFrame(table) if table is not None and not isinstance(table, pd.DataFrame) else table
    out = _OUTPUT.get()
    if fmt == Format.json:
        payload = data if data is not None else (df if df is not None else {})
        _write(out, to_json(payload) + "\n")
    elif fmt == Format.csv:
        if df is None:
            raise typer.BadParameter("this command has no tabular output; use --format json")
        from carbonpeak.io.export import to_csv, write_csv

        if out is None:
            sys.stdout.write(to_csv(df))
        else:
            write_csv(df, out)
            _done(out)
    elif fmt == Format.xlsx:
        if df is None and not extra_tables:
            raise typer.BadParameter("this command has no tabular output; use --format json")
        if out is None:
            raise typer.BadParameter("--format xlsx writes a workbook: add -o FILE.xlsx")
        from carbonpeak.config import get_settings
        from carbonpeak.io.export import workbook

        # a workbook is for people: headers in the settings' language with units (CARBONPEAK_LANG),
        # the column ids in its hidden 'columns' sheet; --headers ids keeps the ids as headers
        lang = get_settings().lang if _HEADERS.get() == "labels" else None
        tables = ([(title or "data", df)] if df is not None else []) + [(t, x) for t, x in extra_tables]
        out.write_bytes(workbook(tables, sources=[dict(s) for s in sources], units=dict(units or {}), lang=lang))
        _done(out)
    elif fmt == Format.parquet:
        if df is None:
            raise typer.BadParameter("this command has no tabular output; use --format json")
        write_parquet(df, out)
        if out is not None:
            _done(out)
    else:
        if out is not None:
            from rich.console import Console as _C

            with out.open("w", encoding="utf-8") as fh:
                c = _C(file=fh, width=200)
                if df is not None:
                    print_table(df, title, out=c)
                for t, extra in extra_tables:
                    print_table(extra, t, out=c)
            _done(out)
            return
        if df is not None:
            print_table(df, title)
        for t, extra in extra_tables:
            print_table(extra, t)


def _write(out: Path | None, text: str) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        _done(out)


def _done(out: Path) -> None:
    Console(stderr=True).print(f"wrote {out}", highlight=False, markup=False)


def _has_flag(sig: inspect.Signature, flag: str) -> bool:
    for p in sig.parameters.values():
        decls = getattr(p.default, "param_decls", None) or ()
        if flag in decls or (not decls and "--" + p.name.replace("_", "-") == flag):
            return True
    return False


def _with_output(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` with an ``-o/--output FILE`` option that :func:`emit` writes to."""
    sig = inspect.signature(func, eval_str=True)
    decls = ["-o"] + ([] if _has_flag(sig, "--output") else ["--output"])
    option = typer.Option(
        None,
        *decls,
        dir_okay=False,
        help="Write the result to FILE instead of the terminal (required for --format xlsx; "
        "a CSV file starts with a UTF-8 BOM for Excel).",
    )

    headers_opt = typer.Option(
        "labels", "--headers", help="xlsx headers: labels (names in CARBONPEAK_LANG with units) or ids (column ids)."
    )

    @functools.wraps(func)
    def wrapper(*args: Any, output_file: Path | None = None, output_headers: str = "labels", **kwargs: Any) -> Any:
        if output_headers not in ("labels", "ids"):
            raise typer.BadParameter("labels or ids", param_hint="--headers")
        token, htoken = _OUTPUT.set(output_file), _HEADERS.set(output_headers)
        try:
            return func(*args, **kwargs)
        finally:
            _OUTPUT.reset(token)
            _HEADERS.reset(htoken)

    params = list(sig.parameters.values())
    params.append(
        inspect.Parameter("output_file", inspect.Parameter.KEYWORD_ONLY, default=option, annotation=Path | None)
    )
    params.append(
        inspect.Parameter("output_headers", inspect.Parameter.KEYWORD_ONLY, default=headers_opt, annotation=str)
    )
    wrapper.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params if p.annotation is not p.empty}
    del wrapper.__wrapped__  # typer must read the signature above, not the original's
    setattr(wrapper, _WRAPPED, True)
    return wrapper


def add_output_option(app: typer.Typer) -> None:
    """Give every command of ``app`` (and its groups) that takes ``--format`` an ``-o`` option."""
    for info in app.registered_commands:
        cb = info.callback
        if cb is None or getattr(cb, _WRAPPED, False):
            continue
        sig = inspect.signature(cb)
        if "fmt" in sig.parameters and "output_file" not in sig.parameters and not _has_flag(sig, "-o"):
            info.callback = _with_output(cb)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            add_output_option(group.typer_instance)
