"""0420_monitoring_incremental: Incremental monitoring runs (issue 14): the stage-1 meter-day table of each readings source is kept

Revision ID: 0420_monitoring_incremental
Revises: 0410_monitoring_rules

The schema step that was ``store/migrations/0420_monitoring_incremental.sql`` in the hand-written runner (a store it
migrated is stamped with this revision; carbonpeak.store.migrate).
"""

from carbonpeak.store.alembic.portable import forward_only, run_ddl, same_ddl

revision = '0420_monitoring_incremental'
down_revision = '0410_monitoring_rules'
branch_labels = None
depends_on = None

SQL = """\
-- Incremental monitoring runs (issue 14): the stage-1 meter-day table of each readings source is kept
-- between runs, so that a new batch recomputes only the days it touches.
CREATE TABLE IF NOT EXISTS mon_meter_day (
    source VARCHAR NOT NULL, meter_id VARCHAR NOT NULL, day INTEGER NOT NULL, n BIGINT NOT NULL,
    energy DOUBLE PRECISION, vmin DOUBLE PRECISION, vmax DOUBLE PRECISION, n_negative BIGINT, n_impossible BIGINT, n_resets BIGINT,
    n_rollovers BIGINT, first_epoch BIGINT, last_epoch BIGINT, run_id VARCHAR NOT NULL,
    PRIMARY KEY (source, meter_id, day)
);
-- the day ranges whose meter-days are stored for a source, and when they were computed
CREATE TABLE IF NOT EXISTS mon_meter_day_cover (
    source VARCHAR NOT NULL, date_from DATE NOT NULL, date_to DATE NOT NULL, run_id VARCHAR NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL
);
"""


ddl = same_ddl(SQL)


def upgrade() -> None:
    run_ddl(ddl)


downgrade = forward_only
