"""Every row of the spec's "A warning's life", driven by real deliveries (corrected reports built into the
marts by dbt), leaders acting through the CLI between runs, and real mail received by an SMTP server.

Only times are set by hand (a first mail backdated so that escalation days pass); the marts never are.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from econ_monitor import pipeline
from econ_monitor.cli import main as cli
from econ_monitor.transform import run_dbt
from econ_monitor.wording import describe, num
from tests.conftest import SAMPLE, Mailbox
from tests.support import load, load_and_build, noted_events, rows

INDUSTRY = "industry-vice-mayor@jiaozhou.example"  # L03, escalates to L02
TECH = "tech-vice-mayor@jiaozhou.example"  # L05, escalates to L02
EXEC = "exec-vice-mayor@jiaozhou.example"  # L02
INDUSTRY_VA = "indicator_off_target:industrial_va:2025"  # 规模以上工业增加值: 7.8% against 9%, yellow
DIGITAL = "indicator_off_target:digital_core_va:2025"  # 数字经济核心产业增加值: red


# Every test starts from the sample delivery loaded and the marts built (`warehouse` is a copy of it).
pytestmark = pytest.mark.sample_built


def _run() -> dict:
    return {**pipeline.raise_alerts(), **pipeline.deliver_mail()}


def _main_report(tmp_path: Path, name: str, changes: dict[str, float], period: tuple[int, int] = (2025, 9)) -> Path:
    """The sample's 主要经济指标月报 with some YTD growth rates changed, as a newer delivery (a correction
    supersedes the earlier file of its period), or re-dated to another period."""
    landing = tmp_path / name
    (landing / "tjj").mkdir(parents=True)
    workbook = openpyxl.load_workbook(SAMPLE / "tjj" / "胶州市主要经济指标_2025年1-9月.xlsx")
    sheet = workbook.active
    year, month = period
    sheet["A2"].value = f"（{year}年1-{month}月）"
    sheet["C3"].value, sheet["E3"].value = f"{month}月", f"1-{month}月"
    for row in sheet.iter_rows(min_row=5):
        if row[0].value in changes:
            row[5].value = changes[row[0].value]
    workbook.save(landing / "tjj" / f"胶州市主要经济指标_{year}年1-{month}月（{name}）.xlsx")
    return landing


def _deliver(conn, url: str, tmp_path: Path, name: str, changes: dict[str, float]) -> dict:
    load_and_build(conn, url, _main_report(tmp_path, name, changes))
    return _run()


def _events(conn, key: str) -> list[tuple]:
    return rows(
        conn,
        "SELECT event_type, level, episode FROM monitor.alert_events WHERE alert_key = %s ORDER BY event_id",
        (key,),
    )


def _mentions(message, name: str) -> bool:
    return name in Mailbox.text(message)


def test_improve_then_worsen_is_mailed_again(conn, warehouse, mailbox, tmp_path):
    _run()
    assert len(mailbox.to(INDUSTRY)) == 1
    worse = _deliver(conn, warehouse, tmp_path, "red", {"规模以上工业增加值": 6.5})
    assert worse["worsened"] == 1 and len(mailbox.to(INDUSTRY)) == 2
    better = _deliver(conn, warehouse, tmp_path, "yellow", {"规模以上工业增加值": 7.5})
    assert better["digests_queued"] == 0 and len(mailbox.to(INDUSTRY)) == 2  # an improvement is not mailed
    again = _deliver(conn, warehouse, tmp_path, "red-again", {"规模以上工业增加值": 6.4})
    assert again["worsened"] == 1 and again["digests_queued"] == 1
    mails = mailbox.to(INDUSTRY)
    assert len(mails) == 3 and "红色1项" in mails[-1]["Subject"]
    assert "实际 6.4%，目标 9%，差 -2.6 个百分点" in Mailbox.text(mails[-1])
    assert [e for e, _, _ in _events(conn, INDUSTRY_VA)] == [
        "opened",
        "notified",
        "worsened",
        "notified",
        "improved",
        "worsened",
        "notified",
    ]
    # A re-run queues nothing twice.
    assert _run()["digests_queued"] == 0 and len(mailbox.to(INDUSTRY)) == 3


def test_recovery_then_new_episode_and_escalation_once_per_episode(conn, warehouse, mailbox, tmp_path):
    _run()
    assert any(_mentions(m, "数字经济核心产业增加值") for m in mailbox.to(TECH))
    # Unclaimed for longer than ECON_ESCALATION_DAYS (3) after the episode's first mail: escalated once.
    conn.execute("UPDATE monitor.alerts SET episode_notified_at = episode_notified_at - interval '4 days'")
    first = _run()
    escalations = [m for m in mailbox.to(EXEC) if "督办" in m["Subject"]]
    assert first["escalations_queued"] >= 1 and any(_mentions(m, "数字经济核心产业增加值") for m in escalations)
    assert _run()["escalations_queued"] == 0

    sent_before = len(mailbox.messages)
    recovered = _deliver(conn, warehouse, tmp_path, "green", {"数字经济核心产业增加值": 15.5})
    assert recovered["resolved"] == 1 and len(mailbox.messages) == sent_before  # closing by data is not mailed
    assert rows(conn, "SELECT status, closed_by FROM monitor.alerts WHERE alert_key = %s", (DIGITAL,)) == [
        ("closed", "data")
    ]

    tech_mails = len(mailbox.to(TECH))
    reopened = _deliver(conn, warehouse, tmp_path, "red-again", {"数字经济核心产业增加值": 1.0})
    assert reopened["reopened"] == 1 and reopened["escalations_queued"] == 0  # its leader is told first
    assert len(mailbox.to(TECH)) == tech_mails + 1 and _mentions(mailbox.to(TECH)[-1], "数字经济核心产业增加值")
    (alert,) = rows(
        conn,
        """SELECT episode, status, escalated_at IS NULL, claimed_by FROM monitor.alerts
                             WHERE alert_key = %s""",
        (DIGITAL,),
    )
    assert alert == (2, "open", True, None)

    # The second episode escalates once, counted from its own first mail, and only this warning.
    conn.execute(
        "UPDATE monitor.alerts SET episode_notified_at = episode_notified_at - interval '4 days' WHERE alert_key = %s",
        (DIGITAL,),
    )
    second = _run()
    assert second["escalations_queued"] == 1
    escalation = [m for m in mailbox.to(EXEC) if "督办" in m["Subject"]][-1]
    assert "1项红色预警" in escalation["Subject"] and _mentions(escalation, "数字经济核心产业增加值")
    assert _run()["escalations_queued"] == 0
    assert [(e, ep) for e, _, ep in _events(conn, DIGITAL) if e in ("opened", "reopened", "escalated")] == [
        ("opened", 1),
        ("escalated", 1),
        ("reopened", 2),
        ("escalated", 2),
    ]


def test_a_leaders_close_holds_until_worse(conn, warehouse, mailbox, tmp_path, capsys):
    _run()
    assert cli(["alerts", "claim", INDUSTRY_VA, "--leader", "L03", "--actor", "王副市长", "--note", "工信局牵头"]) == 0
    assert (
        cli(["alerts", "feedback", INDUSTRY_VA, "--leader", "L03", "--actor", "王副市长", "--note", "三家企业技改投产"])
        == 0
    )
    assert cli(["alerts", "close", INDUSTRY_VA, "--leader", "L03", "--actor", "王副市长", "--note", "已专题调度"]) == 0
    # Feedback needs a claimed warning; another leader cannot act on it.
    assert cli(["alerts", "feedback", INDUSTRY_VA, "--leader", "L03", "--note", "x"]) == 2
    assert cli(["alerts", "claim", INDUSTRY_VA, "--leader", "L04"]) == 2

    mails = len(mailbox.to(INDUSTRY))
    same = _deliver(conn, warehouse, tmp_path, "still-yellow", {"规模以上工业增加值": 7.6})
    assert same["reopened"] == 0 and len(mailbox.to(INDUSTRY)) == mails
    assert rows(conn, "SELECT status FROM monitor.alerts WHERE alert_key = %s", (INDUSTRY_VA,)) == [("closed",)]

    worse = _deliver(conn, warehouse, tmp_path, "red", {"规模以上工业增加值": 6.5})
    assert worse["reopened"] == 1 and len(mailbox.to(INDUSTRY)) == mails + 1
    assert "规模以上工业增加值" in Mailbox.text(mailbox.to(INDUSTRY)[-1])
    assert rows(conn, "SELECT status, episode, level FROM monitor.alerts WHERE alert_key = %s", (INDUSTRY_VA,)) == [
        ("open", 2, "red")
    ]

    capsys.readouterr()
    assert cli(["alerts", "show", INDUSTRY_VA]) == 0
    shown = capsys.readouterr().out
    for expected in (
        "claimed",
        "王副市长：工信局牵头",
        "feedback",
        "三家企业技改投产",
        "closed",
        "已专题调度",
        "reopened",
        "实际 6.5%，目标 9%，差 -2.5 个百分点",
    ):
        assert expected in shown, (expected, shown)
    assert noted_events(conn, INDUSTRY_VA) == [
        ("claimed", "王副市长", "工信局牵头"),
        ("feedback", "王副市长", "三家企业技改投产"),
        ("closed", "王副市长", "已专题调度"),
    ]


def test_the_next_years_data_close_last_years_warnings_without_mail(conn, warehouse, mailbox, tmp_path):
    _run()
    open_2025 = {
        k
        for (k,) in rows(
            conn,
            """SELECT alert_key FROM monitor.alerts WHERE status <> 'closed'
                                             AND entity_type = 'indicator' AND year = 2025 AND domain = 'indicators/tjj'""",
        )
    }
    carried = {
        k
        for (k,) in rows(
            conn,
            "SELECT alert_key FROM monitor.alerts WHERE status <> 'closed' AND entity_type IN ('project', 'issue', 'enterprise')",
        )
    }
    assert INDUSTRY_VA in open_2025 and carried

    # 统计局's 1-2月 report of 2026, judged against 2026 targets (here the 2025 ones, delivered again).
    load(conn, _main_report(tmp_path, "2026", {}, period=(2026, 2)))
    run_dbt(["seed"], warehouse)
    conn.execute("""INSERT INTO reference.targets (year, indicator_code, target_value, baseline_value, is_assessment_target, target_source)
                    SELECT 2026, indicator_code, target_value, baseline_value, is_assessment_target, 'test: 2026'
                    FROM reference.targets WHERE year = 2025""")
    run_dbt(["run"], warehouse)
    before = len(mailbox.messages)
    outcome = _run()

    ended = {k for (k,) in rows(conn, "SELECT alert_key FROM monitor.alerts WHERE closed_by = 'year_ended'")}
    assert INDUSTRY_VA in ended and ended <= open_2025
    assert outcome["year_ended"] == len(ended) and outcome["resolved"] == 0
    assert [e for e, _, _ in _events(conn, INDUSTRY_VA)][-1] == "year_ended"
    # Project, issue and enterprise warnings carry on under the same key.
    assert carried <= {k for (k,) in rows(conn, "SELECT alert_key FROM monitor.alerts WHERE status <> 'closed'")}
    # The new mails are about 2026 only: nothing says a 2025 warning recovered.
    new_mails = mailbox.messages[before:]
    assert new_mails and all("2025年1-9月" not in Mailbox.text(m) for m in new_mails)
    assert rows(
        conn, "SELECT level FROM monitor.alerts WHERE alert_key = 'indicator_off_target:industrial_va:2026'"
    ) == [("yellow",)]
    # A year that ended stays closed on the next run.
    assert _run()["reopened"] == 0 and rows(
        conn, "SELECT status FROM monitor.alerts WHERE alert_key = %s", (INDUSTRY_VA,)
    ) == [("closed",)]
    from econ_monitor.reports.weekly import weekly_dispatch

    assert not {r["alert_key"] for r in weekly_dispatch(conn).data["resolved_by_data"]} & ended


def test_every_figure_in_a_digest_is_the_marts(conn, mailbox):
    """For a warning of every rule: the digest prints the mart's measure, target, gap, pace and days,
    formatted by wording.num (day counts with their zeros)."""
    _run()
    mart = conn.execute(
        """SELECT DISTINCT ON (m.rule_code) m.*, l.email
           FROM marts.mart_current_warnings AS m JOIN reference.leaders AS l USING (leader_code)
           WHERE m.level IN ('yellow', 'red')
           ORDER BY m.rule_code, (m.measure_value = round(m.measure_value, -1)) DESC, m.alert_key"""
    ).fetchall()
    columns = [c.name for c in conn.execute("SELECT * FROM marts.mart_current_warnings LIMIT 0").description] + [
        "email"
    ]
    covered = set()
    for values in mart:
        row = dict(zip(columns, values, strict=False))
        line, gap = describe(row)
        body = "".join(Mailbox.text(m) for m in mailbox.to(row["email"]))
        assert line in body, (row["alert_key"], line)
        assert gap is None or gap in body, (row["alert_key"], gap)
        for figure in (
            "measure_value",
            "target_value",
            "gap_to_time_progress",
            "gap_to_target",
            "pace_needed_per_month",
        ):
            if row[figure] is not None and row["measure_unit"] != "天":
                assert num(row[figure]) in body, (row["alert_key"], figure)
        if row["measure_unit"] == "天":  # day counts are whole numbers and print as such
            assert f" {int(row['measure_value'])} 天" in line
        assert rows(
            conn,
            "SELECT measure_value, target_value, target_source FROM monitor.alerts WHERE alert_key = %s",
            (row["alert_key"],),
        ) == [(row["measure_value"], row["target_value"], row["target_source"])]
        covered.add(row["rule_code"])
    assert covered >= {
        "indicator_off_target",
        "chain_output_behind",
        "project_count_behind",
        "project_overdue_start",
        "issue_overdue",
        "enterprise_decline",
    }, covered


def test_open_warnings_get_fresh_links_before_the_mailed_ones_expire(conn, mailbox):
    """Links expire after ECON_LINK_TTL_DAYS (14); two days before, the leader gets one reminder with fresh
    claim/close links for the warnings still open or claimed, and not again until those near expiry."""
    import re
    from urllib.parse import parse_qs, urlparse

    from econ_monitor.alerts.links import verify
    from econ_monitor.settings import load_settings

    _run()
    assert cli(["alerts", "close", DIGITAL, "--leader", "L05"]) == 0
    conn.execute(
        "UPDATE monitor.alerts SET links_sent_at = links_sent_at - interval '12 days 1 hour' WHERE leader_code = 'L05'"
    )
    outcome = _run()
    assert outcome["reminders_queued"] == 1 and outcome["digests_queued"] == 0
    (reminder,) = [m for m in mailbox.to(TECH) if "链接更新" in m["Subject"]]
    body = Mailbox.text(reminder)
    still_open = {
        k
        for (k,) in rows(conn, "SELECT alert_key FROM monitor.alerts WHERE leader_code = 'L05' AND status <> 'closed'")
    }
    settings = load_settings()
    tokens = [parse_qs(urlparse(url).query)["token"][0] for url in re.findall(r"领任务：(\S+)", body)]
    linked = {verify(settings.link_secret, token, settings.link_ttl_days * 86400).alert_key for token in tokens}
    assert linked == still_open and DIGITAL not in linked and "数字经济核心产业增加值" not in body
    assert _run()["reminders_queued"] == 0
    assert rows(conn, "SELECT count(*) FROM monitor.alert_events WHERE event_type = 'links_renewed'") == [
        (len(still_open),)
    ]


def test_migration_keeps_project_warnings_and_their_history_under_the_yearless_key(server_url):
    """A warehouse upgraded from 0002: a project warning keyed with its year keeps its history under the key
    the mart now writes; its figures move from `details` into columns; downgrading restores both."""
    import os

    import psycopg
    from alembic import command
    from alembic.config import Config
    from psycopg import sql

    from econ_monitor.schema import MIGRATIONS_DIR
    from econ_monitor.warehouse import sqlalchemy_url

    name = f"test_{os.getpid()}_migration"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = server_url.replace("/econ?", f"/{name}?")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    command.upgrade(config, "0002")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("""INSERT INTO monitor.alerts (alert_key, rule_code, entity_type, entity_code, domain, year, level,
                            leader_code, measure_value, details)
                        VALUES ('project_stale:P1:2025', 'project_stale', 'project', 'P1', 'projects', 2025, 'red', 'L03', 60,
                                '{"measure_unit": "天", "deviation_pp": null}'),
                               ('indicator_off_target:gdp:2025', 'indicator_off_target', 'indicator', 'gdp', 'indicators/tjj',
                                2025, 'yellow', 'L01', 5.4, '{"measure_unit": "%", "deviation_pp": "-0.2"}')""")
        conn.execute("""INSERT INTO monitor.alert_events (alert_key, event_type, level)
                        VALUES ('project_stale:P1:2025', 'opened', 'red'), ('indicator_off_target:gdp:2025', 'opened', 'yellow')""")
        command.upgrade(config, "head")
        assert rows(
            conn, "SELECT alert_key, episode, measure_unit, deviation_pp FROM monitor.alerts ORDER BY alert_key"
        ) == [("indicator_off_target:gdp:2025", 1, "%", Decimal("-0.2")), ("project_stale:P1", 1, "天", None)]
        assert rows(conn, "SELECT alert_key FROM monitor.alert_events ORDER BY alert_key") == [
            ("indicator_off_target:gdp:2025",),
            ("project_stale:P1",),
        ]
        command.downgrade(config, "0002")
        assert rows(
            conn,
            "SELECT a.alert_key, a.details->>'deviation_pp' FROM monitor.alerts AS a JOIN monitor.alert_events USING (alert_key) ORDER BY 1",
        ) == [("indicator_off_target:gdp:2025", "-0.2"), ("project_stale:P1:2025", None)]
