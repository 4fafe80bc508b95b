"""Load departmental files into raw tables: one transaction per file, by COPY, idempotent.

- A byte-identical file (same SHA-256) is recorded as `duplicate` and loads nothing.
- A newer delivery of the same report and period marks the older load `superseded` in the same
  transaction that loads the new rows, so readers see either the old or the new delivery, never both.
  Weekly ledgers are keyed by their as-of date, so every week's snapshot is kept.
- A file that cannot be loaded exactly is `quarantined`: nothing of it lands, a copy of its bytes is
  kept under the quarantine directory, and the audit row names the row and column at fault.
"""

from __future__ import annotations

import hashlib
import logging
import operator
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from econ_monitor.ingest import bulk
from econ_monitor.ingest.contracts import Contract
from econ_monitor.ingest.parse import FileRejected, ParsedFile, in_sheet, parse_workbook

log = logging.getLogger(__name__)

KNOWN_DEPARTMENTS = ("tjj", "fgj", "gxj", "swj", "kjj", "rsj", "jrb")
_IGNORED_NAMES = re.compile(r"^(\.|~\$)|\.(tmp|part)$")


@dataclass(frozen=True)
class LoadResult:
    source_file: str
    department_code: str
    status: str  # loaded / duplicate / quarantined
    report_type: str | None = None
    period: str | None = None
    rows: int = 0
    reason: str | None = None
    load_id: int | None = None
    superseded: tuple[int, ...] = ()
    method: str | None = None  # how a loaded file was read: "bulk" or "row by row"

    def line(self) -> str:
        detail = f"{self.rows} rows, {self.method}" if self.status == "loaded" else (self.reason or "")
        report = f"{self.report_type} {self.period}" if self.report_type else "-"
        return f"{self.status:<11} {self.source_file}  [{report}]  {detail}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def landing_files(landing: Path) -> list[Path]:
    """Every delivered file below the landing root, oldest first, never following a link out of it."""
    root = landing.resolve()
    found = []
    for path in root.rglob("*"):
        if _IGNORED_NAMES.search(path.name) or not path.is_file():
            continue
        found.append(path)
    return sorted(found, key=lambda p: (p.stat().st_mtime_ns, str(p)))


def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.\-]+", "_", name)[-120:] or "file"


def _period_label(parsed: ParsedFile) -> str:
    if parsed.as_of_date:
        return parsed.as_of_date.isoformat()
    if parsed.period_year and parsed.period_month is None:  # a yearly file
        return str(parsed.period_year)
    if parsed.period_year:
        return f"{parsed.period_year}-{parsed.period_month:02d}"
    return "?"


def _relative(landing_root: Path, path: Path) -> tuple[str, str]:
    """(source_file as recorded, department_code); raises FileRejected for anything outside a department folder."""
    resolved = path.resolve()
    if not resolved.is_relative_to(landing_root):
        raise FileRejected("the file lies outside the landing directory")
    relative = resolved.relative_to(landing_root)
    department = relative.parts[0] if len(relative.parts) > 1 else ""
    if department not in KNOWN_DEPARTMENTS:
        raise FileRejected(
            f"not in a department folder (<landing>/<department>/<file>, departments: {', '.join(KNOWN_DEPARTMENTS)})"
        )
    return relative.as_posix(), department


def _supersede_key(contract: Contract, department: str, parsed: ParsedFile) -> tuple:
    if parsed.as_of_date is not None:
        return (contract.report_type, department, None, None, parsed.as_of_date)
    return (contract.report_type, department, parsed.period_year, parsed.period_month, None)


def _copy_rows(cur: psycopg.Cursor, parsed: ParsedFile, load_id: int) -> int:
    """COPY the parsed rows, each with its source_row and load_id; the rest of the lineage is per file."""
    contract = parsed.contract
    data_columns = list(parsed.header.positions)
    if "period" in data_columns:
        data_columns.remove("period")
    if contract.has_sub_items:
        data_columns.append("is_sub_item")
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier("raw", contract.rows_table),
        sql.SQL(", ").join(map(sql.Identifier, [*data_columns, "source_row", "load_id"])),
    )
    # Every record carries every data column (parse sets them all), so one C-level itemgetter call picks a
    # row's values, instead of a generator of record.get calls per row. With source_row among them it
    # always returns a tuple.
    row_values = operator.itemgetter(*data_columns, "source_row")
    lineage = (load_id,)
    count = 0
    with cur.copy(statement) as copy:
        for record in parsed.rows:
            copy.write_row(row_values(record) + lineage)
            count += 1
    return count


def _copy_file(conn: psycopg.Connection, cur: psycopg.Cursor, path: Path, parsed: ParsedFile,
               load_id: int) -> tuple[int, str]:
    """(rows, method): the bulk path when the file allows it (see bulk.py), else row by row, which has the
    last word on what a value is and on what is wrong with a broken file."""
    plan = bulk.plan_for(parsed, path)
    if plan is not None:
        try:
            with conn.transaction():  # a savepoint: declining leaves nothing behind
                rows = bulk.copy_file(cur, plan, parsed.contract.rows_table, load_id)
        except (bulk.NotCanonical, psycopg.errors.DataError) as exc:
            log.info("%s loads row by row: %s", path.name, str(exc).splitlines()[0])
        else:
            parsed.rows.close()
            return rows, "bulk"
    return _copy_rows(cur, parsed, load_id), "row by row"


