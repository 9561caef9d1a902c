"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
"""

from carbonpeak.store.alembic.portable import run_sql

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(DUCKDB_SQL, POSTGRESQL_SQL)


def downgrade() -> None:
    raise NotImplementedError("the store's schema is only migrated forward")
