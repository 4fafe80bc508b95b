"""Load departmental files into raw tables: one transaction per file, by COPY, idempotent.

- Only regular files inside the landing area are read. The walk never follows a symbolic link, and a
  link (to a file or a directory), a FIFO, a device or a socket is `refused` with a reason, never opened
  or copied. Files are opened with O_NOFOLLOW, directory by directory from the landing root, so an entry
  swapped for a link after the walk is refused too.
- A file is taken once it has not been modified for `ECON_FILE_SETTLE_SECONDS` (default 60 s): a file
  still being written is `waiting` and is left for a later run. Any write moves a file's mtime, so an
  mtime older than the interval means size and content have been stable that long, without a second
  look; copy tools that keep the sender's mtime (cp -p, rsync -t) set it only after the last byte, or
  write to a temporary name (ignored: dotfiles, `~$…`, `*.tmp`, `*.part`) and rename.
- An entry unchanged since the last run (same relative name, kind, size and mtime, `raw.landing_files`)
  is skipped unread: raw.load_audit grows with deliveries, not with runs.
- A new or changed file is first copied (one read, hashed on the way) to a staging file beside the
  quarantine; everything after — the duplicate check, parsing, loading, the quarantined copy — uses that
  copy, so the bytes hashed, the bytes parsed and the bytes kept are the same bytes.
- A byte-identical file (same SHA-256) loads nothing (`duplicate`). If those bytes are an earlier
  delivery that a correction superseded, that delivery is made current again (a correction withdrawn).
- A newer delivery of the same report and period marks the older load `superseded` in the same
  transaction that loads the new rows, so readers see either the old or the new delivery, never both.
  Weekly ledgers are keyed by their as-of date, so every week's snapshot is kept.
- A file that cannot be loaded exactly is `quarantined` whole: nothing of it lands, its bytes are kept
  under the quarantine directory (hash checked), and the audit row names the row and column at fault.
  That holds for any error while reading or loading it (a damaged workbook, a NUL byte the server
  refuses, a file over the limits in settings.IngestLimits); only infrastructure errors (the database
  gone: psycopg.OperationalError / InterfaceError, a full disk) fail the run, to be retried.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import operator
import os
import re
import stat
import time
import uuid
from array import array
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from econ_monitor.ingest import bulk
from econ_monitor.ingest.parse import FileRejected, ParsedFile, in_sheet, parse_workbook
from econ_monitor.reference import departments
from econ_monitor.settings import IngestLimits, load_ingest_limits

log = logging.getLogger(__name__)

_IGNORED_NAMES = re.compile(r"^(\.|~\$)|\.(tmp|part)$")
# Errors of the platform's own infrastructure: they fail the run (and its retries), never a file.
INFRASTRUCTURE_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError)
_CHUNK = 1 << 20
# A staging copy older than this was left by a run that was killed; a live run's copies are minutes old.
_STALE_STAGING_SECONDS = 24 * 3600


@dataclass(frozen=True)
class LoadResult:
    source_file: str
    department_code: str
    status: str  # loaded / duplicate / quarantined / refused (not a regular file) / waiting (still being written)
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
    # The source row of each line sent, so that a value the server refuses (an integer out of its range)
    # is reported at the row and column a person sees: 8 bytes a row, a few MB for the largest file.
    source_rows = array("q")
    try:
        with cur.copy(statement) as copy:
            for record in parsed.rows:
                source_rows.append(record["source_row"])
                copy.write_row(row_values(record) + lineage)
    except psycopg.errors.DataError as exc:
        raise _refused_value(exc, parsed, source_rows) from exc
    return len(source_rows)


def _refused_value(exc: psycopg.errors.DataError, parsed: ParsedFile, source_rows: array) -> FileRejected:
    """The server's (or psycopg's) refusal of a COPY value as a rejection naming the source row and the
    header label: the server's context names the COPY line and the raw column; psycopg's own checks fail on
    the row being written."""
    context = exc.diag.context or ""
    line = re.search(r"line (\d+)", context)
    column = re.search(r"column (\w+)", context)
    row = (
        source_rows[int(line.group(1)) - 1]
        if line and int(line.group(1)) <= len(source_rows)
        else (source_rows[-1] if source_rows and not context else None)
    )
    label = parsed.header.labels.get(column.group(1), column.group(1)) if column else None
    message = exc.diag.message_primary or str(exc).splitlines()[0]
    return FileRejected(f"the warehouse refused a value: {message}", row=row, column=label)


def _copy_file(
    conn: psycopg.Connection, cur: psycopg.Cursor, path: Path, parsed: ParsedFile, load_id: int
) -> tuple[int, str]:
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


@dataclass(frozen=True)
class LandingEntry:
    """One entry below the landing root as the walk saw it (lstat: a link is described, not followed)."""

    relative: str  # posix path below the landing root, as recorded in source_file
    kind: str  # "file" for a regular file, else what it is
    size: int
    modified_ns: int

    @property
    def name(self) -> str:
        return self.relative.rsplit("/", 1)[-1]

    @property
    def department(self) -> str:
        parts = self.relative.split("/")
        return parts[0] if len(parts) > 1 and parts[0] in departments() else "?"

    def settled(self, settle_seconds: float, now_ns: int) -> bool:
        return self.modified_ns <= now_ns - int(settle_seconds * 1e9)


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def scan_landing(landing: Path) -> list[LandingEntry]:
    """Every entry below the landing root, oldest first. Directories are descended only when they are
    real directories: a link to a directory is one refused entry, never walked into. Nothing is opened."""
    root = landing.resolve()  # the root itself may be reached through a link (a mount, a deployment's alias)
    found: list[LandingEntry] = []

    def walk(directory: Path, prefix: str) -> None:
        with os.scandir(directory) as entries:
            for entry in entries:
                if _IGNORED_NAMES.search(entry.name):
                    continue
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    walk(Path(entry.path), f"{prefix}{entry.name}/")
                else:
                    found.append(
                        LandingEntry(f"{prefix}{entry.name}", _kind(info.st_mode), info.st_size, info.st_mtime_ns)
                    )

    walk(root, "")
    return sorted(found, key=lambda e: (e.modified_ns, e.relative))


def _catalogue(conn: psycopg.Connection) -> dict[str, tuple[str, int, int]]:
    return {
        source_file: (kind, size, modified)
        for source_file, kind, size, modified in conn.execute(
            "SELECT source_file, kind, file_bytes, modified_ns FROM raw.landing_files"
        )
    }


def _unchanged(entry: LandingEntry, catalogue: dict[str, tuple[str, int, int]]) -> bool:
    return catalogue.get(entry.relative) == (entry.kind, entry.size, entry.modified_ns)


def _remember(
    cur: psycopg.Cursor, entry: LandingEntry, outcome: str, load_id: int | None = None, reason: str | None = None
) -> None:
    """Record the entry as read, in the transaction that records what it led to."""
    cur.execute(
        """INSERT INTO raw.landing_files (source_file, kind, file_bytes, modified_ns, outcome, load_id, reason)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (source_file) DO UPDATE SET kind = excluded.kind, file_bytes = excluded.file_bytes,
               modified_ns = excluded.modified_ns, outcome = excluded.outcome, load_id = excluded.load_id,
               reason = excluded.reason, seen_at = now()""",
        (entry.relative, entry.kind, entry.size, entry.modified_ns, outcome, load_id, reason),
    )


class _Refused(Exception):
    """The entry is not a regular file inside the landing area; it is never opened (or no longer is one)."""


class _Changed(Exception):
    """The file changed while it was being copied: it is still being written."""


def _open_inside(root: Path, relative: str) -> int:
    """A read-only descriptor of the regular file at `relative`, opened directory by directory from the
    root with O_NOFOLLOW, so no component can be a link; O_NONBLOCK so a FIFO swapped in cannot hang us."""
    parts = relative.split("/")
    directory = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            try:
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=directory)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise _Refused(f"{part}/ is not a directory of the landing area (a link?): not followed") from exc
                raise
            os.close(directory)
            directory = inner
        try:
            fd = os.open(
                parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0), dir_fd=directory
            )
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _Refused("a symbolic link: links are never followed") from exc
            raise
    finally:
        os.close(directory)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _Refused(f"a {_kind(mode)}, not a regular file")
    return fd


def _stage(root: Path, entry: LandingEntry, staging_dir: Path, max_bytes: int) -> tuple[Path | None, str]:
    """(copy, sha256): the file read once, hashed on the way and, unless it is over `max_bytes`, copied to
    a staging file that is parsed and, if need be, quarantined. A file over the limit is only hashed
    (the copy is None): it is never parsed nor kept."""
    try:
        fd = _open_inside(root, entry.relative)
    except FileNotFoundError as exc:  # removed or renamed since the walk: whatever replaces it is seen next run
        raise _Changed() from exc
    except OSError as exc:
        raise _Refused(
            f"cannot be opened ({exc.strerror}); once that is fixed, touch the file or deliver it again"
        ) from exc
    digest = hashlib.sha256()
    staged = None
    try:
        with os.fdopen(fd, "rb") as source:
            before = os.fstat(source.fileno())
            if (before.st_size, before.st_mtime_ns) != (entry.size, entry.modified_ns):
                raise _Changed()
            keep = before.st_size <= max_bytes
            if keep:
                staging_dir.mkdir(parents=True, exist_ok=True)
                staged = staging_dir / f"{uuid.uuid4().hex}_{_safe_name(entry.name)}"
            with staged.open("xb") if keep else open(os.devnull, "wb") as target:
                for block in iter(lambda: source.read(_CHUNK), b""):
                    digest.update(block)
                    target.write(block)
            after = os.fstat(source.fileno())
            if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
                raise _Changed()
    except BaseException:
        if staged is not None:
            staged.unlink(missing_ok=True)
        raise
    return staged, digest.hexdigest()


def ingest_entry(
    conn: psycopg.Connection,
    landing_root: Path,
    entry: LandingEntry,
    quarantine_dir: Path,
    limits: IngestLimits | None = None,
) -> LoadResult:
    """Read one landing entry and record what it led to. Content never raises: a bad file is quarantined,
    an entry that is no regular file refused; only infrastructure errors escape."""
    limits = limits or load_ingest_limits()
    root = landing_root.resolve()
    department = entry.department
    if entry.kind != "file":
        return _refuse(conn, entry, f"a {entry.kind}, not a regular file: refused, never opened")
    try:
        staged, sha = _stage(root, entry, quarantine_dir / ".staging", limits.max_file_bytes)
    except _Refused as exc:
        return _refuse(conn, entry, str(exc))
    except _Changed:
        return LoadResult(
            entry.relative, department, "waiting", reason="changed or removed while being read: still being written?"
        )
    try:
        seen = conn.execute(
            """SELECT status, load_id FROM raw.load_audit WHERE source_sha256 = %s AND status <> 'duplicate'
               ORDER BY (status = 'loaded') DESC, load_id DESC LIMIT 1""",
            (sha,),
        ).fetchone()
        if seen:
            return _duplicate(conn, entry, sha, *seen)
        if staged is None:
            rejection = FileRejected(
                f"{entry.size:,} bytes, over the limit of {limits.max_file_bytes:,} (ECON_MAX_FILE_BYTES): not read"
            )
        elif department == "?":
            rejection = FileRejected(
                f"not in a department folder (<landing>/<department>/<file>, departments: {', '.join(departments())})"
            )
        else:
            try:
                return _load(conn, staged, entry, sha, limits)
            except FileRejected as exc:
                rejection = exc
            except INFRASTRUCTURE_ERRORS:
                raise
            except Exception as exc:  # noqa: BLE001 - any other error of one file's content quarantines that file
                rejection = _rejection_for(exc)
        return _quarantine(conn, staged, entry, sha, rejection, quarantine_dir)
    finally:
        if staged is not None:
            staged.unlink(missing_ok=True)


def _rejection_for(exc: Exception) -> FileRejected:
    """A reason for an error no check foresaw, naming what the error itself names (e.g. the server's
    COPY context: table, line and column)."""
    if isinstance(exc, psycopg.Error) and exc.diag.message_primary:
        context = f" ({exc.diag.context.strip()})" if exc.diag.context else ""
        return FileRejected(f"the warehouse refused a value: {exc.diag.message_primary}{context}")
    return FileRejected(f"the file could not be read ({type(exc).__name__}: {exc})")


def _refuse(conn: psycopg.Connection, entry: LandingEntry, reason: str) -> LoadResult:
    reason = f"{entry.relative}: {reason}"
    with conn.transaction(), conn.cursor() as cur:
        _remember(cur, entry, "refused", reason=reason)
    log.warning("refused %s", reason)
    return LoadResult(entry.relative, entry.department, "refused", reason=reason)


def _supersede_others(
    cur: psycopg.Cursor,
    load_id: int,
    report_type: str,
    department: str,
    period_year: int | None,
    period_month: int | None,
    as_of_date,
) -> list[int]:
    """Mark every other current delivery of the same report, department and period (or as-of date)
    superseded by `load_id`; one delivery of a key at a time may change it: later ones wait here."""
    key = (report_type, department, as_of_date) if as_of_date else (report_type, department, period_year, period_month)
    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (repr(key),))
    if as_of_date:
        period = sql.SQL("as_of_date = %s")
        values = (as_of_date,)
    else:
        # a yearly file (the 年度目标任务表) has a year and no month
        period = sql.SQL("as_of_date IS NULL AND period_year = %s AND period_month IS NOT DISTINCT FROM %s")
        values = (period_year, period_month)
    statement = sql.SQL(
        """UPDATE raw.load_audit SET status = 'superseded', superseded_by = %s
           WHERE status = 'loaded' AND load_id <> %s AND report_type = %s AND department_code = %s AND {}
           RETURNING load_id"""
    ).format(period)
    return [row[0] for row in cur.execute(statement, (load_id, load_id, report_type, department, *values)).fetchall()]


def _load(conn: psycopg.Connection, path: Path, entry: LandingEntry, sha: str, limits: IngestLimits) -> LoadResult:
    # A file is one part; the 年度目标任务表 is one part per sheet, all under this one load.
    parts = parse_workbook(path, display_name=entry.name, limits=limits)
    parsed = parts[0]
    contract = parsed.contract
    department = entry.department
    if department not in contract.departments:
        raise FileRejected(
            f"{contract.title} is not delivered by {department} (expected: {', '.join(contract.departments)})"
        )
    with conn.transaction(), conn.cursor() as cur:
        load_id = cur.execute(
            """INSERT INTO raw.load_audit (department_code, report_type, source_file, source_sha256, file_bytes,
                   status, header_units)
               VALUES (%s, %s, %s, %s, %s, 'loaded', %s) RETURNING load_id""",
            (department, contract.report_type, entry.relative, sha, entry.size, Jsonb(_header_units(parts))),
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
        if rows > limits.max_rows:  # the bulk path counts as it copies; nothing of it stays
            raise FileRejected(f"more than {limits.max_rows:,} rows, over the limit (ECON_MAX_ROWS)")
        years = {part.period_year for part in parts}
        if len(years) > 1:
            raise FileRejected(
                f"the sheets report different years ({', '.join(map(str, sorted(years)))}): one file reports one year"
            )
        superseded = _supersede_others(
            cur, load_id, contract.report_type, department, parsed.period_year, parsed.period_month, parsed.as_of_date
        )
        cur.execute(
            """UPDATE raw.load_audit SET rows_loaded = %s, period_year = %s, period_month = %s, as_of_date = %s
               WHERE load_id = %s""",
            (rows, parsed.period_year, parsed.period_month, parsed.as_of_date, load_id),
        )
        _remember(cur, entry, "loaded", load_id)
    return LoadResult(
        entry.relative,
        department,
        "loaded",
        contract.report_type,
        _period_label(parsed),
        rows,
        load_id=load_id,
        superseded=tuple(superseded),
        method=method,
    )


def _header_units(parts: list[ParsedFile]) -> dict:
    """The units each header gave; per sheet for a multi-sheet workbook."""
    if len(parts) == 1:
        return parts[0].header.units
    return {part.sheet: part.header.units for part in parts}


def _record(cur: psycopg.Cursor, entry: LandingEntry, sha: str, status: str, reason: str, **values) -> int:
    """An audit row for a file that loaded nothing (a duplicate, a quarantined file), and the entry as read
    with that outcome; returns the audit row's load_id."""
    values = {
        "department_code": entry.department,
        "source_file": entry.relative,
        "source_sha256": sha,
        "file_bytes": entry.size,
        "status": status,
        "reason": reason,
        **values,
    }
    columns = list(values)
    statement = sql.SQL("INSERT INTO raw.load_audit ({}) VALUES ({}) RETURNING load_id").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.SQL(", ").join(sql.Placeholder() * len(columns))
    )
    load_id = cur.execute(statement, list(values.values())).fetchone()[0]
    _remember(cur, entry, status, load_id, reason)
    return load_id


