"""Read CSV, Excel (.xlsx) and Parquet files into string DataFrames with row numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from carbonpeak.errors import Problem, ValidationError
from carbonpeak.i18n import Msg, declare

declare({
    "io.not_xlsx": {"detail": str}, "io.xlsx_too_big": {"total": int, "parts": int, "limit": int},
    "io.not_parquet": {"detail": str}, "io.parquet_too_big": {"total": int, "limit": int},
    "io.bad_encoding": {"bytes": str}, "io.no_data_sheet": {}, "io.sheets_empty": {}, "io.file_not_found": {},
    "io.unsupported_type": {"suffix": str, "supported": str}, "io.cannot_read": {"detail": str},
})

#: Column added to every table read: the row number as a person sees it (CSV/Excel: header is
#: row 1, first data row is row 2; Parquet: record number starting at 1).
ROW_COL = "__row__"
FILE_COL = "__file__"

SUPPORTED = (".csv", ".txt", ".xlsx", ".xlsm", ".parquet", ".pq")


def _max_unzipped() -> int:
    from carbonpeak.config import get_settings

    return int(get_settings().max_unzipped_bytes)


def check_zip_size(path: Path, name: str, limit: int | None = None) -> None:
    """Refuse an .xlsx (a zip) whose members inflate beyond ``limit`` bytes (a zip bomb).

    The declared sizes are summed before anything is inflated; Python's zipfile never inflates a
    member beyond its declared size, so the sum bounds what the Excel reader can produce.
    """
    import zipfile

    limit = _max_unzipped() if limit is None else limit
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValidationError([Problem(name, None, None, Msg("io.not_xlsx", detail=str(exc)))]) from None
    total = sum(i.file_size for i in infos)
    if total > limit or len(infos) > 10_000:
        raise ValidationError(
            [
                Problem(
                    name,
                    None,
                    None,
                    Msg("io.xlsx_too_big", total=int(total), parts=len(infos), limit=int(limit)),
                )
            ]
        )


def check_parquet_size(path: Path, name: str, limit: int | None = None) -> None:
    """Refuse a Parquet file that would decode to more than ``limit`` bytes.

    Estimated from the file's footer before any column is decoded: the encoded size of the row
    groups (``total_byte_size``) plus 8 bytes per value (rows × columns), since run-length and
    dictionary encoding let a few kilobytes stand for millions of values.  A file whose footer
    cannot be read is refused too.
    """
    import pyarrow.parquet as pq

    limit = _max_unzipped() if limit is None else limit
    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as exc:
        raise ValidationError([Problem(name, None, None, Msg("io.not_parquet", detail=str(exc)))]) from None
    total = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    total += 8 * meta.num_rows * meta.num_columns
    if total > limit:
        raise ValidationError(
            [
                Problem(
                    name,
                    None,
                    None,
                    Msg("io.parquet_too_big", total=int(total), limit=int(limit)),
                )
            ]
        )


#: Sheets of a workbook that are not data: instructions, lists of valid values, sources.  Hidden
#: sheets and sheets whose name starts with ``_`` are skipped too.
NON_DATA_SHEETS = frozenset(
    {"说明", "填表说明", "instructions", "readme", "lists", "列表", "选项", "sources", "来源", "数据来源"}
)


def _line_and_field(raw: bytes, offset: int) -> tuple[int, str | None]:
    """Row (header = 1) and header name of the byte at ``offset`` of CSV bytes (a best guess:
    quoted commas are not parsed, which only matters for the field name)."""
    row = raw.count(b"\n", 0, offset) + 1
    line_start = raw.rfind(b"\n", 0, offset) + 1
    col = raw.count(b",", line_start, offset)
    header = raw.split(b"\n", 1)[0].decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r")
    names = header.split(",")
    return row, (names[col].strip() if col < len(names) else None)


def decode_text(raw: bytes, name: str) -> tuple[str, str]:
    """Text of a CSV file and the encoding found: UTF-8 (with or without BOM), GB18030/GBK, or
    what charset-normalizer detects.  Undecodable bytes are reported by row and field."""
    enc = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        return raw.decode(enc), enc
    except UnicodeDecodeError as exc:
        utf8_error = exc
    # Chinese statistics software and zh-CN Excel write GBK; GB18030 is its superset.
    try:
        return raw.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is not None and best.encoding not in ("utf_8", "ascii"):
        return str(best), str(best.encoding)
    row, field = _line_and_field(raw, utf8_error.start)
    raise ValidationError(
        [
            Problem(
                name,
                row,
                field,
                Msg("io.bad_encoding", bytes=repr(raw[utf8_error.start:utf8_error.start + 4])),
            )
        ]
    )


def _finish(df: pd.DataFrame, name: str, offset: int) -> pd.DataFrame:
    from carbonpeak.io.aliases import rename_headers

    df.columns = rename_headers(df.columns, name)
    df[ROW_COL] = range(offset, offset + len(df))
    df[FILE_COL] = name
    return df


def _drop_blank(df: pd.DataFrame) -> pd.DataFrame:
    """Rows whose every cell is empty (a template's unused rows) are not data."""
    data = [c for c in df.columns if c not in (ROW_COL, FILE_COL)]
    if not data or df.empty:
        return df
    blank = (df[data].astype(str).apply(lambda s: s.str.strip()) == "").all(axis=1)
    return df.loc[~blank].reset_index(drop=True) if blank.any() else df


def _data_sheets(p: Path) -> list[str]:
    import openpyxl

    wb = openpyxl.load_workbook(p, read_only=True)
    try:
        return [
            ws.title
            for ws in wb.worksheets
            if ws.sheet_state == "visible"
            and not ws.title.startswith("_")
            and ws.title.strip().lower() not in NON_DATA_SHEETS
        ]
    finally:
        wb.close()


def _read_excel(p: Path, name: str, sheet: str | int | None) -> pd.DataFrame:
    if sheet is not None:
        df = pd.read_excel(p, sheet_name=sheet, dtype=str, keep_default_na=False)
        return _drop_blank(_finish(df, name, 2))
    sheets = _data_sheets(p)
    if not sheets:
        raise ValidationError([Problem(name, None, None, Msg("io.no_data_sheet"))])
    from carbonpeak.io.aliases import canonical_header, header_aliases

    frames = pd.read_excel(p, sheet_name=sheets, dtype=str, keep_default_na=False)
    known = set(header_aliases().values())
    parts = []
    for title in sheets:
        df = frames[title]
        if df.empty and len(df.columns) == 0:
            continue
        if len(sheets) > 1 and not {canonical_header(c) for c in df.columns} & known:
            continue  # a sheet of notes beside the data: none of its headers is a column name
        where = name if len(sheets) == 1 else f"{name} [{title}]"
        parts.append(_drop_blank(_finish(df, where, 2)))
    if not parts:
        raise ValidationError([Problem(name, None, None, Msg("io.sheets_empty"))])
    return pd.concat(parts, ignore_index=True).fillna("") if len(parts) > 1 else parts[0]


def _arrow_csv(data: bytes) -> pd.DataFrame | None:
    """UTF-8 CSV bytes as a frame of text columns (empty cells ``""``), read by Arrow's multi-threaded
    CSV reader (an order of magnitude faster than pandas' C reader on 100 000 rows, bench/bench_cli.py);
    ``None`` when the file is not one Arrow reads as pandas would (then pandas reads it)."""
    import csv

    import pyarrow as pa
    from pyarrow import csv as pacsv

    first = data.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8")
    try:
        names = next(csv.reader([first]))
    except (csv.Error, StopIteration):
        return None
    if not names or len(set(names)) != len(names) or any(n.strip() == "" for n in names):
        return None  # pandas numbers repeated and blank headers; keep its behaviour
    if b', "' in data or b'\t"' in data:
        return None  # a quoted value after blanks: pandas (skipinitialspace) unquotes it, Arrow does not
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=False, quoted_strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, ValueError):
        return None
    import pyarrow.compute as pc

    # as pandas' skipinitialspace: the blanks after a delimiter are not part of the value
    for i, col in enumerate(table.columns):
        if pc.any(pc.starts_with(col, " ")).as_py():
            table = table.set_column(i, table.column_names[i], pc.utf8_ltrim(col, characters=" "))
    text = pd.StringDtype("pyarrow", na_value=float("nan"))
    return table.to_pandas(types_mapper={pa.string(): text, pa.large_string(): text}.get)


