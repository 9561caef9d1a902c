"""0910_markets_peak_link: the allocation's rows and the cap path, for the link to the peak plan (issue 11 §2)

Revision ID: 0910_markets_peak_link
Revises: 0900_jobs_claim_index

``mk_allocations`` keeps each issued allocation per enterprise and year with the sector, activity,
city and method it was computed under (the ledger's journal knows the quantity only), so that the
surplus/deficit by sector and city and the balance value per class are read from the store.
``mk_caps`` holds the cap of each year as the authority publishes it (value, the text given, the
document it comes from; who set it and when; audited).
"""

from carbonpeak.store.alembic.portable import forward_only, run_ddl, same_ddl

revision = "0910_markets_peak_link"
down_revision = "0900_jobs_claim_index"
branch_labels = None
depends_on = None

SQL = """\
CREATE TABLE IF NOT EXISTS mk_allocations (
    year INTEGER NOT NULL,          -- compliance (emissions) year
    enterprise_id VARCHAR NOT NULL,
    ruleset VARCHAR NOT NULL,
    sector VARCHAR NOT NULL,
    activity VARCHAR NOT NULL,
    city VARCHAR,
    method VARCHAR NOT NULL,        -- benchmark | intensity | history | power_benchmark
    allocation_t DOUBLE PRECISION NOT NULL,
    free_t DOUBLE PRECISION NOT NULL,
    paid_t DOUBLE PRECISION NOT NULL,
    issued BIGINT NOT NULL,         -- whole allowances issued (the free part, rounded down)
    unit_type VARCHAR NOT NULL,
    reference VARCHAR NOT NULL,
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (year, enterprise_id, unit_type)
);
CREATE TABLE IF NOT EXISTS mk_caps (
    year INTEGER PRIMARY KEY,
    cap_t DOUBLE PRECISION NOT NULL,
    given VARCHAR NOT NULL,         -- the value as given (e.g. '2.97 亿t')
    source VARCHAR NOT NULL,        -- the document the cap comes from
    set_by VARCHAR NOT NULL,
    set_at TIMESTAMPTZ NOT NULL
);
"""

ddl = same_ddl(SQL)


def upgrade() -> None:
    run_ddl(ddl)


def downgrade() -> None:
    forward_only()
