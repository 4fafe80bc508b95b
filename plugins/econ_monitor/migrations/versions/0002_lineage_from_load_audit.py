"""Raw rows keep what varies per row; what is constant per file is read from raw.load_audit.

Each raw table becomes `raw.<table>_rows` (the delivered columns, `load_id` and `source_row`) behind a view
`raw.<table>` that joins `raw.load_audit`, so every row still reads with its full lineage: source file,
hash, row number, loaded_at, reporting period. Readers (dbt sources, the GX suites) see the same columns
as before.

Why: the file name, its 64-character hash, loaded_at and the period, repeated on each of a million rows,
doubled the width of a row and of its WAL, and the per-row foreign-key check to raw.load_audit tripled the
server's time for a COPY (measured with benchmarks/ingest.py). The link needs no per-row check: only the
loader writes raw rows, in the transaction that inserts their audit row and takes `load_id` from it. The
load_id index becomes BRIN: load ids only grow, so a block-range index finds one load's rows at almost no
cost per inserted row.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

RAW_TABLES = (
    "tjj_indicator_report",
    "department_indicator_report",
    "chain_report",
    "project_ledger",
    "issue_ledger",
    "enterprise_report",
)
PER_FILE_COLUMNS = ("source_file", "source_sha256", "loaded_at", "period_year", "period_month", "as_of_date")


def _delivered_columns(table: str) -> list[str]:
    """The table's own columns in their order, without the lineage ones."""
    rows = op.get_bind().exec_driver_sql(
        """SELECT column_name FROM information_schema.columns
           WHERE table_schema = 'raw' AND table_name = %(table)s ORDER BY ordinal_position""",
        {"table": table},
    )
    return [name for (name,) in rows if name not in (*PER_FILE_COLUMNS, "load_id", "source_row")]


def upgrade() -> None:
    for table in RAW_TABLES:
        delivered = ", ".join(f"r.{name}" for name in _delivered_columns(table))
        op.execute(f"ALTER TABLE raw.{table} RENAME TO {table}_rows")
        op.execute(f"ALTER TABLE raw.{table}_rows DROP CONSTRAINT {table}_load_id_fkey")
        op.execute(f"ALTER TABLE raw.{table}_rows DROP COLUMN {', DROP COLUMN '.join(PER_FILE_COLUMNS)}")
        op.execute(f"DROP INDEX raw.{table}_load")
        op.execute(f"CREATE INDEX {table}_rows_load ON raw.{table}_rows USING brin (load_id)")
        op.execute(
            f"""CREATE VIEW raw.{table} AS
                SELECT {delivered}, r.load_id, a.source_file, a.source_sha256, r.source_row,
                       a.received_at AS loaded_at, a.period_year, a.period_month, a.as_of_date
                FROM raw.{table}_rows AS r JOIN raw.load_audit AS a ON a.load_id = r.load_id"""
        )
        op.execute(f"COMMENT ON VIEW raw.{table} IS 'Rows as delivered, each with its lineage from raw.load_audit'")


def downgrade() -> None:
    for table in RAW_TABLES:
        op.execute(f"CREATE TABLE raw.{table}_restored AS SELECT * FROM raw.{table}")
        op.execute(f"DROP VIEW raw.{table}")
        op.execute(f"DROP TABLE raw.{table}_rows")
        op.execute(f"ALTER TABLE raw.{table}_restored RENAME TO {table}")
        for column in ("load_id", "source_file", "source_sha256", "source_row", "loaded_at"):
            op.execute(f"ALTER TABLE raw.{table} ALTER COLUMN {column} SET NOT NULL")
        op.execute(f"ALTER TABLE raw.{table} ADD FOREIGN KEY (load_id) REFERENCES raw.load_audit (load_id)")
        op.execute(f"CREATE INDEX {table}_load ON raw.{table} (load_id)")
