"""Files as they really go wrong: each is quarantined whole with a reason, and the rest of the delivery loads.

Every bad file here is made by the test, from real bytes: a CSV with a NUL byte, an .xlsx whose sheet XML
is cut off, a broken zip, a zip bomb, a sheet that claims the whole Excel grid, a huge shared-strings
table, a cell over the size limit, bytes that decode in no encoding the departments use. The last test
puts all of them beside the sample delivery and runs the pipeline's ingest step with a real mail server.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from econ_monitor import pipeline
from econ_monitor.ingest.loader import ingest_landing
from tests.conftest import SAMPLE, Mailbox
from tests.support import load, rows

LEDGER = SAMPLE / "fgj" / "重点项目调度台账_2025-09-26.xlsx"
DEPT_CSV = SAMPLE / "swj" / "商务局_指标报送_202509.csv"
DATA_TEAM = "data-team@jiaozhou.example"
# Small limits for the tests, far above what the sample needs (its biggest file is ~100 kB).
LIMITS = {
    "ECON_MAX_UNCOMPRESSED_BYTES": str(8 << 20),
    "ECON_MAX_FILE_BYTES": str(4 << 20),
    "ECON_MAX_ROWS": "5000",
    "ECON_MAX_COLUMNS": "60",
    "ECON_MAX_CELL_CHARS": "32767",
}


@pytest.fixture(autouse=True)
def small_limits(monkeypatch):
    for name, value in LIMITS.items():
        monkeypatch.setenv(name, value)


def _rezip(source: Path, target: Path, change) -> Path:
    """A copy of the workbook `source` with its parts passed through change(name, bytes) -> bytes | None."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = change(info.filename, old.read(info.filename))
            if data is not None:
                new.writestr(info.filename, data)
    return target


def _sheet_change(edit):
    return lambda name, data: edit(data) if name == "xl/worksheets/sheet1.xml" else data


# --- the bad files -----------------------------------------------------------------------------------


def _dept_lines() -> list[str]:
    """The sample's 商务局 报送表 (GB18030, as Excel writes it on a Chinese Windows) as text lines."""
    return DEPT_CSV.read_bytes().decode("gb18030").splitlines()


def nul_csv(folder: Path) -> Path:
    text = _dept_lines()
    text[1] = text[1].replace("商务局", "商务\x00局", 1)
    path = folder / "swj" / "商务局_指标报送_202509_nul.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(text) + "\n", encoding="gb18030")
    return path


