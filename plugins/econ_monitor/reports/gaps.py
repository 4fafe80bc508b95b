"""自动找出缺口: which key enterprises drag a chain, and where the year will end — read from the marts.

`mart_chain_gap_attribution` holds each key enterprise's change against last year's same period (derived
from the official growth rate) under the chain it reported; `mart_year_end_projection` the year-end
projection of chains and cumulative/stock indicators. Nothing is recomputed here: a mail or a report
shows the marts' figures, and the rows a chain section shows add up to the chain's total change.
"""

from __future__ import annotations

from decimal import Decimal

import psycopg
from psycopg.rows import dict_row

TOP = 3  # the work plan's leaders visit the few enterprises that explain most of a shortfall


def _rows(conn: psycopg.Connection, query: str, params: dict) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def chain_drags(
    conn: psycopg.Connection, chain_code: str, year: int, month: int | None = None, limit: int = TOP
) -> list[dict]:
    """The `limit` key enterprises whose output fell most, for one chain and month (largest fall first):
    enterprise_name, credit_code, change_wan, ytd_growth_pct, ytd_output_wan, leader_title, leader_code,
    share_of_chain_change_pct, chain_change_wan.

    Without a month, the chain's newest month with a level in `mart_industry_chain_monitoring` (the period
    its warning is about). A month without an enterprise report gives no rows: never another month's."""
    return _rows(
        conn,
        """SELECT g.enterprise_name, g.credit_code, g.town, g.change_wan, g.ytd_growth_pct, g.ytd_output_wan,
                  g.prior_ytd_output_wan, g.leader_title, g.leader_code, g.share_of_chain_change_pct,
                  g.chain_change_wan, g.drag_rank, g.year, g.period_month
           FROM marts.mart_chain_gap_attribution AS g
           WHERE g.chain_code = %(chain)s AND g.year = %(year)s AND g.drag_rank <= %(limit)s
             AND g.period_month = coalesce(%(month)s::integer, (
                 SELECT max(c.period_month) FROM marts.mart_industry_chain_monitoring AS c
                 WHERE c.chain_code = %(chain)s AND c.year = %(year)s AND c.warning_level <> 'no_data'))
           ORDER BY g.drag_rank""",
        {"chain": chain_code, "year": year, "month": month, "limit": limit},
    )


def chain_gap_section(conn: psycopg.Connection, chain: dict, limit: int = TOP) -> dict:
    """A chain's key-enterprise change for the bulletin: the top `limit` drags, then the other declining
    enterprises, the growing ones and those without a base, each as one line, so that the lines' changes
    add up to `total_change_wan`. A chain without key enterprises that month has key_enterprises = 0 and
    no figures (never zeros)."""
    rows = _rows(
        conn,
        """SELECT enterprise_name, credit_code, change_wan, ytd_growth_pct, leader_title, leader_code, drag_rank,
                  share_of_chain_change_pct, base_note, chain_change_wan, chain_key_enterprise_growth_pct,
                  key_enterprises, key_enterprises_without_base
           FROM marts.mart_chain_gap_attribution
           WHERE chain_code = %(chain)s AND year = %(year)s AND period_month = %(month)s
           ORDER BY drag_rank NULLS LAST, change_wan DESC NULLS LAST, credit_code""",
        {"chain": chain["chain_code"], "year": chain["year"], "month": chain["period_month"]},
    )
    if not rows:
        return {**chain, "key_enterprises": 0, "drags": []}
    drags = [row for row in rows if row["drag_rank"] is not None and row["drag_rank"] <= limit]
    other_decliners = [row for row in rows if row["drag_rank"] is not None and row["drag_rank"] > limit]
    growers = [row for row in rows if row["change_wan"] is not None and row["change_wan"] >= 0]
    without_base = [row for row in rows if row["change_wan"] is None]
    first = rows[0]
    return {
        **chain,
        "drags": drags,
        "other_decliners": {"count": len(other_decliners), "change_wan": _sum(other_decliners)},
        "growers": {"count": len(growers), "change_wan": _sum(growers)},
        "without_base": {"count": len(without_base), "names": [row["enterprise_name"] for row in without_base]},
        "decliners": len(drags) + len(other_decliners),
        "key_enterprises": first["key_enterprises"],
        "total_change_wan": first["chain_change_wan"],
        "key_enterprise_growth_pct": first["chain_key_enterprise_growth_pct"],
    }


def _sum(rows: list[dict]) -> Decimal:
    return sum((row["change_wan"] for row in rows), Decimal(0))


def year_end_projections(conn: psycopg.Connection, year: int, month: int) -> dict[tuple[str, str], dict]:
    """(entity_type, entity_code) → the month's row of `mart_year_end_projection`."""
    rows = _rows(
        conn,
        """SELECT * FROM marts.mart_year_end_projection
           WHERE year = %(year)s AND period_month = %(month)s AND projected_year_end IS NOT NULL""",
        {"year": year, "month": month},
    )
    return {(row["entity_type"], row["entity_code"]): row for row in rows}


def projection_text(projection: dict | None, unit: str, num) -> str | None:
    """按当前进度预计全年完成 X（目标 Y）, and the seasonal figure where last year's history gives one.
    A projection informs; it never changes a level."""
    if projection is None or projection["projected_at_current_pace"] is None:
        return None
    target = f"（目标 {num(projection['target_value'])} {unit}）" if projection["target_value"] is not None else ""
    text = f"按当前进度预计全年完成 {num(projection['projected_at_current_pace'])} {unit}{target}"
    if projection["projected_with_last_year_profile"] is not None:
        text += f"；按上年各月规律预计 {num(projection['projected_with_last_year_profile'])} {unit}"
    return text


def drag_line(row: dict) -> str:
    """One enterprise dragging a chain, as a warning mail names it: name, change in 万元, growth %, 包挂领导."""
    from econ_monitor.reports.render import num, signed

    return (
        f"{row['enterprise_name']}：较上年同期 {signed(row['change_wan'], 1)} 万元，"
        f"累计增速 {num(row['ytd_growth_pct'], 1)}%，包挂领导 {row['leader_title'] or row['leader_code']}"
    )


def warning_projections(conn: psycopg.Connection, alert_keys: list[str]) -> dict[str, str]:
    """alert_key → 按当前进度预计全年完成 X（目标 Y） for the chain and cumulative/stock indicator warnings
    among `alert_keys`, for the period each warning is about (mart_current_warnings)."""
    from econ_monitor.reports.render import num

    rows = _rows(
        conn,
        """SELECT w.alert_key, w.measure_unit, p.*
           FROM marts.mart_current_warnings AS w
           JOIN marts.mart_year_end_projection AS p
             ON p.entity_type = w.entity_type AND p.entity_code = w.entity_code AND p.year = w.year
            AND p.period_month = extract(month FROM w.period_end)
           WHERE w.alert_key = ANY(%(keys)s)""",
        {"keys": alert_keys},
    )
    return {row["alert_key"]: text for row in rows if (text := projection_text(row, row["unit"], num))}
