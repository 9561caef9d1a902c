"""0400_monitoring: Monitoring of key energy-consuming units (issue 5).  Registry tables are append-only batches

Revision ID: 0400_monitoring
Revises: 0300_scenarios

The schema step that was ``store/migrations/0400_monitoring.sql`` in the hand-written runner (a store it
migrated is stamped with this revision; carbonpeak.store.migrate).
"""

from carbonpeak.store.alembic.portable import current_views, forward_only, portable, run_ddl

revision = '0400_monitoring'
down_revision = '0300_scenarios'
branch_labels = None
depends_on = None

SQL = portable("""\
-- Monitoring of key energy-consuming units (issue 5).  Registry tables are append-only batches
-- (Store.import_frame); the *_current views pick, per key, the row of the latest batch.
CREATE TABLE IF NOT EXISTS mon_units (
    unit_id VARCHAR NOT NULL, name VARCHAR NOT NULL, uscc VARCHAR NOT NULL, industry_code VARCHAR NOT NULL,
    city VARCHAR NOT NULL, kind VARCHAR NOT NULL, hub_node BOOLEAN NOT NULL, registered_level VARCHAR,
    synthetic BOOLEAN, batch_id VARCHAR NOT NULL, source_file VARCHAR, source_row BIGINT
);
CREATE TABLE IF NOT EXISTS mon_meters (
    meter_id VARCHAR NOT NULL, unit_id VARCHAR NOT NULL, energy_type VARCHAR NOT NULL, point VARCHAR NOT NULL,
    kind VARCHAR NOT NULL, unit VARCHAR NOT NULL, interval_minutes INTEGER NOT NULL,
    parent_meter_id VARCHAR, product VARCHAR, rollover DOUBLE PRECISION, max_interval_value DOUBLE PRECISION,
    batch_id VARCHAR NOT NULL, source_file VARCHAR, source_row BIGINT
);
CREATE TABLE IF NOT EXISTS mon_output (
    unit_id VARCHAR NOT NULL, product VARCHAR NOT NULL, period_start DATE NOT NULL, period_end DATE NOT NULL,
    quantity DOUBLE PRECISION NOT NULL, unit VARCHAR NOT NULL,
    batch_id VARCHAR NOT NULL, source_file VARCHAR, source_row BIGINT
);
CREATE TABLE IF NOT EXISTS mon_budgets (
    unit_id VARCHAR NOT NULL, year INTEGER NOT NULL, budget_tce DOUBLE PRECISION NOT NULL,
    batch_id VARCHAR NOT NULL, source_file VARCHAR, source_row BIGINT
);
CREATE TABLE IF NOT EXISTS mon_reported (
    unit_id VARCHAR NOT NULL, period_start DATE NOT NULL, period_end DATE NOT NULL, energy_tce DOUBLE PRECISION NOT NULL,
    batch_id VARCHAR NOT NULL, source_file VARCHAR, source_row BIGINT
);
-- Readings with history: a correction (same meter_id and ts, another value) sets is_current of the
-- earlier row to false and records the batch that superseded it; nothing is deleted.
CREATE TABLE IF NOT EXISTS mon_readings (
    meter_id VARCHAR NOT NULL, ts TIMESTAMPTZ NOT NULL, value DOUBLE PRECISION NOT NULL, version INTEGER NOT NULL,
    is_current BOOLEAN NOT NULL, superseded_by VARCHAR, batch_id VARCHAR NOT NULL,
    source_file VARCHAR, source_row BIGINT
);
CREATE TABLE IF NOT EXISTS mon_runs (
    run_id VARCHAR PRIMARY KEY, started_at TIMESTAMPTZ NOT NULL, date_from DATE NOT NULL, date_to DATE NOT NULL,
    engine VARCHAR NOT NULL, source VARCHAR NOT NULL, readings BIGINT, meter_days BIGINT, alerts BIGINT,
    params VARCHAR
);
CREATE TABLE IF NOT EXISTS mon_unit_day (
    unit_id VARCHAR NOT NULL, date DATE NOT NULL, energy_type VARCHAR NOT NULL, tce DOUBLE PRECISION, co2_t DOUBLE PRECISION,
    electricity_kwh DOUBLE PRECISION, run_id VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS mon_pue (
    unit_id VARCHAR NOT NULL, grain VARCHAR NOT NULL, period VARCHAR NOT NULL, period_start DATE NOT NULL,
    period_end DATE NOT NULL, days INTEGER, total_kwh DOUBLE PRECISION, it_kwh DOUBLE PRECISION, pue DOUBLE PRECISION, limit_value DOUBLE PRECISION,
    over_limit BOOLEAN, grade VARCHAR, run_id VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS mon_alerts (
    alert_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, severity VARCHAR NOT NULL, unit_id VARCHAR,
    meter_id VARCHAR, city VARCHAR, product VARCHAR, period_start DATE, period_end DATE, value DOUBLE PRECISION,
    threshold DOUBLE PRECISION, value_unit VARCHAR, observed VARCHAR NOT NULL, location VARCHAR NOT NULL,
    why VARCHAR NOT NULL, rule_source VARCHAR NOT NULL, first_run VARCHAR, last_run VARCHAR,
    status VARCHAR NOT NULL DEFAULT 'open', review_comment VARCHAR, reviewed_by VARCHAR, reviewed_at TIMESTAMPTZ
);
""")

#: The tables with a *_current view: per key, the row of the latest batch.
CURRENT = ("mon_units", "mon_meters", "mon_output", "mon_budgets", "mon_reported")


def ddl(dialect: str) -> str:
    return SQL + current_views(CURRENT, dialect)


def upgrade() -> None:
    run_ddl(ddl)


downgrade = forward_only
