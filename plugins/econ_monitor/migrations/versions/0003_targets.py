"""Raw tables of the 年度目标任务表 (file type 7, 发改局): indicator, chain and project-count targets.

One delivered workbook is one load (one raw.load_audit row, period_year = its 年度, no month) whose three
sheets land in three tables, each read through a view with its lineage like the other raw tables
(migration 0002). A re-delivery for the same year supersedes the earlier load; the earlier rows stay, so
what a warning was judged against remains on record.

Revision ID: 0003_targets
Revises: 0002
"""

from alembic import op

revision = "0003_targets"
down_revision = "0003_landing_catalogue"
branch_labels = None
depends_on = None

RAW_TABLES = {
    "indicator_targets": """
        indicator_name text NOT NULL, unit text, target_value numeric, baseline_value numeric, target_source text,
        assessment text""",
    "chain_targets": """
        industry_category text, chain_name text NOT NULL, output_target_yi numeric, target_source text""",
    "project_count_targets": """
        industry_category text NOT NULL, signed_target integer, started_target integer, target_source text""",
}


def upgrade() -> None:
    for table, columns in RAW_TABLES.items():
        op.execute(f"CREATE TABLE raw.{table}_rows ({columns}, load_id bigint NOT NULL, source_row integer NOT NULL)")
        op.execute(f"CREATE INDEX {table}_rows_load ON raw.{table}_rows USING brin (load_id)")
        delivered = ", ".join(f"r.{line.split()[0]}" for line in columns.split(",") if line.strip())
        op.execute(
            f"""CREATE VIEW raw.{table} AS
                SELECT {delivered}, r.load_id, a.source_file, a.source_sha256, r.source_row,
                       a.received_at AS loaded_at, a.period_year, a.period_month, a.as_of_date
                FROM raw.{table}_rows AS r JOIN raw.load_audit AS a ON a.load_id = r.load_id"""
        )
        op.execute(f"COMMENT ON VIEW raw.{table} IS 'Rows as delivered, each with its lineage from raw.load_audit'")


def downgrade() -> None:
    for table in RAW_TABLES:
        op.execute(f"DROP VIEW raw.{table}")
        op.execute(f"DROP TABLE raw.{table}_rows")
