"""Copy a whole store to another database (DuckDB -> PostgreSQL and back) and prove the copy.

:func:`copy_store` reads every table of the source in one snapshot, writes them to the target in
dependency order inside **one transaction** on the target, and, still inside that transaction,
checks the copy:

- the row count of each table, source against target;
- a content digest of each table, source against target: SHA-256 over the sorted SHA-256 of each
  row, the row written as canonical JSON of its values by column name (timestamps in UTC ISO 8601,
  numbers in one form whatever the engine returned), so the digest does not depend on the engine
  or on row order.  A value changed, added or dropped on the way changes the digest;
- the audit chain on the target (:func:`carbonpeak.store.audit.verify_chain`, with the keyring of
  the source): every entry sealed with the audit key, no entry missing or reordered;
- each signed checkpoint copied into the target's ``audit_checkpoints``: its Ed25519 signature
  under the keyring's key of its id, and the target's entry at the checkpoint's ``seq`` still
  carries the checkpoint's head hash.

Any failed check rolls the whole copy back (the target stays as it was).  Meter readings at scale
are Parquet partitions outside the database and are not copied (they stay where they are).

Identifiers in the statements below come from the database's own catalogue and are quoted by
SQLAlchemy's compiler; values are always bound.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from carbonpeak.errors import CarbonpeakError
from carbonpeak.store import audit, checkpoints
from carbonpeak.store.audit_keys import Keyring
from carbonpeak.store.duck import Store

#: bookkeeping tables of the schema tools, the data versions of the caches and the ledger's span
#: classes: the target has its own, made by opening it (its versions move with the rows copied in;
#: the span classes 0..62 are written by revision 0720_ledger_indexes itself, the same on both)
SKIP_TABLES = frozenset({"alembic_version", "_migrations", "data_versions", "mk_span_classes"})

_DIALECT = postgresql.dialect()  # DuckDB quotes identifiers as PostgreSQL does

_TABLES_SQL = (
    "SELECT table_name FROM information_schema.tables "
    "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
)
_COLUMNS_SQL = (
    "SELECT column_name, data_type FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position"
)
_SNAPSHOT_PG = "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"
#: foreign keys (child, parent) of the current schema, for the dependency order
_FK_SQL = (
    "SELECT tc.table_name, ccu.table_name FROM information_schema.table_constraints tc "
    "JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name "
    "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()"
)


class TransferError(CarbonpeakError):
    """A store cannot be copied (target not empty, schemas differ, or the copy did not verify)."""


class CopyNotVerifiedError(TransferError):
    """The copy was made but did not verify on the target; it was rolled back.  ``report`` says why."""

    def __init__(self, message: str, report: TransferReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class TableCheck:
    """One table of the copy: rows and content digest on each side."""

    table: str
    source_rows: int
    target_rows: int
    source_digest: str
    target_digest: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_digest == self.target_digest

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "source_rows": self.source_rows,
            "target_rows": self.target_rows,
            "digest": self.target_digest[:16],
            "status": "ok"
            if self.ok
            else ("ROW COUNT DIFFERS" if self.source_rows != self.target_rows else "CONTENT DIFFERS"),
        }


@dataclass
class TransferReport:
    """What :func:`copy_store` copied and what it verified on the target."""

    source: str
    target: str
    tables: list[TableCheck]
    chain: dict[str, Any]
    checkpoints: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def rows(self) -> int:
        return sum(t.target_rows for t in self.tables)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "committed": self.committed,
            "source": self.source,
            "target": self.target,
            "rows": self.rows,
            "tables": [t.to_dict() for t in self.tables],
            "audit_chain": self.chain,
            "checkpoints": self.checkpoints,
            "problems": self.problems,
        }


# -- statements --------------------------------------------------------------------------------


def _sql(stmt: sa.sql.ClauseElement) -> str:
    return str(stmt.compile(dialect=_DIALECT))


def _select_all(table: str, columns: list[str]) -> str:
    return _sql(sa.select(*(sa.column(c) for c in columns)).select_from(sa.table(table)))


def _count(table: str) -> str:
    return _sql(sa.select(sa.func.count()).select_from(sa.table(table)))


def _delete_all(table: str) -> str:
    return _sql(sa.delete(sa.table(table)))


def _insert_from(table: str, columns: list[str], incoming: str) -> str:
    src = sa.select(*(sa.column(c) for c in columns)).select_from(sa.table(incoming))
    return _sql(sa.insert(sa.table(table, *(sa.column(c) for c in columns))).from_select(columns, src))


# -- catalogue ---------------------------------------------------------------------------------


def tables(store: Store) -> list[str]:
    """The store's tables (not views, not the schema tool's bookkeeping), in dependency order."""
    names = [str(r[0]) for r in store.con.execute(_TABLES_SQL).fetchall() if str(r[0]) not in SKIP_TABLES]
    deps = {(str(c), str(p)) for c, p in store.con.execute(_FK_SQL).fetchall() if c != p}
    ordered: list[str] = []
    pending = list(names)
    while pending:  # parents before children (Kahn); a cycle keeps name order
        ready = [t for t in pending if not any(c == t and p in pending for c, p in deps)] or pending[:1]
        for t in ready:
            ordered.append(t)
            pending.remove(t)
    return ordered


def columns(store: Store, table: str) -> dict[str, str]:
    """Column name -> data type (as the engine's information_schema names it)."""
    return {str(n): str(t).upper() for n, t in store.con.execute(_COLUMNS_SQL, [table]).fetchall()}


def row_counts(store: Store) -> dict[str, int]:
    out = {}
    for t in tables(store):
        row = store.con.execute(_count(t)).fetchone()
        out[t] = int(row[0]) if row else 0
    return out


# -- content digest ----------------------------------------------------------------------------


def _canon(v: Any) -> Any:
    """One form of a value whichever engine returned it (see the module text)."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, int):
        return v
    if isinstance(v, (float, decimal.Decimal)):
        f = float(v)
        if math.isnan(f):
            return None
        return int(f) if f.is_integer() and abs(f) < 2**53 else repr(f)
    if isinstance(v, (pd.Timestamp, dt.datetime)):
        ts = pd.Timestamp(v)
        return (ts.tz_convert("UTC") if ts.tzinfo is not None else ts).isoformat()
    if isinstance(v, dt.date):
        return pd.Timestamp(v).isoformat()
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_canon(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _canon(x) for k, x in v.items()}
    return str(v)


def frame_content_digest(df: pd.DataFrame) -> str:
    """SHA-256 of a table's rows, independent of row order and of the engine (module text)."""
    cols = sorted(str(c) for c in df.columns)
    h = hashlib.sha256(("\x1e".join(cols) + "\n").encode())
    rows = sorted(
        hashlib.sha256(
            json.dumps([_canon(v) for v in rec], separators=(",", ":"), ensure_ascii=False).encode()
        ).digest()
        for rec in df[cols].itertuples(index=False, name=None)
    )
    for r in rows:
        h.update(r)
    return h.hexdigest()


# -- reading and writing -----------------------------------------------------------------------


def read_table(store: Store, table: str, cols: list[str]) -> pd.DataFrame:
    """All rows of ``table`` (inside the caller's snapshot)."""
    df = store.con.execute(_select_all(table, cols)).df()
    return df[cols] if len(df.columns) else pd.DataFrame(columns=cols)


_INT_TYPES = ("INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER")


def _fit(frame: pd.DataFrame, types: dict[str, str]) -> pd.DataFrame:
    """Integer columns that came back as floats (NULLs) as nullable integers, so that PostgreSQL's
    ``COPY`` reads ``3`` and not ``3.0``."""
    out = frame.copy()
    for c in out.columns:
        if types.get(c, "").startswith(_INT_TYPES) and out[c].dtype.kind == "f":
            out[c] = out[c].round().astype("Int64")
    return out


def write_table(target: Store, con: Any, table: str, frame: pd.DataFrame, types: dict[str, str]) -> None:
    """Append ``frame`` to ``table`` on the target's open transaction ``con``."""
    if not len(frame):
        return
    frame = _fit(frame, types)
    if target.is_postgres:
        con.copy_into(table, frame)
        return
    cols = [str(c) for c in frame.columns]
    con.register("_cp_transfer", frame)
    try:
        con.execute(_insert_from(table, cols, "_cp_transfer"))
    finally:
        con.unregister("_cp_transfer")


# -- the copy ----------------------------------------------------------------------------------


def _same_place(a: Store, b: Store) -> bool:
    return a.url == b.url and a.path != ":memory:"


def _snapshot(source: Store) -> tuple[dict[str, dict[str, str]], dict[str, pd.DataFrame]]:
    """Every table of the source with its column types, read in one transaction."""
    con = source.con
    # one snapshot for every table (PostgreSQL's default READ COMMITTED takes one per statement)
    con.execute(_SNAPSHOT_PG if source.is_postgres else "BEGIN TRANSACTION")
    try:
        names = tables(source)
        types = {t: columns(source, t) for t in names}
        frames = {t: read_table(source, t, list(types[t])) for t in names}
    finally:
        con.execute("COMMIT")
    return types, frames


def check_checkpoints(store: Store, ring: Keyring) -> tuple[list[dict[str, Any]], list[str]]:
    """Each stored checkpoint's signature, and whether the store's chain still has its head."""
    out: list[dict[str, Any]] = []
    problems: list[str] = []
    rows = store.con.execute("SELECT body, signature FROM audit_checkpoints ORDER BY seq, ts").fetchall()
    for body, sig in rows:
        cp = checkpoints.Checkpoint.from_dict({**json.loads(str(body)), "signature": str(sig)})
        bad = checkpoints.check_signature(cp, ring)
        if bad is None and cp.seq > 0:
            row = store.con.execute("SELECT hash FROM audit_log WHERE seq = ?", [cp.seq]).fetchone()
            if row is None:
                bad = f"entry {cp.seq} of the checkpoint is missing"
            elif str(row[0]) != cp.head:
                bad = f"entry {cp.seq} does not have the checkpoint's head hash"
        out.append({"seq": cp.seq, "time": cp.time, "key_id": cp.key_id, "status": bad or "ok"})
        if bad:
            problems.append(f"checkpoint at entry {cp.seq}: {bad}")
    return out, problems


def copy_store(
    source: Store,
    target: Store,
    ring: Keyring,
    *,
    replace: bool = False,
) -> TransferReport:
    """Copy every table of ``source`` into ``target`` in one transaction and verify it there.

    ``ring`` is the keyring the source's chain is sealed with; the target must be opened (and so
    migrated to the same schema revision) by the caller.  A non-empty target is refused unless
    ``replace`` (its rows are then deleted in the same transaction).  Raises
    :class:`TransferError` when the copy does not verify; the target is then unchanged.
    """
    if _same_place(source, target):
        raise TransferError("the source and the target are the same store")
    types, frames = _snapshot(source)
    target_tables = tables(target)
    missing = sorted(set(types) - set(target_tables))
    extra = sorted(set(target_tables) - set(types))
    if missing or extra:
        raise TransferError(
            "the schemas differ (open both with this version of carbonpeak first): "
            f"missing on the target {missing or '-'}, only on the target {extra or '-'}"
        )
    for t in types:
        tcols = columns(target, t)
        if set(tcols) != set(types[t]):
            raise TransferError(f"table {t}: the columns differ between source and target")
    nonempty = {t: n for t, n in row_counts(target).items() if n}
    if nonempty and not replace:
        listed = ", ".join(f"{t} ({n} rows)" for t, n in sorted(nonempty.items()))
        raise TransferError(
            f"the target store is not empty: {listed}. Copy into an empty database, or pass "
            "--replace to delete the target's rows first (in the same transaction)"
        )
    report = TransferReport(source.path, target.path, [], {}, [])
    target_types = {t: columns(target, t) for t in target_tables}
    with target.transaction() as con:
        for t in reversed(target_tables):
            if nonempty.get(t):
                con.execute(_delete_all(t))
        for t in target_tables:  # dependency order (parents first)
            write_table(target, con, t, frames[t], target_types[t])
        for t in target_tables:
            back = read_table(target, t, list(types[t]))
            report.tables.append(
                TableCheck(
                    t, len(frames[t]), len(back), frame_content_digest(frames[t]), frame_content_digest(back)
                )
            )
        for tc in report.tables:
            if not tc.ok:
                report.problems.append(
                    f"table {tc.table}: {tc.source_rows} rows copied, {tc.target_rows} on the target"
                    if tc.source_rows != tc.target_rows
                    else f"table {tc.table}: the target's rows differ from the source's"
                )
        if "audit_log" in types:
            chain = audit.verify_chain(target, ring)
            report.chain = chain.to_dict()
            if not chain.ok:
                report.problems.append(
                    f"audit chain on the target broken at entry {chain.first_bad_seq}: {chain.problem}"
                )
        if "audit_checkpoints" in types:
            report.checkpoints, cp_problems = check_checkpoints(target, ring)
            report.problems.extend(cp_problems)
        if report.problems:
            raise CopyNotVerifiedError(
                "the copy did not verify, nothing was written to the target: " + "; ".join(report.problems),
                report,
            )
    report.committed = True
    return report
