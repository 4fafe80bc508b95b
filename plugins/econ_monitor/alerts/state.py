"""The life of a warning in `monitor.alerts` (spec: "A warning's life"): opened, worsened or improved by
data, claimed (领任务), given feedback (反馈) and closed (销号) by its leader, closed by data when it turns
green or its project/issue leaves the newest ledger, closed as `year_ended` when the next year's data
arrive, and reopened as a new episode.

Applying the mart is one SQL statement (`_APPLY_MART`): a MERGE from `marts.mart_current_warnings` into
`monitor.alerts` whose RETURNING rows become the events, so every rule of a warning's life is SQL and
runs set-based; Python only renders and sends. Every change is an event in `monitor.alert_events`, with
the episode it belongs to and, for a leader's action, the leader's note.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg.rows import dict_row

# What a warning copies from its mart row on every run: its name, period, leader, figures (as numbers) and
# the target source they were judged against.
MART_COLUMNS = (
    "entity_name",
    "period_label",
    "period_end",
    "leader_code",
    "measure_value",
    "target_value",
    "deviation_pp",
    "measure_unit",
    "gap_to_time_progress",
    "gap_to_target",
    "pace_needed_per_month",
    "growth_needed_rest_of_year_pct",
    "source_file",
    "target_source",
)
_SET_FROM_MART = ", ".join(f"{name} = d.{name}" for name in MART_COLUMNS) + ", year = d.year, last_seen_at = now()"
_INSERT_COLUMNS = ("alert_key", "rule_code", "entity_type", "entity_code", "domain", "year", "level", *MART_COLUMNS)

# How a mart row changes its warning (`change`), decided once per row:
#   opened            no warning yet and yellow/red (never for a year that is over)
#   reopened          closed by data and yellow/red again, or closed by its leader and now worse than when
#                     closed: a new episode, its notification state afresh (a year that ended stays closed)
#   year_ended        open, and the same rule and entity has a row of a later year
#   resolved_by_data  open and green
#   worsened/improved open and the level moved; unchanged: open, same level (figures refreshed)
# no_data never reaches the mart, and a level that is none of green/yellow/red (no_target) changes nothing.
# A warning in the target but not in the source whose project or issue left the newest ledger closes.
_APPLY_MART = f"""
WITH mart_rows AS (
    SELECT m.*,
           EXISTS (SELECT FROM marts.mart_current_warnings AS later
                   WHERE later.rule_code = m.rule_code AND later.entity_code = m.entity_code
                     AND later.year > m.year) AS year_over
    FROM marts.mart_current_warnings AS m
    WHERE NOT (m.domain LIKE ANY(%(withheld)s))
),
decided AS (
    SELECT r.*, a.level AS previous_level,
           CASE
               WHEN a.alert_key IS NULL THEN
                   CASE WHEN NOT r.year_over AND r.level IN ('yellow', 'red') THEN 'opened' END
               WHEN r.year_over THEN CASE WHEN a.status <> 'closed' THEN 'year_ended' END
               WHEN r.level NOT IN ('green', 'yellow', 'red') THEN NULL
               WHEN a.status = 'closed' THEN
                   CASE WHEN r.level = 'green' OR a.closed_by = 'year_ended' THEN NULL
                        WHEN a.closed_by = 'data' THEN 'reopened'
                        WHEN array_position(%(ranks)s, r.level) > array_position(%(ranks)s, a.level) THEN 'reopened'
                   END
               WHEN r.level = 'green' THEN 'resolved_by_data'
               WHEN array_position(%(ranks)s, r.level) > array_position(%(ranks)s, a.level) THEN 'worsened'
               WHEN array_position(%(ranks)s, r.level) < array_position(%(ranks)s, a.level) THEN 'improved'
               ELSE 'unchanged'
           END AS change
    FROM mart_rows AS r
    LEFT JOIN monitor.alerts AS a USING (alert_key)
),
applied AS (
    MERGE INTO monitor.alerts AS a
    USING decided AS d ON a.alert_key = d.alert_key
    WHEN NOT MATCHED BY TARGET AND d.change = 'opened' THEN
        INSERT ({", ".join(_INSERT_COLUMNS)}) VALUES ({", ".join("d." + name for name in _INSERT_COLUMNS)})
    WHEN MATCHED AND d.change = 'year_ended' THEN
        UPDATE SET status = 'closed', closed_at = now(), closed_by = 'year_ended'
    WHEN MATCHED AND d.change = 'resolved_by_data' THEN
        UPDATE SET status = 'closed', closed_at = now(), closed_by = 'data', {_SET_FROM_MART}
    WHEN MATCHED AND d.change = 'reopened' THEN
        UPDATE SET status = 'open', level = d.level, episode = a.episode + 1, closed_at = NULL, closed_by = NULL,
                   close_note = NULL, claimed_by = NULL, claimed_at = NULL, escalated_at = NULL,
                   last_notified_at = NULL, last_notified_level = NULL, episode_notified_at = NULL,
                   links_sent_at = NULL, {_SET_FROM_MART}
    WHEN MATCHED AND d.change IN ('worsened', 'improved', 'unchanged') THEN
        -- After an improvement the notified level follows it down, so the next worsening is mailed again.
        UPDATE SET level = d.level,
                   last_notified_level = CASE WHEN d.change = 'improved' AND a.last_notified_level IS NOT NULL
                                              THEN d.level ELSE a.last_notified_level END,
                   {_SET_FROM_MART}
    -- Ledgers are full snapshots: the mart keeps only projects and issues of the newest one.
    WHEN NOT MATCHED BY SOURCE AND a.status <> 'closed' AND a.entity_type IN ('project', 'issue')
         AND NOT (a.domain LIKE ANY(%(withheld)s)) THEN
        UPDATE SET status = 'closed', closed_at = now(), closed_by = 'data'
    RETURNING a.alert_key, a.level, a.episode, d.previous_level, coalesce(d.change, 'left_ledger') AS change,
              a.measure_value, a.target_value, a.deviation_pp, a.period_label, a.source_file
)
INSERT INTO monitor.alert_events (alert_key, event_type, level, episode, details)
SELECT alert_key,
       CASE change WHEN 'left_ledger' THEN 'resolved_by_data' ELSE change END,
       CASE change WHEN 'resolved_by_data' THEN 'green' ELSE level END,
       episode,
       CASE change
           WHEN 'left_ledger' THEN jsonb_build_object('reason', '不在最新台账中 (no longer in the newest ledger)')
           WHEN 'year_ended' THEN jsonb_build_object('reason', '新年度数据已到，本年度预警结束 (the next year''s data arrived)')
           ELSE jsonb_strip_nulls(jsonb_build_object(
               'from', previous_level, 'measure_value', measure_value, 'target_value', target_value,
               'deviation_pp', deviation_pp, 'period_label', period_label, 'source_file', source_file))
       END
