"""0600_platform: Platform: users, sessions, the hash-chained audit log, versioned submissions, credit records.

Revision ID: 0600_platform
Revises: 0420_monitoring_incremental

The schema step that was ``store/migrations/0600_platform.sql`` in the hand-written runner (a store it
migrated is stamped with this revision; carbonpeak.store.migrate).
"""

from carbonpeak.store.alembic.portable import forward_only, run_ddl, same_ddl

revision = '0600_platform'
down_revision = '0420_monitoring_incremental'
branch_labels = None
depends_on = None

SQL = """\
-- Platform: users, sessions, the hash-chained audit log, versioned submissions, credit records.
CREATE TABLE IF NOT EXISTS users (
    username      VARCHAR PRIMARY KEY,
    password_hash VARCHAR NOT NULL,            -- argon2id
    role          VARCHAR NOT NULL,            -- admin | province_analyst | city_officer | enterprise | verifier
    city          VARCHAR,                     -- city_officer scope (GD-XX)
    enterprise_id VARCHAR,                     -- enterprise scope (unified social credit code or unit owner id)
    assigned      VARCHAR,                     -- verifier: comma-separated enterprise ids assigned
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash  VARCHAR PRIMARY KEY,           -- sha256 of the bearer token; the token itself is never stored
    username    VARCHAR NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE SEQUENCE IF NOT EXISTS audit_seq START 1;
CREATE TABLE IF NOT EXISTS audit_log (
    seq        BIGINT PRIMARY KEY,
    ts         VARCHAR NOT NULL,                -- ISO 8601 UTC, microseconds (hashed as text)
    actor      VARCHAR NOT NULL,
    action     VARCHAR NOT NULL,               -- e.g. submission.create, submission.correct, alert.review
    entity     VARCHAR NOT NULL,
    entity_id  VARCHAR NOT NULL,
    payload    VARCHAR NOT NULL,               -- canonical JSON of what changed
    prev_hash  VARCHAR NOT NULL,
    hash       VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS submissions (
    submission_id VARCHAR NOT NULL,            -- stable id of the thing submitted (e.g. enterprise/period/kind)
    version       INTEGER NOT NULL,            -- 1, 2, ... every correction is a new version; none is deleted
    enterprise_id VARCHAR,
    city          VARCHAR,
    kind          VARCHAR NOT NULL,            -- readings | output | report | activity
    batch_id      VARCHAR NOT NULL,            -- content digest: a resent batch is recognised
    rows          BIGINT NOT NULL,
    payload       VARCHAR NOT NULL,            -- canonical JSON of the rows (small submissions) or a pointer
    submitted_by  VARCHAR NOT NULL,
    submitted_at  TIMESTAMPTZ NOT NULL,
    status        VARCHAR NOT NULL DEFAULT 'submitted',   -- submitted | signed_off
    signed_off_by VARCHAR,
    PRIMARY KEY (submission_id, version)
);
CREATE TABLE IF NOT EXISTS credit_events (
    event_id      VARCHAR PRIMARY KEY,
    enterprise_id VARCHAR NOT NULL,
    kind          VARCHAR NOT NULL,            -- missed_deadline | confirmed_falsification | repeated_limit_breach
    detail        VARCHAR NOT NULL,
    period        VARCHAR,
    recorded_by   VARCHAR NOT NULL,
    recorded_at   TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    job_id      VARCHAR PRIMARY KEY,
    kind        VARCHAR NOT NULL,
    status      VARCHAR NOT NULL,              -- queued | running | done | failed
    progress    DOUBLE PRECISION NOT NULL DEFAULT 0,
    result      VARCHAR,
    error       VARCHAR,
    owner       VARCHAR NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
"""


ddl = same_ddl(SQL)


def upgrade() -> None:
    run_ddl(ddl)


downgrade = forward_only
