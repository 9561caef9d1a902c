"""Read CSV, Excel (.xlsx) and Parquet files into string DataFrames with row numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from carbonpeak.errors import Problem, ValidationError

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
        raise ValidationError([Problem(name, None, None, f"not an Excel (.xlsx) file: {exc}")]) from None
    total = sum(i.file_size for i in infos)
    if total > limit or len(infos) > 10_000:
        raise ValidationError(
            [
                Problem(
                    name,
                    None,
                    None,
                    f"the workbook inflates to {total:,} bytes in {len(infos)} parts, more than the limit of "
                    f"{limit:,} bytes (setting max_unzipped_bytes); split it or send CSV",
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
        raise ValidationError([Problem(name, None, None, f"not a Parquet file: {exc}")]) from None
    total = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    total += 8 * meta.num_rows * meta.num_columns
    if total > limit:
        raise ValidationError(
            [
                Problem(
                    name,
                    None,
                    None,
                    f"the Parquet file decodes to about {total:,} bytes, more than the limit of {limit:,} "
                    "bytes (setting max_unzipped_bytes); split it",
                )
            ]
        )


def read_table(path: str | Path, *, sheet: str | int = 0) -> pd.DataFrame:
    """Read a whole table as strings (CSV/Excel) or native types (Parquet).

    Column names are stripped and lower-cased.  Raises :class:`ValidationError` if the file
    cannot be read at all.
    """
    p = Path(path)
    name = str(p)
    if not p.exists():
        raise ValidationError([Problem(name, None, None, "file not found")])
    suffix = p.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            df = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig")
            offset = 2
        elif suffix in (".xlsx", ".xlsm"):
            check_zip_size(p, name)
            df = pd.read_excel(p, sheet_name=sheet, dtype=str, keep_default_na=False)
            offset = 2
        elif suffix in (".parquet", ".pq") or p.is_dir():
            if p.is_file():
                check_parquet_size(p, name)
            df = pd.read_parquet(p)
            offset = 1
        else:
            raise ValidationError(
                [Problem(name, None, None, f"unsupported file type '{suffix}'; use {', '.join(SUPPORTED)}")]
            )
    except ValidationError:
        raise
    except UnicodeDecodeError as exc:
        raise ValidationError([Problem(name, None, None, f"not UTF-8 text: {exc}")]) from exc
    except Exception as exc:
        raise ValidationError([Problem(name, None, None, f"cannot read file: {exc}")]) from exc
    df.columns = [str(c).strip().lower() for c in df.columns]
    df[ROW_COL] = range(offset, offset + len(df))
    df[FILE_COL] = name
    return df
