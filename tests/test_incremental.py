"""A new month rebuilds that month of the large enterprise mart, not every past month; a corrected month
and a changed threshold are rebuilt too."""

from __future__ import annotations

import csv

import pytest

from econ_monitor.transform import build, run_dbt
from tests.conftest import SAMPLE
from tests.support import load, rows

SEPTEMBER = SAMPLE / "tjj" / "重点企业产值月报_202509.csv"


def _enterprise_report(
    landing, name: str, growth_shift: float = 0.0, drop_first: bool = False, duplicate_first: bool = False
):
    with SEPTEMBER.open(encoding="gb18030", newline="") as handle:
        header, *records = list(csv.reader(handle))
    if drop_first:
        records = records[1:]
    if duplicate_first:
        records = [records[0], *records]
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


def _august_then_the_sample_built(conn, warehouse, tmp_path) -> None:
    """August (growth one point above September's) and the sample's September, loaded and built."""
    august = tmp_path / "august"
    _enterprise_report(august, "重点企业产值月报_202508.csv", growth_shift=1)
    load(conn, august)
    load(conn, SAMPLE)
    build(warehouse)


def test_a_new_month_leaves_past_months_untouched(conn, warehouse, tmp_path):
    _august_then_the_sample_built(conn, warehouse, tmp_path)
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


def _results(results, model: str) -> dict[str, tuple[str, int]]:
    """The data tests of a model in dbt's results: name → (status, failures)."""
    return {
        r.node.name: (str(r.status), r.failures)
        for r in results.results
        if r.node.resource_type == "test" and r.node.attached_node == f"model.econ_monitor.{model}"
    }


@pytest.mark.sample_built
def test_data_tests_check_what_the_newest_build_wrote(conn, warehouse, tmp_path):
    # The enterprise marts' data tests read the rows of the newest build (`__newest_build__`), not every
    # month: a duplicate credit code delivered in October (after the sample's September was built) is
    # reported by the build that writes October and by `dbt test` after it, and no longer once a later
    # build has written other months.
    october = tmp_path / "october"
    _enterprise_report(october, "重点企业产值月报_202510.csv", duplicate_first=True)
    load(conn, october)
    unique = "unique_combination_mart_enterprise_monitoring_credit_code__year__period_month"
    assert _results(build(warehouse), "mart_enterprise_monitoring")[unique] == ("warn", 1)
    assert _results(run_dbt(["test", "--select", "mart_enterprise_monitoring"]), "mart_enterprise_monitoring")[
        unique
    ] == ("warn", 1)

    november = tmp_path / "november"
    _enterprise_report(november, "重点企业产值月报_202511.csv", growth_shift=-1)
    load(conn, november)
    tests = _results(build(warehouse), "mart_enterprise_monitoring")
    assert tests[unique] == ("pass", 0) and set(tests.values()) == {("pass", 0)}, tests


def test_current_warnings_follow_a_corrected_month(conn, warehouse, tmp_path):
    # mart_current_warnings reads each enterprise's newest row with data from int_enterprise_newest,
    # which a build updates from the months it rewrote: an enterprise a corrected September no longer
    # lists falls back to its August figure.
    _august_then_the_sample_built(conn, warehouse, tmp_path)
    ((first,),) = rows(conn, "SELECT credit_code FROM marts.mart_enterprise_monitoring ORDER BY source_row LIMIT 1")

    def period_ends() -> dict[str, int]:
        return dict(
            rows(
                conn,
                """SELECT period_end::text, count(*) FROM marts.mart_current_warnings
                   WHERE rule_code = 'enterprise_decline' GROUP BY 1""",
            )
        )

    assert period_ends() == {"2025-09-30": 1000}
    corrected = tmp_path / "corrected"
    _enterprise_report(corrected, "重点企业产值月报_202509_更正.csv", drop_first=True)
    load(conn, corrected)
    build(warehouse)
    assert period_ends() == {"2025-09-30": 999, "2025-08-31": 1}
    assert rows(
        conn,
        "SELECT period_end::text FROM marts.mart_current_warnings WHERE alert_key = %s",
        (f"enterprise_decline:{first}",),
    ) == [("2025-08-31",)]


def test_the_embedded_server_is_configured_for_a_million_row_month(conn):
    # Sorting and hashing a month of the enterprise marts stays in memory (warehouse.EMBEDDED_SETTINGS).
    assert rows(conn, "SELECT current_setting('work_mem'), current_setting('max_wal_size')") == [("256MB", "4GB")]
