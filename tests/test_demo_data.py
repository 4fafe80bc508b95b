"""The demo-data generator writes deliveries that load whole, month after month, and give a mix of levels."""

from __future__ import annotations

import calendar
from collections import Counter

from econ_monitor.demo_data import generate
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
        loaded = rows(conn, """SELECT department_code, report_type, count(*) FROM raw.load_audit
                               WHERE status = 'loaded' AND period_year = %s AND period_month = %s
                               GROUP BY 1, 2""", (year, month))
        assert Counter({(department, report): count for department, report, count in loaded}) == \
            expected_deliveries(year, month), (year, month)

    levels = Counter(dict(rows(conn, """SELECT warning_level, count(*) FROM marts.mart_indicator_monitoring
                                        WHERE year = 2025 AND period_month = 3 GROUP BY 1""")))
    assert levels["red"] >= 1 and levels["green"] >= 1, levels

    falling = rows(conn, """SELECT indicator_code, period_month FROM (
                               SELECT indicator_code, period_month, ytd_value, lag(ytd_value)
                                      OVER (PARTITION BY indicator_code, year ORDER BY period_month) AS before
                               FROM marts.mart_indicator_monitoring) AS history
                           WHERE ytd_value < before""")
    assert falling == [], "year-to-date values only grow within a year"


def test_same_seed_same_bytes_whatever_the_range(tmp_path):
    two_months = generate((2025, 2), (2025, 3), tmp_path / "a")
    one_month = generate((2025, 3), (2025, 3), tmp_path / "b")
    other_seed = generate((2025, 3), (2025, 3), tmp_path / "c", seed=7)

    by_name = {path.relative_to(tmp_path / "a"): path.read_bytes() for path in two_months}
    assert one_month and all(path.read_bytes() == by_name[path.relative_to(tmp_path / "b")] for path in one_month)
    assert any(path.read_bytes() != by_name[path.relative_to(tmp_path / "c")] for path in other_seed)