def _load(conn: psycopg.Connection, path: Path, source_file: str, department: str, sha: str) -> LoadResult:
    # A file is one part; the 年度目标任务表 is one part per sheet, all under this one load.
    parts = parse_workbook(path, display_name=path.name)
    parsed = parts[0]
    contract = parsed.contract
    if department not in contract.departments:
        raise FileRejected(f"{contract.title} is not delivered by {department} (expected: {', '.join(contract.departments)})")
    with conn.transaction(), conn.cursor() as cur:
        load_id = cur.execute(
            """INSERT INTO raw.load_audit (department_code, report_type, source_file, source_sha256, file_bytes,
                   status, header_units)
               VALUES (%s, %s, %s, %s, %s, 'loaded', %s) RETURNING load_id""",
            (department, contract.report_type, source_file, sha, path.stat().st_size, Jsonb(_header_units(parts))),
        ).fetchone()[0]
        # The period of a 部门指标报送表 (a column) is only known once its rows are read: the audit row, which
        # holds every row's period, is completed below.
        rows = 0
        for part in parts:
            try:
                part_rows, method = _copy_file(conn, cur, path, part, load_id)
            except FileRejected as exc:
                raise in_sheet(exc, part.sheet) from exc
            rows += part_rows
        years = {part.period_year for part in parts}
        if len(years) > 1:
            raise FileRejected(f"the sheets report different years ({', '.join(map(str, sorted(years)))}): one file reports one year")
        key = _supersede_key(contract, department, parsed)
        # One delivery of a report and period at a time may change it: later loads wait here.
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (repr(key),))
        superseded = [
            row[0]
            for row in cur.execute(
                """UPDATE raw.load_audit SET status = 'superseded', superseded_by = %s
                   WHERE status = 'loaded' AND load_id <> %s AND report_type = %s AND department_code = %s
                     AND period_year IS NOT DISTINCT FROM %s AND period_month IS NOT DISTINCT FROM %s
                     AND as_of_date IS NOT DISTINCT FROM %s
                   RETURNING load_id""",
                (load_id, load_id, *key),
            ).fetchall()
        ]
        cur.execute(
            """UPDATE raw.load_audit SET rows_loaded = %s, period_year = %s, period_month = %s, as_of_date = %s
               WHERE load_id = %s""",
            (rows, parsed.period_year, parsed.period_month, parsed.as_of_date, load_id),
        )
    return LoadResult(source_file, department, "loaded", contract.report_type, _period_label(parsed), rows,
                      load_id=load_id, superseded=tuple(superseded), method=method)


def _header_units(parts: list[ParsedFile]) -> dict:
    """The units each header gave; per sheet for a multi-sheet workbook."""
    if len(parts) == 1:
        return parts[0].header.units
    return {part.sheet: part.header.units for part in parts}


def _record(conn: psycopg.Connection, **values) -> int:
    columns = list(values)
    statement = sql.SQL("INSERT INTO raw.load_audit ({}) VALUES ({}) RETURNING load_id").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.SQL(", ").join(sql.Placeholder() * len(columns))
    )
    with conn.transaction():
        return conn.execute(statement, list(values.values())).fetchone()[0]


def ingest_file(conn: psycopg.Connection, landing_root: Path, path: Path, quarantine_dir: Path) -> LoadResult:
    landing_root = landing_root.resolve()
    try:
        source_file, department = _relative(landing_root, path)
    except FileRejected as exc:
        source_file, department = path.name, "?"
        rejection: FileRejected | None = exc
    else:
        rejection = None
    sha = sha256_of(path)
    seen = conn.execute(
        "SELECT status, load_id FROM raw.load_audit WHERE source_sha256 = %s AND status <> 'duplicate' ORDER BY load_id LIMIT 1",
        (sha,),
    ).fetchone()
    if seen:
        # Already loaded, superseded or quarantined: the same bytes change nothing and are not re-reported.
        _record(conn, department_code=department, source_file=source_file, source_sha256=sha,
                file_bytes=path.stat().st_size, status="duplicate", reason=f"identical to load {seen[1]} ({seen[0]})")
        return LoadResult(source_file, department, "duplicate", reason=f"identical to load {seen[1]} ({seen[0]})")
    if rejection is None:
        try:
            return _load(conn, path, source_file, department, sha)
        except FileRejected as exc:
            rejection = exc
    return _quarantine(conn, path, source_file, department, sha, rejection, quarantine_dir)


def _quarantine(conn, path: Path, source_file: str, department: str, sha: str, rejection: FileRejected,
                quarantine_dir: Path) -> LoadResult:
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    kept = quarantine_dir / f"{sha[:16]}_{_safe_name(path.name)}"
    shutil.copyfile(path, kept)
    reason = f"{source_file}: {rejection}"
    load_id = _record(conn, department_code=department, source_file=source_file, source_sha256=sha,
                      file_bytes=path.stat().st_size, status="quarantined", reason=reason,
                      error_row=rejection.row, error_column=rejection.column, quarantined_path=str(kept))
    log.warning("quarantined %s", reason)
    return LoadResult(source_file, department, "quarantined", reason=reason, load_id=load_id)


def pending_files(conn: psycopg.Connection, landing: Path) -> list[str]:
    """Files in the landing area that no earlier run has seen as they are now (same name, size, and not
    modified since). Cheap enough to poll every few minutes: no file is read."""
    root = landing.resolve()
    seen = {
        (source_file, size): received
        for source_file, size, received in conn.execute(
            "SELECT source_file, file_bytes, max(received_at) FROM raw.load_audit GROUP BY source_file, file_bytes"
        )
    }
    pending = []
    for path in landing_files(root):
        relative = path.relative_to(root).as_posix() if path.resolve().is_relative_to(root) else path.name
        stat = path.stat()
        received = seen.get((relative, stat.st_size))
        if received is None or received.timestamp() < stat.st_mtime:
            pending.append(relative)
    return pending


def ingest_landing(conn: psycopg.Connection, landing: Path, quarantine_dir: Path) -> list[LoadResult]:
    return [ingest_file(conn, landing, path, quarantine_dir) for path in landing_files(landing)]
