"""The queries behind the weekly dispatch (周调度) and the monthly bulletin (月通报).

Everything is read from the marts (and, for warnings, from `monitor.alerts` / `monitor.alert_events`);
nothing is recomputed here, so what a report says is what the marts and the alert mails say.
Rows are plain dicts with the marts' column names.

Time windows for events (warnings opened, closed 销号 or closed by recovering data) run from the
publication of the previous report of the same kind (its mails in `monitor.outbox`), or, before the
first one, from the previous weekly ledger's date (weekly) or the first day of the month (monthly).
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from econ_monitor import reference

TZ = ZoneInfo("Asia/Shanghai")
TOTAL = "合计"
# Quarterly and annual indicators keep their newest figure of the year on months without a report.
CARRIED_FREQUENCIES = ("quarterly", "annual")


def seed_order(seed: str, key: str) -> dict[str, int]:
    """Position of each row in a seed file: the catalogue follows the work plan's order, the tables do too."""
    return {row[key]: position for position, row in enumerate(reference.seed(seed))}


def _rows(conn: psycopg.Connection, query: str, params: dict | tuple = ()) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def _value(conn: psycopg.Connection, query: str, params: dict | tuple = ()):
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=TZ)


# ------------------------------------------------------------------------------------------ windows


def report_window(
    conn: psycopg.Connection, kind: str, period: str, default_start: datetime
) -> tuple[datetime, datetime | None]:
    """(start, end) for events a report covers: since the previous report of this kind was published
    (else default_start) until the next one was (None when this is the newest)."""
    previous = _value(
        conn,
        "SELECT max(created_at) FROM monitor.outbox WHERE kind = %s AND split_part(dedupe_key, ':', 2) < %s",
        (kind, period),
    )
    following = _value(
        conn,
        "SELECT min(created_at) FROM monitor.outbox WHERE kind = %s AND split_part(dedupe_key, ':', 2) > %s",
        (kind, period),
    )
    return previous or default_start, following


# ------------------------------------------------------------------------------------------ monthly


def newest_indicator_month(conn: psycopg.Connection, year: int | None = None) -> tuple[int, int] | None:
    """The newest (year, month) with any indicator level other than no_data (within `year` if given)."""
    row = conn.execute(
        """SELECT year, period_month FROM marts.mart_indicator_monitoring
           WHERE warning_level <> 'no_data' AND (%(year)s::integer IS NULL OR year = %(year)s)
           ORDER BY year DESC, period_month DESC LIMIT 1""",
        {"year": year},
    ).fetchone()
    return (row[0], row[1]) if row else None


def indicator_month_exists(conn: psycopg.Connection, year: int, month: int) -> bool:
    return bool(
        _value(
            conn,
            """SELECT count(*) FROM marts.mart_indicator_monitoring
           WHERE year = %s AND period_month = %s AND warning_level <> 'no_data'""",
            (year, month),
        )
    )


def indicator_board(conn: psycopg.Connection, year: int, month: int) -> list[dict]:
    """Every catalogue indicator (reference.indicators), in the catalogue's order, with its figures for
    the month; a quarterly or annual indicator without a figure this month shows its newest of the year."""
    rows = _rows(
        conn,
        """
        WITH candidates AS (
            SELECT DISTINCT ON (m.indicator_code) m.*
            FROM marts.mart_indicator_monitoring AS m
            WHERE m.year = %(year)s AND m.period_month <= %(month)s
              AND (m.period_month = %(month)s OR (m.frequency = ANY(%(carried)s) AND m.warning_level <> 'no_data'))
            ORDER BY m.indicator_code, (m.warning_level <> 'no_data') DESC, m.period_month DESC
        )
        SELECT
            cat.indicator_code, cat.indicator_name, cat.unit, cat.frequency, cat.target_type,
            cat.responsible_leader,
            c.year, c.period_month, c.as_of_date, c.actual_value, c.ytd_value, c.ytd_growth_pct,
            c.target_value, c.alt_target_value, c.alt_target_source, c.target_source, c.baseline_value,
            c.time_progress_pct, c.deviation_pp, coalesce(c.warning_level, 'no_data') AS warning_level,
            c.alt_warning_level, c.gap_to_time_progress, c.gap_to_target, c.pace_needed_per_month,
            c.growth_needed_rest_of_year_pct, c.source_file,
            leaders.title AS leader_title
        FROM reference.indicators AS cat
        LEFT JOIN candidates AS c USING (indicator_code)
        LEFT JOIN reference.leaders AS leaders ON leaders.leader_code = cat.responsible_leader
        """,
        {"year": year, "month": month, "carried": list(CARRIED_FREQUENCIES)},
    )
    order = seed_order("indicators", "indicator_code")
    rows.sort(key=lambda r: (order.get(r["indicator_code"], len(order)), r["indicator_code"]))
    for row in rows:
        row["carried_from_month"] = row["period_month"] if row["period_month"] not in (None, month) else None
    return rows


