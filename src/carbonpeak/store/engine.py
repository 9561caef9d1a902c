"""The database behind the store: DuckDB (embedded default) or PostgreSQL, through SQLAlchemy.

One setting picks the backend (``CARBONPEAK_DATABASE_URL``; a plain path still means DuckDB):

- ``path/to/file.duckdb``, ``duckdb:///path/to/file.duckdb``, ``:memory:`` -> DuckDB;
- ``postgresql+psycopg://user@host:port/dbname`` (or ``postgresql://``) -> PostgreSQL (psycopg 3).

The store's SQL lives in one module per domain under ``store/`` and is written once, in the
SQL both engines understand, with ``?`` placeholders (values are always bound).  This module is
the small dialect layer under it (docs/architecture.md, "The store floor"):

- :class:`PgConnection` gives a PostgreSQL connection the DB-API surface the store modules use on
  DuckDB (``execute(sql, params)`` returning a result with ``fetchone``/``fetchall``/``fetchmany``/
  ``df``; ``register(name, frame)`` of a DataFrame as a temporary table, loaded with ``COPY``);
- :func:`translate` rewrites the placeholders (``?`` -> ``%s``, ``$name`` -> ``%(name)s``) and
  escapes literal ``%`` for psycopg; the statement text is otherwise unchanged;
- the few DuckDB functions the store's SQL uses (``list_contains``, ``epoch_ms``, ``year``,
  ``json_extract_string``, ``strftime``, ``any_value``) are created as SQL functions in the
  PostgreSQL schema by the first Alembic revision, so each statement exists once.
"""

from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.engine import make_url

from carbonpeak.errors import CarbonpeakError

_PG_SCHEME = re.compile(r"^(postgres(?:ql)?(?:\+\w+)?):/+(.*)$", re.S)
_DUCK_SCHEME = re.compile(r"^duckdb:/+(.*)$", re.S)


@dataclass(frozen=True)
class Location:
    """Where a store lives: ``backend`` is ``duckdb`` or ``postgresql``."""

    backend: str
    url: str  # SQLAlchemy URL
    path: str  # DuckDB file (or ":memory:"); for PostgreSQL the URL without password

    @property
    def is_postgres(self) -> bool:
        return self.backend == "postgresql"


def locate(target: str | Path) -> Location:
    """Parse a plain path or a database URL.

    A URL given through a ``Path`` option loses one slash of ``//`` (``postgresql:/u@h/db``); both
    spellings are accepted.
    """
    s = str(target)
    m = _PG_SCHEME.match(s)
    if m:
        url = make_url(f"postgresql+psycopg://{m.group(2)}")
        if url.database is None:
            raise CarbonpeakError(f"the database URL {s!r} names no database (…/dbname)")
        return Location("postgresql", url.render_as_string(hide_password=False), url.render_as_string())
    m = _DUCK_SCHEME.match(s)
    if m:
        rest = m.group(1)
        path = ":memory:" if rest in ("", ":memory:") else ("/" + rest if s.startswith("duckdb:////") else rest)
        return Location("duckdb", f"duckdb:///{path}", path)
    if "://" in s:
        raise CarbonpeakError(f"unsupported database URL {s!r}: use a DuckDB path or postgresql+psycopg://…")
    return Location("duckdb", f"duckdb:///{s}", s)


# -- SQL translation for psycopg -----------------------------------------------------------------

_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?|\$[A-Za-z_]\w*|%|::")


def translate(sql: str) -> str:
    """DuckDB/qmark placeholders to psycopg's (``?`` -> ``%s``, ``$name`` -> ``%(name)s``)."""

    def sub(m: re.Match[str]) -> str:
        t = m.group(0)
        if t == "?":
            return "%s"
        if t == "%":
            return "%%"
        if t.startswith("$"):
            return f"%({t[1:]})s"
        if t.startswith("'"):
            return t.replace("%", "%%")
        return t

    return _TOKEN.sub(sub, sql)


def _adapt(params: Any) -> Any:
    """numpy scalars and pandas timestamps to Python values psycopg adapts."""
    if params is None:
        return None
    if isinstance(params, dict):
        return {k: _adapt_value(v) for k, v in params.items()}
    return [_adapt_value(v) for v in params]


def _adapt_value(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, (list, tuple)):
        return [_adapt_value(x) for x in v]
    if v is pd.NaT:
        return None
    return v


