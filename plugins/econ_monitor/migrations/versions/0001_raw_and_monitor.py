"""Raw landing tables with lineage, the load audit, alerts, outbox and quality results.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LINEAGE = """
    load_id bigint NOT NULL REFERENCES raw.load_audit (load_id),
    source_file text NOT NULL,
    source_sha256 text NOT NULL,
    source_row integer NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    period_year integer,
    period_month integer,
    as_of_date date
"""

RAW_TABLES = {
    "tjj_indicator_report": """
        indicator_name text NOT NULL, is_sub_item boolean NOT NULL DEFAULT false, unit text,
        month_value numeric, month_growth_pct numeric, ytd_value numeric, ytd_growth_pct numeric""",
    "department_indicator_report": """
        reporting_unit text, indicator_name text NOT NULL, is_sub_item boolean NOT NULL DEFAULT false, unit text,
        month_value numeric, ytd_value numeric, ytd_growth_pct numeric,
        filled_by text, contact_phone text, remarks text""",
    "chain_report": """
        seq integer, industry_category text, chain_name text NOT NULL, chain_leader_firm text,
        above_scale_firms integer, month_output_yi numeric, ytd_output_yi numeric, ytd_growth_pct numeric""",
    "project_ledger": """
        seq integer, project_code text NOT NULL, project_name text, project_library text, industry_category text,
        chain_name text, total_investment_wan numeric, annual_plan_investment_wan numeric, ytd_investment_wan numeric,
        signed_date date, planned_start_date date, actual_start_date date, planned_operation_date date,
        actual_operation_date date, stage text, progress text, leader_title text, responsible_unit text, town text,
        problems text, updated_date date""",
    "issue_ledger": """
        seq integer, issue_code text NOT NULL, project_code text, project_name text, description text,
        issue_type text, responsible_unit text, responsible_person text, raised_date date, due_date date,
        status text, closed_date date""",
    "enterprise_report": """
        credit_code text NOT NULL, enterprise_name text, chain_name text, town text,
        month_output_wan numeric, ytd_output_wan numeric, ytd_growth_pct numeric, leader_title text""",
}


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS raw")
    op.execute("CREATE SCHEMA IF NOT EXISTS monitor")
    op.execute(
        """
        CREATE TABLE raw.load_audit (
            load_id bigserial PRIMARY KEY,
            department_code text NOT NULL,
            report_type text,
            source_file text NOT NULL,
            source_sha256 text NOT NULL,
            file_bytes bigint NOT NULL,
            period_year integer,
            period_month integer,
            as_of_date date,
            rows_loaded integer NOT NULL DEFAULT 0,
            status text NOT NULL CHECK (status IN ('loaded', 'duplicate', 'superseded', 'quarantined')),
            reason text,
            error_row integer,
            error_column text,
            header_units jsonb,
            quarantined_path text,
            superseded_by bigint REFERENCES raw.load_audit (load_id),
            received_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX load_audit_sha ON raw.load_audit (source_sha256)")
    op.execute(
        "CREATE INDEX load_audit_report ON raw.load_audit (report_type, department_code, period_year, period_month, as_of_date)"
    )
    for table, columns in RAW_TABLES.items():
        op.execute(f"CREATE TABLE raw.{table} ({columns}, {LINEAGE})")
        op.execute(f"CREATE INDEX {table}_load ON raw.{table} (load_id)")

    op.execute(
        """
        CREATE TABLE monitor.alerts (
            alert_key text PRIMARY KEY,
            rule_code text NOT NULL,
            entity_type text NOT NULL,
            entity_code text NOT NULL,
            entity_name text,
            domain text NOT NULL,
            year integer NOT NULL,
            period_label text,
            level text NOT NULL CHECK (level IN ('green', 'yellow', 'red')),
            leader_code text NOT NULL,
            status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'claimed', 'closed')),
            measure_value numeric,
            target_value numeric,
            details jsonb NOT NULL DEFAULT '{}'::jsonb,
            first_seen_at timestamptz NOT NULL DEFAULT now(),
            last_seen_at timestamptz NOT NULL DEFAULT now(),
            last_notified_at timestamptz,
            last_notified_level text,
            claimed_by text,
            claimed_at timestamptz,
            closed_at timestamptz,
            closed_by text,
            close_note text,
            escalated_at timestamptz
        )
        """
    )
    op.execute(
        """
        CREATE TABLE monitor.alert_events (
            event_id bigserial PRIMARY KEY,
            alert_key text NOT NULL REFERENCES monitor.alerts (alert_key),
            event_type text NOT NULL CHECK (event_type IN
                ('opened', 'notified', 'worsened', 'improved', 'claimed', 'closed', 'resolved_by_data', 'escalated', 'reopened')),
            level text,
            actor text,
            details jsonb NOT NULL DEFAULT '{}'::jsonb,
            occurred_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX alert_events_key ON monitor.alert_events (alert_key, occurred_at)")
    op.execute(
        """
        CREATE TABLE monitor.outbox (
            message_id bigserial PRIMARY KEY,
            kind text NOT NULL,
            dedupe_key text NOT NULL UNIQUE,
            recipient_code text NOT NULL,
            recipient_email text NOT NULL,
            subject text NOT NULL,
            body_text text NOT NULL,
            body_html text NOT NULL,
            alert_keys text[] NOT NULL DEFAULT '{}',
            status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
            attempts integer NOT NULL DEFAULT 0,
            last_error text,
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            created_at timestamptz NOT NULL DEFAULT now(),
            sent_at timestamptz
        )
        """
    )
    op.execute(
        """
        CREATE TABLE monitor.quality_results (
            result_id bigserial PRIMARY KEY,
            run_id text NOT NULL,
            suite text NOT NULL,
            domain text NOT NULL,
            expectation text NOT NULL,
            column_name text,
            severity text NOT NULL CHECK (severity IN ('critical', 'warning')),
            success boolean NOT NULL,
            observed_value jsonb,
            failing_values jsonb,
            source_files jsonb,
            checked_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX quality_results_run ON monitor.quality_results (run_id)")
    # BI tools log in as bi_reader; it may read the marts schema and nothing else (grants come from dbt).
    op.execute(
        """
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bi_reader') THEN
                CREATE ROLE bi_reader NOLOGIN;
            END IF;
        END $$
        """
    )


def downgrade() -> None:
    op.execute("DROP SCHEMA monitor CASCADE")
    op.execute("DROP SCHEMA raw CASCADE")