def chain_board(conn: psycopg.Connection, year: int, month: int) -> list[dict]:
    rows = _rows(
        conn,
        """SELECT c.chain_code, c.chain_name, c.industry_category, c.year, c.period_month, c.ytd_output,
                  c.output_target, c.time_progress_pct, c.deviation_pp, c.warning_level, c.gap_to_time_progress,
                  c.gap_to_target, c.pace_needed_per_month, c.responsible_leader, leaders.title AS leader_title,
                  round(c.ytd_output / nullif(c.output_target, 0) * 100, 2) AS completion_pct
           FROM marts.mart_industry_chain_monitoring AS c
           LEFT JOIN reference.leaders AS leaders ON leaders.leader_code = c.responsible_leader
           WHERE c.year = %s AND c.period_month = %s""",
        (year, month),
    )
    order = seed_order("industry_chains", "chain_code")
    rows.sort(key=lambda r: (order.get(r["chain_code"], len(order)), r["chain_code"]))
    return rows


def newest_ledger_in_month(conn: psycopg.Connection, table: str, year: int, month: int) -> date | None:
    """The newest weekly ledger dated in the month, else the newest before the month's end."""
    assert table in ("mart_project_targets", "mart_project_progress", "mart_issue_monitoring")
    first, last = date(year, month, 1), month_end(year, month)
    return _value(
        conn,
        f"""SELECT as_of_date FROM marts.{table} WHERE as_of_date <= %s
            ORDER BY (as_of_date >= %s) DESC, as_of_date DESC LIMIT 1""",  # noqa: S608 - table from the fixed set the callers pass
        (last, first),
    )


def project_targets(conn: psycopg.Connection, as_of: date | None) -> list[dict]:
    if as_of is None:
        return []
    rows = _rows(
        conn,
        """SELECT *, round(signed_count::numeric / nullif(signed_target, 0) * 100, 2) AS signed_completion_pct,
                  round(started_count::numeric / nullif(started_target, 0) * 100, 2) AS started_completion_pct
           FROM marts.mart_project_targets WHERE as_of_date = %s""",
        (as_of,),
    )
    order = seed_order("project_targets", "industry_category")
    rows.sort(
        key=lambda r: (
            r["industry_category"] == TOTAL,
            order.get(r["industry_category"], len(order)),
            r["industry_category"],
        )
    )
    return rows


def slowest_projects(conn: psycopg.Connection, as_of: date | None, limit: int = 10) -> list[dict]:
    if as_of is None:
        return []
    return _rows(
        conn,
        """SELECT project_code, project_name, industry_category, chain_name, leader_code, leader_title, town,
                  responsible_unit, annual_plan_investment_wan, ytd_investment_wan, investment_pace_ratio,
                  investment_gap_to_time_progress_wan, time_progress_pct, progress, stale_days, stale_level,
                  warning_level
           FROM marts.mart_project_progress
           WHERE as_of_date = %s AND stage = '已开工' AND investment_pace_ratio IS NOT NULL
           ORDER BY investment_pace_ratio, project_code LIMIT %s""",
        (as_of, limit),
    )


def overdue_issues(conn: psycopg.Connection, as_of: date | None) -> list[dict]:
    if as_of is None:
        return []
    return _rows(
        conn,
        """SELECT issue_code, as_of_date, project_code, project_name, description, issue_type, responsible_unit,
                  responsible_person, raised_date, due_date, status, overdue_days, warning_level, leader_code,
                  leader_title
           FROM marts.mart_issue_monitoring
           WHERE as_of_date = %s AND overdue_days > 0
           ORDER BY responsible_unit NULLS LAST, overdue_days DESC, issue_code""",
        (as_of,),
    )


def group_issues_by_unit(issues: list[dict]) -> list[dict]:
    groups: dict[str, list[dict]] = {}
    for issue in issues:
        groups.setdefault(issue["responsible_unit"] or "（未填责任单位）", []).append(issue)
    result = [
        {
            "unit": unit,
            "issues": items,
            "count": len(items),
            "red": sum(i["warning_level"] == "red" for i in items),
            "max_overdue_days": max(i["overdue_days"] for i in items),
        }
        for unit, items in groups.items()
    ]
    result.sort(key=lambda g: (-g["count"], -g["max_overdue_days"], g["unit"]))
    return result


