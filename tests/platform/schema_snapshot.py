"""The schema of a store as plain data: tables and columns (type, nullability, default, position),
keys (primary and unique), indexes, views (columns and definition), sequences and, on PostgreSQL,
the functions of the dialect layer.  Used to prove that the de-duplicated Alembic revisions build
the same schema as the revisions they replaced (tests/platform/test_schema_snapshot.py).

Regenerate the committed snapshot (only when a revision is meant to change the schema)::

    PYTHONPATH=$PWD/src:$PWD python -m tests.platform.schema_snapshot duckdb
    CARBONPEAK_TEST_DATABASE_URL=postgresql+psycopg://… PYTHONPATH=$PWD/src:$PWD \\
        python -m tests.platform.schema_snapshot postgresql
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
#: The revision the snapshot was taken at (the head before the DDL de-duplication).
SNAPSHOT_REVISION = "0700_markets"


def snapshot_path(backend: str) -> Path:
    return DATA / f"schema_{SNAPSHOT_REVISION}_{backend}.json"


def _ws(text: str | None) -> str | None:
    """White space folded (a view's text as stored may keep the script's line breaks)."""
    return None if text is None else re.sub(r"\s+", " ", text).strip()


def _rows(con: Any, sql: str, params: list[Any] | None = None) -> list[list[Any]]:
    return [[None if v is None else str(v) for v in r] for r in con.execute(sql, params or []).fetchall()]


def schema_of(store: Any) -> dict[str, Any]:
    """The schema of ``store`` (a :class:`carbonpeak.store.Store`), stable order, JSON-able."""
    con = store.con
    schema = "main" if not store.is_postgres else "public"
    cols = _rows(
        con,
        "SELECT table_name, column_name, ordinal_position, data_type, is_nullable, column_default "
        "FROM information_schema.columns WHERE table_schema = ? ORDER BY table_name, ordinal_position",
        [schema],
    )
    kinds = _rows(
        con,
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name",
        [schema],
    )
    keys = _rows(
        con,
        "SELECT tc.table_name, tc.constraint_type, kcu.column_name, kcu.ordinal_position "
        "FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu "
        "ON tc.constraint_name = kcu.constraint_name AND tc.table_name = kcu.table_name "
        "AND tc.table_schema = kcu.table_schema WHERE tc.table_schema = ? "
        "AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE') "
        "ORDER BY tc.table_name, tc.constraint_type, kcu.ordinal_position",
        [schema],
    )
    if store.is_postgres:
        indexes = _rows(
            con,
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "AND indexname NOT LIKE '%_pkey' ORDER BY tablename, indexname",
        )
        views = _rows(
            con, "SELECT viewname, pg_get_viewdef(viewname::regclass, true) FROM pg_views "
            "WHERE schemaname = 'public' ORDER BY viewname",
        )  # fmt: skip
        sequences = _rows(
            con,
            "SELECT sequence_name, data_type, start_value, increment FROM information_schema.sequences "
            "WHERE sequence_schema = 'public' ORDER BY sequence_name",
        )
        functions = _rows(
            con,
            "SELECT p.proname, pg_get_function_identity_arguments(p.oid), pg_get_function_result(p.oid), "
            "p.provolatile, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' ORDER BY 1, 2",
        )
    else:
        indexes = _rows(
            con,
            "SELECT table_name, index_name, sql FROM duckdb_indexes() WHERE schema_name = 'main' "
            "ORDER BY table_name, index_name",
        )
        views = _rows(
            con, "SELECT view_name, sql FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal "
            "ORDER BY view_name",
        )  # fmt: skip
        sequences = _rows(
            con,
            "SELECT sequence_name, start_value, increment_by FROM duckdb_sequences() "
            "WHERE schema_name = 'main' ORDER BY sequence_name",
        )
        functions = []
    return {
        "backend": store.backend,
        "tables": kinds,
        "columns": cols,
        "keys": keys,
        "indexes": [[t, n, _ws(d)] for t, n, d in indexes],
        "views": [[n, _ws(d)] for n, d in views],
        "sequences": sequences,
        "functions": [[n, a, r, v, _ws(s)] for n, a, r, v, s in functions],
    }


def store_at(location: Any, revision: str) -> Any:
    """A new store at ``location`` migrated up to ``revision`` (not to the head)."""
    from carbonpeak.store import Store
    from carbonpeak.store import migrate as mig

    real = Store.migrate
    Store.migrate = lambda self: mig.upgrade(self, revision)  # type: ignore[method-assign]
    try:
        return Store(location)
    finally:
        Store.migrate = real  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    backend = argv[0] if argv else "duckdb"
    if backend == "postgresql":
        from tests.platform.pg import fresh_database

        location: Any = fresh_database()
    else:
        location = ":memory:"
    store = store_at(location, SNAPSHOT_REVISION)
    try:
        snap = schema_of(store)
    finally:
        store.close()
    DATA.mkdir(exist_ok=True)
    snapshot_path(backend).write_text(json.dumps(snap, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(snapshot_path(backend))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
