"""Cell values, headers, units and periods as departments write them: pure code, no database.

These run in milliseconds; the loading tests (test_ingest.py) prove the same rules end to end.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from econ_monitor.ingest import values
from econ_monitor.ingest.contracts import CONTRACTS
from econ_monitor.ingest.parse import FileRejected, number_factor, parse_file
from econ_monitor.reference import departments, seed


@pytest.mark.parametrize(
    ("cell", "number"),
    [
        ("1234.5", Decimal("1234.5")),
        ("-0.8", Decimal("-0.8")),
        ("+3", Decimal(3)),
        ("1,234,567.25", Decimal("1234567.25")),
        ("１２３.４", Decimal("123.4")),  # full-width digits, as some input methods type them
        (" 12 345 ", Decimal(12345)),
        (8345.75, Decimal("8345.75")),
        (42, Decimal(42)),
    ],
)
def test_numbers_as_typed(cell, number):
    assert values.parse_number(cell) == number


@pytest.mark.parametrize("cell", [None, "", " ", "—", "——", "-", "--", "/", "…", "……", "...", "－", "―"])
def test_every_missing_marker_is_none_never_zero(cell):
    assert values.parse_number(cell) is None
    assert values.parse_integer(cell) is None
    assert values.clean_text(cell) is None


@pytest.mark.parametrize("cell", ["12a", "1,23", "1.2.3", "约100", True])
def test_anything_else_is_an_error(cell):
    with pytest.raises(values.CellError):
        values.parse_number(cell)


def test_a_fraction_is_no_whole_number():
    assert values.parse_integer("1,000") == 1000
    with pytest.raises(values.CellError, match="not a whole number"):
        values.parse_integer("10.5")


@pytest.mark.parametrize(
    "cell",
    ["2025-09-05", "2025/9/5", "2025.09.05", "2025年9月5日", "20250905", "2025-09-05 00:00:00", 45905],
)
def test_every_date_spelling(cell):
    assert values.parse_date(cell) == dt.date(2025, 9, 5)


def test_an_impossible_date_is_an_error():
    with pytest.raises(values.CellError, match="not a real date"):
        values.parse_date("2025-02-30")


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("2025年1-9月", (2025, 9)),
        ("2025年1—2月", (2025, 2)),  # January is reported with February
        ("2025年09月", (2025, 9)),
        ("主要经济指标月报_2025-09.xlsx", (2025, 9)),  # a file name's extension after the month
        ("台账_2025.09.05.xlsx", None),  # a date, not a month
        ("202509", (2025, 9)),
        ("截至2025年", None),
    ],
)
def test_periods_in_titles_and_file_names(text, period):
    assert values.find_period(text) == period


def test_a_period_cell_and_a_year_cell():
    assert values.parse_period("2025年9月") == (2025, 9)
    assert values.parse_year("2025年") == (2025, None)
    with pytest.raises(values.CellError, match="not a year"):
        values.parse_year("25")


def test_an_as_of_date_in_a_title_or_file_name():
    assert values.find_date("重点项目调度台账（截至2025年9月5日）") == dt.date(2025, 9, 5)
    assert values.find_date("台账_2025-09-05.xlsx") == dt.date(2025, 9, 5)
    assert values.find_date("台账_2025-02-30.xlsx") is None


@pytest.mark.parametrize(
    ("cell", "split"),
    [
        ("总投资（亿元）", ("总投资", "亿元")),
        (" 报送单位 ", ("报送单位", None)),
        ("1－9月 累计产值(万元)", ("1-9月累计产值", "万元")),
    ],
)
def test_headers_split_off_their_unit(cell, split):
    assert values.split_header(cell) == split


def test_unit_factors_are_the_seed_dbt_converts_with():
    for row in seed("unit_conversions"):
        assert values.unit_factor(row["from_unit"], row["to_unit"]) == Decimal(row["factor"])
    assert values.unit_factor("万元", "万元") == 1
    with pytest.raises(values.CellError, match="cannot be converted"):
        values.unit_factor("吨", "万元")


def test_a_money_column_takes_its_header_unit_and_needs_one():
    total = next(c for c in CONTRACTS if c.report_type == "project_ledger").column("total_investment_wan")
    assert number_factor(total, "亿元") == 10000
    assert number_factor(total, "元") == Decimal("0.0001")
    with pytest.raises(FileRejected, match="gives no unit"):
        number_factor(total, None)
    with pytest.raises(FileRejected, match="cannot be converted"):
        number_factor(total, "吨")


def test_departments_are_the_seed():
    assert departments() == tuple(row["department_code"] for row in seed("departments"))
    assert {"tjj", "fgj", "gxj", "swj"} <= set(departments())


def test_a_csv_is_recognised_by_its_header_and_read_row_by_row(tmp_path):
    path = tmp_path / "部门指标报送表_2025-09.csv"
    path.write_text(
        "部门指标报送表\n"
        "报送单位,报告期,指标名称,计量单位,本月值,1至本月累计值,累计同比增长率,备注\n"
        "商务局,2025年9月,外贸进出口总额,亿元,12.5,98.1,4.1,\n"
        '商务局,2025年9月,实际使用外资,万美元,—,"1,234.0",/,\n'
        "合计,,,,,,,\n"
        "注：数据为快报数\n",
        encoding="utf-8",
    )
    parsed = parse_file(path)
    assert parsed.contract.report_type == "department_indicators"
    rows = list(parsed.rows)
    assert [row["indicator_name"] for row in rows] == ["外贸进出口总额", "实际使用外资"]
    assert rows[0]["ytd_growth_pct"] == Decimal("4.1")
    assert rows[1]["month_value"] is None and rows[1]["ytd_growth_pct"] is None
    assert rows[1]["ytd_value"] == Decimal(1234)


def test_a_bad_cell_names_its_row_and_column(tmp_path):
    path = tmp_path / "部门指标报送表_2025-09.csv"
    path.write_text(
        "报送单位,报告期,指标名称,计量单位,本月值,1至本月累计值,累计同比增长率\n"
        "商务局,2025年9月,外贸进出口总额,亿元,12.5,98.1,约4\n",
        encoding="utf-8",
    )
    with pytest.raises(FileRejected) as rejected:
        list(parse_file(path).rows)
    assert rejected.value.row == 2 and rejected.value.column == "累计同比增长率"


def test_seed_rows_are_read_only_so_no_caller_changes_the_next_callers_reference_data():
    """The seeds are read once and shared (cached until the file changes): a caller writing into a row
    would silently re-route the next run's mail."""
    row = seed("leaders")[0]
    with pytest.raises(TypeError):
        row["email"] = "somebody-else@example.com"
    assert seed("leaders")[0]["email"] == row["email"]