def level_changes(current: list[dict], previous: list[dict] | None, key: str) -> dict[str, list[dict]]:
    """New reds (red now, not red before) and recoveries (green now, yellow or red before)."""
    if previous is None:
        return {"new_red": [], "recovered": []}
    before = {row[key]: row["warning_level"] for row in previous}
    new_red, recovered = [], []
    for row in current:
        old = before.get(row[key])
        if old in (None, "no_data") or row["warning_level"] == "no_data":
            continue
        if row["warning_level"] == "red" and old != "red":
            new_red.append({**row, "previous_level": old})
        elif row["warning_level"] == "green" and old in ("yellow", "red"):
            recovered.append({**row, "previous_level": old})
    return {"new_red": new_red, "recovered": recovered}


def closed_alerts(
    conn: psycopg.Connection, event_types: tuple[str, ...], start: datetime, end: datetime | None
) -> list[dict]:
    """Warnings closed in a window: by their leader (销号, 'closed') and/or by recovering data."""
    return _rows(
        conn,
        """SELECT DISTINCT ON (e.alert_key)
                  e.alert_key, e.event_type, e.actor, e.occurred_at,
                  (e.occurred_at AT TIME ZONE 'Asia/Shanghai')::date AS occurred_on,
                  a.rule_code, a.entity_type, a.entity_code, a.entity_name, a.period_label, a.leader_code,
                  a.status, a.level AS last_level, a.close_note, leaders.title AS leader_title,
                  (SELECT level FROM monitor.alert_events AS w
                   WHERE w.alert_key = e.alert_key AND w.occurred_at < e.occurred_at AND w.level IN ('yellow', 'red')
                   ORDER BY w.occurred_at DESC, w.event_id DESC LIMIT 1) AS level_before
           FROM monitor.alert_events AS e
           JOIN monitor.alerts AS a USING (alert_key)
           LEFT JOIN reference.leaders AS leaders ON leaders.leader_code = a.leader_code
           WHERE e.event_type = ANY(%s) AND e.occurred_at >= %s AND (%s::timestamptz IS NULL OR e.occurred_at < %s)
           ORDER BY e.alert_key, e.occurred_at DESC, e.event_id DESC""",
        (list(event_types), start, end, end),
    )


# ------------------------------------------------------------------------------------------ weekly


def newest_ledger(conn: psycopg.Connection) -> date | None:
    return _value(conn, "SELECT max(as_of_date) FROM marts.mart_project_progress")


def ledger_before(conn: psycopg.Connection, as_of: date) -> date | None:
    return _value(conn, "SELECT max(as_of_date) FROM marts.mart_project_progress WHERE as_of_date < %s", (as_of,))


def ledger_after(conn: psycopg.Connection, as_of: date) -> date | None:
    return _value(conn, "SELECT min(as_of_date) FROM marts.mart_project_progress WHERE as_of_date > %s", (as_of,))


def newest_upto(conn: psycopg.Connection, table: str, day: date) -> date | None:
    assert table in ("mart_project_targets", "mart_project_progress", "mart_issue_monitoring")
    return _value(conn, f"SELECT max(as_of_date) FROM marts.{table} WHERE as_of_date <= %s", (day,))  # noqa: S608 - table asserted to be one of three marts


def ledger_size(conn: psycopg.Connection, as_of: date) -> dict:
    row = _rows(
        conn,
        """SELECT count(*) AS projects, count(*) FILTER (WHERE stage = '已开工') AS started,
                  count(*) FILTER (WHERE stage = '已签约') AS signed, sum(ytd_investment_wan) AS ytd_investment_wan
           FROM marts.mart_project_progress WHERE as_of_date = %s""",
        (as_of,),
    )
    return row[0]


