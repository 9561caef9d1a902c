"""0900_jobs_claim_index: a partial index for the job claims (issue 10 §1)

Revision ID: 0900_jobs_claim_index
Revises: 0800_data_versions

Every service worker polls the ``jobs`` table for work (``store.jobs.claim_due``: ``queued``, or
``running`` with a lease that ran out; ``claim_next``: ``queued`` jobs without parameters), ordered
by ``created_at, job_id``.  The table keeps every finished job, so without an index each poll reads
all of them: 170 ms per claim with 200,000 finished jobs on PostgreSQL 15 (a sequential scan and a
sort), against 0.04 ms with this index (an index scan of the few unfinished rows, already in claim
order; ``EXPLAIN ANALYZE`` in docs/performance.md).  The index holds only the unfinished rows
(``status IN ('queued', 'running')``): both claims' conditions imply that predicate, so the planner
uses it for both; an index of ``status = 'queued'`` alone would not serve the take-over of a
``running`` job whose lease ran out.  PostgreSQL only: DuckDB has no partial indexes, and a DuckDB
store runs one process whose polls scan its jobs in memory.
"""

from carbonpeak.store.alembic.portable import forward_only, run_ddl, with_extras

revision = "0900_jobs_claim_index"
down_revision = "0800_data_versions"
branch_labels = None
depends_on = None

#: PostgreSQL: the unfinished jobs in claim order (a few rows, whatever the history of the table)
POSTGRESQL_EXTRA = """\
CREATE INDEX IF NOT EXISTS jobs_claim ON jobs (created_at, job_id) WHERE status IN ('queued', 'running');
"""

ddl = with_extras("", postgresql=POSTGRESQL_EXTRA)


def upgrade() -> None:
    run_ddl(ddl)


downgrade = forward_only
