"""The one number formatter and the wording of a warning: pure code, no Postgres."""

from __future__ import annotations

from decimal import Decimal

import pytest

from econ_monitor.wording import describe, level_label, num, signed


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        # integers with trailing zeros keep them: these are day counts and targets
        (30, 0, "30"),
        (60, 0, "60"),
        (120, 0, "120"),
        (100, 2, "100"),
        (Decimal("30"), 0, "30"),
        (Decimal("120.00"), 2, "120"),
        (10, 2, "10"),
        # decimals: rounded to `digits`, trailing decimal zeros dropped
        (5.4, 2, "5.4"),
        (Decimal("5.40"), 2, "5.4"),
        (Decimal("-0.2000"), 2, "-0.2"),
        (Decimal("0.7912"), 2, "0.79"),
        (Decimal("12.345"), 1, "12.3"),
        (Decimal("2.50"), 2, "2.5"),
        # negatives, zero, minus zero
        (-12.5, 2, "-12.5"),
        (-30, 0, "-30"),
        (0, 2, "0"),
        (Decimal("0.000"), 2, "0"),
        (-0.0, 2, "0"),
        (Decimal("-0.001"), 2, "0"),
        # thousands
        (1234567, 2, "1,234,567"),
        (Decimal("12345.60"), 2, "12,345.6"),
        (-1000, 0, "-1,000"),
        # missing is never zero
        (None, 2, "—"),
        (None, 0, "—"),
    ],
)
def test_num(value, digits, text):
    assert num(value, digits) == text


def test_signed():
    assert [signed(v) for v in (Decimal("1.50"), Decimal("-2"), 0, None, 20)] == ["+1.5", "-2", "0", "—", "+20"]


def test_level_labels():
    assert [level_label(x) for x in ("red", "yellow", "green", None)] == ["红色", "黄色", "绿色", "无数据"]


def _alert(rule: str, measure, **figures) -> dict:
    return {"rule_code": rule, "measure_value": measure, "target_value": figures.pop("target", None), **figures}


@pytest.mark.parametrize(
    ("rule", "days", "text"),
    [
        ("issue_overdue", Decimal("30"), "超过办结时限 30 天仍未销号"),
        ("project_overdue_start", Decimal("120"), "计划开工日期已过 120 天，尚未开工"),
        ("project_stale", Decimal("60"), "已连续 60 天无投资、阶段或形象进度变化"),
    ],
)
def test_day_counts_keep_their_zeros(rule, days, text):
    assert describe(_alert(rule, days, measure_unit="天")) == (text, None)


def test_growth_and_cumulative_wording():
    growth = _alert(
        "indicator_off_target",
        Decimal("5.4"),
        target=Decimal("5.6"),
        measure_unit="%",
        deviation_pp=Decimal("-0.2"),
        gap_to_target=Decimal("0.2"),
        growth_needed_rest_of_year_pct=None,
    )
    assert describe(growth) == ("实际 5.4%，目标 5.6%，差 -0.2 个百分点", "全年目标缺口 0.2 个百分点")
    chain = _alert(
        "chain_output_behind",
        Decimal("1200"),
        target=Decimal("2000"),
        measure_unit="亿元",
        deviation_pp=Decimal("-15"),
        gap_to_time_progress=Decimal("300"),
        gap_to_target=Decimal("800"),
        pace_needed_per_month=Decimal("266.6667"),
    )
    assert describe(chain) == (
        "累计 1,200 亿元，目标 2,000 亿元，较时序进度偏差 -15 个百分点",
        "较时序进度缺 300 亿元；距全年目标缺 800 亿元；剩余月份每月需完成 266.67 亿元",
    )
