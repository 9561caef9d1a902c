"""0730_markets_rest: rule parameters set in the store; PHCER rejections (issue 11 §4, §5)

Revision ID: 0730_markets_rest
Revises: 0720_ledger_indexes

A rule whose value the rule set does not publish (``parameters.csv`` rows with an empty value,
e.g. the Guangdong 2024 province-wide offset pool) is given by the registry's administrator once,
through the API or the command line, instead of with every surrender.  Each setting is audited
(old and new value); the surrender's offset check reads it (an explicit run parameter wins).

A PHCER application can be rejected with a reason (who, when, why); a new application may name
the rejected one it resubmits.
"""

from carbonpeak.store.alembic.portable import forward_only, run_ddl, same_ddl

revision = "0730_markets_rest"
down_revision = "0720_ledger_indexes"
branch_labels = None
depends_on = None

SQL = """\
CREATE TABLE IF NOT EXISTS mk_run_parameters (
    ruleset VARCHAR NOT NULL,       -- rule set id (guangdong-2024 ...)
    name VARCHAR NOT NULL,          -- qualified rule name (offsets.pool)
    year INTEGER NOT NULL,          -- compliance (emissions) year it applies to
    value DOUBLE PRECISION NOT NULL,
    unit VARCHAR NOT NULL,          -- the catalog row's unit the value is stored in (tCO2)
    given VARCHAR NOT NULL,         -- the value as given (e.g. '1 Mt')
    source VARCHAR NOT NULL,        -- the document the value comes from
    set_by VARCHAR NOT NULL,
    set_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (ruleset, name, year)
);
ALTER TABLE mk_phcer_applications ADD COLUMN IF NOT EXISTS rejected_reason VARCHAR;
ALTER TABLE mk_phcer_applications ADD COLUMN IF NOT EXISTS rejected_by VARCHAR;
ALTER TABLE mk_phcer_applications ADD COLUMN IF NOT EXISTS rejected_at TIMESTAMPTZ;
ALTER TABLE mk_phcer_applications ADD COLUMN IF NOT EXISTS resubmission_of VARCHAR;
"""

ddl = same_ddl(SQL)


def upgrade() -> None:
    run_ddl(ddl)


def downgrade() -> None:
    forward_only()
