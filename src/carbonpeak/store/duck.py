"""The embedded store: one DuckDB file, migrated on first use.

Imports are all-or-nothing (one transaction per batch) and idempotent: a batch is identified by
the SHA-256 of its canonical content, and a batch already stored is acknowledged again without
writing anything.  Migrations are the ``*.sql`` files in ``store/migrations/`` applied in name
order, each once, recorded in ``_migrations``.  Each domain adds its own numbered file
(``0100_…`` accounting, ``0200_…`` targets, ``0300_…`` scenarios, ``0400_…`` monitoring,
``0600_…`` platform) so that areas never edit each other's schema.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from carbonpeak.errors import CarbonpeakError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class StoreBusyError(CarbonpeakError):
    """Another process holds the DuckDB file for writing."""


def frame_digest(df: pd.DataFrame, columns: list[str] | None = None) -> str:
    """SHA-256 of a frame's content, independent of row order and of the source file name.

    Columns whose name starts with ``__`` (row numbers, file names) are left out, so the same
    data re-imported from another file or in another order has the same digest.
    """
    cols = sorted(columns if columns is not None else [c for c in df.columns if not str(c).startswith("__")])
    h = hashlib.sha256()
    h.update(("\x1e".join(cols) + "\n").encode())
    if len(df):
        row_hashes = np.sort(pd.util.hash_pandas_object(df[cols], index=False).to_numpy())
        h.update(row_hashes.tobytes())
    return h.hexdigest()


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    batch_id: str
    kind: str
    rows: int
    created: bool  # False when the same batch was already stored (idempotent re-import)


class Store:
    """A DuckDB-backed store.  Use ``Store(":memory:")`` in tests."""

    def __init__(self, path: str | Path = "carbonpeak.duckdb", *, read_only: bool = False) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._root = duckdb.connect(self.path, read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreBusyError(
                    f"the store {self.path} is in use by another process (is `carbonpeak serve` running?). "
                    "Stop it, or send the data through the service with `carbonpeak remote ...` "
                    "(docs/operations.md, 'One writer')"
                ) from None
            raise
        self._local = threading.local()
        # Write transactions are serialised by this lock (DuckDB allows one writer at a time
        # anyway); reads run concurrently, each thread on its own cursor (MVCC snapshot).
        self._lock = threading.RLock()
        if not read_only:
            self.migrate()

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """This thread's connection (a cursor on the one database; DuckDB cursors are per-thread)."""
        c = getattr(self._local, "con", None)
        if c is None:
            c = self._root if threading.current_thread() is threading.main_thread() else self._root.cursor()
            self._local.con = c
        return c

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        self._root.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def migrate(self) -> list[str]:
        """Apply pending migrations; return the names applied."""
        with self._lock:
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS _migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ)"
            )
            done = {r[0] for r in self.con.execute("SELECT name FROM _migrations").fetchall()}
            applied = []
            for f in sorted(MIGRATIONS_DIR.glob("*.sql")):
                if f.name in done:
                    continue
                with self.transaction():
                    self.con.execute(f.read_text(encoding="utf-8"))
                    self.con.execute("INSERT INTO _migrations VALUES (?, ?)", [f.name, datetime.now(UTC)])
                applied.append(f.name)
            return applied

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A transaction: everything inside commits together or not at all."""
        with self._lock:
            self.con.execute("BEGIN TRANSACTION")
            try:
                yield self.con
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            else:
                self.con.execute("COMMIT")

    # -- batches ---------------------------------------------------------------------------
    def batch_count(self) -> int:
        """How many batches were imported (changes with every import; for caches)."""
        return int(self.con.execute("SELECT count(*) FROM batches").fetchone()[0])  # type: ignore[index]

    def batch_exists(self, batch_id: str) -> bool:
        r = self.con.execute("SELECT 1 FROM batches WHERE batch_id = ?", [batch_id]).fetchone()
        return r is not None

    def import_frame(
        self,
        table: str,
        df: pd.DataFrame,
        *,
        kind: str,
        source: str,
        submitter: str = "cli",
        digest_columns: list[str] | None = None,
    ) -> ImportResult:
        """Append ``df`` to ``table`` as one batch, all-or-nothing and idempotent.

        ``df`` may carry ``__row__``/``__file__`` (from :func:`carbonpeak.io.read_table`); they
        are stored as ``source_row``/``source_file``.  Columns of ``df`` must exist in
        ``table``; the table must have a ``batch_id`` column.  A new batch is recorded in the
        audit log (``<kind>.import``) in the same transaction, whichever interface imported it.
        """
        batch_id = f"{kind}:{frame_digest(df, digest_columns)[:32]}"
        with self._lock:
            if self.batch_exists(batch_id):
                return ImportResult(batch_id, kind, len(df), created=False)
            out = df.rename(columns={"__row__": "source_row", "__file__": "source_file"}).copy()
            out["batch_id"] = batch_id
            with self.transaction() as con:
                con.register("_incoming", out)
                try:
                    cols = ", ".join(f'"{c}"' for c in out.columns)
                    con.execute(f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM _incoming')  # noqa: S608 -- table and column names come from code (migration tables), values are registered frames
                finally:
                    con.unregister("_incoming")
                con.execute(
                    "INSERT INTO batches (batch_id, kind, source, submitter, rows, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [batch_id, kind, source, submitter, len(df), datetime.now(UTC)],
                )
                self._audit_import(batch_id, kind, source, submitter, len(df))
            return ImportResult(batch_id, kind, len(df), created=True)

    def _audit_import(self, batch_id: str, kind: str, source: str, submitter: str, rows: int) -> None:
        """Append ``<kind>.import`` to the audit chain (inside the caller's transaction)."""
        if self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'audit_log'"
        ).fetchone()[0]:  # type: ignore[index]
            from carbonpeak.store import audit

            audit.append(
                self,
                actor=submitter,
                action=f"{kind}.import",
                entity="batch",
                entity_id=batch_id,
                payload={"source": source, "rows": rows},
            )

    def current(self, table: str, key: list[str]) -> pd.DataFrame:
        """The current rows of a batch table: for each ``key``, the row of the newest batch.

        A corrected file imported later replaces the earlier values key by key; the earlier batch
        stays stored (nothing is deleted).  Returned with ``__row__``/``__file__`` as read from the
        files and without ``batch_id``, ready for the domain code.
        """
        keys = ", ".join(f'"{k}"' for k in key)
        df = self.query(
            f"""SELECT t.* FROM "{table}" t JOIN batches b USING (batch_id)
                QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY b.created_at DESC, t.source_row DESC) = 1
                ORDER BY {keys}"""  # noqa: S608 -- table and key names come from code (migration tables)
        )
        return df.rename(columns={"source_row": "__row__", "source_file": "__file__"}).drop(
            columns=["batch_id"]
        )

    def query(self, sql: str, params: list[object] | None = None) -> pd.DataFrame:
        """Run a read query and return a DataFrame (no lock: reads see a consistent snapshot)."""
        return self.con.execute(sql, params or []).df()
