"""0720_ledger_indexes: the registry ledger's read paths at millions of entries (issue 11 §3, bench)

Revision ID: 0720_ledger_indexes
Revises: 0710_durable_jobs

Three changes, each for a query of ``carbonpeak.store.markets`` (docs/markets.md, "Ledger speed"):

* ``mk_balances``: each account's balance per unit type and vintage, written in the same
  transaction as the journal entry that changes it (credits minus debits), so that a balance is
  one row, not a sum over the journal.  It is a *derived* table: ``check_integrity`` compares it
  with the journal's sums and the bulk import rebuilds it from the journal.
* serial lookups without a scan: ``mk_journal.span_class`` = the smallest k with 2^k >= quantity
  (``mk_span_classes`` lists k and 2^k).  Every entry that moved serial s has
  ``s - 2^k + 1 <= serial_start <= s`` in its class, so the life of a serial is one narrow
  b-tree range per class (index ``(unit_type, vintage, span_class, serial_start)``): portable SQL,
  no range type or GiST extension, and the planner estimates each range correctly (a plain
  ``serial_start <= s AND serial_end >= s`` looks like a quarter of the table to it).  The blocks
  never overlap, so the holder of a serial is the block with the greatest ``serial_start <= s``
  (index ``(unit_type, vintage, serial_start)``).
* per-account journal reads (statements, balances at a past time) by ``(account, ts)``; on
  PostgreSQL the indexes carry the columns the sums read (``INCLUDE``), so a statement is an
  index-only scan.
"""

from alembic import op
from sqlalchemy import text

from carbonpeak.store.alembic.portable import forward_only, run_ddl, run_sql, with_extras

revision = "0720_ledger_indexes"
down_revision = "0710_durable_jobs"
branch_labels = None
depends_on = None

#: 2^62 serials per class at most (BIGINT)
MAX_CLASS = 62

COMMON = """\
CREATE TABLE IF NOT EXISTS mk_balances (
    account_id VARCHAR NOT NULL,
    unit_type VARCHAR NOT NULL,
    vintage INTEGER NOT NULL,
    balance BIGINT NOT NULL,        -- credits minus debits of the journal (derived; checked)
    PRIMARY KEY (account_id, unit_type, vintage)
);
CREATE TABLE IF NOT EXISTS mk_span_classes (
    span_class SMALLINT PRIMARY KEY,
    width BIGINT NOT NULL           -- 2^span_class
);
ALTER TABLE mk_journal ADD COLUMN IF NOT EXISTS span_class SMALLINT;
"""

#: DuckDB uses its indexes for point lookups only; the one it needs is the holder lookup.
DUCKDB_EXTRA = """\
CREATE INDEX IF NOT EXISTS mk_blocks_serial ON mk_blocks (unit_type, vintage, serial_start);
"""

#: PostgreSQL: covering (INCLUDE) indexes so statements and serial histories are index-only scans.
POSTGRESQL_EXTRA = """\
CREATE INDEX IF NOT EXISTS mk_blocks_serial ON mk_blocks (unit_type, vintage, serial_start) INCLUDE (serial_end, account_id);
DROP INDEX IF EXISTS mk_blocks_account;
CREATE INDEX IF NOT EXISTS mk_blocks_account ON mk_blocks (account_id, unit_type, vintage, serial_start) INCLUDE (serial_end);
DROP INDEX IF EXISTS mk_journal_serial;
DROP INDEX IF EXISTS mk_journal_debit;
DROP INDEX IF EXISTS mk_journal_credit;
CREATE INDEX IF NOT EXISTS mk_journal_credit_ts ON mk_journal (credit_account, ts) INCLUDE (unit_type, vintage, quantity);
CREATE INDEX IF NOT EXISTS mk_journal_debit_ts ON mk_journal (debit_account, ts) INCLUDE (unit_type, vintage, quantity);
CREATE INDEX IF NOT EXISTS mk_journal_span ON mk_journal (unit_type, vintage, span_class, serial_start) INCLUDE (serial_end);
"""

BACKFILL = """\
UPDATE mk_journal SET span_class = (SELECT min(c.span_class) FROM mk_span_classes c WHERE c.width >= mk_journal.quantity)
WHERE span_class IS NULL;
INSERT INTO mk_balances (account_id, unit_type, vintage, balance)
SELECT account_id, unit_type, vintage, sum(q) FROM (
    SELECT credit_account AS account_id, unit_type, vintage, quantity AS q FROM mk_journal
    UNION ALL SELECT debit_account, unit_type, vintage, -quantity FROM mk_journal) x
WHERE NOT EXISTS (SELECT 1 FROM mk_balances)
GROUP BY account_id, unit_type, vintage;
"""


ddl = with_extras(COMMON, duckdb=DUCKDB_EXTRA, postgresql=POSTGRESQL_EXTRA)


def upgrade() -> None:
    run_ddl(ddl)
    bind = op.get_bind()
    have = bind.execute(text("SELECT count(*) FROM mk_span_classes")).scalar()
    if not have:
        bind.execute(text("INSERT INTO mk_span_classes (span_class, width) VALUES (:k, :w)"),
                     [{"k": k, "w": 2**k} for k in range(MAX_CLASS + 1)])
    run_sql(BACKFILL)


def downgrade() -> None:
    forward_only()