def _duplicate(conn: psycopg.Connection, entry: LandingEntry, sha: str, status: str, earlier: int) -> LoadResult:
    """Bytes seen before change nothing and are not re-reported, with one exception: bytes of a delivery a
    correction superseded make that delivery current again (the correction is withdrawn). The audit row of
    the repeat carries the report and period then, so incremental models rebuild that period."""
    with conn.transaction(), conn.cursor() as cur:
        reason = f"identical to load {earlier} ({status})"
        restored: dict = {}
        others: list[int] = []
        if status == "superseded":
            report_type, department, year, month, as_of = cur.execute(
                """SELECT report_type, department_code, period_year, period_month, as_of_date
                   FROM raw.load_audit WHERE load_id = %s FOR UPDATE""",
                (earlier,),
            ).fetchone()
            others = _supersede_others(cur, earlier, report_type, department, year, month, as_of)
            cur.execute(
                "UPDATE raw.load_audit SET status = 'loaded', superseded_by = NULL WHERE load_id = %s", (earlier,)
            )
            reason += f", which is current again (supersedes load {', '.join(map(str, others)) or '-'})"
            restored = {"report_type": report_type, "period_year": year, "period_month": month, "as_of_date": as_of}
        load_id = _record(cur, entry, sha, "duplicate", reason, **restored)
    return LoadResult(
        entry.relative,
        entry.department,
        "duplicate",
        restored.get("report_type"),
        reason=reason,
        load_id=load_id,
        superseded=tuple(others) if restored else (),
    )


