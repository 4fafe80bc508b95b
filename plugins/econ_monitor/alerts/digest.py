"""Compose the mails leaders read: one digest per leader per run with that leader's new and worsened
warnings (red first), escalations of unclaimed red warnings, and the data team's mails.

Composing and marking warnings as notified happen in one transaction with queueing the mail in the
outbox, so a crash can neither lose a digest nor queue it twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from econ_monitor.alerts.links import action_url
from econ_monitor.alerts.outbox import Mail, enqueue
from econ_monitor.alerts.state import domain_patterns
from econ_monitor.reference import DATA_TEAM, leader
from econ_monitor.settings import Settings
from econ_monitor.templating import template_environment

RULE_LABELS = {
    "indicator_off_target": "指标未达目标",
    "chain_output_behind": "产业链产值落后于时序进度",
    "project_count_behind": "招商项目数落后于时序进度",
    "project_overdue_start": "项目逾期未开工",
    "project_investment_behind": "项目投资进度滞后",
    "project_stale": "项目停滞未推进",
    "issue_overdue": "问题逾期未销号",
    "enterprise_decline": "重点企业产值下降",
}
LEVEL_LABELS = {"red": "红色预警", "yellow": "黄色预警"}

_templates = template_environment(Path(__file__).parent / "templates")


def _num(value: object, digits: int = 2) -> str:
    if value is None:
        return "—"
    number = Decimal(str(value))
    text = f"{number:,.{digits}f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


def describe(alert: dict) -> tuple[str, str | None]:
    """(what is measured, the gap and the pace needed) in the words of the work plan."""
    details, rule = alert["details"], alert["rule_code"]
    measure, target, unit = alert["measure_value"], alert["target_value"], details.get("measure_unit") or ""
    deviation = details.get("deviation_pp")
    if rule == "indicator_off_target" and unit == "%":
        line = f"实际 {_num(measure)}%，目标 {_num(target)}%，差 {_num(deviation)} 个百分点"
        needed = details.get("growth_needed_rest_of_year_pct")
        gap = f"全年目标缺口 {_num(details.get('gap_to_target'))} 个百分点" + (
            f"；其余月份需增长 {_num(needed)}%" if needed is not None else ""
        )
        return line, gap
    if rule in ("indicator_off_target", "chain_output_behind", "project_count_behind"):
        line = f"累计 {_num(measure)} {unit}，目标 {_num(target)} {unit}，较时序进度偏差 {_num(deviation)} 个百分点"
        parts = []
        if details.get("gap_to_time_progress") is not None:
            parts.append(f"较时序进度缺 {_num(details['gap_to_time_progress'])} {unit}")
        if details.get("gap_to_target") is not None:
            parts.append(f"距全年目标缺 {_num(details['gap_to_target'])} {unit}")
        if details.get("pace_needed_per_month") is not None:
            parts.append(f"剩余月份每月需完成 {_num(details['pace_needed_per_month'])} {unit}")
        return line, "；".join(parts) or None
    if rule == "project_investment_behind":
        line = f"投资完成进度与时序进度之比 {_num(measure, 2)}（年度计划 {_num(target)} 万元）"
        gap = None
        if details.get("gap_to_time_progress") is not None:
            gap = (f"较时序进度缺 {_num(details['gap_to_time_progress'])} 万元；"
                   f"距年度计划缺 {_num(details.get('gap_to_target'))} 万元")
        return line, gap
    if rule == "project_overdue_start":
        return f"计划开工日期已过 {_num(measure, 0)} 天，尚未开工", None
    if rule == "project_stale":
        return f"已连续 {_num(measure, 0)} 天无投资、阶段或形象进度变化", None
    if rule == "issue_overdue":
        return f"超过办结时限 {_num(measure, 0)} 天仍未销号", None
    if rule == "enterprise_decline":
        return f"累计产值同比 {_num(measure, 1)}%", None
    return f"{_num(measure)} {unit}", None


@dataclass(frozen=True)
class DigestItem:
    alert_key: str
    level: str
    level_label: str
    rule_label: str
    entity_code: str
    entity_name: str
    period_label: str
    measure: str
    gap: str | None
    status: str
    claim_url: str | None
    close_url: str | None
    # reports.gaps: where the year will end (chains, cumulative and stock indicators), and a chain
    # warning's key enterprises that fell most
    projection: str | None = None
    drags: tuple[str, ...] = ()


def _items(alerts: list[dict], settings: Settings, addressee: str,
           notes: tuple[dict, dict] = ({}, {})) -> list[DigestItem]:
    projections, drags = notes
    items = []
    for alert in sorted(alerts, key=lambda a: (a["level"] != "red", a["rule_code"], a["entity_code"])):
        measure, gap = describe(alert)
        links = settings.link_secret and addressee == alert["leader_code"]
        items.append(
            DigestItem(
                alert_key=alert["alert_key"],
                level=alert["level"],
                level_label=LEVEL_LABELS[alert["level"]],
                rule_label=RULE_LABELS.get(alert["rule_code"], alert["rule_code"]),
                entity_code=alert["entity_code"],
                entity_name=alert["entity_name"] or alert["entity_code"],
                period_label=alert["period_label"] or "",
                measure=measure,
                gap=gap,
                status={"open": "待认领", "claimed": f"已由 {alert['claimed_by']} 认领", "closed": "已销号"}[alert["status"]],
                claim_url=action_url(settings.link_base_url, settings.link_secret, "claim", alert["alert_key"], addressee)
                if links and alert["status"] == "open" else None,
                close_url=action_url(settings.link_base_url, settings.link_secret, "close", alert["alert_key"], addressee)
                if links else None,
                projection=projections.get(alert["alert_key"]),
                drags=drags.get(alert["alert_key"], ()),
            )
        )
    return items


def _render(template: str, **context) -> tuple[str, str]:
    html = _templates.get_template(f"{template}.html").render(**context)
    text = _templates.get_template(f"{template}.txt").render(**context)
    return text, html


def _digest_key(prefix: str, alerts: list[dict]) -> str:
    fingerprint = "|".join(sorted(f"{a['alert_key']}={a['level']}" for a in alerts))
    return f"{prefix}:{hashlib.sha256(fingerprint.encode()).hexdigest()[:32]}"


def _period(alerts: list[dict]) -> str:
    labels = sorted({a["period_label"] for a in alerts if a["period_label"]})
    return labels[-1] if labels else ""


def queue_digests(conn: psycopg.Connection, settings: Settings, withheld_domains: tuple[str, ...] = ()) -> list[int]:
    """One digest per leader with that leader's new and worsened warnings; returns the queued message ids."""
    queued = []
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        due = cur.execute(
            """SELECT * FROM monitor.alerts
               WHERE status <> 'closed' AND level IN ('yellow', 'red') AND NOT (domain LIKE ANY(%s))
                 AND (last_notified_level IS NULL
                      OR (level = 'red' AND last_notified_level = 'yellow'))
               ORDER BY leader_code, alert_key
               FOR UPDATE""",
            (domain_patterns(withheld_domains),),
        ).fetchall()
        by_leader: dict[str, list[dict]] = {}
        for alert in due:
            by_leader.setdefault(alert["leader_code"], []).append(alert)
        for leader_code, alerts in by_leader.items():
            recipient = leader(leader_code)
            reds = sum(a["level"] == "red" for a in alerts)
            yellows = len(alerts) - reds
            period = _period(alerts)
            subject = f"【经济运行监测预警】{period} 红色{reds}项 黄色{yellows}项 — {recipient.title}"
            text, html = _render(
                "digest", recipient=recipient, period=period, reds=reds, yellows=yellows,
                items=_items(alerts, settings, leader_code, _gap_notes(conn, alerts, withheld_domains)),
                heading="本期新增及升级的预警",
            )
            mail = Mail("digest", _digest_key(f"digest:{leader_code}", alerts), leader_code, subject, text, html,
                        tuple(a["alert_key"] for a in alerts))
            queued += _queue_for_alerts(
                cur, mail, alerts, "notified",
                "UPDATE monitor.alerts SET last_notified_at = now(), last_notified_level = level WHERE alert_key = %s",
            )
    return queued