def cut_off_sheet(folder: Path) -> Path:
    return _rezip(
        LEDGER,
        folder / "fgj" / "重点项目调度台账_2025-09-26_cut.xlsx",
        _sheet_change(lambda data: data[: len(data) // 2]),
    )


def broken_zip(folder: Path) -> Path:
    path = folder / "fgj" / "重点项目调度台账_2025-09-26_broken.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = LEDGER.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def zip_bomb(folder: Path) -> Path:
    """The sheet XML padded with 64 MB of whitespace (legal between elements): 64 kB packed."""
    padding = b" " * (64 << 20)
    return _rezip(
        LEDGER,
        folder / "fgj" / "重点项目调度台账_2025-09-26_bomb.xlsx",
        _sheet_change(lambda data: data.replace(b"<sheetData>", b"<sheetData>" + padding, 1)),
    )


def whole_grid_dimension(folder: Path) -> Path:
    return _rezip(
        LEDGER,
        folder / "fgj" / "重点项目调度台账_2025-09-26_dim.xlsx",
        _sheet_change(lambda data: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', data)),
    )


def huge_shared_strings(folder: Path) -> Path:
    """A shared-strings part of 700,000 strings (14 MB unpacked, a few hundred kB packed), declared in the
    package so that a reader loads it whole before the first row."""
    strings = b"".join(b"<si><t>%d</t></si>" % n for n in range(700_000))
    sst = (
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="700000" '
        b'uniqueCount="700000">' + strings + b"</sst>"
    )
    override = (
        b'<Override PartName="/xl/sharedStrings.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    )

    def grow(name: str, data: bytes) -> bytes:
        return data.replace(b"</Types>", override + b"</Types>") if name == "[Content_Types].xml" else data

    path = _rezip(LEDGER, folder / "fgj" / "重点项目调度台账_2025-09-26_sst.xlsx", grow)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", sst)
    return path


def cell_over_limit(folder: Path) -> Path:
    text = _dept_lines()
    text[1] = text[1] + "x" * 40_000  # in 备注, the last column
    path = folder / "swj" / "商务局_指标报送_202509_long.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def undecodable(folder: Path) -> Path:
    """UTF-8 for the first 64 kB the encoding is judged on, then a byte that is UTF-8 nowhere."""
    lines = _dept_lines()
    header, row = lines[0], lines[1]
    body = [header] + [row] * (70_000 // len(row.encode()) + 1)
    data = ("\n".join(body) + "\n").encode() + row.encode().replace("商务局".encode(), b"\xff\xfe", 1) + b"\n"
    path = folder / "swj" / "商务局_指标报送_202509_bytes.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def too_many_rows(folder: Path) -> Path:
    lines = _dept_lines()
    path = folder / "swj" / "商务局_指标报送_202509_rows.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([lines[0], *[lines[1]] * 6000]) + "\n", encoding="utf-8")
    return path


def too_many_columns(folder: Path) -> Path:
    lines = _dept_lines()
    path = folder / "swj" / "商务局_指标报送_202509_wide.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([lines[0], lines[1] + ",1" * 100]) + "\n", encoding="utf-8")
    return path


def too_big(folder: Path) -> Path:
    lines = _dept_lines()
    path = folder / "swj" / "商务局_指标报送_202509_big.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        handle.write(lines[0] + "\n")
        while handle.tell() < (5 << 20):
            handle.write("\n" * 10_000)  # blank lines: a small file in rows, a big one in bytes
    return path


def integer_out_of_range(folder: Path) -> Path:
    """A 序号 of 99,999,999,999: a whole number to the parser, out of range for the warehouse's integer."""
    from tests.test_ingest import ledger_rows, write_xlsx

    records = ledger_rows()
    records[2][0] = 99_999_999_999
    return write_xlsx(folder / "fgj" / "重点项目调度台账_2025-09-26_seq.xlsx", records)


# (maker, what the reason must say)
BAD_FILES = {
    "nul": (nul_csv, r"row 2, column '报送单位'.*NUL"),
    "cut_off_sheet_xml": (cut_off_sheet, r"damaged.*ParseError"),
    "broken_zip": (broken_zip, r"not a readable \.xlsx"),
    "zip_bomb": (zip_bomb, r"xl/worksheets/sheet1\.xml.*ECON_MAX_UNCOMPRESSED_BYTES"),
    "whole_grid_dimension": (whole_grid_dimension, r"A1:XFD1048576.*ECON_MAX_ROWS"),
    "huge_shared_strings": (huge_shared_strings, r"xl/sharedStrings\.xml.*ECON_MAX_UNCOMPRESSED_BYTES"),
    "cell_over_limit": (cell_over_limit, r"row 2, column .*40,0\d\d characters.*ECON_MAX_CELL_CHARS"),
    "undecodable": (undecodable, r"not valid utf-8"),
    "too_many_rows": (too_many_rows, r"more than 5,000 rows.*ECON_MAX_ROWS"),
    "too_many_columns": (too_many_columns, r"row 2: 1\d\d cells.*ECON_MAX_COLUMNS"),
    "integer_out_of_range": (
        integer_out_of_range,
        r"row 3, column '序号': the warehouse refused a value: .*out of range",
    ),
    "too_big": (too_big, r"bytes, over the limit .*ECON_MAX_FILE_BYTES"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_file_is_quarantined_whole_and_the_rest_loads(conn, tmp_path, case):
    maker, reason = BAD_FILES[case]
    landing = tmp_path / "landing"
    bad = maker(landing)
    good = landing / "kjj" / "科技局_指标报送_202509.csv"
    good.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLE / "kjj" / good.name, good)

    results = {r.source_file: r for r in load(conn, landing)}

    assert results["kjj/科技局_指标报送_202509.csv"].status == "loaded"
    result = results[bad.relative_to(landing).as_posix()]
    assert result.status == "quarantined", result
    assert re.search(reason, result.reason), result.reason
    assert rows(conn, "SELECT count(*) FROM raw.department_indicator_report") == [
        (3,)
    ]  # 科技局's rows, nothing of the bad file
    (audit,) = rows(
        conn, "SELECT rows_loaded, quarantined_path, source_sha256 FROM raw.load_audit WHERE status = 'quarantined'"
    )
    assert audit[0] == 0
    if audit[1]:  # the kept copy is exactly the bytes that were read
        assert (
            hashlib.sha256(Path(audit[1]).read_bytes()).hexdigest()
            == audit[2]
            == hashlib.sha256(bad.read_bytes()).hexdigest()
        )


def test_the_quarantined_copy_is_the_bytes_that_were_parsed(conn, tmp_path):
    landing = tmp_path / "landing"
    bad = cut_off_sheet(landing)
    original = bad.read_bytes()
    (result,) = load(conn, landing)
    bad.write_bytes(b"changed after the load")  # the department overwrites its file: the kept copy is unaffected
    ((kept, sha),) = rows(
        conn, "SELECT quarantined_path, source_sha256 FROM raw.load_audit WHERE load_id = %s", (result.load_id,)
    )
    assert Path(kept).read_bytes() == original and hashlib.sha256(original).hexdigest() == sha


def test_a_database_that_goes_away_fails_the_ingest(tmp_path, warehouse, server_url):
    """Infrastructure is not content: with the database gone, ingest raises instead of quarantining."""
    import psycopg

    from econ_monitor.warehouse import connect

    landing = tmp_path / "landing"
    shutil.copytree(SAMPLE / "kjj", landing / "kjj")
    with connect(warehouse) as conn:
        pid = conn.info.backend_pid
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(psycopg.OperationalError):
            ingest_landing(conn, landing, tmp_path / "quarantine")
    assert not (tmp_path / "quarantine").exists() or not any(p.is_file() for p in (tmp_path / "quarantine").iterdir())


def _raw_counts(conn) -> dict[str, int]:
    tables = [
        "tjj_indicator_report",
        "department_indicator_report",
        "chain_report",
        "project_ledger",
        "issue_ledger",
        "enterprise_report",
    ]
    return {table: rows(conn, f"SELECT count(*) FROM raw.{table}")[0][0] for table in tables}


def test_one_delivery_holding_every_bad_input_loads_the_sample_as_without_them(
    conn, warehouse, landing, tmp_path, mailbox, server_url
):
    from econ_monitor.warehouse import connect
    from tests.conftest import new_database

    # The reference: the sample alone, in a database of its own.
    clean_url = new_database(server_url)
    with connect(clean_url) as clean:
        ingest_landing(clean, SAMPLE, tmp_path / "q-clean")
        expected = _raw_counts(clean)
    import os

    os.environ["ECON_WAREHOUSE_URL"] = warehouse

    bad_files = {maker(landing).relative_to(landing).as_posix(): reason for maker, reason in BAD_FILES.values()}
    outside = tmp_path / "secret.env"
    outside.write_text("ECON_SMTP_PASSWORD=hunter2\n")
    (landing / "tjj" / "linked.csv").symlink_to(outside)
    (landing / "gxj" / "linked_dir").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(landing / "swj" / "pipe.csv")

    summary = pipeline.ingest_delivery(landing)  # no exception escapes
    pipeline.deliver_mail()

    assert _raw_counts(conn) == expected
    assert summary["loaded"] == 12 and summary["quarantined"] == len(bad_files) and summary["refused"] == 3
    quarantined = dict(rows(conn, "SELECT source_file, reason FROM raw.load_audit WHERE status = 'quarantined'"))
    assert set(quarantined) == set(bad_files)
    for name, reason in bad_files.items():
        assert re.search(reason, quarantined[name]), (name, quarantined[name])
    quarantine_dir = Path(os.environ["ECON_LOCAL_DIR"]) / "quarantine"
    assert not any("hunter2" in p.read_text(errors="replace") for p in quarantine_dir.rglob("*") if p.is_file())
    (mail,) = mailbox.to(DATA_TEAM)
    body = Mailbox.text(mail)
    for name in [*bad_files, "tjj/linked.csv", "gxj/linked_dir", "swj/pipe.csv"]:
        assert name in body, name
