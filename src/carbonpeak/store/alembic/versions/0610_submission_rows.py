"""0610_submission_rows: Issue 9: a submission's rows live one per row, never as a whole upload in one JSON cell.

Revision ID: 0610_submission_rows
Revises: 0600_platform

The schema step that was ``store/migrations/0610_submission_rows.sql`` in the hand-written runner (a store it
migrated is stamped with this revision; carbonpeak.store.migrate).
"""

from carbonpeak.store.alembic.portable import forward_only, run_ddl, same_ddl

revision = '0610_submission_rows'
down_revision = '0600_platform'
branch_labels = None
depends_on = None

SQL = """\
-- Issue 9: a submission's rows live one per row, never as a whole upload in one JSON cell.
-- submissions.payload now holds the pointer 'submission_rows' for new versions.
CREATE TABLE IF NOT EXISTS submission_rows (
    submission_id VARCHAR NOT NULL,
    version       INTEGER NOT NULL,
    row_no        INTEGER NOT NULL,            -- the row in the file as the enterprise sees it
    record        VARCHAR NOT NULL,            -- JSON object of one row (bounded by the row's own fields)
    PRIMARY KEY (submission_id, version, row_no)
);
"""


ddl = same_ddl(SQL)


def upgrade() -> None:
    run_ddl(ddl)


downgrade = forward_only