def read_table(path: str | Path, *, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a whole table as strings (CSV/Excel) or native types (Parquet).

    Headers are mapped to column names (Chinese and English spellings, see
    :mod:`carbonpeak.io.aliases`), else stripped and lower-cased.  CSV text may be UTF-8 (with or
    without BOM) or GBK/GB18030.  An Excel workbook is read sheet by sheet (every visible data
    sheet, or only ``sheet``; of several sheets, one none of whose headers names a column is taken
    for notes and skipped); with several sheets the file name in errors carries the sheet
    (``book.xlsx [energy]``).  Raises :class:`ValidationError` if the file cannot be read at all.
    """
    p = Path(path)
    name = str(p)
    if not p.exists():
        raise ValidationError([Problem(name, None, None, Msg("io.file_not_found"))])
    suffix = p.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            import io

            raw = p.read_bytes()
            text, enc = decode_text(raw, name)
            df = _arrow_csv(raw[3:] if enc == "utf-8-sig" else raw if enc == "utf-8" else text.encode("utf-8"))
            if df is None:  # what Arrow's reader does not take (ragged rows, repeated headers, ...)
                df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
            return _finish(df, name, 2)
        if suffix in (".xlsx", ".xlsm"):
            check_zip_size(p, name)
            return _read_excel(p, name, sheet)
        if suffix in (".parquet", ".pq") or p.is_dir():
            if p.is_file():
                check_parquet_size(p, name)
            return _finish(pd.read_parquet(p), name, 1)
        raise ValidationError(
            [Problem(name, None, None, Msg("io.unsupported_type", suffix=suffix, supported=", ".join(SUPPORTED)))]
        )
    except ValidationError:
        raise
    except Exception as exc:
        raise ValidationError([Problem(name, None, None, Msg("io.cannot_read", detail=str(exc)))]) from exc
