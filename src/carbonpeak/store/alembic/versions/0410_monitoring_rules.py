"""0410_monitoring_rules: Monitoring rules (issue 14): the data the standards' rules and the national platform's checks need.

Revision ID: 0410_monitoring_rules
Revises: 0400_monitoring

The schema step that was ``store/migrations/0410_monitoring_rules.sql`` in the hand-written runner (a store it
migrated is stamped with this revision; carbonpeak.store.migrate).
"""

from carbonpeak.store.alembic.portable import current_views, forward_only, portable, run_ddl

revision = '0410_monitoring_rules'
down_revision = '0400_monitoring'
branch_labels = None
depends_on = None

SQL = portable("""\
-- Monitoring rules (issue 14): the data the standards' rules and the national platform's checks need.
-- Units: data-centre build (new/existing) and size class (发改高技〔2021〕1742号 scope, GB 40879 edge
-- exclusion); site altitude and ambient pressure (GB 16780-2021 §5.3 correction).
ALTER TABLE mon_units ADD COLUMN IF NOT EXISTS dc_build VARCHAR;
ALTER TABLE mon_units ADD COLUMN IF NOT EXISTS dc_size VARCHAR;
ALTER TABLE mon_units ADD COLUMN IF NOT EXISTS altitude_m DOUBLE PRECISION;
ALTER TABLE mon_units ADD COLUMN IF NOT EXISTS pressure_pa DOUBLE PRECISION;
-- Meters: end of the verification / calibration period.
ALTER TABLE mon_meters ADD COLUMN IF NOT EXISTS calibration_valid_until DATE;
-- Output: data of the corrections the limit standards prescribe, and aluminium's non-hydro renewable share.
ALTER TABLE mon_output ADD COLUMN IF NOT EXISTS clinker_ratio DOUBLE PRECISION;
ALTER TABLE mon_output ADD COLUMN IF NOT EXISTS feed_grade DOUBLE PRECISION;
ALTER TABLE mon_output ADD COLUMN IF NOT EXISTS rare_earth_ore_pct DOUBLE PRECISION;
ALTER TABLE mon_output ADD COLUMN IF NOT EXISTS vti_magnetite_pct DOUBLE PRECISION;
ALTER TABLE mon_output ADD COLUMN IF NOT EXISTS laterite_nickel_pct DOUBLE PRECISION;
ALTER TABLE mon_output ADD COLUMN IF NOT EXISTS thickness_factor DOUBLE PRECISION;
ALTER TABLE mon_output ADD COLUMN IF NOT EXISTS nonhydro_renewable_share DOUBLE PRECISION;
-- The unit's own uploads to the platform (daily and monthly reports, output, value added …).
CREATE TABLE IF NOT EXISTS mon_uploads (
    unit_id VARCHAR NOT NULL, indicator VARCHAR NOT NULL, frequency VARCHAR NOT NULL,
    period_start TIMESTAMPTZ NOT NULL, value DOUBLE PRECISION NOT NULL, unit VARCHAR NOT NULL, uploaded_at TIMESTAMPTZ,
    batch_id VARCHAR NOT NULL, source_file VARCHAR, source_row BIGINT
);
-- Alerts: the grain and indicator that are part of an alert's identity.
ALTER TABLE mon_alerts ADD COLUMN IF NOT EXISTS grain VARCHAR;
ALTER TABLE mon_alerts ADD COLUMN IF NOT EXISTS indicator VARCHAR;
""")

#: The *_current views made again (units, meters and output have new columns) or new (uploads).
CURRENT = ("mon_units", "mon_meters", "mon_output", "mon_uploads")


def ddl(dialect: str) -> str:
    return SQL + current_views(CURRENT, dialect)


def upgrade() -> None:
    run_ddl(ddl)


downgrade = forward_only