class PgResult:
    """The result of one statement, with the DuckDB result methods the store modules use."""

    def __init__(self, cur: Any) -> None:
        self._cur = cur

    @property
    def description(self) -> Any:
        return self._cur.description

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._cur.fetchone() if self._cur.description else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._cur.fetchall()) if self._cur.description else []

    def fetchmany(self, size: int = 1) -> list[tuple[Any, ...]]:
        return list(self._cur.fetchmany(size)) if self._cur.description else []

    def df(self) -> pd.DataFrame:
        if not self._cur.description:
            return pd.DataFrame()
        cols = [d.name for d in self._cur.description]
        rows = self._cur.fetchall()
        frame = pd.DataFrame.from_records(rows, columns=cols)
        return _typed(frame, self._cur.description)

    fetchdf = df


# PostgreSQL type OIDs whose Python values pandas would leave as objects
_NUMERIC_OIDS = {1700}  # numeric (sum()/avg() of integers)
_FLOAT_OIDS = {700, 701}
_INT_OIDS = {20, 21, 23}
_TS_OIDS = {1114, 1184}
_DATE_OID = 1082


def _typed(frame: pd.DataFrame, description: Any) -> pd.DataFrame:
    """Column dtypes as DuckDB's ``.df()`` gives them (datetime64 for dates, float for numerics)."""
    for d in description:
        col = d.name
        if col not in frame.columns or frame.columns.tolist().count(col) != 1:
            continue
        oid = d.type_code
        s = frame[col]
        if oid in _NUMERIC_OIDS or oid in _FLOAT_OIDS:
            frame[col] = pd.to_numeric(s, errors="coerce").astype("float64")
        elif oid in _INT_OIDS:
            frame[col] = s.astype("float64") if s.isna().any() else s.astype("int64")
        elif oid in _TS_OIDS:
            frame[col] = pd.to_datetime(s, utc=oid == 1184)
            if oid == 1184:
                frame[col] = frame[col].dt.tz_convert("UTC")
        elif oid == _DATE_OID:
            frame[col] = pd.to_datetime(s)
        elif oid == 16 and s.isna().any():
            frame[col] = s.astype("object")
    return frame


def _pg_type(s: pd.Series) -> str:
    k = s.dtype.kind
    if k == "b" or str(s.dtype) == "boolean":
        return "BOOLEAN"
    if k in "iu":
        return "BIGINT"
    if k == "f":
        return "DOUBLE PRECISION"
    if k == "M":
        return "TIMESTAMPTZ" if getattr(s.dtype, "tz", None) is not None else "TIMESTAMP"
    if str(s.dtype).startswith(("Int", "UInt")):
        return "BIGINT"
    if str(s.dtype).startswith("Float"):
        return "DOUBLE PRECISION"
    non_null = s.dropna()
    if len(non_null):
        v = non_null.iloc[0]
        import datetime as dt

        if isinstance(v, dt.datetime):
            return "TIMESTAMPTZ" if v.tzinfo is not None else "TIMESTAMP"
        if isinstance(v, dt.date):
            return "DATE"
        if isinstance(v, (bool, np.bool_)):
            return "BOOLEAN"
        if isinstance(v, (int, np.integer)):
            return "BIGINT"
        if isinstance(v, (float, np.floating)):
            return "DOUBLE PRECISION"
    return "TEXT"


def _csv(frame: pd.DataFrame) -> str:
    """The frame as CSV for ``COPY`` (``\\N`` for NULL, ISO timestamps)."""
    buf = io.StringIO()
    out = frame.copy()
    for c in out.columns:
        if out[c].dtype.kind == "M":
            out[c] = out[c].map(lambda v: None if pd.isna(v) else v.isoformat())
    out.to_csv(buf, index=False, header=False, na_rep="\\N")
    return buf.getvalue()


def _copy_sql(table: str, cols: list[str]) -> sql.Composed:
    """``COPY table (cols) FROM STDIN`` as CSV, identifiers composed by psycopg."""
    return sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, NULL '\\N')").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, cols))
    )


