"""0630_login_failures: Security (issue 9 leftovers): failed logins kept in the store, so a restart of the service

Revision ID: 0630_login_failures
Revises: 0620_audit_keys

The schema step that was ``store/migrations/0630_login_failures.sql`` in the hand-written runner (a store it
migrated is stamped with this revision; carbonpeak.store.migrate).
"""

from carbonpeak.store.alembic.portable import forward_only, run_ddl, same_ddl

revision = '0630_login_failures'
down_revision = '0620_audit_keys'
branch_labels = None
depends_on = None

SQL = """\
-- Security (issue 9 leftovers): failed logins kept in the store, so a restart of the service
-- does not reset a lock-out (carbonpeak.api.ratelimit.LoginGuard with a store).
-- kind: 'user' (subject = case-folded user name) or 'address' (subject = real client address);
-- failed_at: wall-clock time of the failure in seconds since the epoch (UTC).
CREATE TABLE IF NOT EXISTS login_failures (
    kind VARCHAR NOT NULL,
    subject VARCHAR NOT NULL,
    failed_at DOUBLE PRECISION NOT NULL
);
"""


ddl = same_ddl(SQL)


def upgrade() -> None:
    run_ddl(ddl)


downgrade = forward_only
