"""0710_durable_jobs: background jobs any worker can run (issue 10 §1)

Revision ID: 0710_durable_jobs
Revises: 0700_markets

A job becomes a named task with JSON parameters and the scope of the principal who submitted it
(carbonpeak.workflows.jobs), claimed with a lease that its worker renews: a job whose worker died
is taken over by another once the lease ran out, up to ``max_attempts`` times.  Rows without
``params`` are the jobs of the earlier in-process runner and the schedule's runs (unchanged).
One portable script (DuckDB cannot add a column with a constraint, so the new columns carry
defaults, not NOT NULL).
"""

from carbonpeak.store.alembic.portable import forward_only, run_ddl, same_ddl

revision = "0710_durable_jobs"
down_revision = "0700_markets"
branch_labels = None
depends_on = None

SQL = """\
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS params VARCHAR;           -- JSON parameters of the job kind
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS principal VARCHAR;        -- JSON scope of the submitter
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS attempts INTEGER DEFAULT 0;
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS max_attempts INTEGER DEFAULT 1;
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS worker VARCHAR;           -- the worker of the current attempt
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS started_at TIMESTAMPTZ;   -- start of the current attempt
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS lease_until TIMESTAMPTZ;  -- renewed by the worker's heartbeat
"""


ddl = same_ddl(SQL)


def upgrade() -> None:
    run_ddl(ddl)


downgrade = forward_only