FROM applied
WHERE change <> 'unchanged'
ORDER BY alert_key
RETURNING alert_key, event_type
"""  # noqa: S608 - only the constant _SET_FROM_MART is interpolated; values are bound
_RANKS = ["green", "yellow", "red"]


@dataclass
class SyncSummary:
    opened: list[str] = field(default_factory=list)
    worsened: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    year_ended: list[str] = field(default_factory=list)
    withheld_domains: tuple[str, ...] = ()


def domain_patterns(domains: tuple[str, ...] | list[str]) -> list[str]:
    """SQL LIKE patterns for withheld domains; `indicators/*` stands for every department's indicators."""
    return [domain.replace("*", "%") for domain in domains]


def sync_alerts(conn: psycopg.Connection, withheld_domains: tuple[str, ...] = ()) -> SyncSummary:
    """Bring monitor.alerts in line with marts.mart_current_warnings, leaving withheld domains untouched.

    Withheld domains are those whose data failed a critical quality check: their warnings are neither
    opened, changed nor closed from data that may be wrong.
    """
    summary = SyncSummary(withheld_domains=tuple(sorted(withheld_domains)))
    with conn.transaction():
        events = conn.execute(_APPLY_MART, {"withheld": domain_patterns(withheld_domains), "ranks": _RANKS}).fetchall()
    lists = {
        "opened": summary.opened,
        "worsened": summary.worsened,
        "resolved_by_data": summary.resolved,
        "reopened": summary.reopened,
        "year_ended": summary.year_ended,
    }
    for alert_key, event_type in events:
        if event_type in lists:
            lists[event_type].append(alert_key)
    return summary


