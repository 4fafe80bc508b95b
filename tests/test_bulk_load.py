"""A large machine-written CSV takes the bulk path, and what lands is exactly what row by row would load.

Each file is loaded twice into the same warehouse: once as the platform does (bulk when it can), once with
the bulk path switched off (every file below its size threshold). Both must give the same audit outcome
and the same raw rows, value for value and scale for scale. The odd rows sit near the end of a file of
several blocks, so the bulk path has already sent rows to COPY when it declines: its savepoint must take
them back.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from econ_monitor.ingest import bulk
from tests.support import load, rows

HEADER = "统一社会信用代码,企业名称,所属产业链,所在镇街,本月产值(万元),1-本月累计产值(万元),累计同比增长(%),包挂领导"
ROWS = 12_000  # about 1.3 MB: more than one block
ODD_ROW_AT = 11_500
SNAPSHOT = """SELECT credit_code, enterprise_name, chain_name, town, month_output_wan::text, ytd_output_wan::text,
                     ytd_growth_pct::text, leader_title, source_row, source_file, period_year, period_month
              FROM raw.enterprise_report ORDER BY source_row"""


def enterprise_lines(count: int = ROWS) -> list[str]:
    """Rows as a statistics system exports them, with the missing markers and number forms such files hold."""
    rng = random.Random(7)
    lines = []
    for number in range(count):
        month = rng.choice(["809.4", "-12.5", "+3", "007.50", "0", "2073", "—", "", "-0"])
        growth = rng.choice(["-42.6", "9.9", "/", "-", "1.0"])
        leader = rng.choice(["分管工业副市长", "", "—", "分管科技副市长"])
        town = rng.choice(["胶莱街道", "李哥庄镇", "", "/"])
        lines.append(
            f"91370281MA{number:08d},青岛 智能家电制造有限公司{number},智能家电,{town},{month},7284.6,{growth},{leader}"
        )
    return lines


def write_delivery(landing: Path, lines: list[str], encoding: str = "gbk", newline: str = "\r\n") -> Path:
    path = landing / "tjj" / "重点企业产值月报_202509.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(newline.join([HEADER, *lines, ""]).encode(encoding))
    return path


def load_both_ways(conn, landing: Path, monkeypatch) -> tuple:
    """((result, rows) as the platform loads, (result, rows) row by row), from an emptied warehouse each."""
    outcomes = []
    for bulk_allowed in (True, False):
        if not bulk_allowed:
            monkeypatch.setattr(bulk, "MIN_FILE_BYTES", math.inf)
        conn.execute("TRUNCATE raw.load_audit, raw.enterprise_report_rows CASCADE")
        (result,) = load(conn, landing)
        outcomes.append((result, rows(conn, SNAPSHOT)))
    return tuple(outcomes)


@pytest.mark.parametrize(("encoding", "newline"), [("gbk", "\r\n"), ("utf-8", "\n"), ("utf-8-sig", "\r\n")])
def test_a_clean_delivery_loads_in_bulk_with_the_row_by_row_values(conn, tmp_path, monkeypatch, encoding, newline):
    write_delivery(tmp_path, enterprise_lines(), encoding, newline)
    (in_bulk, bulk_rows), (row_by_row, reference_rows) = load_both_ways(conn, tmp_path, monkeypatch)
    assert (in_bulk.status, in_bulk.method, in_bulk.rows) == ("loaded", "bulk", ROWS)
    assert (row_by_row.status, row_by_row.method) == ("loaded", "row by row")
    assert bulk_rows == reference_rows
    by_value = {row[4] for row in bulk_rows}
    assert {"7.50", "3", "0", "-12.5", None} <= by_value  # scale kept, sign folded, missing stays NULL
    assert None in {row[3] for row in bulk_rows} and None in {row[7] for row in bulk_rows}
    assert bulk_rows[0][8] == 2 and bulk_rows[-1][8] == ROWS + 1  # the line numbers of the file


ODD_ROWS = {
    "quoted name with a comma": ('91370281MA99999999,"青岛某某,分公司",智能家电,胶莱街道,1.0,2.0,3.0,', "loaded"),
    "thousands separator": ('91370281MA99999999,青岛某某,智能家电,胶莱街道,"1,234.5",2.0,3.0,', "loaded"),
    "full-width digits": ("91370281MA99999999,青岛某某,智能家电,胶莱街道,１２３.４,2.0,3.0,", "loaded"),
    "spaces around a number": ("91370281MA99999999,青岛某某,智能家电,胶莱街道, 123.4 ,2.0,3.0,", "loaded"),
    "a tab at the edge of a name": ("91370281MA99999999,青岛某某\t,智能家电,胶莱街道,1.0,2.0,3.0,", "loaded"),
    "a total row": (",合计,,,99999.0,99999.0,,", "loaded"),
    "a blank line": ("", "loaded"),
    "a footnote": ("注：本表由市统计局提供", "loaded"),
    "a row without its key": (",青岛某某,智能家电,胶莱街道,1.0,2.0,3.0,", "quarantined"),
    "text in a number column": ("91370281MA99999999,青岛某某,智能家电,胶莱街道,abc,2.0,3.0,", "quarantined"),
    "scientific notation": ("91370281MA99999999,青岛某某,智能家电,胶莱街道,1.5E+03,2.0,3.0,", "quarantined"),
    "a number without digits after the point": (
        "91370281MA99999999,青岛某某,智能家电,胶莱街道,5.,2.0,3.0,",
        "quarantined",
    ),
}


@pytest.mark.parametrize("odd", sorted(ODD_ROWS))
def test_anything_unusual_loads_row_by_row_with_the_same_outcome(conn, tmp_path, monkeypatch, odd):
    odd_row, status = ODD_ROWS[odd]
    lines = enterprise_lines()
    lines.insert(ODD_ROW_AT, odd_row)
    write_delivery(tmp_path, lines)
    (first, first_rows), (reference, reference_rows) = load_both_ways(conn, tmp_path, monkeypatch)
    assert (first.status, first.method, first.reason, first.rows) == (
        reference.status,
        reference.method,
        reference.reason,
        reference.rows,
    )
    assert first_rows == reference_rows
    assert first.status == status
    if status == "loaded":
        assert first.method == "row by row"
    else:
        assert f"row {ODD_ROW_AT + 2}" in first.reason and first_rows == []  # nothing of the file lands


def test_a_small_file_loads_row_by_row(conn, tmp_path):
    write_delivery(tmp_path, enterprise_lines(50))
    (result,) = load(conn, tmp_path)
    assert (result.status, result.method, result.rows) == ("loaded", "row by row", 50)
    assert rows(conn, "SELECT count(*) FROM raw.enterprise_report") == [(50,)]


def write_text(landing: Path, text: str, encoding: str = "gb18030") -> Path:
    path = landing / "tjj" / "重点企业产值月报_202509.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def one_line_after_the_last_block() -> str:
    """A file whose last block (after the first 1 MiB) is a single, mostly Chinese line."""
    lines, size = [], len(HEADER.encode("gb18030")) + 2
    for line in enterprise_lines():
        lines.append(line)
        size += len(line.encode("gb18030")) + 2
        if size > bulk.BLOCK_BYTES:
            break
    lines.append("91370281MA99999999," + "青岛胶州湾智能家电制造有限公司" * 20 + ",智能家电,胶莱街道,1.0,2.0,3.0,")
    return "\r\n".join([HEADER, *lines, ""])


SHAPES = {
    # How the csv module and a byte-wise line count could disagree about row numbers.
    "a title line ending in CR CR LF": lambda: (
        "胶州市重点企业产值月报（2025年9月）\r\r\n" + "\r\n".join([HEADER, *enterprise_lines(), ""])
    ),
    "a header line ending in CR CR LF": lambda: (
        "胶州市重点企业产值月报（2025年9月）\r\n" + HEADER + "\r\r\n" + "\r\n".join([*enterprise_lines(), ""])
    ),
    # Arrow drops a byte-order mark at the start of each block; the row-by-row reader keeps it in the key.
    "a byte-order mark before the first data row": lambda: "\r\n".join(
        [HEADER, "\ufeff" + enterprise_lines()[0], *enterprise_lines()[1:], ""]
    ),
    "a last block of one line": one_line_after_the_last_block,
    # What the row-by-row reader refuses must not load in bulk (the csv module's field limit, the line guard).
    "a cell over the csv field limit": lambda: "\r\n".join(
        [
            HEADER,
            *enterprise_lines()[:20],
            "91370281MA99999999," + "甲" * 140_000 + ",智能家电,胶莱街道,1.0,2.0,3.0,",
            *enterprise_lines()[20:],
            "",
        ]
    ),
    "a line over a million characters": lambda: "\r\n".join(
        [HEADER, *enterprise_lines()[:20], ",".join(["9" * 130_000] * 8), *enterprise_lines()[20:], ""]
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_odd_file_shapes_load_as_row_by_row_does(conn, tmp_path, monkeypatch, shape):
    write_text(tmp_path, SHAPES[shape]())
    (first, first_rows), (reference, reference_rows) = load_both_ways(conn, tmp_path, monkeypatch)
    assert (first.status, first.reason, first.rows) == (reference.status, reference.reason, reference.rows)
    assert first_rows == reference_rows
    if shape == "a last block of one line":
        assert (first.status, first.method) == ("loaded", "bulk")
