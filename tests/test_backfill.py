"""A late delivery for an old period (2025-06 after 2025-09) rebuilds that period's marts and re-sends
no warning: the current warnings still come from the newest period."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from econ_monitor import pipeline
from tests.conftest import SAMPLE
from tests.support import load_and_build, rows


def _june_delivery(target: Path) -> Path:
    """统计局's and 商务局's June reports, written the way the September ones were."""
    (target / "tjj").mkdir(parents=True)
    (target / "swj").mkdir()
    workbook = openpyxl.load_workbook(SAMPLE / "tjj" / "胶州市主要经济指标_2025年1-9月.xlsx")
    sheet = workbook.active
    sheet["A2"].value, sheet["C3"].value, sheet["E3"].value = "（2025年1-6月）", "6月", "1-6月"
    for row in sheet.iter_rows(min_row=5):
        if row[0].value == "货物进出口总额":
            row[5].value = 9.6  # June: close to the 10% target
    workbook.save(target / "tjj" / "胶州市主要经济指标_2025年1-6月.xlsx")
    source = SAMPLE / "swj" / "商务局_指标报送_202509.csv"
    with source.open(encoding="gb18030") as handle:
        records = list(csv.reader(handle))
    for record in records[1:]:
        record[1] = "2025年6月"
    with (target / "swj" / "商务局_指标报送_202506.csv").open("w", encoding="gb18030", newline="") as handle:
        csv.writer(handle).writerows(records)
    return target


@pytest.mark.sample_built  # September, the sample delivery, loaded and built
def test_a_june_delivery_after_september_rebuilds_june_and_mails_nothing(conn, warehouse, tmp_path, mailbox):
    pipeline.raise_alerts()
    pipeline.deliver_mail()
    mailed = len(mailbox.messages)
    alerts_before = rows(conn, "SELECT alert_key, level, period_label FROM monitor.alerts ORDER BY alert_key")

    load_and_build(conn, warehouse, _june_delivery(tmp_path / "june"))
    june = dict(
        rows(
            conn,
            "SELECT indicator_code, warning_level FROM marts.mart_indicator_monitoring WHERE year = 2025 AND period_month = 6",
        )
    )
    assert june["foreign_trade"] == "yellow" and june["cross_border_ecommerce"] in ("green", "yellow", "red")
    assert rows(
        conn,
        "SELECT warning_level FROM marts.mart_indicator_monitoring WHERE indicator_code = 'foreign_trade' AND period_month = 9",
    ) == [("red",)]

    outcome = pipeline.raise_alerts()
    assert (outcome["opened"], outcome["worsened"], outcome["resolved"], outcome["digests_queued"]) == (0, 0, 0, 0)
    assert pipeline.deliver_mail()["sent"] == 0 and len(mailbox.messages) == mailed
    assert rows(conn, "SELECT alert_key, level, period_label FROM monitor.alerts ORDER BY alert_key") == alerts_before
