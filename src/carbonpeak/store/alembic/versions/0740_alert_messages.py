"""0740_alert_messages: what a monitoring alert observed as a message key and its parameters (issue 12)

Revision ID: 0740_alert_messages
Revises: 0730_markets_rest

``observed`` keeps the English text; ``message_key`` and ``params`` (JSON text) let every page, API
answer and report render it in the reader's language from catalog/data/messages/monitoring.yaml.
Alerts stored before this revision have no key (NULL) and show their English text.  Portable SQL.
"""

from carbonpeak.store.alembic.portable import forward_only, run_ddl, same_ddl

revision = "0740_alert_messages"
down_revision = "0730_markets_rest"
branch_labels = None
depends_on = None

SQL = """\
ALTER TABLE mon_alerts ADD COLUMN IF NOT EXISTS message_key VARCHAR;
ALTER TABLE mon_alerts ADD COLUMN IF NOT EXISTS params VARCHAR;
"""

ddl = same_ddl(SQL)


def upgrade() -> None:
    run_ddl(ddl)


def downgrade() -> None:
    forward_only()
