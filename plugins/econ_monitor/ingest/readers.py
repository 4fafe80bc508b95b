"""Stream the rows of an .xlsx or .csv file without holding the file in memory.

Each row comes with the row number a person sees in Excel or a text editor, so an error can say
"row 57". Every reader enforces the ingest limits (settings.IngestLimits) as it goes, so a file over
them is refused before its data is used. CSV encoding is decided from the bytes: a BOM means UTF-8; otherwise strict UTF-8 if the
opening bytes decode, else GB18030 (a superset of GBK, which is what Excel's "save as CSV" writes on
a Chinese Windows).
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

from econ_monitor.settings import IngestLimits, load_ingest_limits

Row = tuple[int, list[object]]

MAX_LINE_CHARS = 1_000_000
_SNIFF_BYTES = 1 << 16


class UnreadableFile(Exception):
    """The file cannot be read as a spreadsheet at all (a reason a person can act on), with the row and
    column (a letter) where known."""

    def __init__(self, reason: str, row: int | None = None, column: str | None = None):
        super().__init__(reason)
        self.reason, self.row, self.column = reason, row, column


def detect_encoding(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # A multi-byte character may be cut at the end of the sample; an incremental decoder allows that.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


class _BoundedLines:
    """Lines for the csv module, refusing a runaway line before it fills memory; counts the characters
    read since the last record, so the per-cell size check runs only on a record that could break it."""

    def __init__(self, text: io.TextIOBase):
        self.text = text
        self.chars = 0

    def __iter__(self) -> Iterator[str]:
        while True:
            line = self.text.readline(MAX_LINE_CHARS + 1)
            if not line:
                return
            if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
                raise UnreadableFile(f"a line longer than {MAX_LINE_CHARS:,} characters: not a departmental report")
            self.chars += len(line)
            yield line


def _check_row(number: int, values: list[object], limits: IngestLimits) -> None:
    """Rows, cells per row and characters per cell within the limits, else the file is refused whole."""
    if number > limits.max_rows:
        raise UnreadableFile(f"more than {limits.max_rows:,} rows, over the limit (ECON_MAX_ROWS)")
    if len(values) > limits.max_columns:
        raise UnreadableFile(
            f"{len(values):,} cells, over the limit of {limits.max_columns:,} (ECON_MAX_COLUMNS)", row=number
        )


def _cell_too_long(number: int, index: int, length: int, limits: IngestLimits) -> UnreadableFile:
    from openpyxl.utils import get_column_letter

    return UnreadableFile(
        f"a cell of {length:,} characters, over the limit of {limits.max_cell_chars:,} (ECON_MAX_CELL_CHARS)",
        row=number,
        column=get_column_letter(index + 1),
    )


def read_csv(path: Path, limits: IngestLimits) -> Iterator[Row]:
    encoding = detect_encoding(path)
    with path.open("r", encoding=encoding, errors="strict", newline="") as text:
        lines = _BoundedLines(text)
        reader = csv.reader(lines)
        try:
            for record in reader:
                number = reader.line_num
                _check_row(number, record, limits)
                if lines.chars > limits.max_cell_chars:
                    for index, cell in enumerate(record):
                        if len(cell) > limits.max_cell_chars:
                            raise _cell_too_long(number, index, len(cell), limits)
                lines.chars = 0
                yield number, record  # already a new list per row: no copy needed
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                f"bytes in or just before this row are not valid {encoding}: {exc.reason}", row=reader.line_num + 1
            ) from exc
        except csv.Error as exc:
            raise UnreadableFile(f"malformed CSV ({exc})", row=reader.line_num) from exc


def check_xlsx_package(path: Path, limits: IngestLimits) -> None:
    """Refuse a workbook before any XML of it is parsed: a broken zip, or parts that would unpack to more
    than the limit (a zip bomb, a huge shared-strings table, which a reader loads whole before the first
    row). The sizes are the ones the zip declares; Python's zipfile never unpacks more than a part
    declares (it stops there and fails the CRC check), so a part cannot lie its way past this check."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise UnreadableFile(f"not a readable .xlsx workbook (a broken zip: {exc})") from exc
    total = sum(part.file_size for part in parts)
    if total > limits.max_uncompressed_bytes:
        largest = max(parts, key=lambda part: part.file_size)
        raise UnreadableFile(
            f"the workbook unpacks to {total:,} bytes ({largest.filename} alone {largest.file_size:,}), over the "
            f"limit of {limits.max_uncompressed_bytes:,} (ECON_MAX_UNCOMPRESSED_BYTES): a zip bomb or not a "
            "departmental report"
        )


def sheet_names(path: Path, limits: IngestLimits | None = None) -> list[str]:
    """The sheet names of an .xlsx workbook (none for any other file): a multi-sheet report is read by name."""
    if path.suffix.lower() not in {".xlsx", ".xlsm"}:
        return []
    import openpyxl

    check_xlsx_package(path, limits or load_ingest_limits())
    try:
        workbook = openpyxl.load_workbook(path, read_only=True)
    except Exception as exc:  # openpyxl and the XML parsers raise many kinds; all mean a damaged workbook
        raise UnreadableFile(f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from exc
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def read_xlsx(path: Path, limits: IngestLimits, sheet: str | None = None) -> Iterator[Row]:
    # Imported here: openpyxl is only needed when a spreadsheet arrives.
    import openpyxl
    from openpyxl.utils import get_column_letter

    check_xlsx_package(path, limits)
    try:
        # read_only streams rows; data_only gives formulas' cached values, which is what people saw.
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl and the XML parsers raise many kinds; all mean a damaged workbook
        raise UnreadableFile(f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from exc
    try:
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        # The declared used range (<dimension>) is what the reader would pad every row to: a sheet that
        # claims more than the limits is refused, and rows are read as they are, never padded to the claim.
        if (worksheet.max_row or 0) > limits.max_rows or (worksheet.max_column or 0) > limits.max_columns:
            raise UnreadableFile(
                f"the sheet declares its used range as A1:{get_column_letter(worksheet.max_column or 1)}{worksheet.max_row or 1} "
                f"({worksheet.max_row or 0:,} rows × {worksheet.max_column or 0:,} columns), over the limits "
                f"(ECON_MAX_ROWS={limits.max_rows:,}, ECON_MAX_COLUMNS={limits.max_columns:,})"
            )
        worksheet.reset_dimensions()
        for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
            values = list(values)
            while values and values[-1] is None:  # cells that only carry formatting
                values.pop()
            _check_row(number, values, limits)
            for index, value in enumerate(values):
                if type(value) is str and len(value) > limits.max_cell_chars:
                    raise _cell_too_long(number, index, len(value), limits)
            yield number, values
    except UnreadableFile:
        raise
    except Exception as exc:  # a cut-off sheet (ParseError), a bad part, a broken cell: the workbook is damaged
        raise UnreadableFile(f"the workbook is damaged ({type(exc).__name__}: {exc})") from exc
    finally:
        workbook.close()


def read_rows(path: Path, limits: IngestLimits | None = None, sheet: str | None = None) -> Iterator[Row]:
    """The rows of a CSV file, or of a workbook's first sheet (or the sheet named)."""
    limits = limits or load_ingest_limits()
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv(path, limits)
    if suffix in {".xlsx", ".xlsm"}:
        return read_xlsx(path, limits, sheet)
    raise UnreadableFile(f"unsupported file type {suffix or '(none)'}: departments deliver .xlsx or .csv")
