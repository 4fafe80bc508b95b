"""The words and numbers leaders read, in one place for the mails and the reports.

One number formatter (`num`), so that a figure prints the same in a digest, an escalation and the weekly
dispatch; the level labels; the rule labels, which are reference data (the `rule_label` column of the
seed `warning_rules`, read from the warehouse); and `describe()`, which puts a warning's figures in the
words of the work plan. Every figure `describe()` prints is a column of `monitor.alerts` copied from
`marts.mart_current_warnings`, formatted by `num` and nothing else.
"""

from __future__ import annotations

from decimal import Decimal

import psycopg

MISSING = "—"
# A leader's note is named after the action it came with (work plan 四(一) 派单—响应—对接—反馈, 销号制度).
NOTE_LABELS = {"claimed": "措施", "feedback": "反馈", "closed": "销号"}
LEVEL_LABELS = {"red": "红色", "yellow": "黄色", "green": "绿色", "no_data": "无数据", "no_target": "无目标"}


def num(value: object, digits: int = 2) -> str:
    """A figure with thousands separators and at most `digits` decimals, trailing decimal zeros dropped.

    Only zeros after the decimal point go: 30 stays "30" and 120 "120" (the digest once printed 30 days as
    "3"). Missing is "—", never 0; -0 prints as "0".
    """
    if value is None:
        return MISSING
    text = f"{Decimal(str(value)):,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def signed(value: object, digits: int = 2) -> str:
    """`num` with an explicit + on positive figures (deviations in the bulletin)."""
    text = num(value, digits)
    return text if text in (MISSING, "0") or text.startswith("-") else f"+{text}"


def level_label(level: str | None) -> str:
    return LEVEL_LABELS.get(level or "no_data", level or "")


def rule_labels(conn: psycopg.Connection) -> dict[str, str]:
    """rule_code → its label, from the seed `warning_rules` as loaded into the warehouse."""
    return dict(
        conn.execute("SELECT rule_code, min(rule_label) FROM reference.warning_rules GROUP BY rule_code").fetchall()
    )


def describe(alert: dict) -> tuple[str, str | None]:
    """(what is measured, the gap and the pace needed) in the words of the work plan.

    `alert` is a row of monitor.alerts (or anything with its figure columns).
    """
    rule, unit = alert["rule_code"], alert.get("measure_unit") or ""
    measure, target, deviation = alert["measure_value"], alert["target_value"], alert.get("deviation_pp")
    to_time, to_target = alert.get("gap_to_time_progress"), alert.get("gap_to_target")
    if rule == "indicator_off_target" and unit == "%":
        line = f"实际 {num(measure)}%，目标 {num(target)}%，差 {num(deviation)} 个百分点"
        needed = alert.get("growth_needed_rest_of_year_pct")
        gap = f"全年目标缺口 {num(to_target)} 个百分点" + (
            f"；其余月份需增长 {num(needed)}%" if needed is not None else ""
        )
        return line, gap
    if rule in ("indicator_off_target", "chain_output_behind", "project_count_behind"):
        line = f"累计 {num(measure)} {unit}，目标 {num(target)} {unit}，较时序进度偏差 {num(deviation)} 个百分点"
        parts = []
        if to_time is not None:
            parts.append(f"较时序进度缺 {num(to_time)} {unit}")
        if to_target is not None:
            parts.append(f"距全年目标缺 {num(to_target)} {unit}")
        if alert.get("pace_needed_per_month") is not None:
            parts.append(f"剩余月份每月需完成 {num(alert['pace_needed_per_month'])} {unit}")
        return line, "；".join(parts) or None
    if rule == "project_investment_behind":
        line = f"投资完成进度与时序进度之比 {num(measure)}（年度计划 {num(target)} 万元）"
        gap = None if to_time is None else f"较时序进度缺 {num(to_time)} 万元；距年度计划缺 {num(to_target)} 万元"
        return line, gap
    if rule == "project_overdue_start":
        return f"计划开工日期已过 {num(measure, 0)} 天，尚未开工", None
    if rule == "project_stale":
        return f"已连续 {num(measure, 0)} 天无投资、阶段或形象进度变化", None
    if rule == "issue_overdue":
        return f"超过办结时限 {num(measure, 0)} 天仍未销号", None
    if rule == "enterprise_decline":
        return f"累计产值同比 {num(measure, 1)}%", None
    return f"{num(measure)} {unit}", None
