"""0800_data_versions: the data versions the caches of every service worker key on (issue 10)

Revision ID: 0800_data_versions
Revises: 0740_alert_messages

``data_versions`` holds one row per area of derived results (``batches``: the stored batches and
the activity and observation rows the inventory, assessment and outlook are computed from;
``monitoring``: the monitoring results, alerts and their reviews) and the row ``epoch``, a random
number drawn when the database was made (it tells two databases apart whose counters happen to be
equal).  On PostgreSQL a statement-level trigger on each table of an area adds one to the area's
version in the writing transaction, whatever wrote (the service, the CLI, another worker, plain
SQL): the new version becomes visible with the data, at the commit.  DuckDB has no triggers and a
DuckDB file has one writer process, so there the versions are derived from the stored rows
(carbonpeak.store.versions).
"""

import secrets

import sqlalchemy as sa
from alembic import op

from carbonpeak.store.alembic.portable import forward_only, run_ddl, with_extras

revision = "0800_data_versions"
down_revision = "0740_alert_messages"
branch_labels = None
depends_on = None

SQL = """\
CREATE TABLE IF NOT EXISTS data_versions (
    area VARCHAR PRIMARY KEY,
    version BIGINT NOT NULL
);
"""

#: the tables whose writes move each area's version (one statement trigger per table on
#: PostgreSQL): ``batches`` (stored batches, activity, observations) and ``monitoring`` (alerts and
#: their reviews, runs, PUE and unit-day results, budgets)
AREA_TABLES = {
    "batches": ("batches", "activity", "observations"),
    "monitoring": ("mon_alerts", "mon_runs", "mon_pue", "mon_unit_day", "mon_budgets"),
}
AREAS = tuple(AREA_TABLES)

_BUMP = (
    "CREATE OR REPLACE FUNCTION cp_bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN "
    "UPDATE data_versions SET version = version + 1 WHERE area = TG_ARGV[0]; RETURN NULL; END $f$;\n"
)
_TRIGGER = (
    "CREATE TRIGGER cp_version_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}\n"
    "    FOR EACH STATEMENT EXECUTE FUNCTION cp_bump_data_version('{area}');\n"
)
POSTGRESQL_EXTRA = _BUMP + "".join(
    _TRIGGER.format(table=table, area=area)  # names: the code constants above (DDL binds no values)
    for area, tables in AREA_TABLES.items()
    for table in tables
)


#: DuckDB has no triggers: its versions are derived counts (see ``carbonpeak.store.versions``)
ddl = with_extras(SQL, postgresql=POSTGRESQL_EXTRA)


def upgrade() -> None:
    run_ddl(ddl)
    rows = [("epoch", secrets.randbits(62)), *((area, 0) for area in AREAS)]
    for area, version in rows:
        op.get_bind().execute(
            sa.text("INSERT INTO data_versions (area, version) VALUES (:area, :version)"),
            {"area": area, "version": version},
        )


def downgrade() -> None:
    forward_only()
