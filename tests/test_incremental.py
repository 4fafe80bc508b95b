"""A new month rebuilds that month of the large enterprise mart, not every past month; a corrected month
and a changed threshold are rebuilt too."""

from __future__ import annotations

import csv

from econ_monitor.transform import build, run_dbt
from tests.conftest import SAMPLE
from tests.support import load, rows

SEPTEMBER = SAMPLE / "tjj" / "重点企业产值月报_202509.csv"


def _enterprise_report(landing, name: str, growth_shift: float = 0.0):
    with SEPTEMBER.open(encoding="gb18030", newline="") as handle:
        header, *records = list(csv.reader(handle))
    target = landing / "tjj" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for record in records:
            writer.writerow([*record[:6], f"{float(record[6]) + growth_shift:.1f}", record[7]])


def _row_versions(conn, month: int) -> set:
    return {
        xmin
        for (xmin,) in rows(
            conn, "SELECT xmin::text FROM marts.mart_enterprise_monitoring WHERE period_month = %s", (month,)
        )
    }


def test_a_new_month_leaves_past_months_untouched(conn, warehouse, tmp_path):
    august = tmp_path / "august"
    _enterprise_report(august, "重点企业产值月报_202508.csv", growth_shift=1)
    load(conn, august)
    load(conn, SAMPLE)
    build(warehouse)
    august_versions = _row_versions(conn, 8)

    october = tmp_path / "october"
    _enterprise_report(october, "重点企业产值月报_202510.csv", growth_shift=-5)
    load(conn, october)
    run_dbt(["build", "--select", "mart_enterprise_monitoring", "--exclude-resource-type", "unit_test"])
    assert _row_versions(conn, 8) == august_versions  # not recomputed
    assert rows(conn, "SELECT period_month, count(*) FROM marts.mart_enterprise_monitoring GROUP BY 1 ORDER BY 1") == [
        (8, 1000),
        (9, 1000),
        (10, 1000),
    ]

    # a corrected August replaces August's rows
    corrected = tmp_path / "corrected"
    _enterprise_report(corrected, "重点企业产值月报_202508_更正.csv", growth_shift=-70)
    load(conn, corrected)
    run_dbt(["build", "--select", "mart_enterprise_monitoring", "--exclude-resource-type", "unit_test"])
    assert _row_versions(conn, 8).isdisjoint(august_versions)
    assert (
        rows(
            conn,
            "SELECT count(*) FROM marts.mart_enterprise_monitoring WHERE period_month = 8 AND warning_level = 'red'",
        )[0][0]
        > 900
    )

    # a changed threshold reclassifies every month on the next build
    conn.execute("UPDATE reference.warning_rules SET red_threshold = -1000 WHERE rule_code = 'enterprise_decline'")
    run_dbt(["run", "--select", "mart_enterprise_monitoring"])
    assert rows(conn, "SELECT count(*) FROM marts.mart_enterprise_monitoring WHERE warning_level = 'red'") == [(0,)]