def _gap_notes(conn: psycopg.Connection, alerts: list[dict], withheld_domains: tuple[str, ...]) -> tuple[dict, dict]:
    """Beside each gap: where the year will end, and for a chain warning the three key enterprises that fell
    most (name, change, growth, 包挂领导) -- none while the enterprise report is withheld by the gate."""
    from econ_monitor.reports.gaps import chain_drags, drag_line, warning_projections  # reports import this module

    projections = warning_projections(conn, [a["alert_key"] for a in alerts])
    if "enterprises" in withheld_domains:
        return projections, {}
    return projections, {a["alert_key"]: tuple(drag_line(row) for row in chain_drags(conn, a["entity_code"], a["year"]))
                         for a in alerts if a["rule_code"] == "chain_output_behind"}


def _queue_for_alerts(cur: psycopg.Cursor, mail: Mail, alerts: list[dict], event_type: str, mark_sql: str) -> list[int]:
    """Queue one mail about these alerts, mark each alert and record the event, all in the caller's
    transaction: a mail is either queued with its alerts marked, or neither."""
    message_id = enqueue(cur, mail)
    if message_id is None:  # already queued by an earlier run
        return []
    for alert in alerts:
        cur.execute(mark_sql, (alert["alert_key"],))
        cur.execute(
            """INSERT INTO monitor.alert_events (alert_key, event_type, level, details)
               VALUES (%s, %s, %s, jsonb_build_object('to', %s::text, 'message_id', %s::bigint))""",
            (alert["alert_key"], event_type, alert["level"], mail.recipient_code, message_id),
        )
    return [message_id]


