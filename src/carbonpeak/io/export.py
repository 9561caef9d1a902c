"""Writing tables for people: CSV and Excel output with spreadsheet formulas neutralised.

A text cell that a spreadsheet would read as a formula (one beginning with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) can run commands or leak data when an official opens an export
("CSV injection", OWASP: https://owasp.org/www-community/attacks/CSV_Injection).  Following
OWASP's advice, every such *text* cell is prefixed with a single quote, which spreadsheets show
as text.  Numbers stay numbers (a negative amount is not a formula), so sums still work.

Every export of the project goes through :func:`safe_frame` (``to_csv``, ``write_csv``,
``write_xlsx``): the service's CSV downloads, the CLI's ``--format csv`` and files the CLI writes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

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


def to_csv(df: pd.DataFrame) -> str:
    """CSV text of ``df`` (no index), formulas neutralised."""
    safe = safe_frame(df)
    return safe.to_csv(index=False, lineterminator=_line_end(safe))


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` as CSV (UTF-8, no index), formulas neutralised."""
    safe = safe_frame(df)
    safe.to_csv(path, index=False, lineterminator=_line_end(safe))
    return path


def to_xlsx(df: pd.DataFrame, sheet: str = "data") -> bytes:
    """An Excel workbook of ``df``, formulas neutralised (openpyxl would store ``=...`` as a formula)."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        safe_frame(df).to_excel(xw, sheet_name=sheet, index=False)
    return buf.getvalue()


def write_xlsx(df: pd.DataFrame, path: Path, sheet: str = "data") -> Path:
    path.write_bytes(to_xlsx(df, sheet))
    return path
