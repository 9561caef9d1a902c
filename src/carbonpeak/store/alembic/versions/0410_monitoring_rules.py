"""0410_monitoring_rules: Monitoring rules (issue 14): the data the standards' rules and the national platform's checks need.

Revision ID: 0410_monitoring_rules
Revises: 0400_monitoring

The schema step that was ``store/migrations/0410_monitoring_rules.sql`` in the hand-written runner (a store it
migrated is stamped with this revision; carbonpeak.store.migrate).
"""

from carbonpeak.store.alembic.portable import run_sql

revision = '0410_monitoring_rules'
down_revision = '0400_monitoring'
branch_labels = None
depends_on = None

DUCKDB_SQL = """\
-- Monitoring rules (issue 14): the data the standards' rules and the national platform's checks need.
-- Units: data-centre build (new/existing) and size class (发改高技〔2021〕1742号 scope, GB 40879 edge
-- exclusion); site altitude and ambient pressure (GB 16780-2021 §5.3 correction).
ALTER TABLE mon_units ADD COLUMN IF NOT EXISTS dc_build VARCHAR;
ALTER TABLE mon_units ADD COLUMN IF NOT EXISTS dc_size VARCHAR;
ALTER TABLE mon_units ADD COLUMN IF NOT EXISTS altitude_m DOUBLE;
ALTER TABLE mon_units ADD COLUMN IF NOT EXISTS pressure_pa DOUBLE;
-- Meters: end of the verification / calibration period.
ALTER TABLE mon_meters ADD COLUMN IF NOT EXISTS calibration_valid_until DATE;
-- Output: data of the corrections the limit standards prescribe, and aluminium's non-hydro renewable share.
ALTER TABLE mon_output ADD COLUMN IF NOT EXISTS clinker_ratio DOUBLE;
ALTER TABLE mon_output ADD COLUMN IF NOT EXISTS feed_grade DOUBLE;
ALTER TABLE mon_output ADD COLUMN IF NOT EXISTS rare_earth_ore_pct DOUBLE;
ALTER TABLE mon_output ADD COLUMN IF NOT EXISTS vti_magnetite_pct DOUBLE;
ALTER TABLE mon_output ADD COLUMN IF NOT EXISTS laterite_nickel_pct DOUBLE;
ALTER TABLE mon_output ADD COLUMN IF NOT EXISTS thickness_factor DOUBLE;
ALTER TABLE mon_output ADD COLUMN IF NOT EXISTS nonhydro_renewable_share DOUBLE;
-- The unit's own uploads to the platform (daily and monthly reports, output, value added …).
CREATE TABLE IF NOT EXISTS mon_uploads (
    unit_id VARCHAR NOT NULL, indicator VARCHAR NOT NULL, frequency VARCHAR NOT NULL,
    period_start TIMESTAMPTZ NOT NULL, value DOUBLE NOT NULL, unit VARCHAR NOT NULL, uploaded_at TIMESTAMPTZ,
    batch_id VARCHAR NOT NULL, source_file VARCHAR, source_row BIGINT
);
-- Alerts: the grain and indicator that are part of an alert's identity.
ALTER TABLE mon_alerts ADD COLUMN IF NOT EXISTS grain VARCHAR;
ALTER TABLE mon_alerts ADD COLUMN IF NOT EXISTS indicator VARCHAR;
CREATE OR REPLACE VIEW mon_units_current AS
    SELECT * EXCLUDE (rn_) FROM (
        SELECT t.*, row_number() OVER (PARTITION BY t.unit_id ORDER BY b.created_at DESC, t.source_row DESC) AS rn_
        FROM mon_units t JOIN batches b USING (batch_id)) WHERE rn_ = 1;
CREATE OR REPLACE VIEW mon_meters_current AS
    SELECT * EXCLUDE (rn_) FROM (
        SELECT t.*, row_number() OVER (PARTITION BY t.meter_id ORDER BY b.created_at DESC, t.source_row DESC) AS rn_
        FROM mon_meters t JOIN batches b USING (batch_id)) WHERE rn_ = 1;
CREATE OR REPLACE VIEW mon_output_current AS
    SELECT * EXCLUDE (rn_) FROM (
        SELECT t.*, row_number() OVER (PARTITION BY t.unit_id, t.product, t.period_start, t.period_end
                                       ORDER BY b.created_at DESC, t.source_row DESC) AS rn_
        FROM mon_output t JOIN batches b USING (batch_id)) WHERE rn_ = 1;
CREATE OR REPLACE VIEW mon_uploads_current AS
    SELECT * EXCLUDE (rn_) FROM (
        SELECT t.*, row_number() OVER (PARTITION BY t.unit_id, t.indicator, t.frequency, t.period_start
                                       ORDER BY b.created_at DESC, t.source_row DESC) AS rn_
        FROM mon_uploads t JOIN batches b USING (batch_id)) WHERE rn_ = 1;
"""

POSTGRESQL_SQL: str | None = """\
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
CREATE OR REPLACE VIEW mon_units_current AS
    SELECT DISTINCT ON (t.unit_id) t.*
    FROM mon_units t JOIN batches b USING (batch_id)
    ORDER BY t.unit_id, b.created_at DESC, t.source_row DESC;
CREATE OR REPLACE VIEW mon_meters_current AS
    SELECT DISTINCT ON (t.meter_id) t.*
    FROM mon_meters t JOIN batches b USING (batch_id)
    ORDER BY t.meter_id, b.created_at DESC, t.source_row DESC;
CREATE OR REPLACE VIEW mon_output_current AS
    SELECT DISTINCT ON (t.unit_id, t.product, t.period_start, t.period_end) t.*
    FROM mon_output t JOIN batches b USING (batch_id)
    ORDER BY t.unit_id, t.product, t.period_start, t.period_end, b.created_at DESC, t.source_row DESC;
CREATE OR REPLACE VIEW mon_uploads_current AS
    SELECT DISTINCT ON (t.unit_id, t.indicator, t.frequency, t.period_start) t.*
    FROM mon_uploads t JOIN batches b USING (batch_id)
    ORDER BY t.unit_id, t.indicator, t.frequency, t.period_start, b.created_at DESC, t.source_row DESC;
"""


def upgrade() -> None:
    run_sql(DUCKDB_SQL, POSTGRESQL_SQL)


def downgrade() -> None:
    raise NotImplementedError("the store's schema is only migrated forward (restore a backup to go back)")
