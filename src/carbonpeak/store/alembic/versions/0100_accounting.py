"""0100_accounting: Accounting: activity data imported with `carbonpeak inventory import` (docs/inventory.md).

Revision ID: 0100_accounting
Revises: 0001_core

The schema step that was ``store/migrations/0100_accounting.sql`` in the hand-written runner (a store it
migrated is stamped with this revision; carbonpeak.store.migrate).
"""

from carbonpeak.store.alembic.portable import forward_only, run_ddl, same_ddl

revision = '0100_accounting'
down_revision = '0001_core'
branch_labels = None
depends_on = None

SQL = """\
-- Accounting: activity data imported with `carbonpeak inventory import` (docs/inventory.md).
-- One batch per import (batches.kind = 'activity'); a batch's rows are unique on
-- (year, region, category, item).  Re-importing the same content is a no-op (same batch_id).
CREATE TABLE IF NOT EXISTS activity (
    year            INTEGER NOT NULL,
    region          VARCHAR NOT NULL,
    category        VARCHAR NOT NULL,   -- IPCC 2006 code or memo code (catalog/data/categories.csv)
    item            VARCHAR NOT NULL,   -- catalog item id
    amount          DOUBLE PRECISION NOT NULL,
    unit            VARCHAR NOT NULL,
    uncertainty_pct DOUBLE PRECISION,
    source          VARCHAR,
    note            VARCHAR,
    batch_id        VARCHAR NOT NULL,
    source_file     VARCHAR,
    source_row      BIGINT
);
CREATE INDEX IF NOT EXISTS activity_batch_idx ON activity (batch_id);
"""


ddl = same_ddl(SQL)


def upgrade() -> None:
    run_ddl(ddl)


downgrade = forward_only
