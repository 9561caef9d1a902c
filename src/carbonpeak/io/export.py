"""Writing tables for people: CSV and Excel output with spreadsheet formulas neutralised.

A text cell that a spreadsheet would read as a formula (one beginning with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) can run commands or leak data when an official opens an export
("CSV injection", OWASP: https://owasp.org/www-community/attacks/CSV_Injection).  Following
OWASP's advice, every such *text* cell is prefixed with a single quote, which spreadsheets show
as text.  Numbers stay numbers (a negative amount is not a formula), so sums still work.

Every export of the project goes through :func:`safe_frame` (``to_csv``, ``write_csv``,
``workbook``/``write_xlsx``): the service's CSV and Excel downloads, the CLI's ``--format csv|xlsx``
and files the CLI writes.  CSV files and downloads start with a UTF-8 BOM so that zh-CN Excel
opens them unmangled (:func:`csv_bytes`); CSV printed to a pipe has none.  Workbooks have
formatted numbers (thousands separators, years plain), units in the headers and a ``sources``
sheet (:func:`workbook`).
"""

from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: First characters that make a spreadsheet treat a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """``value`` unchanged unless it is text starting like a formula; then prefixed with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and column names) cannot be read as formulas."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype):
            out[col] = s.map(neutralise_cell).astype(object)
    out.columns = [neutralise_cell(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def _line_end(df: pd.DataFrame) -> str:
    """``\n``, or RFC 4180's CRLF when a text cell holds a CR: Python's csv writer quotes a
    field with a CR only when CR is part of the line terminator."""
    for col in df.columns:
        s = df[col]
        if (pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)) and any(
            isinstance(v, str) and "\r" in v for v in s
        ):
            return "\r\n"
    return "\n"


#: UTF-8 byte-order mark: zh-CN Excel reads a CSV as GBK unless the file starts with it.
BOM = "\ufeff"


def to_csv(df: pd.DataFrame, *, bom: bool = False, lang: str | None = None,
           units: dict[str, str] | None = None) -> str:
    """CSV text of ``df`` (no index), formulas neutralised; ``bom`` starts it with a UTF-8 BOM
    (for a file or download a person opens in Excel; not for a pipe).  ``lang``: human headers
    in that language with units (:func:`labelled`); none: the column ids."""
    safe = safe_frame(labelled(df, lang, units) if lang else df)
    text = safe.to_csv(index=False, lineterminator=_line_end(safe))
    return BOM + text if bom else text


def csv_bytes(df: pd.DataFrame, *, lang: str | None = None, units: dict[str, str] | None = None) -> bytes:
    """A CSV download: UTF-8 with BOM, formulas neutralised (``lang``: human headers)."""
    return to_csv(df, bom=True, lang=lang, units=units).encode("utf-8")


def write_csv(df: pd.DataFrame, path: Path, *, bom: bool = True) -> Path:
    """Write ``df`` as CSV (UTF-8 with BOM, so that zh-CN Excel opens it unmangled; no index),
    formulas neutralised.  ``bom=False`` for a machine format whose readers do not skip a BOM
    (the IAMC CSV that pyam reads)."""
    path.write_bytes(to_csv(df, bom=bom).encode("utf-8"))
    return path


#: Column-name endings that carry a unit, longest first: the unit is written into the header.
SUFFIX_UNITS: tuple[tuple[str, str], ...] = (
    ("co2e_t", "tCO2e"),
    ("co2_t", "tCO2"),
    ("_tce", "tce"),
    ("_kwh", "kWh"),
    ("_gj", "GJ"),
    ("_mass_t", "t"),
    ("mass_t", "t"),
    ("_t", "t"),
    ("_pct", "%"),
    ("_yuan", "yuan"),
)

#: Columns written without thousands separators (a year is not a quantity).
_PLAIN_INT = re.compile(r"(^|_)(year|years|row|version|id|code|adcode|from|to|base_year|peak_year)($|_)|年")

_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


#: Units of columns whose name does not end in a unit suffix.
COLUMN_UNITS: dict[str, str] = {"tce": "tce", "altitude_m": "m", "pressure_pa": "Pa", "interval_minutes": "min"}


def unit_of(column: str) -> str | None:
    """The unit a column name carries (``co2e_t`` → ``tCO2e``), or None."""
    low = column.lower()
    if low in COLUMN_UNITS:
        return COLUMN_UNITS[low]
    for suffix, unit in SUFFIX_UNITS:
        if low.endswith(suffix):
            return unit
    return None


def header_with_unit(column: str, units: dict[str, str] | None = None) -> str:
    """``column (unit)`` when the unit is known (given in ``units`` or carried by the name)."""
    unit = (units or {}).get(column) or unit_of(column)
    return f"{column} ({unit})" if unit and f"({unit})" not in column else column


#: Header modes of a download: ``labels`` (people: the column's name in their language with the
#: unit, e.g. ``排放量 (tCO2e)``) or ``ids`` (machines: the stable column ids).
HEADER_MODES = ("labels", "ids")


def column_label(column: str, lang: str, units: dict[str, str] | None = None) -> str:
    """The header a person reads: the catalog's ``header.<column>`` (catalog/data/messages/headers.yaml)
    in ``lang`` with the column's unit; a column without a label (a year, a code) keeps its id."""
    from carbonpeak.i18n import load_messages

    m = load_messages().get(f"header.{column}")
    name = m[lang] if m else column
    unit = (units or {}).get(column) or unit_of(column)
    return f"{name} ({unit})" if unit and f"({unit})" not in name else name


