"""Attachments of queued mails: the reports' PDF travels with the report mail.

A mail is recorded whole before it is sent, so its attachments live in the warehouse with it, not on a
worker's disk. The bytes are stored once per content (`monitor.mail_attachments`, keyed by SHA-256): a
report goes to every member of the leadership group, and one PDF per period is enough.

Revision ID: 0006_outbox_attachments
Revises: 0005_outbox_failures
"""

from alembic import op

revision = "0006_outbox_attachments"
down_revision = "0005_outbox_failures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE monitor.mail_attachments (
            sha256 text PRIMARY KEY,
            content bytea NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE monitor.outbox_attachments (
            message_id bigint NOT NULL REFERENCES monitor.outbox (message_id) ON DELETE CASCADE,
            position smallint NOT NULL,
            filename text NOT NULL,
            content_type text NOT NULL,
            sha256 text NOT NULL REFERENCES monitor.mail_attachments (sha256),
            PRIMARY KEY (message_id, position)
        )
        """
    )
    op.execute("CREATE INDEX outbox_attachments_sha256 ON monitor.outbox_attachments (sha256)")


def downgrade() -> None:
    op.execute("DROP TABLE monitor.outbox_attachments")
    op.execute("DROP TABLE monitor.mail_attachments")
