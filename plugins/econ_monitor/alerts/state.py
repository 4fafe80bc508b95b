"""The life of a warning in `monitor.alerts`: opened, worsened or improved by data, claimed (领任务) and
closed (销号) by its leader, resolved when the data recovers, escalated when a red one goes unclaimed.

A warning's key is rule + entity + target year, so the same gap seen in September and October is one
warning whose level moves, not two. Every change is an event in `monitor.alert_events`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

LEVEL_RANK = {"green": 0, "yellow": 1, "red": 2}

_CURRENT_COLUMNS = (
    "alert_key, rule_code, entity_type, entity_code, entity_name, domain, year, period_label, level, leader_code, "
    "measure_value, target_value, deviation_pp, measure_unit, gap_to_time_progress, gap_to_target, "
    "pace_needed_per_month, growth_needed_rest_of_year_pct, source_file"
)
_DETAIL_FIELDS = (
    "deviation_pp", "measure_unit", "gap_to_time_progress", "gap_to_target", "pace_needed_per_month",
    "growth_needed_rest_of_year_pct", "source_file",
)


@dataclass
class SyncSummary:
    opened: list[str] = field(default_factory=list)
    worsened: list[str] = field(default_factory=list)
    improved: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    withheld_domains: tuple[str, ...] = ()


def domain_patterns(domains: tuple[str, ...] | list[str]) -> list[str]:
    """SQL LIKE patterns for withheld domains; `indicators/*` stands for every department's indicators."""
    return [domain.replace("*", "%") for domain in domains]


def _event(cur: psycopg.Cursor, alert_key: str, event_type: str, level: str | None, actor: str = "data",
           details: dict | None = None) -> None:
    cur.execute(
        "INSERT INTO monitor.alert_events (alert_key, event_type, level, actor, details) VALUES (%s, %s, %s, %s, %s)",
        (alert_key, event_type, level, actor, Jsonb(details or {})),
    )


def _details(row: dict) -> dict:
    return {name: (str(row[name]) if row[name] is not None else None) for name in _DETAIL_FIELDS}


def sync_alerts(conn: psycopg.Connection, withheld_domains: tuple[str, ...] = ()) -> SyncSummary:
    """Bring monitor.alerts in line with marts.mart_current_warnings, leaving withheld domains untouched.

    Withheld domains are those whose data failed a critical quality check: their warnings are neither
    opened, changed nor resolved from data that may be wrong.
    """
    summary = SyncSummary(withheld_domains=tuple(sorted(withheld_domains)))
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        current = cur.execute(
            f"SELECT {_CURRENT_COLUMNS} FROM marts.mart_current_warnings WHERE NOT (domain LIKE ANY(%s))",
            (domain_patterns(withheld_domains),),
        ).fetchall()
        known = {
            row["alert_key"]: row
            for row in cur.execute(
                "SELECT alert_key, level, status, closed_by, last_notified_level, entity_type, domain FROM monitor.alerts"
            )
        }
        for row in current:
            _apply(cur, row, known.get(row["alert_key"]), summary)
        _close_left_ledger(cur, known, {row["alert_key"] for row in current}, withheld_domains, summary)
    return summary


def _close_left_ledger(cur: psycopg.Cursor, known: dict, current_keys: set[str], withheld_domains: tuple[str, ...],
                       summary: SyncSummary) -> None:
    """Weekly ledgers are full snapshots: a project or issue that is no longer in the newest one is not
    followed any more, so its open warnings close (unless its data is withheld by the quality gate)."""
    withheld = set(withheld_domains)
    for key, alert in known.items():
        if (alert["status"] != "closed" and alert["entity_type"] in ("project", "issue")
                and key not in current_keys and alert["domain"] not in withheld):
            cur.execute(
                "UPDATE monitor.alerts SET status = 'closed', closed_at = now(), closed_by = 'data' WHERE alert_key = %s",
                (key,),
            )
            _event(cur, key, "resolved_by_data", alert["level"], details={"reason": "不在最新台账中 (no longer in the newest ledger)"})
            summary.resolved.append(key)


