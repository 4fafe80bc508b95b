"""Outbox mails can end as `failed`, and the data team is told about each failure once.

A mail the server refuses for good (5xx, every recipient refused) is not retried for ever: after
ECON_MAIL_MAX_ATTEMPTS tries it becomes `failed` (`failed_at`, the server's reason in `last_error`).
`failure_reported_at` records that the data team's summary of it was queued, in the same transaction, so
a crash never loses the report and a re-run never repeats it.

Revision ID: 0005_outbox_failures
Revises: 0002
"""

from alembic import op

revision = "0005_outbox_failures"
down_revision = "0004_alert_life"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE monitor.outbox DROP CONSTRAINT outbox_status_check")
    op.execute(
        """ALTER TABLE monitor.outbox
               ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'sent', 'failed')),
               ADD COLUMN failed_at timestamptz,
               ADD COLUMN failure_reported_at timestamptz"""
    )
    # The failures not yet reported are found without scanning every mail ever sent.
    op.execute(
        "CREATE INDEX outbox_failures_to_report ON monitor.outbox (message_id) "
        "WHERE status = 'failed' AND failure_reported_at IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX monitor.outbox_failures_to_report")
    op.execute("UPDATE monitor.outbox SET status = 'pending' WHERE status = 'failed'")
    op.execute("ALTER TABLE monitor.outbox DROP CONSTRAINT outbox_status_check")
    op.execute(
        """ALTER TABLE monitor.outbox
               ADD CONSTRAINT outbox_status_check CHECK (status IN ('pending', 'sent')),
               DROP COLUMN failed_at,
               DROP COLUMN failure_reported_at"""
    )
