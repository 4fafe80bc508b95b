"""A warning's life: episodes, figures as numbers, notes in the history, fresh links.

- `episode`: a warning's current episode. The first opening is episode 1; each reopening (bad again after
  its data recovered, or worse than when its leader closed it) starts the next one, and the notification
  state (`last_notified_*`, `episode_notified_at`, `escalated_at`, the claim) starts afresh with it, so a
  reopened warning is mailed before it can be escalated.
- `episode_notified_at`: the first mail of the current episode; escalation counts from it.
- `links_sent_at`: when the leader was last mailed claim/close links for it (they expire after
  ECON_LINK_TTL_DAYS); a reminder carries fresh ones before they do.
- The mart's figures (deviation, gaps, pace, unit, source file, period end) become columns of their own
  types instead of strings in `details`, so a mail prints the mart's numbers and SQL can compare them;
  `target_source` records the target file (or bootstrap seed) the warning was judged against.
- `monitor.alert_events` records the episode, a leader's note (领任务/反馈/销号), and the new event types
  `year_ended`, `feedback` and `links_renewed`.
- Project, issue and enterprise warnings follow their entity across New Year: their key loses its year
  (`rule:entity`, as the mart now writes it), so existing ones are re-keyed with their history; should
  an entity have had warnings of two years, the newest keeps the key and the older one is closed.

Revision ID: 0004_alert_life
Revises: 0002
"""

from alembic import op

revision = "0004_alert_life"
down_revision = "0003_targets"
branch_labels = None
depends_on = None

FIGURES = (
    "deviation_pp",
    "gap_to_time_progress",
    "gap_to_target",
    "pace_needed_per_month",
    "growth_needed_rest_of_year_pct",
)
CARRIED_OVER = "('project', 'issue', 'enterprise')"
EVENT_TYPES = (
    "opened",
    "notified",
    "worsened",
    "improved",
    "claimed",
    "closed",
    "resolved_by_data",
    "escalated",
    "reopened",
    "year_ended",
    "feedback",
    "links_renewed",
)


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE monitor.alerts
            ADD COLUMN episode integer NOT NULL DEFAULT 1,
            ADD COLUMN episode_notified_at timestamptz,
            ADD COLUMN links_sent_at timestamptz,
            ADD COLUMN period_end date,
            ADD COLUMN measure_unit text,
            ADD COLUMN source_file text,
            ADD COLUMN target_source text,
        """
        + ",\n".join(f"ADD COLUMN {name} numeric" for name in FIGURES)
    )
    op.execute(
        "UPDATE monitor.alerts SET episode_notified_at = last_notified_at, links_sent_at = last_notified_at, "
        "measure_unit = details->>'measure_unit', source_file = details->>'source_file', "
        + ", ".join(f"{name} = (details->>'{name}')::numeric" for name in FIGURES)
    )
    op.execute("ALTER TABLE monitor.alerts DROP COLUMN details")
    op.execute(
        """
        ALTER TABLE monitor.alert_events
            ADD COLUMN episode integer,
            ADD COLUMN note text,
            DROP CONSTRAINT alert_events_event_type_check,
            ADD CONSTRAINT alert_events_event_type_check CHECK (event_type IN ({}))
        """.format(", ".join(f"'{name}'" for name in EVENT_TYPES))
    )
    op.execute("UPDATE monitor.alert_events SET note = details->>'note', episode = 1")
    op.execute("ALTER TABLE monitor.alert_events DROP CONSTRAINT alert_events_alert_key_fkey")
    op.execute(
        f"""
        WITH ranked AS (
            SELECT alert_key, rule_code || ':' || entity_code AS new_key,
                   row_number() OVER (PARTITION BY rule_code, entity_code ORDER BY year DESC) AS recency
            FROM monitor.alerts WHERE entity_type IN {CARRIED_OVER}
        ),
        closed AS (
            UPDATE monitor.alerts AS a SET status = 'closed', closed_at = now(), closed_by = 'data'
            FROM ranked WHERE ranked.alert_key = a.alert_key AND ranked.recency > 1 AND a.status <> 'closed'
        ),
        events AS (
            UPDATE monitor.alert_events AS e SET alert_key = ranked.new_key
            FROM ranked WHERE ranked.alert_key = e.alert_key AND ranked.recency = 1
        )
        UPDATE monitor.alerts AS a SET alert_key = ranked.new_key
        FROM ranked WHERE ranked.alert_key = a.alert_key AND ranked.recency = 1
        """
    )
    op.execute(
        "ALTER TABLE monitor.alert_events ADD CONSTRAINT alert_events_alert_key_fkey "
        "FOREIGN KEY (alert_key) REFERENCES monitor.alerts (alert_key)"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE monitor.alert_events DROP CONSTRAINT alert_events_alert_key_fkey")
    op.execute(
        f"""
        WITH rekeyed AS (
            UPDATE monitor.alerts SET alert_key = alert_key || ':' || year
            WHERE entity_type IN {CARRIED_OVER} RETURNING alert_key, year
        )
        UPDATE monitor.alert_events AS e SET alert_key = rekeyed.alert_key
        FROM rekeyed WHERE e.alert_key || ':' || rekeyed.year = rekeyed.alert_key
        """
    )
    op.execute(
        "ALTER TABLE monitor.alert_events ADD CONSTRAINT alert_events_alert_key_fkey "
        "FOREIGN KEY (alert_key) REFERENCES monitor.alerts (alert_key)"
    )
    op.execute("DELETE FROM monitor.alert_events WHERE event_type IN ('year_ended', 'feedback', 'links_renewed')")
    op.execute(
        """
        ALTER TABLE monitor.alert_events
            DROP COLUMN episode,
            DROP COLUMN note,
            DROP CONSTRAINT alert_events_event_type_check,
            ADD CONSTRAINT alert_events_event_type_check CHECK (event_type IN ({}))
        """.format(", ".join(f"'{name}'" for name in EVENT_TYPES[:9]))
    )
    op.execute("ALTER TABLE monitor.alerts ADD COLUMN details jsonb NOT NULL DEFAULT '{}'::jsonb")
    op.execute(
        "UPDATE monitor.alerts SET details = jsonb_strip_nulls(jsonb_build_object('measure_unit', measure_unit, "
        "'source_file', source_file, " + ", ".join(f"'{name}', {name}::text" for name in FIGURES) + "))"
    )
    op.execute(
        "ALTER TABLE monitor.alerts DROP COLUMN episode, DROP COLUMN episode_notified_at, DROP COLUMN links_sent_at, "
        "DROP COLUMN period_end, DROP COLUMN measure_unit, DROP COLUMN source_file, DROP COLUMN target_source, "
        + ", ".join(f"DROP COLUMN {name}" for name in FIGURES)
    )
