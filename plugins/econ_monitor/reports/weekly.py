"""周调度: the weekly dispatch — how the projects moved since the previous ledger, every warning still
open or claimed (and by whom, for how long), overdue issues, projects that have not moved, and the
warnings that closed themselves because their data recovered."""

from __future__ import annotations

from datetime import date, timedelta

import psycopg

from econ_monitor.alerts.notes import notes
from econ_monitor.reference import leaders
from econ_monitor.reports import charts, data
from econ_monitor.reports.model import Report
from econ_monitor.reports.render import cn_date, render
from econ_monitor.wording import describe

KIND = "weekly_dispatch"
LATEST_NOTES = 3  # beside each warning: its leader's latest notes (措施/反馈); all of them are on the leader's page


def _status_text(alert: dict) -> str:
    if alert["status"] == "claimed":
        return f"已由 {alert['claimed_by'] or '—'} 认领 {alert['days_claimed']} 天"
    return f"待认领，已 {alert['days_open']} 天"


def measure_texts(alert: dict) -> tuple[str, str | None]:
    """The digest's wording; a growth or level indicator is measured in % whatever the unit of its value."""
    if alert["rule_code"] == "indicator_off_target" and alert.get("target_type") in ("growth", "level"):
        alert = {**alert, "measure_unit": "%"}
    return describe(alert)


def _per_leader(alerts: list[dict]) -> list[dict]:
    order = list(leaders())
    groups: dict[str, dict] = {}
    for alert in alerts:
        group = groups.setdefault(
            alert["leader_code"],
            {
                "leader_code": alert["leader_code"],
                "leader_title": alert["leader_title"] or alert["leader_code"],
                "red": 0,
                "yellow": 0,
                "claimed": 0,
                "new": 0,
                "alerts": [],
            },
        )
        group[alert["level"]] += 1
        group["claimed"] += alert["status"] == "claimed"
        group["new"] += alert["change"] == "new"
        group["alerts"].append(alert)
    return sorted(
        groups.values(), key=lambda g: order.index(g["leader_code"]) if g["leader_code"] in order else len(order)
    )


def weekly_dispatch(conn: psycopg.Connection, as_of: date | None = None) -> Report:
    """Build the dispatch for the weekly ledger of `as_of` (default: the newest ledger)."""
    as_of = as_of or data.newest_ledger(conn)
    if as_of is None:
        raise LookupError("no weekly project ledger has been loaded: there is no week to report on")
    previous = data.ledger_before(conn, as_of)
    following = data.ledger_after(conn, as_of)
    period = as_of.isoformat()
    default_start = data.start_of_day(previous or as_of - timedelta(days=7))
    window_start, window_end = data.report_window(conn, KIND, period, default_start)
    if window_end is None and following is not None:
        window_end = data.start_of_day(following)

    movements = data.project_movements(conn, as_of, previous)
    new_starts = [m for m in movements if m["new_start"]]
    stage_changes = [
        m
        for m in movements
        if m["movement"] == "changed" and (m["stage_changed"] or m["previous_progress"] != m["progress"])
    ]
    added = [m for m in movements if m["movement"] == "added"]
    dropped = [m for m in movements if m["movement"] == "dropped"]
    invested = sorted(
        (m for m in movements if (m["investment_added_wan"] or 0) > 0),
        key=lambda m: (-m["investment_added_wan"], m["project_code"]),
    )
    by_category: dict[str, dict] = {}
    for move in invested:
        entry = by_category.setdefault(
            move["industry_category"] or "—",
            {"industry_category": move["industry_category"] or "—", "added_wan": 0, "projects": 0},
        )
        entry["added_wan"] += move["investment_added_wan"]
        entry["projects"] += 1
    category_order = data.seed_order("project_targets", "industry_category")
    investment_by_category = sorted(
        by_category.values(),
        key=lambda e: (category_order.get(e["industry_category"], len(category_order)), e["industry_category"]),
    )

    alerts = data.open_alerts(conn, window_start, window_end)
    latest_notes = notes(conn, [a["alert_key"] for a in alerts], latest=LATEST_NOTES)
    for alert in alerts:
        alert["notes"] = latest_notes.get(alert["alert_key"], [])
        alert["measure_text"], alert["gap_text"] = measure_texts(alert)
        alert["status_text"] = _status_text(alert)
    per_leader = _per_leader(alerts)
    levels = {"red": sum(a["level"] == "red" for a in alerts), "yellow": sum(a["level"] == "yellow" for a in alerts)}

    issues_as_of = data.newest_upto(conn, "mart_issue_monitoring", as_of)
    issues = data.overdue_issues(conn, issues_as_of)
    stale = data.stale_projects(conn, as_of)
    resolved = data.closed_alerts(conn, ("resolved_by_data",), window_start, window_end)
    targets = data.project_targets(conn, as_of)

    report_charts = {}
    if per_leader:
        report_charts["warnings_per_leader"] = charts.warnings_per_leader_chart(per_leader)
    if investment_by_category:
        report_charts["investment_added"] = charts.investment_added_chart(investment_by_category)

    period_label = cn_date(as_of)
    title = f"胶州市经济运行周调度（{period_label}）"
    content = {
        "as_of": as_of,
        "previous_ledger": previous,
        "ledger": data.ledger_size(conn, as_of),
        "movements": movements,
        "new_starts": new_starts,
        "stage_changes": stage_changes,
        "added_projects": added,
        "dropped_projects": dropped,
        "investment_movers": invested,
        "investment_added_total_wan": sum((m["investment_added_wan"] for m in invested), 0),
        "investment_by_category": investment_by_category,
        "open_alerts": alerts,
        "open_alert_levels": levels,
        "new_alerts": [a for a in alerts if a["change"] == "new"],
        "worsened_alerts": [a for a in alerts if a["change"] == "worsened"],
        "claimed_alerts": [a for a in alerts if a["status"] == "claimed"],
        "alerts_per_leader": per_leader,
        "issues_as_of": issues_as_of,
        "overdue_issues": issues,
        "overdue_issues_by_unit": data.group_issues_by_unit(issues),
        "stale_projects": stale,
        "stale_threshold_days": data.stale_threshold_days(conn),
        "resolved_by_data": resolved,
        "project_targets": targets,
        "window_start": window_start,
        "window_end": window_end,
    }
    return render(conn, KIND, period, period_label, title, content, report_charts)
