"""0700_markets: the registry ledger, the PHCER methodology register and issuance applications (issue 11 §3, §5)

Revision ID: 0700_markets
Revises: 0630_login_failures

One portable script for DuckDB and PostgreSQL (VARCHAR, BIGINT, INTEGER, DOUBLE PRECISION,
TIMESTAMPTZ, DATE; no engine-specific syntax).
"""

from carbonpeak.store.alembic.portable import forward_only, run_ddl, same_ddl

revision = "0700_markets"
down_revision = "0630_login_failures"
branch_labels = None
depends_on = None

SQL = """\
-- Markets (issue 11 §3, §5): the registry ledger, the PHCER methodology register and issuance
-- applications.  Portable SQL (DuckDB and PostgreSQL): no engine-specific types or syntax.
--
-- Balances are never stored: they are derived from mk_journal (credits minus debits).
-- mk_blocks is the derived holding of each serial block (which account holds it now), kept in
-- the same transaction as the journal entry that moved it and checked against the journal by
-- carbonpeak.store.markets.check_integrity.  Every journal entry is also an audit_log entry
-- (entry_id = audit_log.seq of that entry, written in the same transaction).
CREATE TABLE IF NOT EXISTS mk_accounts (
    account_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,          -- issuer, holding, bank, surrender, retirement, cancellation, withdrawal
    owner VARCHAR NOT NULL,         -- enterprise id, or the authority (GD, CN)
    city VARCHAR,                   -- region code of the owner (GD-GZ ...), NULL for the authority
    name VARCHAR,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS mk_journal (
    entry_id BIGINT PRIMARY KEY,    -- = audit_log.seq of this entry
    txn_id VARCHAR NOT NULL,        -- one request (a quantity may span several serial blocks)
    ts TIMESTAMPTZ NOT NULL,
    kind VARCHAR NOT NULL,          -- issue, transfer, surrender, retire, cancel, withdraw, borrow, bank
    unit_type VARCHAR NOT NULL,     -- GDEA, CEA, CCER, PHCER, EUR
    vintage INTEGER NOT NULL,
    serial_start BIGINT NOT NULL,
    serial_end BIGINT NOT NULL,
    quantity BIGINT NOT NULL,
    debit_account VARCHAR NOT NULL,
    credit_account VARCHAR NOT NULL,
    actor VARCHAR NOT NULL,
    reference VARCHAR
);
CREATE INDEX IF NOT EXISTS mk_journal_debit ON mk_journal (debit_account);
CREATE INDEX IF NOT EXISTS mk_journal_credit ON mk_journal (credit_account);
CREATE INDEX IF NOT EXISTS mk_journal_serial ON mk_journal (unit_type, vintage);

CREATE TABLE IF NOT EXISTS mk_blocks (
    unit_type VARCHAR NOT NULL,
    vintage INTEGER NOT NULL,
    serial_start BIGINT NOT NULL,
    serial_end BIGINT NOT NULL,
    account_id VARCHAR NOT NULL,
    entry_id BIGINT NOT NULL        -- the journal entry that put the block here
);
CREATE INDEX IF NOT EXISTS mk_blocks_account ON mk_blocks (account_id);

-- PHCER methodology register (filing, versions, formula and parameters).
CREATE TABLE IF NOT EXISTS mk_methodologies (
    methodology_id VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    name_zh VARCHAR NOT NULL,
    name_en VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,
    formula VARCHAR NOT NULL,
    parameters VARCHAR NOT NULL,    -- JSON: name -> {value, unit, source, status}
    source VARCHAR NOT NULL,
    status VARCHAR NOT NULL,        -- verified, unverified, estimate
    stage VARCHAR NOT NULL,         -- submitted, city_forwarded, expert_reviewed, filed, withdrawn
    filed_on DATE,
    recorded_by VARCHAR NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (methodology_id, version)
);

-- PHCER issuance applications: application -> public notice (>= 7 working days) -> verification -> issuance.
CREATE TABLE IF NOT EXISTS mk_phcer_applications (
    application_id VARCHAR PRIMARY KEY,
    methodology_id VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    project VARCHAR NOT NULL,
    owner VARCHAR NOT NULL,         -- project owner (account owner receiving the PHCER)
    city VARCHAR,
    vintage INTEGER NOT NULL,
    inputs VARCHAR NOT NULL,        -- JSON inputs of the methodology's formula
    claimed_t DOUBLE PRECISION NOT NULL,
    notice_start DATE,
    notice_end DATE,
    verified_t BIGINT,
    verifier VARCHAR,
    state VARCHAR NOT NULL,         -- applied, noticed, verified, issued, rejected
    issued_txn VARCHAR,
    updated_at TIMESTAMPTZ NOT NULL
);
-- Offsets' origin (CCER, PHCER), recorded at issuance: what offset eligibility at surrender needs.
CREATE TABLE IF NOT EXISTS mk_offset_lots (
    unit_type VARCHAR NOT NULL,
    vintage INTEGER NOT NULL,
    serial_start BIGINT NOT NULL,
    serial_end BIGINT NOT NULL,
    project_id VARCHAR NOT NULL,
    project_type VARCHAR NOT NULL,
    origin_province VARCHAR NOT NULL,
    origin_pilot BOOLEAN NOT NULL,
    pre_cdm BOOLEAN NOT NULL,
    entry_id BIGINT NOT NULL
);

-- Verified emissions per enterprise and compliance year, signed off by the assigned verifier.
CREATE TABLE IF NOT EXISTS mk_verified_emissions (
    enterprise_id VARCHAR NOT NULL,
    year INTEGER NOT NULL,
    verified_t DOUBLE PRECISION NOT NULL,
    verifier VARCHAR NOT NULL,
    signed_off_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (enterprise_id, year)
);
"""


ddl = same_ddl(SQL)


def upgrade() -> None:
    run_ddl(ddl)


downgrade = forward_only