def queue_escalations(conn: psycopg.Connection, settings: Settings) -> list[int]:
    """A red warning nobody claimed within ECON_ESCALATION_DAYS of its mail goes to the leader above."""
    queued = []
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        overdue = cur.execute(
            """SELECT * FROM monitor.alerts
               WHERE status = 'open' AND level = 'red' AND escalated_at IS NULL
                 AND last_notified_at <= now() - make_interval(days => %s)
               ORDER BY leader_code, alert_key FOR UPDATE""",
            (settings.escalation_days,),
        ).fetchall()
        by_target: dict[str, list[dict]] = {}
        for alert in overdue:
            target = leader(alert["leader_code"]).escalates_to
            if target:
                by_target.setdefault(target, []).append(alert)
        for target, alerts in by_target.items():
            recipient = leader(target)
            period = _period(alerts)
            subject = f"【经济运行监测预警·督办】{period} {len(alerts)}项红色预警超过{settings.escalation_days}天未认领 — {recipient.title}"
            heading = f"以下红色预警发出后超过 {settings.escalation_days} 天无人认领，请督促责任领导认领"
            text, html = _render("digest", recipient=recipient, period=period, reds=len(alerts), yellows=0,
                                 items=_items(alerts, settings, target), heading=heading)
            mail = Mail("escalation", _digest_key(f"escalation:{target}", alerts), target, subject, text, html,
                        tuple(a["alert_key"] for a in alerts))
            queued += _queue_for_alerts(
                cur, mail, alerts, "escalated", "UPDATE monitor.alerts SET escalated_at = now() WHERE alert_key = %s"
            )
    return queued


def queue_data_team_mail(cur: psycopg.Cursor, dedupe_key: str, subject: str, heading: str,
                         problems: list[dict]) -> int | None:
    """Data problems go to the data team (DT0) only, never to leaders.

    Each problem is a dict with `what`, `where` and `detail` (all shown escaped).
    """
    recipient = leader(DATA_TEAM)
    text, html = _render("data_team", recipient=recipient, heading=heading, problems=problems)
    return enqueue(cur, Mail("data_team", dedupe_key, DATA_TEAM, subject, text, html))


