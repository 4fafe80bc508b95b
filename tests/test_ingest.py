"""Departmental files as they really arrive land with exactly the right values, or not at all."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from econ_monitor_demo.files import DEPARTMENT_HEADER, LEDGER_HEADER
from tests.conftest import SAMPLE
from tests.support import load, rows

DEPT_HEADER = list(DEPARTMENT_HEADER)


def write_csv(path: Path, records: list[list], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(records)
    return path


def write_xlsx(path: Path, records: list[list], merges: tuple[str, ...] = ()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for record in records:
        sheet.append(record)
    for cell_range in merges:
        sheet.merge_cells(cell_range)
    workbook.save(path)
    return path


def ledger_rows(
    total_header: str = "总投资（万元）", total: object = 50000, signed: object = "2025-03-15"
) -> list[list]:
    return [
        ["胶州市重点项目调度台账（截至2025年9月26日）"] + [None] * 20,
        [*LEDGER_HEADER[:6], total_header, *LEDGER_HEADER[7:]],
        [
            1,
            "JZXM-T-0001",
            "测试项目1",
            "重点项目",
            "聚焦突破类",
            "智能家电",
            total,
            20000,
            "1,500",
            signed,
            "2025-04-01",
            None,
            None,
            None,
            "已签约",
            "前期手续办理",
            "分管工业副市长",
            "市发改局",
            "胶东街道",
            "—",
            "2025-09-26",
        ],
        [
            None,
            "合计",
            None,
            None,
            None,
            None,
            total,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ],
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_department_report_in_every_encoding(conn, tmp_path, encoding):
    write_csv(
        tmp_path / "swj" / "商务局_202509.csv",
        [
            [f" {name} " for name in DEPT_HEADER],  # stray spaces in the header
            ["商务局", "2025年09月", "跨境电商进出口额", "亿元", "3.6", "31.2", "18.5", "综合科", "0532", ""],
            ["商务局", "2025年09月", "中欧班列开行", "列", "1,086", "—", "/", "综合科", "0532", "别名"],
        ],
        encoding=encoding,
    )
    (result,) = load(conn, tmp_path)
    assert (result.status, result.rows, result.period) == ("loaded", 2, "2025-09")
    values = rows(
        conn,
        "SELECT indicator_name, month_value, ytd_value, ytd_growth_pct, period_year, period_month FROM raw.department_indicator_report ORDER BY source_row",
    )
    assert values == [
        ("跨境电商进出口额", Decimal("3.6"), Decimal("31.2"), Decimal("18.5"), 2025, 9),
        ("中欧班列开行", Decimal("1086"), None, None, 2025, 9),  # missing markers are NULL, never zero
    ]


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("2025年1-9月", (2025, 9)),
        ("2025年9月", (2025, 9)),
        ("2025年09月", (2025, 9)),
        ("2025-09", (2025, 9)),
        ("2025.09", (2025, 9)),
        ("202509", (2025, 9)),
        ("2025年1-2月", (2025, 2)),
    ],
)
def test_every_period_spelling(conn, tmp_path, spelling, expected):
    write_csv(
        tmp_path / "kjj" / "科技局.csv",
        [DEPT_HEADER, ["科技局", spelling, "新增科技型企业", "家", "21", "201", "", "", "", ""]],
    )
    (result,) = load(conn, tmp_path)
    assert result.status == "loaded"
    assert rows(conn, "SELECT period_year, period_month FROM raw.department_indicator_report") == [expected]


def test_ledger_with_title_merged_cells_total_row_and_every_date_spelling(conn, tmp_path):
    records = ledger_rows()
    second = list(records[2])
    second[1], second[9], second[10] = "JZXM-T-0002", dt.datetime(2025, 3, 15), "2025年4月1日"
    third = list(records[2])
    third[1], third[9], third[10] = "JZXM-T-0003", "2025/3/15", "2025-04-01"
    write_xlsx(
        tmp_path / "fgj" / "重点项目调度台账_2025-09-26.xlsx",
        [*records[:3], second, third, records[3]],
        merges=("A1:U1",),
    )
    (result,) = load(conn, tmp_path)
    assert (result.status, result.rows, result.period) == ("loaded", 3, "2025-09-26")
    values = rows(
        conn,
        "SELECT project_code, signed_date, planned_start_date, ytd_investment_wan, problems, as_of_date FROM raw.project_ledger ORDER BY project_code",
    )
    assert values == [
        (f"JZXM-T-000{n}", dt.date(2025, 3, 15), dt.date(2025, 4, 1), Decimal("1500"), None, dt.date(2025, 9, 26))
        for n in (1, 2, 3)
    ]


def test_investment_in_yi_yuan_is_converted_to_wan_yuan(conn, tmp_path):
    write_xlsx(tmp_path / "fgj" / "重点项目调度台账_2025-09-26.xlsx", ledger_rows("总投资(亿元)", 5.2))
    (result,) = load(conn, tmp_path)
    assert result.status == "loaded"
    assert rows(conn, "SELECT total_investment_wan FROM raw.project_ledger") == [(Decimal("52000.0"),)]


def test_two_row_header_with_sub_items_and_footnotes(conn, tmp_path):
    write_xlsx(
        tmp_path / "tjj" / "主要经济指标.xlsx",
        [
            ["胶州市主要经济指标"],
            ["（2025年1-9月）"],
            ["指标名称", "计量单位", "9月", None, "1-9月", None],
            [None, None, "绝对值", "同比增长（%）", "绝对值", "同比增长（%）"],
            ["货物进出口总额", "亿元", 70.3, 3.2, "612.7", 4.1],
            ["  #出口", "亿元", "——", "——", 401.2, 6.3],
            ["规模以上工业增加值", "%", "——", 7.2, "——", 7.8],
            ["注：“——”表示无数据。"],
        ],
        merges=("A3:A4", "B3:B4", "C3:D3", "E3:F3"),
    )
    (result,) = load(conn, tmp_path)
    assert (result.status, result.rows) == ("loaded", 3)
    assert rows(
        conn,
        "SELECT indicator_name, is_sub_item, month_value, month_growth_pct, ytd_value, ytd_growth_pct FROM raw.tjj_indicator_report ORDER BY source_row",
    ) == [
        ("货物进出口总额", False, Decimal("70.3"), Decimal("3.2"), Decimal("612.7"), Decimal("4.1")),
        ("出口", True, None, None, Decimal("401.2"), Decimal("6.3")),
        ("规模以上工业增加值", False, None, Decimal("7.2"), None, Decimal("7.8")),
    ]


def test_all_sample_files_load_with_the_numbers_of_the_files(conn):
    results = load(conn, SAMPLE)
    assert [r.status for r in results] == ["loaded"] * 12
    assert sum(r.rows for r in results) == 161 * 4 + 5 + 15 + 2 + 3 + 1 + 3 + 14 + 1000
    assert rows(
        conn, "SELECT ytd_value, ytd_growth_pct FROM raw.tjj_indicator_report WHERE indicator_name = '地区生产总值'"
    ) == [(Decimal("1180.5"), Decimal("5.4"))]
    assert rows(
        conn,
        "SELECT month_value, ytd_value FROM raw.department_indicator_report WHERE indicator_name = '新引进各类人才'",
    ) == [(Decimal("1020"), Decimal("9350"))]
    assert rows(conn, "SELECT sum(ytd_output_yi) FROM raw.chain_report") == [(Decimal("1918.78"),)]  # the file's 合计
    assert rows(conn, "SELECT sum(ytd_investment_wan) FROM raw.project_ledger WHERE as_of_date = '2025-09-26'") == [
        (Decimal("1499252.40"),)
    ]
    lineage = rows(
        conn,
        "SELECT source_file, source_row, length(source_sha256) FROM raw.enterprise_report ORDER BY source_row LIMIT 1",
    )
    assert lineage == [("tjj/重点企业产值月报_202509.csv", 2, 64)]


def test_same_bytes_twice_load_nothing_twice(conn, landing):
    load(conn, landing)
    assert load(conn, landing) == []  # unchanged files are not even read again (tests/test_landing.py)
    for path in landing.rglob("*.*"):
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))  # touched, same bytes
    again = load(conn, landing)
    assert {r.status for r in again} == {"duplicate"}
    assert rows(conn, "SELECT count(*) FROM raw.project_ledger") == [(161 * 4,)]


def test_a_newer_delivery_replaces_the_older_one_and_weekly_ledgers_are_all_kept(conn, tmp_path):
    first = write_csv(
        tmp_path / "rsj" / "人社局_202509.csv",
        [DEPT_HEADER, ["人社局", "202509", "新引进各类人才", "人", "1000", "9000", "", "", "", ""]],
    )
    load(conn, tmp_path)
    first.unlink()
    write_csv(
        tmp_path / "rsj" / "人社局_202509_更正.csv",
        [DEPT_HEADER, ["人社局", "202509", "新引进各类人才", "人", "1020", "9350", "", "", "", ""]],
    )
    (result,) = load(conn, tmp_path)
    assert result.superseded
    assert rows(conn, "SELECT status FROM raw.load_audit ORDER BY load_id") == [("superseded",), ("loaded",)]
    active = rows(
        conn,
        """SELECT ytd_value FROM raw.department_indicator_report r JOIN raw.load_audit a USING (load_id)
                           WHERE a.status = 'loaded'""",
    )
    assert active == [(Decimal("9350"),)]


BAD_INPUTS = {
    "truncated.xlsx": (
        lambda p: p.write_bytes((SAMPLE / "gxj" / "2025年1-9月产业链运行监测表.xlsx").read_bytes()[:3000]),
        "xlsx",
    ),
    "picture.xlsx": (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200), "xlsx"),
    "empty.csv": (lambda p: p.write_bytes(b""), "empty"),
    "header_only.csv": (lambda p: write_csv(p, [DEPT_HEADER]), "no data rows"),
    "no_unit_column.csv": (
        lambda p: write_csv(
            p, [[h for h in DEPT_HEADER if h != "计量单位"], ["商务局", "202509", "x", "1", "2", "3", "", "", ""]]
        ),
        "计量单位",
    ),
    "abc.csv": (
        lambda p: write_csv(
            p,
            [
                DEPT_HEADER,
                ["商务局", "202509", "跨境电商进出口额", "亿元", "3.6", "31.2", "1", "", "", ""],
                ["商务局", "202509", "中欧班列开行数", "列", "abc", "768", "", "", "", ""],
            ],
        ),
        "row 3",
    ),
    "台账_2025-09-26_bad_date.csv": (
        lambda p: write_csv(
            p,
            [
                ledger_rows()[1],
                [
                    1,
                    "JZXM-X",
                    "项目",
                    "重点项目",
                    "聚焦突破类",
                    "智能家电",
                    1,
                    1,
                    1,
                    "2025-02-30",
                    "2025-04-01",
                    "",
                    "",
                    "",
                    "已签约",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                ],
            ],
        ),
        "2025-02-30",
    ),
    "long_line.csv": (
        lambda p: p.write_bytes(",".join(DEPT_HEADER).encode() + b"\n" + b"a" * (100 * 1024 * 1024) + b"\n"),
        "longer than",
    ),
    "sql_header.csv": (
        lambda p: write_csv(
            p, [["报送单位", "报告期", '指标名称"; DROP TABLE raw.load_audit; --', "计量单位"], ["a", "b", "c", "d"]]
        ),
        "指标名称",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_broken_files_are_quarantined_whole_with_a_reason(conn, tmp_path, name):
    make, reason_part = BAD_INPUTS[name]
    department = "fgj" if "台账" in name else "swj"
    (tmp_path / department).mkdir()
    path = tmp_path / department / name
    make(path)
    write_csv(
        tmp_path / "kjj" / "good.csv",
        [DEPT_HEADER, ["科技局", "202509", "新增科技型企业", "家", "21", "201", "", "", "", ""]],
    )
    results = {r.source_file: r for r in load(conn, tmp_path)}
    bad = results[f"{department}/{name}"]
    assert bad.status == "quarantined"
    assert reason_part in bad.reason and f"{department}/{name}" in bad.reason
    assert results["kjj/good.csv"].status == "loaded"  # the rest of the delivery still loads
    assert rows(conn, "SELECT count(*) FROM raw.department_indicator_report") == [(1,)]  # nothing partial
    (kept,) = rows(conn, "SELECT quarantined_path FROM raw.load_audit WHERE status = 'quarantined'")[0]
    assert Path(kept).read_bytes() == path.read_bytes()  # the original bytes are kept
    assert rows(conn, "SELECT count(*) FROM raw.load_audit") == [(2,)]


def test_a_reason_names_row_and_column(conn, tmp_path):
    (tmp_path / "swj").mkdir()
    make_abc, _ = BAD_INPUTS["abc.csv"]
    make_abc(tmp_path / "swj" / "abc.csv")
    (result,) = load(conn, tmp_path)
    assert result.reason == "swj/abc.csv: row 3, column '本月值': 'abc' is not a number"
    assert rows(conn, "SELECT error_row, error_column FROM raw.load_audit") == [(3, "本月值")]


def test_nothing_escapes_the_landing_directory(conn, tmp_path):
    outside = tmp_path / "outside"
    write_csv(outside / "secret.csv", [DEPT_HEADER])
    landing = tmp_path / "landing"
    (landing / "swj").mkdir(parents=True)
    (landing / "swj" / "link.csv").symlink_to(outside / "secret.csv")
    (result,) = load(conn, landing)
    assert result.status == "refused" and "symbolic link" in result.reason  # never followed nor copied
    assert rows(conn, "SELECT count(*) FROM raw.load_audit") == [(0,)]


def test_a_file_outside_a_department_folder_is_quarantined(conn, tmp_path):
    shutil.copy(SAMPLE / "kjj" / "科技局_指标报送_202509.csv", tmp_path / "科技局.csv")
    (result,) = load(conn, tmp_path)
    assert result.status == "quarantined" and "department folder" in result.reason
