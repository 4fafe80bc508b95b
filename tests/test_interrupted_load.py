"""Killing the loader mid-file and running it again leaves the warehouse as if the file loaded once."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time

from econ_monitor.warehouse import connect
from tests.conftest import SAMPLE
from tests.support import load, rows

COPIES = 200  # 200 × the sample's 1,000 enterprises


def _large_enterprise_report(landing) -> int:
    source = SAMPLE / "tjj" / "重点企业产值月报_202509.csv"
    with source.open(encoding="gb18030", newline="") as handle:
        header, *records = list(csv.reader(handle))
    target = landing / "tjj" / source.name
    target.parent.mkdir(parents=True)
    with target.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for copy in range(COPIES):
            for record in records:
                writer.writerow([f"{record[0][:-6]}{copy:03d}{record[0][-3:]}", *record[1:]])
    return COPIES * len(records)


def _copy_in_progress(url: str) -> bool:
    with connect(url) as conn:
        return bool(
            conn.execute(
                "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY%%' AND state = 'active'"
            ).fetchone()
        )


def test_a_load_killed_mid_file_and_run_again_loads_the_file_exactly_once(conn, warehouse, tmp_path):
    landing = tmp_path / "landing"
    expected_rows = _large_enterprise_report(landing)
    script = (
        "import sys\nfrom pathlib import Path\nfrom econ_monitor.warehouse import connect\n"
        "from econ_monitor.ingest.loader import ingest_landing\n"
        "with connect() as conn:\n    ingest_landing(conn, Path(sys.argv[1]), Path(sys.argv[2]))\n"
    )
    loader = subprocess.Popen(
        [sys.executable, "-c", script, str(landing), str(tmp_path / "quarantine")],
        env={**os.environ, "ECON_WAREHOUSE_URL": warehouse},
    )
    deadline = time.monotonic() + 120
    while not _copy_in_progress(warehouse):
        assert loader.poll() is None and time.monotonic() < deadline, "the loader finished before it could be killed"
        time.sleep(0.05)
    time.sleep(0.5)  # well into the file
    loader.send_signal(signal.SIGKILL)
    loader.wait()
    while _copy_in_progress(warehouse):  # the server notices the lost client and rolls back
        time.sleep(0.1)
    assert rows(conn, "SELECT count(*) FROM raw.enterprise_report") == [(0,)]
    assert rows(conn, "SELECT count(*) FROM raw.load_audit") == [(0,)]

    (result,) = load(conn, landing)  # the retry
    assert (result.status, result.rows) == ("loaded", expected_rows)
    assert rows(conn, "SELECT count(*), count(DISTINCT credit_code) FROM raw.enterprise_report") == [
        (expected_rows, expected_rows)
    ]
    assert rows(conn, "SELECT status, count(*) FROM raw.load_audit GROUP BY status") == [("loaded", 1)]


def test_an_ingest_retried_after_its_loads_committed_still_announces_what_its_run_brought(warehouse, tmp_path):
    """A worker killed after the loads committed but before the task said so: the retry finds every file
    read already. The reports follow only report types the run brought in, so the retry must still name
    them, or the week's dispatch and the month's bulletin are never sent. A later run names none."""
    from econ_monitor import pipeline

    landing = tmp_path / "landing"
    shutil.copytree(SAMPLE, landing)
    first_try = pipeline.ingest_delivery(landing, run_id="scheduled__2025-09-30")
    retry = pipeline.ingest_delivery(landing, run_id="scheduled__2025-09-30")
    next_run = pipeline.ingest_delivery(landing, run_id="scheduled__2025-09-30T00:10")

    assert {"project_ledger", "main_indicators"} <= set(first_try["report_types"])
    assert retry["report_types"] == first_try["report_types"]
    assert next_run["report_types"] == []