def _apply(cur: psycopg.Cursor, row: dict, existing: dict | None, summary: SyncSummary) -> None:
    key, level = row["alert_key"], row["level"]
    common = (row["entity_name"], row["period_label"], row["leader_code"], row["measure_value"], row["target_value"],
              Jsonb(_details(row)))
    if existing is None:
        if level == "green":
            return
        cur.execute(
            """INSERT INTO monitor.alerts (alert_key, rule_code, entity_type, entity_code, domain, year, level,
                   entity_name, period_label, leader_code, measure_value, target_value, details)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (key, row["rule_code"], row["entity_type"], row["entity_code"], row["domain"], row["year"], level, *common),
        )
        _event(cur, key, "opened", level, details=_details(row))
        summary.opened.append(key)
        return

    cur.execute(
        """UPDATE monitor.alerts SET entity_name = %s, period_label = %s, leader_code = %s, measure_value = %s,
               target_value = %s, details = %s, last_seen_at = now() WHERE alert_key = %s""",
        (*common, key),
    )
    old_level, status = existing["level"], existing["status"]
    if status == "closed":
        # Closed by data and bad again, or closed by a leader and now worse than when it was closed: reopen.
        if level != "green" and (existing["closed_by"] == "data" or LEVEL_RANK[level] > LEVEL_RANK[old_level]):
            cur.execute(
                """UPDATE monitor.alerts SET status = 'open', level = %s, closed_at = NULL, closed_by = NULL,
                       claimed_by = NULL, claimed_at = NULL, escalated_at = NULL, last_notified_level = NULL
                   WHERE alert_key = %s""",
                (level, key),
            )
            _event(cur, key, "reopened", level)
            summary.reopened.append(key)
        return
    if level == "green":
        cur.execute(
            "UPDATE monitor.alerts SET status = 'closed', closed_at = now(), closed_by = 'data' WHERE alert_key = %s",
            (key,),
        )
        _event(cur, key, "resolved_by_data", level, details=_details(row))
        summary.resolved.append(key)
    elif LEVEL_RANK[level] > LEVEL_RANK[old_level]:
        cur.execute("UPDATE monitor.alerts SET level = %s WHERE alert_key = %s", (level, key))
        _event(cur, key, "worsened", level, details={"from": old_level})
        summary.worsened.append(key)
    elif LEVEL_RANK[level] < LEVEL_RANK[old_level]:
        # The next worsening must be mailed again, so the notified level follows an improvement down.
        cur.execute(
            """UPDATE monitor.alerts SET level = %s,
                   last_notified_level = CASE WHEN last_notified_level IS NULL THEN NULL ELSE %s END
               WHERE alert_key = %s""",
            (level, level, key),
        )
        _event(cur, key, "improved", level, details={"from": old_level})
        summary.improved.append(key)


def claim(conn: psycopg.Connection, alert_key: str, leader_code: str, actor: str) -> dict:
    """领任务: the addressed leader takes the warning on. Claiming twice is harmless."""
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
            _event(cur, alert_key, "claimed", alert["level"], actor=actor)
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
            _event(cur, alert_key, "closed", alert["level"], actor=actor, details={"note": note} if note else None)
        return _locked(cur, alert_key)


class AlertActionError(Exception):
    """A claim or close that cannot be done; the message is for the person who asked."""


def _locked(cur: psycopg.Cursor, alert_key: str) -> dict:
    alert = cur.execute("SELECT * FROM monitor.alerts WHERE alert_key = %s FOR UPDATE", (alert_key,)).fetchone()
    if alert is None:
        raise AlertActionError(f"没有这条预警 (no warning {alert_key!r})")
    return alert


def _check_owner(alert: dict, leader_code: str) -> None:
    if alert["leader_code"] != leader_code:
        raise AlertActionError("这条预警不属于您 (this warning is addressed to another leader)")
