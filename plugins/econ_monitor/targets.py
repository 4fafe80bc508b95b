"""A year without targets is not green: its measures are `no_target` (the marts), no leader hears of them,
and the data team is told once per year and missing sheet of the 年度目标任务表 until the file arrives.

Which sheets are missing is decided in SQL (the mart `marts.mart_missing_targets`); this module only words
and queues the data team's mail, through the outbox like every mail (recorded before it is sent).
"""

from __future__ import annotations

import psycopg

from econ_monitor.alerts.digest import queue_data_team_mail

SHEET_MEASURES = {
    "指标目标": "主要经济指标",
    "产业链目标": "重点产业链产业规模",
    "招商目标": "新签约、新开工项目数（分产业类别）",
}


def queue_missing_target_mails(conn: psycopg.Connection) -> list[str]:
    """Queue one mail to DT0 per year and missing target sheet (dedupe key `no_target:<year>:<sheet>`, so
    later runs queue nothing again); the subjects of the mails queued now."""
    missing = conn.execute(
        "SELECT year, sheet, target_file FROM marts.mart_missing_targets ORDER BY year, sheet"
    ).fetchall()
    queued = []
    with conn.transaction(), conn.cursor() as cur:
        for year, sheet, target_file in missing:
            subject = f"{year}年{sheet}未报送"
            where = (
                f"已报送的 {target_file} 缺少“{sheet}”工作表"
                if target_file
                else f"落地目录中没有 {year} 年的《年度目标任务表》（发改局 fgj）"
            )
            detail = (
                f"{year}年{SHEET_MEASURES.get(sheet, sheet)}没有目标，不作预警判断（no_target，"
                "不沿用上年目标、不按零计），领导不会收到这些指标的预警。请发改局报送或补全目标任务表。"
            )
            message_id = queue_data_team_mail(
                cur,
                f"no_target:{year}:{sheet}",
                f"【目标未报送】{subject}",
                f"{year}年的年度目标尚未报送，相关监测项暂无法判断：",
                [{"what": subject, "where": where, "detail": detail}],
            )
            if message_id is not None:
                queued.append(subject)
    return queued
