"""0620_audit_keys: Security (issue 9 part B): the keyed audit chain, signed checkpoints of its head.

Revision ID: 0620_audit_keys
Revises: 0610_submission_rows

The schema step that was ``store/migrations/0620_audit_keys.sql`` in the hand-written runner (a store it
migrated is stamped with this revision; carbonpeak.store.migrate).
"""

from carbonpeak.store.alembic.portable import forward_only, run_ddl, same_ddl

revision = '0620_audit_keys'
down_revision = '0610_submission_rows'
branch_labels = None
depends_on = None

SQL = """\
-- Security (issue 9 part B): the keyed audit chain, signed checkpoints of its head.
-- key_id: id of the HMAC key that sealed the entry (NULL = an entry written before the chain was
-- keyed; accepted only up to the keyring's legacy_upto).
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS key_id VARCHAR;
CREATE TABLE IF NOT EXISTS audit_checkpoints (
    seq        BIGINT NOT NULL,                -- sequence number of the chain head it signs
    head       VARCHAR NOT NULL,               -- hash of that entry
    ts         VARCHAR NOT NULL,               -- ISO 8601 UTC time of the checkpoint
    key_id     VARCHAR NOT NULL,               -- Ed25519 signing key id
    body       VARCHAR NOT NULL,               -- the signed checkpoint document (canonical JSON)
    signature  VARCHAR NOT NULL,               -- Ed25519 signature of body (base64)
    PRIMARY KEY (seq, ts)
);
"""


ddl = same_ddl(SQL)


def upgrade() -> None:
    run_ddl(ddl)


downgrade = forward_only
