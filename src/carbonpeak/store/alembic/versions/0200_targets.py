"""0200_targets: Targets: indicator observations (imported like activity data) and stored assessments.

Revision ID: 0200_targets
Revises: 0100_accounting

The schema step that was ``store/migrations/0200_targets.sql`` in the hand-written runner (a store it
migrated is stamped with this revision; carbonpeak.store.migrate).
"""

from carbonpeak.store.alembic.portable import forward_only, run_ddl, same_ddl

revision = '0200_targets'
down_revision = '0100_accounting'
branch_labels = None
depends_on = None

SQL = """\
-- Targets: indicator observations (imported like activity data) and stored assessments.
CREATE TABLE IF NOT EXISTS observations (
    indicator      VARCHAR NOT NULL,   -- catalog/data/indicators.yaml id
    region         VARCHAR NOT NULL,   -- GD or GD-XX
    year           INTEGER NOT NULL,
    value          DOUBLE PRECISION  NOT NULL,   -- in the indicator's canonical unit
    unit           VARCHAR NOT NULL,   -- the indicator's canonical unit
    value_reported DOUBLE PRECISION,             -- as written in the file
    unit_reported  VARCHAR,
    source         VARCHAR NOT NULL,
    status         VARCHAR,
    note           VARCHAR,
    source_file    VARCHAR,
    source_row     BIGINT,
    batch_id       VARCHAR NOT NULL
);
CREATE INDEX IF NOT EXISTS observations_key ON observations (indicator, region, year);
CREATE TABLE IF NOT EXISTS assessments (
    assessment_id VARCHAR PRIMARY KEY,  -- "<year>:<sha256 prefix of the JSON>"
    year          INTEGER NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    payload       VARCHAR NOT NULL      -- the assessment JSON (docs/methods/targets.md §6)
);
"""


ddl = same_ddl(SQL)


def upgrade() -> None:
    run_ddl(ddl)


downgrade = forward_only
