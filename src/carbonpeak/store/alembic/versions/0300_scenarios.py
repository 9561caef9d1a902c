"""0300_scenarios: Scenarios: stored projection runs (deterministic or Monte Carlo), listed and compared later.

Revision ID: 0300_scenarios
Revises: 0200_targets

The schema step that was ``store/migrations/0300_scenarios.sql`` in the hand-written runner (a store it
migrated is stamped with this revision; carbonpeak.store.migrate).
"""

from carbonpeak.store.alembic.portable import forward_only, run_ddl, same_ddl

revision = '0300_scenarios'
down_revision = '0200_targets'
branch_labels = None
depends_on = None

SQL = """\
-- Scenarios: stored projection runs (deterministic or Monte Carlo), listed and compared later.
CREATE TABLE IF NOT EXISTS scenario_runs (
    run_id        VARCHAR PRIMARY KEY,   -- "<kind>:<sha256 prefix of input hash, seed, draws, version>"
    created_at    TIMESTAMPTZ NOT NULL,
    scenario      VARCHAR NOT NULL,      -- scenario name
    kind          VARCHAR NOT NULL,      -- deterministic | montecarlo
    tool_version  VARCHAR NOT NULL,      -- carbonpeak.__version__
    input_hash    VARCHAR NOT NULL,      -- SHA-256 of the resolved parameters, uncertainty and observations
    seed          INTEGER,
    draws         INTEGER,
    submitter     VARCHAR,
    summary       VARCHAR NOT NULL,      -- JSON: headline figures (peak, P(peak <= 2030), 2030 CO2 ...)
    payload       VARCHAR NOT NULL       -- JSON: the whole run
);
"""


ddl = same_ddl(SQL)


def upgrade() -> None:
    run_ddl(ddl)


downgrade = forward_only
