"""What is taken from the landing area, and when: only regular files, only once they are complete, only
once per change; corrections and withdrawn corrections; a ledger that shrank overnight."""

from __future__ import annotations

import os
import shutil
import time
from decimal import Decimal
from pathlib import Path

import openpyxl

from econ_monitor import pipeline
from tests.conftest import SAMPLE
from tests.support import load, load_and_build, rows
from tests.test_ingest import DEPT_HEADER, ledger_rows, write_csv, write_xlsx

KJJ = "科技局_指标报送_202509.csv"


def _age(path: Path, seconds: float) -> None:
    """Set the file's mtime `seconds` in the past, as if its last byte had been written then."""
    when = time.time() - seconds
    os.utime(path, (when, when))


# --- only regular files, never through a link ---------------------------------------------------------


def test_a_symlink_to_a_file_outside_is_refused_and_its_target_never_copied(conn, tmp_path):
    secret = tmp_path / "environ"
    secret.write_text("ECON_SMTP_PASSWORD=hunter2\n")
    landing = tmp_path / "landing"
    (landing / "swj").mkdir(parents=True)
    (landing / "swj" / "商务局_202509.csv").symlink_to(secret)
    quarantine = tmp_path / "quarantine"
    from econ_monitor.ingest.loader import ingest_landing

    (result,) = ingest_landing(conn, landing, quarantine)
    assert result.status == "refused" and "symbolic link" in result.reason and "swj/商务局_202509.csv" in result.reason
    assert not quarantine.exists() or not [p for p in quarantine.rglob("*") if p.is_file()]
    assert rows(conn, "SELECT count(*) FROM raw.load_audit") == [(0,)]
    assert rows(conn, "SELECT outcome, kind FROM raw.landing_files") == [("refused", "symbolic link")]
    assert ingest_landing(conn, landing, quarantine) == []  # refused once, not on every run


def test_a_symlink_to_a_directory_is_refused_and_not_walked_into(conn, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(SAMPLE / "kjj", elsewhere)
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "kjj").symlink_to(elsewhere, target_is_directory=True)
    (result,) = load(conn, landing)
    assert (result.source_file, result.status) == ("kjj", "refused")
    assert rows(conn, "SELECT count(*) FROM raw.department_indicator_report") == [(0,)]


def test_a_fifo_is_refused_without_being_opened(conn, tmp_path):
    """Opening a FIFO for reading blocks until a writer comes: the ingest would hang. It is refused."""
    (tmp_path / "swj").mkdir()
    os.mkfifo(tmp_path / "swj" / "商务局_202509.csv")
    shutil.copy(SAMPLE / "kjj" / KJJ, (tmp_path / "kjj").mkdir() or tmp_path / "kjj" / KJJ)
    results = {r.source_file: r for r in load(conn, tmp_path)}
    assert results["swj/商务局_202509.csv"].status == "refused"
    assert "named pipe" in results["swj/商务局_202509.csv"].reason
    assert results[f"kjj/{KJJ}"].status == "loaded"


# --- a file still being written -----------------------------------------------------------------------