def _quarantine(
    conn: psycopg.Connection,
    staged: Path | None,
    entry: LandingEntry,
    sha: str,
    rejection: FileRejected,
    quarantine_dir: Path,
) -> LoadResult:
    """Keep the staged copy (the bytes that were parsed) under the quarantine directory, checked against
    the hash taken while reading the delivered file, and record why."""
    kept = None
    if staged is not None:
        kept = quarantine_dir / f"{sha[:16]}_{_safe_name(entry.name)}"
        os.replace(staged, kept)
        digest = hashlib.sha256()
        with kept.open("rb") as handle:
            for block in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(block)
        if digest.hexdigest() != sha:
            raise OSError(f"the quarantined copy {kept} does not match the delivered file's hash: disk fault?")
    reason = f"{entry.relative}: {rejection}"
    if kept is None:
        reason += " (bytes not kept)"
    with conn.transaction(), conn.cursor() as cur:
        load_id = _record(
            cur,
            entry,
            sha,
            "quarantined",
            reason,
            error_row=rejection.row,
            error_column=rejection.column,
            quarantined_path=str(kept) if kept else None,
        )
    log.warning("quarantined %s", reason)
    return LoadResult(entry.relative, entry.department, "quarantined", reason=reason, load_id=load_id)


def _remove_stale_staging(staging_dir: Path) -> None:
    """Staging copies are removed as soon as their file is recorded; one left behind means its run was
    killed mid-file (the database rolled that file back, and the next run reads it again)."""
    if not staging_dir.is_dir():
        return
    cutoff = time.time() - _STALE_STAGING_SECONDS
    for path in staging_dir.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def _due(
    conn: psycopg.Connection, landing: Path, settle_seconds: float
) -> tuple[list[LandingEntry], list[LandingEntry]]:
    """(entries to read now, entries still being written): both new or changed since they were last read."""
    catalogue = _catalogue(conn)
    now_ns = time.time_ns()
    due, waiting = [], []
    for entry in scan_landing(landing):
        if _unchanged(entry, catalogue):
            continue
        (due if entry.settled(settle_seconds, now_ns) else waiting).append(entry)
    return due, waiting


def pending_files(conn: psycopg.Connection, landing: Path, limits: IngestLimits | None = None) -> list[str]:
    """Entries of the landing area that are new or changed since they were last read and have settled.
    Cheap enough to poll every few minutes: nothing is opened."""
    limits = limits or load_ingest_limits()
    return [entry.relative for entry in _due(conn, landing, limits.settle_seconds)[0]]


def ingest_landing(
    conn: psycopg.Connection, landing: Path, quarantine_dir: Path, limits: IngestLimits | None = None
) -> list[LoadResult]:
    """Read every new or changed, settled entry of the landing area, oldest first; files still being
    written are reported as `waiting` and left for a later run."""
    limits = limits or load_ingest_limits()
    _remove_stale_staging(quarantine_dir / ".staging")
    due, waiting = _due(conn, landing, limits.settle_seconds)
    results = [ingest_entry(conn, landing, entry, quarantine_dir, limits) for entry in due]
    results += [
        LoadResult(
            entry.relative,
            entry.department,
            "waiting",
            reason=f"modified less than {limits.settle_seconds:g} s ago (ECON_FILE_SETTLE_SECONDS): still being written?",
        )
        for entry in waiting
    ]
    return results
