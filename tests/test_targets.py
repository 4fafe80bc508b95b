"""Targets are data the 发改局 delivers (年度目标任务表, file type 7): they load like every file, a year without
them is no_target (never green, never last year's) with one mail to the data team per missing sheet, a
delivered file judges its year, and a re-delivered (年中调整) file changes levels from then on while the
earlier file stays in raw."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl

from econ_monitor import pipeline
from econ_monitor.reference import seed
from econ_monitor.settings import PROJECT_DIR
from econ_monitor_demo import ADJUSTMENT_PP, generate
from tests.support import load, load_and_build, rows

SAMPLE_TARGETS = PROJECT_DIR / "demo_data" / "targets"
DATA_TEAM = "data-team@jiaozhou.example"
SHEETS = ("指标目标", "产业链目标", "招商目标")


def _number(text: str) -> Decimal | None:
    return Decimal(text) if text else None


def _copy_months(source: Path, landing: Path, *months: str) -> None:
    """Deliver generated months into one growing landing area, as departments fill it month after month."""
    for month in months:
        shutil.copytree(source / month, landing, dirs_exist_ok=True)


def test_the_sample_target_file_loads_and_equals_the_seeds(conn, warehouse):
    results = load_and_build(conn, warehouse, SAMPLE_TARGETS)
    assert [(r.status, r.report_type, r.period, r.rows) for r in results] == [("loaded", "annual_targets", "2025", 44)]

    delivered = {
        (code, assessed): (value, baseline)
        for code, assessed, value, baseline, origin, source in rows(
            conn,
            """SELECT indicator_code, is_assessment_target, target_value, baseline_value, target_origin,
                            target_source FROM intermediate.int_targets__indicators WHERE year = 2025""",
        )
        if origin == "delivered" and source.startswith("fgj/胶州市2025年经济运行主要目标任务表.xlsx 第")
    }
    seeded = {
        (row["indicator_code"], row["is_assessment_target"] == "true"): (
            _number(row["target_value"]),
            _number(row["baseline_value"]),
        )
        for row in seed("targets")
    }
    assert delivered == seeded

    chains = dict(
        rows(
            conn,
            """SELECT chain_code, output_target FROM intermediate.int_targets__chains
                                WHERE year = 2025 AND target_origin = 'delivered'""",
        )
    )
    assert chains == {row["chain_code"]: Decimal(row["output_target"]) for row in seed("chain_targets")}

    counts = {
        category: (signed, started)
        for category, signed, started in rows(
            conn,
            """SELECT industry_category, signed_target, started_target FROM intermediate.int_targets__project_counts
                 WHERE year = 2025 AND target_origin = 'delivered'""",
        )
    }
    seeded_counts = {
        row["industry_category"]: (int(row["signed_target"]), int(row["started_target"]))
        for row in seed("project_targets")
    }
    total = tuple(sum(pair[i] for pair in seeded_counts.values()) for i in (0, 1))
    assert counts == {**seeded_counts, "合计": total} == {**seeded_counts, "合计": (200, 150)}


def test_a_broken_target_sheet_quarantines_the_whole_file_naming_sheet_row_and_column(conn, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(SAMPLE_TARGETS, landing)
    path = landing / "fgj" / "胶州市2025年经济运行主要目标任务表.xlsx"
    workbook = openpyxl.load_workbook(path)
    workbook["产业链目标"]["D5"] = "三百五十"
    workbook.save(path)

    (result,) = load(conn, landing)
    assert result.status == "quarantined"
    assert "sheet '产业链目标'" in result.reason and "row 5" in result.reason and "产业规模目标" in result.reason
    assert rows(conn, "SELECT count(*) FROM raw.indicator_targets")[0][0] == 0  # nothing of it landed


def test_a_year_without_targets_is_no_target_mails_the_data_team_once_per_sheet_until_the_file_arrives(
    conn, warehouse, tmp_path, mailbox
):
    generated, landing = tmp_path / "generated", tmp_path / "landing"
    generate((2026, 1), (2026, 2), generated)
    target_file = generated / "2026-01" / "fgj" / "胶州市2026年经济运行主要目标任务表.xlsx"
    held_back = tmp_path / "held_back.xlsx"
    shutil.move(target_file, held_back)  # 发改局 has not delivered the 2026 file yet
    _copy_months(generated, landing, "2026-01", "2026-02")
    load_and_build(conn, warehouse, landing)

    # Every 2026 measure that needs a target is no_target, whatever its figure: never green, never zero,
    # never judged against 2025's target.
    for table, level in (
        ("mart_indicator_monitoring", "warning_level"),
        ("mart_industry_chain_monitoring", "warning_level"),
        ("mart_project_targets", "signed_warning_level"),
        ("mart_project_targets", "started_warning_level"),
    ):
        levels = dict(rows(conn, f"SELECT {level}, count(*) FROM marts.{table} WHERE year = 2026 GROUP BY 1"))
        assert set(levels) == {"no_target"}, (table, level, levels)
    assert rows(
        conn,
        """SELECT count(*) FROM marts.mart_industry_chain_monitoring
                         WHERE year = 2026 AND output_target IS NOT NULL""",
    ) == [(0,)]
    # ... and opens no warning, so no leader hears of them (alerting sees them only as no_target, which
    # ends last year's warnings but opens none).
    target_rules = ("indicator_off_target", "chain_output_behind", "project_count_behind")
    assert rows(
        conn,
        "SELECT DISTINCT level FROM marts.mart_current_warnings WHERE rule_code = ANY(%s)",
        (list(target_rules),),
    ) == [("no_target",)]
    # A missing target file is the data team's mail below, never a failed quality gate that would withhold
    # the other 2026 warnings (projects, issues, enterprises) from the leaders.
    gate = pipeline.quality_gate("no-target-run")
    assert gate["failed_critical"] == 0 and gate["withheld_domains"] == [], gate["failures"]

    first = pipeline.raise_alerts()
    pipeline.deliver_mail()
    assert sorted(first["missing_targets_mailed"]) == sorted(f"2026年{sheet}未报送" for sheet in SHEETS)
    subjects = sorted(message["Subject"] for message in mailbox.to(DATA_TEAM))
    assert subjects == sorted(f"【目标未报送】2026年{sheet}未报送" for sheet in SHEETS)
    assert rows(conn, "SELECT count(*) FROM monitor.alerts WHERE rule_code = ANY(%s)", (list(target_rules),)) == [(0,)]

    # Later runs, while the file is still missing, mail nothing again.
    again = pipeline.raise_alerts()
    pipeline.deliver_mail()
    assert again["missing_targets_mailed"] == [] and len(mailbox.to(DATA_TEAM)) == 3

    # The file arrives: 2026 is judged against it, and nothing more goes to the data team.
    shutil.move(held_back, landing / "fgj" / target_file.name)
    load_and_build(conn, warehouse, landing)
    judged = dict(
        rows(
            conn,
            """SELECT warning_level, count(*) FROM marts.mart_indicator_monitoring
                                WHERE year = 2026 AND period_month = 2 GROUP BY 1""",
        )
    )
    assert "no_target" not in judged and judged.get("red", 0) >= 1, judged
    (smart_appliances,) = rows(
        conn,
        """SELECT output_target, target_source, warning_level
                                        FROM marts.mart_industry_chain_monitoring
                                        WHERE chain_code = 'smart_appliances' AND year = 2026 AND period_month = 2""",
    )
    assert smart_appliances[0] == Decimal("540")  # the 2026 file's figure, not 2025's 500
    assert smart_appliances[1].startswith(f"fgj/{target_file.name} 第") and smart_appliances[2] != "no_target"
    assert rows(conn, "SELECT count(*) FROM marts.mart_missing_targets") == [(0,)]
    after = pipeline.raise_alerts()
    pipeline.deliver_mail()
    assert after["missing_targets_mailed"] == [] and len(mailbox.to(DATA_TEAM)) == 3
    assert (
        rows(
            conn,
            """SELECT count(*) FROM monitor.alerts WHERE rule_code = 'chain_output_behind'
                         AND alert_key LIKE '%%:2026'""",
        )[0][0]
        >= 1
    )


def test_a_re_delivered_target_file_changes_levels_and_the_earlier_file_stays_in_raw(conn, warehouse, tmp_path):
    generated, landing = tmp_path / "generated", tmp_path / "landing"
    generate((2026, 1), (2026, 3), generated, adjust_targets=(2026, 3))
    _copy_months(generated, landing, "2026-01", "2026-02")
    load_and_build(conn, warehouse, landing)

    def levels() -> dict[str, tuple]:
        return {
            code: (target, level, source)
            for code, target, level, source in rows(
                conn,
                """SELECT indicator_code, target_value, warning_level, target_source
                     FROM marts.mart_indicator_monitoring
                     WHERE year = 2026 AND period_month = 2 AND target_type = 'growth'""",
            )
        }

    before = levels()
    red = {code for code, (_, level, _) in before.items() if level == "red"}
    assert red, before
    assert all(source.startswith("fgj/胶州市2026年经济运行主要目标任务表.xlsx 第") for _, _, source in before.values())
    first_load = rows(conn, "SELECT load_id FROM raw.load_audit WHERE report_type = 'annual_targets'")

    _copy_months(generated, landing, "2026-03")  # 年中调整: the red growth targets lowered
    results = load_and_build(conn, warehouse, landing)
    (adjusted,) = [r for r in results if r.report_type == "annual_targets"]
    assert adjusted.status == "loaded" and adjusted.superseded == (first_load[0][0],)

    after = levels()
    for code in red:
        target, level, source = after[code]
        assert target == before[code][0] - Decimal(str(ADJUSTMENT_PP)), code
        assert level == "yellow", (code, after[code])
        assert "（年中调整）.xlsx 第" in source
    assert all(after[code][1] == before[code][1] for code in set(before) - red)  # other levels as they were

    # The superseded file is history: its rows stay in raw, out of the marts.
    kept = dict(
        rows(
            conn,
            """SELECT a.status, count(*) FROM raw.indicator_targets AS t
                              JOIN raw.load_audit AS a USING (load_id) GROUP BY 1""",
        )
    )
    assert kept == {"superseded": 26, "loaded": 26}
    (warning,) = rows(
        conn,
        """SELECT target_value, target_source FROM marts.mart_current_warnings
                               WHERE alert_key = %s""",
        (f"indicator_off_target:{sorted(red)[0]}:2026",),
    )
    assert warning[0] == after[sorted(red)[0]][0] and "年中调整" in warning[1]


def test_the_december_bulletin_is_the_years_summary(conn, warehouse, tmp_path):
    from econ_monitor.reports import monthly_bulletin

    generate((2025, 12), (2025, 12), tmp_path / "generated")
    load_and_build(conn, warehouse, tmp_path / "generated" / "2025-12")
    bulletin = monthly_bulletin(conn, 2025, 12)
    assert bulletin.title == "胶州市经济运行月通报（2025年1-12月）暨2025年目标完成情况"

    levels = dict(
        rows(
            conn,
            """SELECT warning_level, count(*) FROM marts.mart_indicator_monitoring
                                WHERE year = 2025 AND period_month = 12 GROUP BY 1""",
        )
    )
    assert rows(
        conn,
        """SELECT DISTINCT time_progress_pct FROM marts.mart_indicator_monitoring
                         WHERE year = 2025 AND period_month = 12 AND as_of_date IS NULL""",
    ) == [(Decimal("100.0000"),)]
    met, missed = levels.get("green", 0), levels.get("yellow", 0) + levels.get("red", 0)
    assert f"主要经济指标：完成全年目标 {met} 项，未完成 {missed} 项" in bulletin.text
    assert "2025年目标完成情况" in bulletin.html and "对照2025年目标" in bulletin.html


def test_a_target_the_catalogue_cannot_read_fails_the_gate_and_withholds_indicator_alerts(
    conn, warehouse, landing, mailbox
):
    path = landing / "fgj" / "胶州市2025年经济运行主要目标任务表.xlsx"
    shutil.copyfile(SAMPLE_TARGETS / "fgj" / path.name, path)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook["指标目标"]
    for row in sheet.iter_rows(min_row=3):
        if row[1].value == "中欧班列开行数":
            row[2].value = "万列"  # a unit no conversion leads to the catalogue's 列
        if row[1].value == "新增贷款":
            row[1].value = "新增各项贷款余额"  # not a catalogue name or alias
    workbook.save(path)

    load_and_build(conn, warehouse, landing)
    gate = pipeline.quality_gate("targets-run")
    failures = [failure for failure in gate["failures"] if "stg_fgj__indicator_targets" in failure]
    assert any("计量单位" in failure for failure in failures) and any("catalogue" in failure for failure in failures)
    assert "indicators/*" in gate["withheld_domains"]
    # The unconvertible target is left empty, never guessed: that indicator is no_target, not judged.
    assert rows(
        conn,
        """SELECT DISTINCT warning_level FROM marts.mart_indicator_monitoring
                         WHERE indicator_code = 'china_europe_trains' AND year = 2025""",
    ) == [("no_target",)]
    alerts = pipeline.raise_alerts(gate["withheld_domains"])
    pipeline.deliver_mail()
    assert alerts["withheld_domains"] == gate["withheld_domains"]
    assert rows(conn, "SELECT count(*) FROM monitor.alerts WHERE domain LIKE 'indicators/%%'") == [(0,)]
    body = mailbox.text(mailbox.to(DATA_TEAM)[0])
    assert "新增各项贷款余额" in body and path.name in body
