"""Each audit row names the delivery run that wrote it (`raw.load_audit.run_id`).

The report DAGs follow the report types a delivery run brought in. A run's ingest task that is retried
(its worker died after the files' transactions committed) finds those files read already; the run's own
audit rows still say what it brought. The column's default is the session setting `econ_monitor.run_id`,
which the ingest step sets on its connection: every row is marked in the transaction that writes it,
whichever code path writes it (loaded, duplicate, quarantined), and rows written outside a run stay NULL.

Revision ID: 0007_load_audit_run
Revises: 0006_outbox_attachments
"""

from alembic import op

revision = "0007_load_audit_run"
down_revision = "0006_outbox_attachments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE raw.load_audit ADD COLUMN run_id text "
        "DEFAULT nullif(current_setting('econ_monitor.run_id', true), '')"
    )
    op.execute("CREATE INDEX load_audit_run_id ON raw.load_audit (run_id) WHERE run_id IS NOT NULL")


def downgrade() -> None:
    op.execute("ALTER TABLE raw.load_audit DROP COLUMN run_id")
