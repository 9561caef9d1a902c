"""Helpers of the revisions: one statement list per dialect, run through Alembic's ``op``.

A revision gives its DDL for DuckDB and, where PostgreSQL needs other words (``DOUBLE PRECISION``
for ``DOUBLE``, ``DISTINCT ON`` for DuckDB's ``SELECT * EXCLUDE``), for PostgreSQL.  Statements
are separated by ``;`` at the end of a line.
"""

from __future__ import annotations

import re

from alembic import op


def statements(sql: str) -> list[str]:
    """Split a script on ``;`` at line ends; ``--`` comment lines are dropped."""
    lines = [ln for ln in sql.splitlines() if not ln.lstrip().startswith("--")]
    return [s.strip() for s in re.split(r";\s*$", "\n".join(lines), flags=re.M) if s.strip()]


def run_sql(duckdb_sql: str, postgresql_sql: str | None = None) -> None:
    """Run the script of the connection's dialect."""
    name = op.get_bind().dialect.name
    sql = postgresql_sql if name == "postgresql" and postgresql_sql is not None else duckdb_sql
    for stmt in statements(sql):
        # psycopg reads % as a placeholder even without parameters when called through SQLAlchemy
        op.get_bind().exec_driver_sql(stmt.replace("%", "%%") if name == "postgresql" else stmt)
