"""Weekly ledgers are history: a project that does not move goes yellow at 21 days and red at 42."""

from __future__ import annotations

import datetime as dt
import shutil

import openpyxl

from tests.conftest import SAMPLE
from tests.support import load_and_build, rows

STILL_PROJECT = "JZXM-2024-0046"  # unchanged through September in the sample ledgers


def _earlier_ledger(landing, as_of: dt.date) -> None:
    """The 2025-09-05 ledger as it would have read on an earlier date (nothing moved since)."""
    workbook = openpyxl.load_workbook(SAMPLE / "fgj" / "重点项目调度台账_2025-09-05.xlsx")
    workbook.active["A1"].value = f"胶州市重点项目调度台账（截至{as_of.year}年{as_of.month}月{as_of.day}日）"
    workbook.save(landing / "fgj" / f"重点项目调度台账_{as_of.isoformat()}.xlsx")


def test_a_project_that_does_not_move_goes_yellow_at_21_days_and_red_at_42(conn, warehouse, tmp_path):
    landing = tmp_path / "landing"
    (landing / "fgj").mkdir(parents=True)
    for ledger in sorted((SAMPLE / "fgj").glob("重点项目调度台账_*.xlsx")):
        shutil.copy(ledger, landing / "fgj" / ledger.name)
    for day in (15, 22, 29):
        _earlier_ledger(landing, dt.date(2025, 8, day))
    load_and_build(conn, warehouse, landing)
    history = rows(
        conn,
        "SELECT as_of_date, stale_days, stale_level FROM marts.mart_project_progress WHERE project_code = %s ORDER BY as_of_date",
        (STILL_PROJECT,),
    )
    assert [(d.isoformat(), days, level) for d, days, level in history] == [
        ("2025-08-15", 0, "green"),
        ("2025-08-22", 7, "green"),
        ("2025-08-29", 14, "green"),
        ("2025-09-05", 21, "yellow"),
        ("2025-09-12", 28, "yellow"),
        ("2025-09-19", 35, "yellow"),
        ("2025-09-26", 42, "red"),
    ]
    # A project that moved in September is not stale, whatever August looked like.
    assert rows(
        conn,
        "SELECT stale_days FROM marts.mart_project_progress WHERE project_code = 'JZXM-2025-0001' AND as_of_date = '2025-09-26'",
    ) == [(0,)]
