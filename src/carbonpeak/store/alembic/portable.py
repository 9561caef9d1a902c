"""Helpers of the revisions: one DDL definition for DuckDB and PostgreSQL, run through Alembic's ``op``.

A revision defines its schema once, as a *portable* script: the types and syntax both engines read
the same way (``VARCHAR``, ``BIGINT``, ``INTEGER``, ``DOUBLE PRECISION``, ``BOOLEAN``, ``DATE``,
``TIMESTAMPTZ``; ``CREATE TABLE/INDEX … IF NOT EXISTS``, ``ALTER TABLE … ADD COLUMN IF NOT
EXISTS``), checked by :func:`portable`.  Where the engines need other words for the same thing, the
statement is generated for the dialect from one definition: the "newest row per key" views
(:func:`latest_view`: DuckDB's ``SELECT * EXCLUDE`` over ``row_number()``, PostgreSQL's
``DISTINCT ON``).  Objects only one engine needs (the PostgreSQL functions standing in for
DuckDB's built-ins) are added by the revision for that dialect only.

A revision exposes ``ddl(dialect) -> str`` (the script it runs on ``"duckdb"`` or ``"postgresql"``)
and upgrades with ``run_ddl(ddl)``.  Statements are separated by ``;`` at the end of a line.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from alembic import op

DIALECTS = ("duckdb", "postgresql")

#: DuckDB words PostgreSQL does not read the same way (a portable script must not use them).
DUCKDB_ONLY = re.compile(
    r"\b(DOUBLE(?!\s+PRECISION)|HUGEINT|UHUGEINT|UBIGINT|UINTEGER|USMALLINT|UTINYINT|TINYINT|STRUCT|"
    r"EXCLUDE|CREATE\s+OR\s+REPLACE\s+TABLE)\b",
    re.IGNORECASE,
)
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def statements(sql: str) -> list[str]:
    """Split a script on ``;`` at line ends; ``--`` comment lines are dropped."""
    lines = [ln for ln in sql.splitlines() if not ln.lstrip().startswith("--")]
    return [s.strip() for s in re.split(r";\s*$", "\n".join(lines), flags=re.M) if s.strip()]


def _code(sql: str) -> str:
    """The script without its comments (``-- …`` to the end of a line)."""
    return "\n".join(ln.split("--", 1)[0] for ln in sql.splitlines())


def portable(sql: str) -> str:
    """``sql`` unchanged, after checking that it holds no DuckDB-only type or syntax."""
    bad = sorted({m.group(0).upper() for m in DUCKDB_ONLY.finditer(_code(sql))})
    if bad:
        raise ValueError(f"not portable to PostgreSQL: {', '.join(bad)}")
    return sql


def latest_view(view: str, table: str, keys: tuple[str, ...], dialect: str) -> str:
    """``CREATE OR REPLACE VIEW view``: each key's row of ``table`` from the newest batch (ties: the
    later source row), as ``dialect`` says it.  Names are code constants (checked)."""
    for name in (view, table, *keys):
        if not _IDENT.match(name):
            raise ValueError(f"not a plain SQL name: {name!r}")
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}")
    cols = ", ".join(f"t.{k}" for k in keys)
    newest = "b.created_at DESC, t.source_row DESC"
    if dialect == "postgresql":
        return (
            f"CREATE OR REPLACE VIEW {view} AS\n    SELECT DISTINCT ON ({cols}) t.*\n"  # noqa: S608 -- names are code constants checked above; DDL has no values
            f"    FROM {table} t JOIN batches b USING (batch_id)\n    ORDER BY {cols}, {newest}"
        )
    return (
        f"CREATE OR REPLACE VIEW {view} AS\n    SELECT * EXCLUDE (rn_) FROM (\n"  # noqa: S608 -- names are code constants checked above; DDL has no values
        f"        SELECT t.*, row_number() OVER (PARTITION BY {cols} ORDER BY {newest}) AS rn_\n"
        f"        FROM {table} t JOIN batches b USING (batch_id)) WHERE rn_ = 1"
    )


#: The key of each batch table with a ``<table>_current`` view (defined once; a revision that adds
#: columns to such a table creates its view again, since a view keeps the columns ``t.*`` had).
CURRENT_KEYS: dict[str, tuple[str, ...]] = {
    "mon_units": ("unit_id",),
    "mon_meters": ("meter_id",),
    "mon_output": ("unit_id", "product", "period_start", "period_end"),
    "mon_budgets": ("unit_id", "year"),
    "mon_reported": ("unit_id", "period_start", "period_end"),
    "mon_uploads": ("unit_id", "indicator", "frequency", "period_start"),
}


def current_views(tables: tuple[str, ...], dialect: str) -> str:
    """The ``<table>_current`` view of each of ``tables`` (:func:`latest_view` on its key), as one script."""
    return "".join(latest_view(f"{t}_current", t, CURRENT_KEYS[t], dialect) + ";\n" for t in tables)


def run_ddl(ddl: Callable[[str], str]) -> None:
    """Run the script ``ddl`` gives for the connection's dialect."""
    name = op.get_bind().dialect.name
    for stmt in statements(ddl("postgresql" if name == "postgresql" else "duckdb")):
        # psycopg reads % as a placeholder even without parameters when called through SQLAlchemy
        op.get_bind().exec_driver_sql(stmt.replace("%", "%%") if name == "postgresql" else stmt)


def same_ddl(sql: str) -> Callable[[str], str]:
    """The ``ddl`` of a revision whose portable script is the same on both dialects."""
    portable(sql)
    return lambda _dialect: sql


def with_extras(common: str, *, duckdb: str = "", postgresql: str = "") -> Callable[[str], str]:
    """The ``ddl`` of a revision whose portable script ``common`` is followed, on one dialect only, by
    statements that engine alone needs or reads (PostgreSQL's covering ``INCLUDE`` indexes and
    triggers; DuckDB's own indexes).  The revision keeps the extras as the module constants
    ``DUCKDB_EXTRA`` / ``POSTGRESQL_EXTRA``, so the test of one definition per table can tell them
    from the shared script."""
    portable(common)
    return lambda dialect: common + (postgresql if dialect == "postgresql" else duckdb)


def run_sql(sql: str) -> None:
    """Run one portable script on either dialect."""
    run_ddl(lambda _dialect: portable(sql))


def forward_only() -> None:
    """Every revision's ``downgrade``: the schema is only migrated forward."""
    raise NotImplementedError("the store's schema is only migrated forward (restore a backup to go back)")