class AlertActionError(Exception):
    """A claim, feedback or close that cannot be done; the message is for the person who asked."""


def _event(cur: psycopg.Cursor, alert: dict, event_type: str, actor: str, note: str | None) -> None:
    cur.execute(
        """INSERT INTO monitor.alert_events (alert_key, event_type, level, episode, actor, note)
           VALUES (%s, %s, %s, %s, %s, %s)""",
        (alert["alert_key"], event_type, alert["level"], alert["episode"], actor, note or None),
    )


def claim(conn: psycopg.Connection, alert_key: str, leader_code: str, actor: str, note: str | None = None) -> dict:
    """领任务: the addressed leader takes the warning on. Claiming twice is harmless (a note is kept)."""
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        alert = _locked(cur, alert_key)
        _check_owner(alert, leader_code)
        if alert["status"] == "closed":
            raise AlertActionError(f"预警 {alert['entity_name']} 已销号，无需认领 (already closed)")
        if alert["status"] == "open":
            cur.execute(
                "UPDATE monitor.alerts SET status = 'claimed', claimed_by = %s, claimed_at = now() WHERE alert_key = %s",
                (actor, alert_key),
            )
            _event(cur, alert, "claimed", actor, note)
        elif note:
            _event(cur, alert, "feedback", actor, note)
        return _locked(cur, alert_key)


def feedback(conn: psycopg.Connection, alert_key: str, leader_code: str, actor: str, note: str) -> dict:
    """反馈: progress on a claimed warning, in the leader's words, kept in its history."""
    if not (note or "").strip():
        raise AlertActionError("反馈内容不能为空 (a feedback needs a note)")
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        alert = _locked(cur, alert_key)
        _check_owner(alert, leader_code)
        if alert["status"] != "claimed":
            raise AlertActionError("只能对已认领的预警反馈，请先领任务 (claim the warning first)")
        _event(cur, alert, "feedback", actor, note.strip())
        return _locked(cur, alert_key)


def close(conn: psycopg.Connection, alert_key: str, leader_code: str, actor: str, note: str | None = None) -> dict:
    """销号: the leader declares the task done. Closing twice is harmless."""
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        alert = _locked(cur, alert_key)
        _check_owner(alert, leader_code)
        if alert["status"] != "closed":
            cur.execute(
                """UPDATE monitor.alerts SET status = 'closed', closed_at = now(), closed_by = %s, close_note = %s,
                       claimed_by = coalesce(claimed_by, %s), claimed_at = coalesce(claimed_at, now())
                   WHERE alert_key = %s""",
                (actor, note, actor, alert_key),
            )
            _event(cur, alert, "closed", actor, note)
        return _locked(cur, alert_key)


def history(conn: psycopg.Connection, alert_key: str) -> tuple[dict, list[dict]]:
    """A warning and its events, oldest first (for `econ-monitor alerts show`)."""
    with conn.cursor(row_factory=dict_row) as cur:
        alert = cur.execute("SELECT * FROM monitor.alerts WHERE alert_key = %s", (alert_key,)).fetchone()
        if alert is None:
            raise AlertActionError(f"没有这条预警 (no warning {alert_key!r})")
        events = cur.execute(
            """SELECT occurred_at, episode, event_type, level, actor, note, details FROM monitor.alert_events
               WHERE alert_key = %s ORDER BY occurred_at, event_id""",
            (alert_key,),
        ).fetchall()
    return alert, events


def _locked(cur: psycopg.Cursor, alert_key: str) -> dict:
    alert = cur.execute("SELECT * FROM monitor.alerts WHERE alert_key = %s FOR UPDATE", (alert_key,)).fetchone()
    if alert is None:
        raise AlertActionError(f"没有这条预警 (no warning {alert_key!r})")
    return alert


def _check_owner(alert: dict, leader_code: str) -> None:
    if alert["leader_code"] != leader_code:
        raise AlertActionError("这条预警不属于您 (this warning is addressed to another leader)")