class PgConnection:
    """A PostgreSQL connection with the DuckDB connection surface the store modules use.

    Outside ``Store.transaction()`` the connection is in autocommit mode (each read its own
    snapshot); a transaction is an explicit ``BEGIN`` … ``COMMIT``.
    """

    backend = "postgresql"

    def __init__(self, raw: Any) -> None:
        self._raw = raw  # SQLAlchemy pool proxy around a psycopg connection
        self._pg = raw.driver_connection
        self._pg.autocommit = True

    def execute(self, sql: str, params: Any = None) -> PgResult:
        cur = self._pg.cursor()
        upper = sql.lstrip().upper()
        if upper in ("BEGIN", "BEGIN TRANSACTION"):
            cur.execute("BEGIN")
        elif params is None or (not isinstance(params, dict) and len(params) == 0):
            cur.execute(sql)  # no parameters: psycopg does not parse placeholders
        else:
            cur.execute(translate(sql), _adapt(params))
        return PgResult(cur)

    def executemany(self, sql: str, rows: list[Any]) -> None:
        with self._pg.cursor() as cur:
            cur.executemany(translate(sql), [_adapt(r) for r in rows])

    def cursor(self) -> PgConnection:
        """The same connection (its own transaction state); closing it leaves the connection open."""
        return _Borrowed(self)

    def register(self, name: str, frame: pd.DataFrame, like: str | None = None) -> None:
        """The frame as a temporary table ``name`` (dropped at ``unregister`` or the session's end).

        ``like``: a table whose column types the frame's columns of the same name take (so that
        ``COPY`` parses dates, timestamps and booleans as the target expects); other columns get a
        type from their pandas dtype.
        """
        cols = [str(c) for c in frame.columns]
        target: dict[str, str] = {}
        if like is not None:
            with self._pg.cursor() as cur:
                cur.execute(
                    "SELECT column_name, format_type(a.atttypid, a.atttypmod) FROM information_schema.columns c "
                    "JOIN pg_attribute a ON a.attrelid = to_regclass(c.table_name) AND a.attname = c.column_name "
                    "WHERE c.table_name = %s AND c.table_schema = current_schema()",
                    [like],
                )
                target = dict(cur.fetchall())
        # identifiers composed by psycopg (quoted and escaped); types come from the catalog or code
        defs = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(target.get(c) or _pg_type(frame[c]))) for c in cols
        )
        with self._pg.cursor() as cur:
            cur.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(sql.Identifier(name)))
            cur.execute(sql.SQL("CREATE TEMP TABLE {} ({})").format(sql.Identifier(name), defs))
            if len(frame):
                with cur.copy(_copy_sql(name, cols)) as cp:
                    cp.write(_csv(frame))

    def copy_into(self, table: str, frame: pd.DataFrame) -> None:
        """Append the frame's rows to ``table`` with ``COPY`` (PostgreSQL parses each value as the
        column's type)."""
        if not len(frame):
            return
        with self._pg.cursor() as cur, cur.copy(_copy_sql(table, [str(c) for c in frame.columns])) as cp:
            cp.write(_csv(frame))

    def unregister(self, name: str) -> None:
        with self._pg.cursor() as cur:
            cur.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(sql.Identifier(name)))

    def close(self) -> None:
        self._raw.close()

    def __del__(self) -> None:
        # the thread that held it ended: the connection goes back to the pool (closing twice is harmless)
        with contextlib.suppress(Exception):
            self.close()


class _Borrowed(PgConnection):
    """:meth:`PgConnection.cursor`: the connection under another name, not closed by ``close``."""

    def __init__(self, owner: PgConnection) -> None:
        self._raw = owner._raw
        self._pg = owner._pg

    def close(self) -> None:
        return None


def register(con: Any, name: str, frame: pd.DataFrame, *, like: str | None = None) -> None:
    """``con.register(name, frame)`` on either backend (``like``: see :meth:`PgConnection.register`)."""
    if isinstance(con, PgConnection):
        con.register(name, frame, like=like)
    else:
        con.register(name, frame)


#: connections one process may hold: each thread that touches the store keeps its own, and the
#: service runs requests on up to 40 threads (anyio's default) plus its job threads.  Fewer made
#: request threads wait 30 s for a connection and fail under load (docs/operations.md).
POOL_SIZE, POOL_OVERFLOW = 5, 45


def pg_engine(url: str) -> sa.Engine:
    """A pooled SQLAlchemy engine for PostgreSQL (psycopg 3); each thread takes its own connection."""
    return sa.create_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        pool_pre_ping=True,
        connect_args={"options": "-c timezone=UTC"},
    )
