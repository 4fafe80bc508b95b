"""月通报: the monthly bulletin — where every indicator, chain and project count stands against its
target and time progress, the slowest projects, overdue issues, and what changed since last month."""

from __future__ import annotations

from datetime import date

import psycopg

from econ_monitor.reports import charts, data, gaps
from econ_monitor.reports.model import Report
from econ_monitor.reports.render import month_label, render
from econ_monitor.wording import num

KIND = "monthly_bulletin"


def indicator_value_text(row: dict, column: str) -> str:
    """An indicator's actual or target figure as the bulletin shows it: a growth target type reads 增长 x%."""
    value = row[column]
    if value is None:
        return "—"
    if row["target_type"] == "growth":
        return f"增长 {num(value)}%"
    if row["unit"] == "%":
        return f"{num(value)}%"
    return f"{num(value)} {row['unit']}"


def indicator_gap_text(row: dict) -> str:
    """缺口: against the target (growth, level) or against time progress and the full year (cumulative, stock)."""
    if row["actual_value"] is None:
        return "本期无数据"
    if row["target_type"] in ("growth", "level"):
        gap = row["gap_to_target"]
        if gap is None:
            return "—"
        if gap <= 0:
            return "已达目标"
        text = f"差 {num(gap)} 个百分点"
        if row.get("growth_needed_rest_of_year_pct") is not None:
            text += f"；其余月份需增长 {num(row['growth_needed_rest_of_year_pct'])}%"
        return text
    parts = []
    unit = row["unit"]
    if row["gap_to_time_progress"] is not None and row["gap_to_time_progress"] > 0:
        parts.append(f"较时序进度缺 {num(row['gap_to_time_progress'])} {unit}")
    if row["gap_to_target"] is not None:
        parts.append(
            f"距全年目标缺 {num(row['gap_to_target'])} {unit}" if row["gap_to_target"] > 0 else "已完成全年目标"
        )
    if row.get("pace_needed_per_month") is not None and row["gap_to_target"] and row["gap_to_target"] > 0:
        parts.append(f"每月需完成 {num(row['pace_needed_per_month'])} {unit}")
    return "；".join(parts) or "—"


def _level_counts(rows: list[dict], column: str = "warning_level") -> dict[str, int]:
    counts = {"red": 0, "yellow": 0, "green": 0, "no_data": 0, "no_target": 0}
    for row in rows:
        counts[row[column] or "no_data"] = counts.get(row[column] or "no_data", 0) + 1
    return counts


def _target_summary(board: list[dict], chains: list[dict], targets: list[dict]) -> dict:
    """目标完成情况 at the year end: against the full-year target a green measure has met it, a yellow or red
    one has not; measures without data or without a target are counted apart, never as met."""
    total = next((row for row in targets if row["industry_category"] == "合计"), None)
    return {
        "indicators": _level_counts(board),
        "chains": _level_counts(chains),
        "signed_met": total is not None and total["signed_warning_level"] == "green",
        "started_met": total is not None and total["started_warning_level"] == "green",
        "project_total": total,
    }


def monthly_bulletin(conn: psycopg.Connection, year: int | None = None, month: int | None = None) -> Report:
    """Build the bulletin for (year, month); by default the newest month with any indicator level."""
    if month is None:
        newest = data.newest_indicator_month(conn, year)
        if newest is None:
            raise LookupError("no indicator has data yet: there is no month to report on")
        year, month = newest
    elif year is None:
        raise ValueError("give the year together with the month")

    board = data.indicator_board(conn, year, month)
    for row in board:
        row["actual_text"] = indicator_value_text(row, "actual_value")
        row["target_text"] = indicator_value_text(row, "target_value")
        row["alt_target_text"] = (
            indicator_value_text(row, "alt_target_value") if row["alt_target_value"] is not None else None
        )
        row["gap_text"] = indicator_gap_text(row)
    previous_year, previous_month = data.previous_month(year, month)
    previous_available = data.indicator_month_exists(conn, previous_year, previous_month)
    previous_board = data.indicator_board(conn, previous_year, previous_month) if previous_available else None
    chains = data.chain_board(conn, year, month)
    previous_chains = data.chain_board(conn, previous_year, previous_month) or None
    projections = gaps.year_end_projections(conn, year, month)
    for row in board:
        if row["target_type"] in ("cumulative", "stock") and row["period_month"] == month:
            projection = gaps.projection_text(projections.get(("indicator", row["indicator_code"])), row["unit"], num)
            if projection:
                row["gap_text"] += f"；{projection}"
    for row in chains:
        row["projection_text"] = gaps.projection_text(
            projections.get(("industry_chain", row["chain_code"])), "亿元", num
        )
    chain_gaps = [gaps.chain_gap_section(conn, row) for row in chains if row["warning_level"] in ("red", "yellow")]

    targets_as_of = data.newest_ledger_in_month(conn, "mart_project_targets", year, month)
    targets = data.project_targets(conn, targets_as_of)
    ledger_as_of = data.newest_ledger_in_month(conn, "mart_project_progress", year, month)
    slowest = data.slowest_projects(conn, ledger_as_of)
    issues_as_of = data.newest_ledger_in_month(conn, "mart_issue_monitoring", year, month)
    issues = data.overdue_issues(conn, issues_as_of)

    period = f"{year}-{month:02d}"
    window_start, window_end = data.report_window(conn, KIND, period, data.start_of_day(date(year, month, 1)))
    closed = data.closed_alerts(conn, ("closed", "resolved_by_data"), window_start, window_end)
    changes = {
        "indicators": data.level_changes(board, previous_board, "indicator_code"),
        "chains": data.level_changes(chains, previous_chains, "chain_code"),
    }

    report_charts = {"indicator_deviation": charts.indicator_deviation_chart(board)}
    if chains:
        report_charts["chain_completion"] = charts.chain_completion_chart(chains)
    for section in chain_gaps:
        if section["key_enterprises"]:
            report_charts[f"chain_gap_{section['chain_code']}"] = charts.chain_gap_chart(section)
    if targets:
        report_charts["project_targets"] = charts.project_targets_chart(targets)

    period_label = month_label(year, month)
    # December (1-12月, time progress 100 %) closes the year: its bulletin is also the year's summary.
    year_end = month == 12
    title = f"胶州市经济运行月通报（{period_label}）" + (f"暨{year}年目标完成情况" if year_end else "")
    content = {
        "year": year,
        "month": month,
        "year_end": year_end,
        "target_summary": _target_summary(board, chains, targets) if year_end else None,
        "indicators": board,
        "indicator_levels": _level_counts(board),
        "chains": chains,
        "chain_levels": _level_counts(chains),
        "chain_gaps": chain_gaps,
        "project_targets_as_of": targets_as_of,
        "project_targets": targets,
        "ledger_as_of": ledger_as_of,
        "slowest_projects": slowest,
        "issues_as_of": issues_as_of,
        "overdue_issues": issues,
        "overdue_issues_by_unit": data.group_issues_by_unit(issues),
        "previous_period": (previous_year, previous_month),
        "previous_period_label": month_label(previous_year, previous_month),
        "previous_period_available": previous_available,
        "previous_chains_available": previous_chains is not None,
        "changes": changes,
        "closed_alerts": closed,
        "window_start": window_start,
        "window_end": window_end,
    }
    return render(conn, KIND, period, period_label, title, content, report_charts)
