"""A catalogue of the landing area's entries as last seen, so that an unchanged file is not read again.

Without it every poll hashed every file in the landing area and wrote a `duplicate` audit row for each,
so raw.load_audit grew with the number of runs. An entry is unchanged when its relative name, kind, size
and modification time (in nanoseconds) are those recorded here; only then is it skipped unread. A changed
entry is hashed again, and identical bytes still load nothing (`duplicate`).

`outcome` is what the entry led to when it was last read: loaded / duplicate / quarantined (with
`load_id`, the audit row), or refused (a symbolic link, a FIFO, a device: never opened, `reason` says
why; refused entries have no audit row, as there is no delivered file to audit).

A deployment upgraded from 0002 starts with an empty catalogue: the first run after the upgrade reads
every file once more and records each as a duplicate; later runs do not.

Revision ID: 0003_landing_catalogue
Revises: 0002
"""

from alembic import op

revision = "0003_landing_catalogue"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE raw.landing_files (
            source_file text PRIMARY KEY,
            kind text NOT NULL,
            file_bytes bigint NOT NULL,
            modified_ns bigint NOT NULL,
            outcome text NOT NULL CHECK (outcome IN ('loaded', 'duplicate', 'quarantined', 'refused')),
            load_id bigint REFERENCES raw.load_audit (load_id),
            reason text,
            seen_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        "COMMENT ON TABLE raw.landing_files IS 'Landing-area entries as last read: unchanged ones are not read again'"
    )


def downgrade() -> None:
    op.execute("DROP TABLE raw.landing_files")
