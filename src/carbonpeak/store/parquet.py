"""Reading a saved Parquet upload with DuckDB (its columns, its distinct meter ids).

The path is a server-generated name and is bound as a parameter, never spliced into the SQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from carbonpeak.errors import Problem, ValidationError

_DESCRIBE = "DESCRIBE SELECT * FROM read_parquet(?)"
_METER_IDS = "SELECT DISTINCT CAST(meter_id AS VARCHAR) FROM read_parquet(?)"


def _rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    import duckdb

    try:
        with duckdb.connect(":memory:") as con:
            return con.execute(sql, [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise ValidationError([Problem(str(path), None, None, f"cannot read the Parquet file: {exc}")]) from None


def parquet_columns(path: Path) -> list[str]:
    """The column names of a Parquet file."""
    return [str(r[0]) for r in _rows(path, _DESCRIBE)]


def parquet_meter_ids(path: Path) -> list[str]:
    """The distinct ``meter_id`` values of a Parquet readings file."""
    return [str(r[0]) for r in _rows(path, _METER_IDS) if r[0] is not None]