def project_movements(conn: psycopg.Connection, as_of: date, previous: date | None) -> list[dict]:
    """Each project that changed between the previous ledger and this one (or appeared, or dropped out)."""
    if previous is None:
        return []
    return _rows(
        conn,
        """SELECT coalesce(cur.project_code, prev.project_code) AS project_code,
                  coalesce(cur.project_name, prev.project_name) AS project_name,
                  coalesce(cur.industry_category, prev.industry_category) AS industry_category,
                  coalesce(cur.leader_code, prev.leader_code) AS leader_code,
                  coalesce(cur.leader_title, prev.leader_title) AS leader_title,
                  prev.stage AS previous_stage, cur.stage,
                  prev.progress AS previous_progress, cur.progress,
                  cur.actual_start_date,
                  prev.ytd_investment_wan AS previous_ytd_investment_wan, cur.ytd_investment_wan,
                  cur.ytd_investment_wan - prev.ytd_investment_wan AS investment_added_wan,
                  CASE WHEN prev.project_code IS NULL THEN 'added'
                       WHEN cur.project_code IS NULL THEN 'dropped'
                       ELSE 'changed' END AS movement,
                  cur.stage = '已开工' AND prev.stage IS DISTINCT FROM '已开工' AS new_start,
                  prev.stage IS NOT NULL AND cur.stage IS NOT NULL AND prev.stage <> cur.stage AS stage_changed
           FROM (SELECT * FROM marts.mart_project_progress WHERE as_of_date = %(as_of)s) AS cur
           FULL JOIN (SELECT * FROM marts.mart_project_progress WHERE as_of_date = %(previous)s) AS prev
               USING (project_code)
           WHERE prev.project_code IS NULL OR cur.project_code IS NULL
              OR prev.stage IS DISTINCT FROM cur.stage
              OR prev.progress IS DISTINCT FROM cur.progress
              OR prev.ytd_investment_wan IS DISTINCT FROM cur.ytd_investment_wan
           ORDER BY coalesce(cur.project_code, prev.project_code)""",
        {"as_of": as_of, "previous": previous},
    )


def stale_projects(conn: psycopg.Connection, as_of: date) -> list[dict]:
    """The projects the mart judges stale (the project_stale rule's level), most days first."""
    return _rows(
        conn,
        """SELECT project_code, project_name, industry_category, leader_code, leader_title, town, progress,
                  ytd_investment_wan, annual_plan_investment_wan, stale_days, unchanged_since, stale_level
           FROM marts.mart_project_progress
           WHERE as_of_date = %s AND stale_level IN ('yellow', 'red')
           ORDER BY stale_days DESC, project_code""",
        (as_of,),
    )


def stale_threshold_days(conn: psycopg.Connection) -> int:
    """The days without progress from which the project_stale rule warns, from the table the mart was
    built with, so that the report's heading and its list agree."""
    return int(_value(conn, "SELECT yellow_threshold FROM reference.warning_rules WHERE rule_code = 'project_stale'"))


def open_alerts(conn: psycopg.Connection, start: datetime, end: datetime | None) -> list[dict]:
    """Every warning that is open or claimed, with how long it has been so, and whether it is new or
    worse since start (opened/reopened or worsened in the window)."""
    return _rows(
        conn,
        """SELECT a.alert_key, a.rule_code, a.entity_type, a.entity_code, a.entity_name, a.period_label, a.level,
                  a.leader_code, leaders.title AS leader_title, a.status, a.claimed_by, a.claimed_at,
                  a.first_seen_at, a.measure_value, a.target_value, a.measure_unit, a.deviation_pp,
                  a.gap_to_time_progress, a.gap_to_target, a.pace_needed_per_month,
                  a.growth_needed_rest_of_year_pct, indicators.target_type,
                  floor(extract(epoch FROM now() - a.first_seen_at) / 86400)::int AS days_open,
                  floor(extract(epoch FROM now() - a.claimed_at) / 86400)::int AS days_claimed,
                  (SELECT CASE WHEN bool_or(e.event_type IN ('opened', 'reopened')) THEN 'new'
                               WHEN bool_or(e.event_type = 'worsened') THEN 'worsened' END
                   FROM monitor.alert_events AS e
                   WHERE e.alert_key = a.alert_key
                     AND e.occurred_at >= %(start)s AND (%(end)s::timestamptz IS NULL OR e.occurred_at < %(end)s)
                  ) AS change
           FROM monitor.alerts AS a
           LEFT JOIN reference.leaders AS leaders ON leaders.leader_code = a.leader_code
           LEFT JOIN reference.indicators AS indicators
               ON a.entity_type = 'indicator' AND indicators.indicator_code = a.entity_code
           WHERE a.status IN ('open', 'claimed')
           ORDER BY CASE a.level WHEN 'red' THEN 0 ELSE 1 END, a.leader_code, a.rule_code, a.entity_code""",
        {"start": start, "end": end},
    )
