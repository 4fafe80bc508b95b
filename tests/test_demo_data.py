"""The demo-data generator writes deliveries that load whole, month after month, and give a mix of levels."""

from __future__ import annotations

import calendar
from collections import Counter

import openpyxl

from econ_monitor.settings import PROJECT_DIR
from econ_monitor_demo import generate
from tests.support import load, load_and_build, rows

MONTHS = ((2025, 1), (2025, 2), (2025, 3))


def expected_deliveries(year: int, month: int) -> Counter:
    """Four departments every month; 统计局 and 工信局 from 1-2月 on; 发改局 every Friday, issues on the last."""
    expected = Counter({(department, "department_indicators"): 1 for department in ("swj", "kjj", "rsj", "jrb")})
    if month > 1:
        expected.update({("tjj", "main_indicators"): 1, ("tjj", "key_enterprises"): 1, ("gxj", "industry_chains"): 1})
    fridays = sum(1 for week in calendar.monthcalendar(year, month) if week[calendar.FRIDAY])
    expected.update({("fgj", "project_ledger"): fridays, ("fgj", "issue_ledger"): 1})
    return expected


def test_generated_months_load_whole_and_give_a_mix_of_levels(conn, warehouse, tmp_path):
    out = tmp_path / "demo"
    written = generate(MONTHS[0], MONTHS[-1], out)
    landings = [out / f"{year}-{month:02d}" for year, month in MONTHS]
    assert {path.parents[1] for path in written} == set(landings)

    results = [result for landing in landings[:-1] for result in load(conn, landing)]
    results += load_and_build(conn, warehouse, landings[-1])
    assert [r.reason for r in results if r.status != "loaded"] == []
    assert len(results) == len(written)

    for year, month in MONTHS:
        loaded = rows(
            conn,
            """SELECT department_code, report_type, count(*) FROM raw.load_audit
                               WHERE status = 'loaded' AND period_year = %s AND period_month = %s
                               GROUP BY 1, 2""",
            (year, month),
        )
        assert Counter({(department, report): count for department, report, count in loaded}) == expected_deliveries(
            year, month
        ), (year, month)

    levels = Counter(
        dict(
            rows(
                conn,
                """SELECT warning_level, count(*) FROM marts.mart_indicator_monitoring
                                        WHERE year = 2025 AND period_month = 3 GROUP BY 1""",
            )
        )
    )
    assert levels["red"] >= 1 and levels["green"] >= 1, levels

    falling = rows(
        conn,
        """SELECT indicator_code, period_month FROM (
                               SELECT indicator_code, period_month, ytd_value, lag(ytd_value)
                                      OVER (PARTITION BY indicator_code, year ORDER BY period_month) AS before
                               FROM marts.mart_indicator_monitoring) AS history
                           WHERE ytd_value < before""",
    )
    assert falling == [], "year-to-date values only grow within a year"


def test_same_seed_same_bytes_whatever_the_range(tmp_path):
    two_months = generate((2025, 2), (2025, 3), tmp_path / "a")
    one_month = generate((2025, 3), (2025, 3), tmp_path / "b")
    other_seed = generate((2025, 3), (2025, 3), tmp_path / "c", seed=7)

    by_name = {path.relative_to(tmp_path / "a"): path.read_bytes() for path in two_months}
    assert one_month and all(path.read_bytes() == by_name[path.relative_to(tmp_path / "b")] for path in one_month)
    assert any(path.read_bytes() != by_name[path.relative_to(tmp_path / "c")] for path in other_seed)


def _target_rows(path) -> dict[str, list[dict]]:
    from econ_monitor.ingest.parse import parse_workbook

    return {part.sheet: list(part.rows) for part in parse_workbook(path)}


def test_history_crosses_the_year_end_with_a_target_file_for_each_year(tmp_path):
    from econ_monitor.ingest.parse import parse_workbook

    written = generate((2025, 12), (2026, 2), tmp_path, adjust_targets=(2026, 2))
    names = {path.relative_to(tmp_path).as_posix() for path in written}
    # Each year's 年度目标任务表 in its January (none for 2025: its January is not in the range), plus the
    # re-delivered 年中调整 file in the month asked for.
    targets = sorted(name for name in names if "目标任务表" in name)
    assert targets == [
        "2026-01/fgj/胶州市2026年经济运行主要目标任务表.xlsx",
        "2026-02/fgj/胶州市2026年经济运行主要目标任务表（年中调整）.xlsx",
    ]
    # No 统计局/工信局 report for January: the year starts with 1-2月; other departments report January.
    assert not any(name.startswith(("2026-01/tjj/", "2026-01/gxj/")) for name in names)
    assert any(name.startswith("2026-01/swj/") for name in names)
    assert "2026-02/tjj/胶州市主要经济指标_2026年1-2月.xlsx" in names

    delivered = _target_rows(tmp_path / targets[0])
    assert [part.sheet for part in parse_workbook(tmp_path / targets[0])] == ["指标目标", "产业链目标", "招商目标"]
    chains = {row["chain_name"]: row["output_target_yi"] for row in delivered["产业链目标"]}
    assert chains["智能家电"] == 540  # 2025's 500, +8 %: the trend the chain figures follow
    adjusted = _target_rows(tmp_path / targets[1])
    changed = {
        row["indicator_name"]
        for before, row in zip(delivered["指标目标"], adjusted["指标目标"], strict=False)
        if row["target_value"] != before["target_value"]
    }
    assert changed and all(row["unit"] == "%" for row in adjusted["指标目标"] if row["indicator_name"] in changed)

    # Projects keep their codes across the year end, and new ones are signed in 2026 (集中签约 in January).
    from econ_monitor_demo import Demo

    demo = Demo.create(2025)
    codes_2026 = [project.code for project in demo.projects if project.signed.year == 2026]
    assert len(codes_2026) > 20 and all(code.startswith("JZXM-2026-") for code in codes_2026)
    december = openpyxl.load_workbook(tmp_path / "2025-12/fgj/重点项目调度台账_2025-12-26.xlsx").active
    january = openpyxl.load_workbook(tmp_path / "2026-01/fgj/重点项目调度台账_2026-01-30.xlsx").active
    listed_december = {row[1] for row in december.iter_rows(min_row=3, values_only=True) if row[0]}
    listed_january = {row[1] for row in january.iter_rows(min_row=3, values_only=True) if row[0]}
    assert listed_december <= listed_january and any(code in listed_january for code in codes_2026)


def test_the_2025_target_file_equals_the_seeds_and_a_year_can_be_left_out(tmp_path):
    written = generate((2025, 1), (2025, 1), tmp_path / "with")
    (path,) = [path for path in written if "目标任务表" in path.name]
    generated = _target_rows(path)
    sample = _target_rows(PROJECT_DIR / "demo_data" / "targets" / "fgj" / "胶州市2025年经济运行主要目标任务表.xlsx")
    for sheet, value in (
        ("指标目标", "target_value"),
        ("产业链目标", "output_target_yi"),
        ("招商目标", "signed_target"),
    ):
        key = (
            "indicator_name"
            if sheet == "指标目标"
            else ("chain_name" if sheet == "产业链目标" else "industry_category")
        )
        assert sorted((row[key], row[value]) for row in generated[sheet]) == sorted(
            (row[key], row[value]) for row in sample[sheet]
        ), sheet

    without = generate((2025, 1), (2025, 1), tmp_path / "without", omit_targets=(2025,))
    assert not any("目标任务表" in path.name for path in without)
    assert len(without) == len(written) - 1