def test_a_file_is_taken_only_once_it_has_settled(conn, warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("ECON_FILE_SETTLE_SECONDS", "60")
    (tmp_path / "kjj").mkdir()
    path = tmp_path / "kjj" / KJJ
    shutil.copy(SAMPLE / "kjj" / KJJ, path)  # written just now

    assert pipeline.detect_delivery(tmp_path) == []  # the DAG's sensor: nothing to do yet
    (result,) = load(conn, tmp_path)
    assert result.status == "waiting" and "ECON_FILE_SETTLE_SECONDS" in result.reason
    assert rows(conn, "SELECT count(*) FROM raw.load_audit") == [(0,)]

    _age(path, 61)  # no write for a minute: complete
    assert pipeline.detect_delivery(tmp_path) == [f"kjj/{KJJ}"]
    (result,) = load(conn, tmp_path)
    assert (result.status, result.rows) == ("loaded", 3)


# --- the audit grows with deliveries, not with runs ---------------------------------------------------


def test_an_unchanged_landing_is_not_read_again(conn, warehouse, landing):
    load(conn, landing)
    audited = rows(conn, "SELECT count(*) FROM raw.load_audit")
    for _ in range(3):
        assert pipeline.detect_delivery(landing) == []
        assert load(conn, landing) == []
    assert rows(conn, "SELECT count(*) FROM raw.load_audit") == audited

    # A file rewritten with the same bytes is read once more, found identical, and audited once.
    path = landing / "kjj" / KJJ
    path.write_bytes(path.read_bytes())
    assert pipeline.detect_delivery(landing) == [f"kjj/{KJJ}"]
    assert [r.status for r in load(conn, landing)] == ["duplicate"]
    assert load(conn, landing) == []
    assert rows(conn, "SELECT count(*) FROM raw.load_audit") == [(audited[0][0] + 1,)]


# --- corrections --------------------------------------------------------------------------------------


def _rsj(path: Path, ytd: str) -> Path:
    return write_csv(path, [DEPT_HEADER, ["人社局", "202509", "新引进各类人才", "人", "1000", ytd, "", "", "", ""]])


def _active_ytd(conn) -> list[tuple]:
    return rows(
        conn,
        """SELECT ytd_value FROM raw.department_indicator_report r JOIN raw.load_audit a USING (load_id)
                         WHERE a.status = 'loaded'""",
    )


def test_a_correction_withdrawn_makes_the_earlier_delivery_current_again(conn, tmp_path):
    original = _rsj(tmp_path / "rsj" / "人社局_202509.csv", "9000")
    original_bytes = original.read_bytes()
    load(conn, tmp_path)
    original.unlink()
    correction = _rsj(tmp_path / "rsj" / "人社局_202509_更正.csv", "9350")
    load(conn, tmp_path)
    assert _active_ytd(conn) == [(Decimal("9350"),)]

    # The department withdraws its correction and sends the first file again, byte for byte.
    correction.unlink()
    (tmp_path / "rsj" / "人社局_202509_再次报送.csv").write_bytes(original_bytes)
    (result,) = load(conn, tmp_path)
    assert result.status == "duplicate" and "current again" in result.reason
    assert _active_ytd(conn) == [(Decimal("9000"),)]
    assert rows(conn, "SELECT status FROM raw.load_audit ORDER BY load_id") == [
        ("loaded",),
        ("superseded",),
        ("duplicate",),
    ]


def test_a_corrected_weekly_ledger_supersedes_the_one_of_the_same_date(conn, tmp_path):
    write_xlsx(tmp_path / "fgj" / "重点项目调度台账_2025-09-26.xlsx", ledger_rows(total=50000))
    load(conn, tmp_path)
    write_xlsx(tmp_path / "fgj" / "重点项目调度台账_2025-09-26_更正.xlsx", ledger_rows(total=60000))
    result = {r.source_file: r for r in load(conn, tmp_path)}["fgj/重点项目调度台账_2025-09-26_更正.xlsx"]
    assert result.status == "loaded" and result.superseded
    assert rows(
        conn,
        """SELECT total_investment_wan FROM raw.project_ledger r JOIN raw.load_audit a USING (load_id)
                         WHERE a.status = 'loaded'""",
    ) == [(Decimal("60000"),)]


# --- a ledger that shrank -------------------------------------------------------------------------------


def test_a_ledger_with_far_fewer_projects_than_the_previous_one_withholds_project_alerts(conn, warehouse, landing):
    path = landing / "fgj" / "重点项目调度台账_2025-09-26.xlsx"
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    sheet.delete_rows(60, sheet.max_row)  # a truncated upload: 57 of 161 projects
    workbook.save(path)
    load_and_build(conn, warehouse, landing)
    gate = pipeline.quality_gate("shrunk-ledger")
    assert "projects" in gate["withheld_domains"]
    (failure,) = [f for f in gate["failures"] if "ECON_LEDGER_MIN_SHARE" in f]
    assert failure.startswith("critical: staging.stg_fgj__project_ledger")