def labelled(df: pd.DataFrame, lang: str, units: dict[str, str] | None = None) -> pd.DataFrame:
    """``df`` with human headers (:func:`column_label`); the reader maps them back to the ids
    (:func:`carbonpeak.io.aliases.canonical_header`)."""
    return df.set_axis([column_label(str(c), lang, units) for c in df.columns], axis=1)


def sheet_title(title: str, used: set[str]) -> str:
    """A valid, unique Excel sheet name (≤ 31 characters, none of ``[]:*?/\\``)."""
    base = _SHEET_BAD.sub(" ", title).strip().strip("'")[:31] or "sheet"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(name.lower())
    return name


def _is_int_column(s: pd.Series) -> bool:
    return pd.api.types.is_integer_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def write_sheet(ws: Any, df: pd.DataFrame, *, units: dict[str, str] | None = None, lang: str | None = None) -> None:
    """Write ``df`` into an openpyxl sheet: bold frozen header with units, numbers formatted
    (thousands separators; years and ids plain), text neutralised, sensible column widths.
    ``lang``: human headers in that language (:func:`column_label`); none: the ids with units."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    safe = safe_frame(df)
    headers = [column_label(str(c), lang, units) if lang else header_with_unit(str(c), units) for c in df.columns]
    ws.append([neutralise_cell(h) for h in headers])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    formats: list[str | None] = []
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_bool_dtype(s.dtype):
            formats.append(None)
        elif _is_int_column(s):
            formats.append("0" if _PLAIN_INT.search(str(c).lower()) else "#,##0")
        elif pd.api.types.is_float_dtype(s.dtype):
            if _PLAIN_INT.search(str(c).lower()):
                formats.append("0")
            else:
                finite = s.dropna().abs()
                small = len(finite) and float(finite.max()) < 1
                formats.append("#,##0.0000" if small else "#,##0.00")
        else:
            formats.append(None)
    for row in safe.itertuples(index=False, name=None):
        ws.append([_cell(v) for v in row])
    for j, fmt in enumerate(formats, start=1):
        letter = get_column_letter(j)
        width = max([len(str(headers[j - 1]))] + [len(str(v)) for v in safe.iloc[:200, j - 1]]) + 2
        ws.column_dimensions[letter].width = min(max(width, 8), 60)
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = fmt


def _cell(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, np.generic):
        v = v.item()
        if isinstance(v, float) and math.isnan(v):
            return None
    if isinstance(v, pd.Timestamp):
        return v.tz_convert(None).to_pydatetime() if v.tzinfo else v.to_pydatetime()
    if isinstance(v, (dict, list, tuple, set)):
        return neutralise_cell(str(v))
    return v


def sources_frame(
    tables: list[tuple[str, pd.DataFrame]], sources: list[dict[str, Any]] | None = None, origin: str | None = None
) -> pd.DataFrame:
    """The sources sheet: who made the file, when, from what; every distinct ``source`` of the
    tables (with its ``status`` where the table has one) and the ``sources`` given."""
    import sys
    from datetime import UTC, datetime

    from carbonpeak import __version__

    rows: list[dict[str, Any]] = [
        {"what": "generated_by", "source": f"carbonpeak {__version__}", "status": ""},
        {"what": "generated_at", "source": datetime.now(UTC).astimezone().isoformat(timespec="seconds"), "status": ""},
        {"what": "command", "source": (origin or " ".join(["carbonpeak", *sys.argv[1:]]))[:500], "status": ""},
    ]
    rows += [dict(r) for r in (sources or [])]
    for title, df in tables:
        for col in ("source", "sources", "rule_source"):
            if col not in df.columns:
                continue
            has_status = "status" in df.columns
            sub = df[[col, "status"]] if has_status else df[[col]]
            for rec in sub.drop_duplicates().head(500).itertuples(index=False, name=None):
                if rec[0] in (None, "") or (isinstance(rec[0], float) and math.isnan(rec[0])):
                    continue
                rows.append({"what": f"{title}: {col}", "source": str(rec[0]), "status": str(rec[1]) if has_status else ""})
    return pd.DataFrame(rows, columns=["what", "source", "status"])


def workbook(
    tables: list[tuple[str, pd.DataFrame]],
    *,
    sources: list[dict[str, Any]] | None = None,
    units: dict[str, str] | None = None,
    origin: str | None = None,
    lang: str | None = None,
) -> bytes:
    """An Excel workbook: one sheet per table (formatted, units in the headers) and a
    ``sources`` sheet (``origin``: what made the file; default the command line).  Text that a
    spreadsheet would run as a formula is neutralised.

    ``lang``: the headers are for people, in that language (``排放量 (tCO2e)``), and a hidden
    ``columns`` sheet lists each sheet's column ids beside their headers, for programs (the
    project's reader maps the headers back to the ids either way).  Without ``lang`` the headers
    are the ids with units."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    used: set[str] = {"sources", "columns"}
    index: list[dict[str, Any]] = []
    all_tables = [*tables, ("sources", sources_frame(tables, sources, origin))]
    for k, (title, df) in enumerate(all_tables):
        name = "sources" if k == len(all_tables) - 1 else sheet_title(title, used)
        write_sheet(wb.create_sheet(name), df, units=units, lang=lang)
        if lang:
            index += [{"sheet": name, "position": j, "column": str(c), "header": column_label(str(c), lang, units)}
                      for j, c in enumerate(df.columns, start=1)]
    if lang:
        ws = wb.create_sheet("columns")
        write_sheet(ws, pd.DataFrame(index, columns=["sheet", "position", "column", "header"]))
        ws.sheet_state = "hidden"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_xlsx(df: pd.DataFrame, sheet: str = "data", lang: str | None = None) -> bytes:
    """An Excel workbook of ``df`` (and a sources sheet), formulas neutralised (openpyxl would
    store ``=...`` as a formula); ``lang``: human headers (see :func:`workbook`)."""
    return workbook([(sheet, df)], lang=lang)


def write_xlsx(df: pd.DataFrame, path: Path, sheet: str = "data") -> Path:
    path.write_bytes(to_xlsx(df, sheet))
    return path
